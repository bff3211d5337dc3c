import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import cluster_stubs  # noqa: E402

cluster_stubs.install()
