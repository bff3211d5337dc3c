"""Build the Cython hot paths in src/fastkafka/_native as part of a normal `pip install`."""
from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup

NATIVE = Path("src/fastkafka/_native")


def _liburing_include_dirs() -> list[str] | None:
    """uring.pyx cimports the liburing binding (pinned in pyproject.toml) and includes the
    liburing.h it ships; without the binding the module is not built and appends use pwrite."""
    try:
        import liburing
    except ImportError:
        return None
    root = Path(liburing.__file__).parent
    return [str(root / "include"), str(root / "lib")]


def _extension(pyx: Path) -> Extension | None:
    include_dirs = [str(NATIVE)]
    if pyx.stem == "uring":
        extra = _liburing_include_dirs()
        if extra is None:
            return None
        include_dirs += extra
    return Extension(f"fastkafka._native.{pyx.stem}", [str(pyx)], include_dirs=include_dirs,
                     extra_compile_args=["-O3", "-fno-strict-aliasing"])


extensions = [ext for pyx in sorted(NATIVE.glob("*.pyx")) if (ext := _extension(pyx)) is not None]

setup(
    ext_modules=cythonize(
        extensions,
        language_level=3,
        compiler_directives={"boundscheck": False, "wraparound": False, "cdivision": True},
    ),
)
