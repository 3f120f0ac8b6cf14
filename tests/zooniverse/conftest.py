"""Fixtures of the Zooniverse tests: a running Panoptes test double and tiny subject-set folders."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from panoptes_double import PanoptesDouble
from PIL import Image

from hunt_clusters.zooniverse import Credentials, ZooniverseConfig

#: The password the tests use; it must never appear in anything a run writes.
SENTINEL = "Sentinel-pw-7Qx9!"


@pytest.fixture
def double() -> Iterator[PanoptesDouble]:
    """A Panoptes double with project 7 ``alice/hunt`` (workflow 9) and project 8 ``bob/other`` (set 'theirs')."""
    d = PanoptesDouble(users={"alice": SENTINEL}, clients={"robot": "client-" + SENTINEL})
    d.add_project("alice/hunt", project_id="7")
    d.add_workflow("7", workflow_id="9")
    d.add_project("bob/other", project_id="8", display_name="Other")
    d.add_subject_set("8", "theirs")
    d.start()
    try:
        yield d
    finally:
        d.stop()


@pytest.fixture
def creds() -> Credentials:
    return Credentials(username="alice", password=SENTINEL)


@pytest.fixture
def fast(double: PanoptesDouble) -> ZooniverseConfig:
    """Short timeouts and backoff so that fault tests run in well under a second each."""
    return ZooniverseConfig(endpoint=double.url, timeout=2.0, retries=4, backoff=0.01, max_backoff=0.05)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No real credentials, config file or endpoint leak into a test; CLI logging set-up is undone."""
    for var in ("PANOPTES_USERNAME", "PANOPTES_PASSWORD", "PANOPTES_CLIENT_ID", "PANOPTES_CLIENT_SECRET",
                "PANOPTES_ENDPOINT", "PANOPTES_DEBUG", "PANOPTES_REDIRECT_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    logger = logging.getLogger("hunt_clusters")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    yield
    # main() binds a handler to the sys.stderr of its test (closed afterwards by capsys)
    logger.handlers[:], logger.level, logger.propagate = saved


def png_bytes(i: int, size: int = 8) -> bytes:
    """A small PNG whose pixels depend on ``i`` (so every image differs)."""
    buf = io.BytesIO()
    Image.new("RGB", (size, size), (i % 256, (7 * i) % 256, 100)).save(buf, format="PNG")
    return buf.getvalue()


def make_subject_set(folder: Path, n: int = 6, *, prefix: str = "XC") -> Path:
    """Write ``n`` tiny PNGs and a manifest (image, #candidate_id, #ra, #dec, #field, object) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "manifest.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["image", "#candidate_id", "#ra", "#dec", "#field", "object"])
        for i in range(n):
            cid = f"{prefix} {i:03d}"
            name = f"{prefix}_{i:03d}.png"
            (folder / name).write_bytes(png_bytes(i))
            w.writerow([name, cid, f"{35.0 + i / 100:.4f}", f"{-4.5 + i / 100:.4f}", "XXL-N", f"candidate {i}"])
    return folder


@pytest.fixture
def subject_set(tmp_path: Path) -> Path:
    """A 6-subject set folder named ``demo``."""
    return make_subject_set(tmp_path / "demo", 6)
