"""The examples in the report package's docstrings run."""

from __future__ import annotations

import doctest

from hunt_clusters.report import _metrics


def test_metrics_doctests() -> None:
    result = doctest.testmod(_metrics, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 6 and result.failed == 0


def test_human_machine_doctests() -> None:
    from hunt_clusters.report import _human_machine

    result = doctest.testmod(_human_machine)
    assert result.attempted >= 1 and result.failed == 0
