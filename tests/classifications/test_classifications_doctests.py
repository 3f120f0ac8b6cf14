"""The docstring examples of the classifications stage run and pass."""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize("module", ["_example", "_mapping", "_reader", "_versions", "_write"])
def test_docstring_examples_run(module: str) -> None:
    mod = importlib.import_module(f"hunt_clusters.classifications.{module}")
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
