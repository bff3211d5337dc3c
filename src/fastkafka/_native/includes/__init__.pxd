# Extern declarations of the C headers and system interfaces the native modules use.
