"""Capture the package's log records even where the CLI has turned propagation off."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


@contextmanager
def captured_warnings(caplog: pytest.LogCaptureFixture, name: str = "hunt_clusters.consensus") -> Iterator[None]:
    """Attach caplog's handler to ``name`` directly (``main()`` sets ``propagate = False`` on the
    ``hunt_clusters`` logger, so records may never reach the root logger during a test session)."""
    logger = logging.getLogger(name)
    old_level = logger.level
    logger.addHandler(caplog.handler)
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.removeHandler(caplog.handler)
        logger.setLevel(old_level)
