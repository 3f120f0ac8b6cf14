"""The Examples sections of hunt_clusters.sky run and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ("_catalogue", "_fastfits", "_fetch", "_image", "_source", "_xmm")


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name: str, tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # examples that name relative folders stay in the test's folder
    module = importlib.import_module(f"hunt_clusters.sky.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    if name != "_source":
        assert result.attempted > 0
