"""The report in a real browser: headless Chromium loads report.html from disk, with no console
errors and no broken images, and takes a screenshot that is not blank.

Chromium is Debian's ``chromium`` package (``.ci/run`` installs it where missing). Without it this
test fails, unless HUNT_CLUSTERS_ALLOW_NO_BROWSER=1 says that skipping is acceptable here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from hunt_clusters.report import write_report

from .runfolder import make_run_folder

_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--enable-logging=stderr", "--v=0", "--hide-scrollbars"]

#: A page script that marks the document when every image has decoded with a non-zero size.
_CHECK_IMAGES = ("[...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).length")


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        if os.environ.get("HUNT_CLUSTERS_ALLOW_NO_BROWSER"):
            pytest.skip("chromium not installed (HUNT_CLUSTERS_ALLOW_NO_BROWSER is set)")
        pytest.fail("chromium not found: install Debian's chromium package (apt-get install -y chromium; "
                    ".ci/run does) or set HUNT_CLUSTERS_ALLOW_NO_BROWSER=1 to skip this test")
    return exe


def _run(exe: str, tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp / f"profile{len(list(tmp.glob('profile*')))}"
    return subprocess.run([exe, *_FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True,
                          timeout=180, check=False)


def _console_errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines()
            if "Uncaught" in line or "ERROR:CONSOLE" in line or ":CONSOLE(" in line and "error" in line.lower()]


@pytest.mark.slow
def test_report_opens_in_chromium(tmp_path: Path) -> None:
    exe = _chromium()
    page = write_report(make_run_folder(tmp_path), tmp_path / "report")
    url = page.resolve().as_uri()

    # the DOM after load, with the number of images that failed to decode written into the title
    probe = tmp_path / "probe.html"
    probe.write_text(page.read_text(encoding="utf-8").replace(
        "</body>", f"<script>window.addEventListener('load', () => {{ document.title = 'broken=' + "
                   f"{_CHECK_IMAGES}; }});</script></body>"), encoding="utf-8")
    dom = _run(exe, tmp_path, "--virtual-time-budget=5000", "--dump-dom", probe.resolve().as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "<title>broken=0</title>" in dom.stdout, "images that did not load: " + dom.stdout[:300]
    assert not _console_errors(dom.stderr), _console_errors(dom.stderr)

    shot = tmp_path / "report.png"
    res = _run(exe, tmp_path, f"--screenshot={shot}", "--window-size=1280,4000", url)
    assert res.returncode == 0, res.stderr[-2000:]
    assert not _console_errors(res.stderr), _console_errors(res.stderr)
    with Image.open(shot) as im:
        assert im.format == "PNG" and im.size == (1280, 4000)
        a = np.asarray(im.convert("L"), dtype=np.float64)
    assert a.std() > 10, "the screenshot is blank"
    assert (a < 128).mean() > 0.01, "the screenshot shows almost no text or figures"


#: A page script that counts the tables whose right edge passes the window's.
_CHECK_WIDTH = ("[...document.querySelectorAll('table')].filter(t => t.getBoundingClientRect().right > "
                "document.documentElement.clientWidth).length")


@pytest.mark.slow
def test_tables_fit_a_1280_px_window(tmp_path: Path) -> None:
    """Issue 19, item 5: no table runs off a 1280 px window (the CNN table has the most columns)."""
    import pandas as pd

    exe = _chromium()
    run = make_run_folder(tmp_path)
    ens = pd.read_csv(run / "ensemble.csv")  # every model a full comparison trains: the widest tables
    extra = [ens[ens["model"] == "votes-hard"].assign(model=m) for m in
             ("votes-soft", "votes-dirichlet", "truth-hard", "truth-hard-votes-set", "truth-hard-expert-set")]
    pd.concat([ens, *extra]).to_csv(run / "ensemble.csv", index=False)
    page = write_report(run, tmp_path / "report")
    probe = tmp_path / "probe.html"
    probe.write_text(page.read_text(encoding="utf-8").replace(
        "</body>", f"<script>window.addEventListener('load', () => {{ document.title = 'wide=' + "
                   f"{_CHECK_WIDTH}; }});</script></body>"), encoding="utf-8")
    dom = _run(exe, tmp_path, "--window-size=1280,4000", "--virtual-time-budget=5000", "--dump-dom",
               probe.resolve().as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "<title>wide=0</title>" in dom.stdout, dom.stdout[:300]


@pytest.mark.slow
def test_replay_section_loads_and_fits_a_1280_px_window(tmp_path: Path) -> None:
    """Issue 20, item 4: the "Human + machine" section's pictures load and its tables fit 1280 px."""
    from .replayfolder import make_replay_folder

    exe = _chromium()
    page = write_report(make_run_folder(tmp_path), tmp_path / "report", replay=make_replay_folder(tmp_path))
    html = page.read_text(encoding="utf-8")
    assert '<section id="human-machine">' in html
    probe = tmp_path / "probe.html"
    probe.write_text(html.replace(
        "</body>", f"<script>window.addEventListener('load', () => {{ document.title = 'broken=' + {_CHECK_IMAGES}"
                   f" + ' wide=' + {_CHECK_WIDTH}; }});</script></body>"), encoding="utf-8")
    dom = _run(exe, tmp_path, "--window-size=1280,4000", "--virtual-time-budget=5000", "--dump-dom",
               probe.resolve().as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "<title>broken=0 wide=0</title>" in dom.stdout, dom.stdout[:300]
    assert not _console_errors(dom.stderr), _console_errors(dom.stderr)
