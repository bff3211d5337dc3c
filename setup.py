"""Build the Cython hot paths in src/fastkafka/_native as part of a normal `pip install`.

_native/uring.py (io_uring appends) is plain Python over the liburing binding's prebuilt wheel,
so it is not compiled here."""
from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup

NATIVE = Path("src/fastkafka/_native")


def _extension(pyx: Path) -> Extension:
    return Extension(f"fastkafka._native.{pyx.stem}", [str(pyx)], include_dirs=[str(NATIVE)],
                     extra_compile_args=["-O3", "-fno-strict-aliasing"])


extensions = [_extension(pyx) for pyx in sorted(NATIVE.glob("*.pyx"))]

setup(
    ext_modules=cythonize(
        extensions,
        language_level=3,
        compiler_directives={"boundscheck": False, "wraparound": False, "cdivision": True},
    ),
)
