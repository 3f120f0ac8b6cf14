"""FITS inputs as fsspec URLs (issue 12): a local HTTP server as the test double, file:// URLs, errors in one line.

A render of a catalogue whose ``xray_image`` / ``optical_image`` are ``http://127.0.0.1:PORT/...`` URLs
(embedded and on ``--scheduler local:2``) or ``file://`` URLs writes the same files, byte for byte,
as the render of the same survey by local paths. The live service test (``remote_data``, skipped by
default) reads a public FITS file over https.
"""

from __future__ import annotations

import csv
import functools
import gzip
import http.server
import io
import importlib.util
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table

from hunt_clusters._errors import InputError
from hunt_clusters.cli import main
from hunt_clusters.sky import find_xmm_maps, load_xray, read_candidates
from hunt_clusters.subjects import RenderConfig, render_subject_set
from hunt_clusters.subjects._inputs import _read_cached, load_image
from render_compare import assert_same_set  # noqa: E402 - tests/scale helper

pytest.importorskip("aiohttp", reason="fsspec's HTTP file system (pip install -e '.[test]' installs it)")

from subjects_synth import make_survey, tan_wcs  # noqa: E402 - tests/subjects, on the path by conftest.py

SMALL = ["--size", "256", "--format", "png"]


@dataclass
class Served:
    """A folder served over HTTP on 127.0.0.1; ``requests`` lists ``(method, path)`` as they arrive."""

    root: Path
    url: str
    requests: list[tuple[str, str]] = field(default_factory=list)

    def gets(self) -> set[str]:
        return {path for method, path in self.requests if method == "GET"}


class _Handler(http.server.SimpleHTTPRequestHandler):
    served: Served

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        self.served.requests.append((self.command, self.path))

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A 3-candidate survey (gzip FITS, exposure and background as extensions) behind an HTTP server."""
    root = tmp_path_factory.mktemp("served")
    make_survey(root, n=3)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(root)))
    box = Served(root, f"http://127.0.0.1:{server.server_address[1]}")
    _Handler.served = box
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield box
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def _catalogue(served: Served, folder: Path, prefix: str, **replace: str) -> Path:
    """The served survey's catalogue with image paths ``prefix + relative path``, written in ``folder``."""
    t = Table.read(served.root / "candidates.ecsv")
    for col in ("xray_image", "optical_image"):
        t[col] = [replace.get(f"{cid}:{col}", prefix + p) for cid, p in zip(t["candidate_id"], t[col])]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "candidates.ecsv"
    t.write(path)
    return path




