"""The examples in the report package's docstrings run."""

from __future__ import annotations

import doctest

from hunt_clusters.report import _metrics


def test_metrics_doctests() -> None:
    result = doctest.testmod(_metrics, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 6 and result.failed == 0
