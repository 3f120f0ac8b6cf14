"""Package namespaces whose public names load on first use (PEP 562).

``hunt-clusters --help`` and the stages that do not need them must not import TensorFlow (``cnn``)
or pandas (``classifications``, whose export reader starts before pandas is loaded).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, exports: dict[str, str],
                 namespace: dict[str, Any]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``: ``exports`` maps a public name to its private module.

    A name is imported from ``package.<module>`` when first asked for and kept in ``namespace``
    (the package's ``globals()``), so later look-ups are plain attribute reads.

    Examples
    --------
    >>> ns = {}
    >>> getattr_, dir_ = lazy_exports("hunt_clusters.classifications", {"VersionRange": "_versions"}, ns)
    >>> getattr_("VersionRange").__name__, "VersionRange" in ns, dir_()
    ('VersionRange', True, ['VersionRange'])
    """

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{exports[name]}"), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(exports)

    return __getattr__, __dir__


__all__ = ["lazy_exports"]