def _failures(folder: Path) -> list[dict[str, str]]:
    with open(folder / "render_failures.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def local_set(served: Served, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The render of the served survey by local paths (the reference)."""
    out = tmp_path_factory.mktemp("local") / "subjects"
    assert main(["-q", "render", str(served.root / "candidates.ecsv"), "--out", str(out), *SMALL, "--jobs", "1"]) == 0
    return out


def test_http_urls_render_as_local_paths(served: Served, local_set: Path, tmp_path: Path) -> None:
    cat = _catalogue(served, tmp_path / "cat", served.url + "/")
    table = read_candidates(cat)  # validated: URLs are neither resolved against the folder nor checked as files
    assert table["xray_image"][0] == f"{served.url}/xray/XC0000.fits.gz"
    assert table["optical_image"][2] == f"{served.url}/optical/XC0002.fits.gz"
    files = {f"/{d}/XC000{i}.fits.gz" for d in ("xray", "optical") for i in range(3)}

    _read_cached.cache_clear()
    served.requests.clear()
    assert main(["-q", "render", str(cat), "--out", str(tmp_path / "emb"), *SMALL, "--jobs", "1"]) == 0
    assert served.gets() == files
    assert_same_set(local_set, tmp_path / "emb")
    with open(tmp_path / "emb" / "manifest.csv", newline="") as fh:
        assert [r["#candidate_id"] for r in csv.DictReader(fh)] == ["XC0000", "XC0001", "XC0002"]

    # the workers (forked from this process: empty the cache it would hand them) read the URLs themselves
    for name, how in (("jobs2", ["--jobs", "2"]), ("dask", ["--scheduler", "local:2"])):
        _read_cached.cache_clear()
        served.requests.clear()
        assert main(["-q", "render", str(cat), "--out", str(tmp_path / name), *SMALL, *how]) == 0
        assert served.gets() == files, name
        assert_same_set(local_set, tmp_path / name)


def test_file_urls_render_as_local_paths(served: Served, local_set: Path, tmp_path: Path) -> None:
    cat = _catalogue(served, tmp_path / "cat", served.root.as_uri() + "/")
    assert read_candidates(cat)["xray_image"][1] == (served.root / "xray" / "XC0001.fits.gz").as_uri()
    assert main(["-q", "render", str(cat), "--out", str(tmp_path / "out"), *SMALL, "--jobs", "1"]) == 0
    assert_same_set(local_set, tmp_path / "out")


def test_a_404_url_is_a_failed_candidate_as_a_missing_file_is(served: Served, tmp_path: Path) -> None:
    host = served.url.removeprefix("http://")
    missing_url = f"http://volunteer:s3cret@{host}/xray/missing.fits.gz"  # credentials never in messages
    cat = _catalogue(served, tmp_path / "url", served.url + "/", **{"XC0001:xray_image": missing_url})
    assert main(["-q", "render", str(cat), "--out", str(tmp_path / "url_out"), *SMALL, "--jobs", "1"]) == 1
    assert _failures(tmp_path / "url_out") == [
        {"candidate_id": "XC0001", "reason": f"{served.url}/xray/missing.fits.gz: cannot read (404 Not Found)"}
    ]
    assert "s3cret" not in (tmp_path / "url_out" / "render_failures.csv").read_text()
    with open(tmp_path / "url_out" / "manifest.csv", newline="") as fh:
        assert [r["#candidate_id"] for r in csv.DictReader(fh)] == ["XC0000", "XC0002"]

    # a missing local file: the same kind of row
    missing = tmp_path / "missing.fits.gz"
    cat = _catalogue(served, tmp_path / "local", str(served.root) + "/", **{"XC0001:xray_image": str(missing)})
    assert main(["-q", "render", str(cat), "--out", str(tmp_path / "local_out"), *SMALL, "--jobs", "1"]) == 1
    assert _failures(tmp_path / "local_out") == [
        {"candidate_id": "XC0001",
         "reason": f"{missing}: file not found (expected a FITS image: .fits, .fits.gz or .FTZ)"}
    ]


@pytest.mark.skipif(importlib.util.find_spec("s3fs") is not None, reason="s3fs is installed")
def test_s3_without_s3fs_names_the_package(served: Served, tmp_path: Path) -> None:
    expected = "s3://bucket/survey/x.fits: cannot read (s3:// URLs need the s3fs package, which is not " \
               "installed: pip install s3fs)"
    with pytest.raises(InputError) as info:
        load_image("s3://KEY:SECRET@bucket/survey/x.fits", "xray")
    assert str(info.value) == expected
    t = Table.read(served.root / "candidates.ecsv")[:1]
    t["xray_image"] = ["s3://bucket/survey/x.fits"]
    t["optical_image"] = [str(served.root / t["optical_image"][0])]
    summary = render_subject_set(t, tmp_path / "out", config=RenderConfig(size=256, format="png"))
    assert [(r.candidate_id, r.status, r.message) for r in summary.records] == [("XC0000", "failed", expected)]


def _bytes(hdu: fits.PrimaryHDU) -> bytes:
    buf = io.BytesIO()
    hdu.writeto(buf)
    return buf.getvalue()


def test_sibling_maps_beside_a_url(served: Served) -> None:
    """Exposure and background maps beside the image, by the local naming rules: SAS names (``exists``)
    and XMM pipeline names (``glob`` of the folder: the server's index page)."""
    folder = served.root / "siblings"
    folder.mkdir()
    for name, value, gz in (
        ("obs1img.fits", 3.0, False), ("obs1expmap.fits", 1234.0, False), ("obs1bkgmap.fits.gz", 0.25, True),
        ("P0098010101M2U009IMAGE_3000.FTZ", 5.0, True), ("P0098010101M2U009EXPMAP3000.FTZ", 900.0, True),
        ("P0098010101M2X000BKGMAP3000.FTZ", 0.5, True), ("P0098010101M1U009EXPMAP3000.FTZ", 1.0, True),
    ):
        hdu = fits.PrimaryHDU(np.full((32, 32), value, dtype=np.float32),
                              header=tan_wcs(150.0, 2.0, 4.0, 32).to_header())
        (folder / name).write_bytes(gzip.compress(_bytes(hdu)) if gz else _bytes(hdu))

    sas = load_image(f"{served.url}/siblings/obs1img.fits", "xray")
    assert float(sas.data[0, 0]) == 3.0 and float(sas.exposure[5, 5]) == 1234.0 and float(sas.background[5, 5]) == 0.25
    assert find_xmm_maps(f"{served.url}/siblings/obs1img.fits") == (
        f"{served.url}/siblings/obs1expmap.fits", f"{served.url}/siblings/obs1bkgmap.fits.gz")

    pps = load_xray(f"{served.url}/siblings/P0098010101M2U009IMAGE_3000.FTZ")
    assert float(pps.data[0, 0]) == 5.0 and float(pps.exposure[0, 0]) == 900.0 and float(pps.background[0, 0]) == 0.5
    local = load_xray(folder / "P0098010101M2U009IMAGE_3000.FTZ")
    assert np.array_equal(pps.exposure, local.exposure) and np.array_equal(pps.background, local.background)
    # an image named otherwise: no listing, no map
    assert find_xmm_maps(f"{served.url}/xray/XC0000.fits.gz") == (None, None)


def test_a_url_is_read_once_while_its_version_stays(served: Served) -> None:
    url = f"{served.url}/optical/XC0000.fits.gz"
    _read_cached.cache_clear()
    served.requests.clear()
    first = load_image(url, "optical")
    assert load_image(url, "optical") is first
    assert [m for m, p in served.requests if p == "/optical/XC0000.fits.gz"] == ["HEAD", "GET", "HEAD"]
    # another file at the same URL (another size, so another version even within the second)
    path = served.root / "optical" / "XC0000.fits.gz"
    saved = path.read_bytes()
    try:
        hdu = fits.PrimaryHDU(np.ones((40, 40), dtype=np.float32), header=tan_wcs(30.0, -5.0, 1.0, 40).to_header())
        path.write_bytes(gzip.compress(_bytes(hdu)))
        again = load_image(url, "optical")
        assert again is not first and again.shape == (40, 40)
    finally:
        path.write_bytes(saved)
        _read_cached.cache_clear()


def test_a_local_render_does_not_import_fsspec(served: Served, tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from hunt_clusters.cli import main\n"
        f"assert main(['-q', 'render', {str(served.root / 'candidates.ecsv')!r}, '--out', {str(tmp_path / 'out')!r},"
        " '--size', '64', '--jobs', '1', '--candidates', 'XC0000']) == 0\n"
        "print(sorted(m for m in ('fsspec', 'aiohttp', 'dask') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.remote_data
def test_a_public_fits_file_over_https() -> None:
    """The astropy tutorials' DSS plate of the Horsehead nebula, read over https as a local file is read.

    Checked against the same bytes fetched with urllib and parsed from memory (not against remembered
    numbers): the same pixels and the same world coordinates; the Horsehead lies near RA 85.2, Dec -2.5.
    """
    import urllib.request

    url = "https://www.astropy.org/astropy-data/tutorials/FITS-images/HorseHead.fits"
    img = load_image(url, "optical")
    with urllib.request.urlopen(url, timeout=60) as r:
        ref = load_image(fits.HDUList.fromstring(r.read()), "optical")
    assert img.shape == ref.shape and img.data.ndim == 2
    np.testing.assert_array_equal(img.data, ref.data)
    assert img.center.separation(ref.center).arcsec < 1e-6
    assert abs(img.center.icrs.ra.deg - 85.2) < 1.0 and abs(img.center.icrs.dec.deg + 2.5) < 1.0


def test_remote_examples_run() -> None:
    import doctest

    from hunt_clusters.sky import _remote

    result = doctest.testmod(_remote)
    assert result.failed == 0 and result.attempted == 2
