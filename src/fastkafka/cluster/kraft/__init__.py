"""The KRaft quorum for `__cluster_metadata`: metadata log, quorum-state, single-voter RaftClient,
storage formatting. Import submodules directly (they import storage, which needs _native)."""
