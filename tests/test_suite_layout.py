"""The suite's own layout: pytest's default (rootdir-relative "prepend") import mode needs test
module basenames to be unique across directories without an __init__.py, or collection fails
with "import file mismatch" on a clean checkout."""
from collections import defaultdict
from pathlib import Path


def test_test_module_basenames_are_unique() -> None:
    tests = Path(__file__).parent
    seen: dict[str, list[str]] = defaultdict(list)
    for path in tests.rglob("test_*.py"):
        if not (path.parent / "__init__.py").exists():
            seen[path.name].append(str(path.relative_to(tests)))
    assert {name: paths for name, paths in seen.items() if len(paths) > 1} == {}
