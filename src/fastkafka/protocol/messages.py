"""Every request, response and header class: `from fastkafka.protocol.messages import ProduceRequest`.

Attributes resolve lazily (PEP 562) to the generated module that defines them, so importing one
class does not import the other eighty-odd APIs."""
from __future__ import annotations

import importlib
from typing import Any

from fastkafka.protocol._generated import CLASS_MODULES


def __getattr__(name: str) -> Any:
    module = CLASS_MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    cls = getattr(importlib.import_module(f"fastkafka.protocol._generated.{module}"), name)
    globals()[name] = cls
    return cls


def __dir__() -> list[str]:
    return sorted(CLASS_MODULES)


__all__ = sorted(CLASS_MODULES)
