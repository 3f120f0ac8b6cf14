"""fetch_dss: the on-disk cache and the offline paths against a test double; the live SkyView as remote_data."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.io import fits

from hunt_clusters._errors import HuntClustersError, InputError
from hunt_clusters.sky import dss_cache_path, fetch_dss, load_optical

COMA = SkyCoord(194.95, 27.98, unit="deg")


class FakeSkyView:
    """Stands in for astroquery.skyview.SkyView: records requests, returns a 2-D TAN image."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def get_images(self, **kwargs: Any) -> list[fits.HDUList]:
        self.calls.append(kwargs)
        n = kwargs["pixels"]
        scale = kwargs["width"].to_value(u.deg) / n
        pos = kwargs["position"]
        hdr = fits.Header({"CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRVAL1": pos.ra.deg, "CRVAL2": pos.dec.deg,
                           "CRPIX1": (n + 1) / 2, "CRPIX2": (n + 1) / 2, "CDELT1": -scale, "CDELT2": scale,
                           "SURVEY": kwargs["survey"][0]})
        return [fits.HDUList([fits.PrimaryHDU(np.ones((n, n), dtype=np.float32), hdr)])]


class BrokenSkyView:
    def get_images(self, **kwargs: Any) -> list[fits.HDUList]:
        raise ConnectionError("no network on this machine")


def test_cache_path_is_keyed_by_position_size_survey_and_pixels(tmp_path: Path) -> None:
    p = dss_cache_path(COMA, 2 * u.arcmin, cache_dir=tmp_path)
    assert p == tmp_path / "dss2_red_194.95000+27.98000_120.0as_120px.fits"
    assert dss_cache_path(COMA, 2 * u.arcmin, cache_dir=tmp_path, survey="DSS1 Red").name == (
        "dss1_red_194.95000+27.98000_120.0as_71px.fits"  # 1.7" plates: 120 / 1.7 = 70.6
    )
    assert dss_cache_path(COMA, 2 * u.arcmin, cache_dir=tmp_path, pixels=50).name.endswith("_50px.fits")
    south = SkyCoord(5.0, -3.5, unit="deg")
    assert dss_cache_path(south, 1 * u.deg, cache_dir=tmp_path).name == "dss2_red_005.00000-03.50000_3600.0as_3600px.fits"


def test_cache_hit_touches_no_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hunt_clusters.sky._fetch as fetch_module

    cached = dss_cache_path(COMA, 2 * u.arcmin, cache_dir=tmp_path)
    fits.PrimaryHDU(np.zeros((4, 4))).writeto(cached)

    def no_network() -> Any:
        raise AssertionError("the network was touched")

    monkeypatch.setattr(fetch_module, "_skyview", no_network)
    assert fetch_dss(COMA, 2 * u.arcmin, cache_dir=tmp_path) == cached


def test_cache_miss_downloads_once_then_hits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hunt_clusters.sky._fetch as fetch_module

    fake = FakeSkyView()
    monkeypatch.setattr(fetch_module, "_skyview", lambda: fake)
    cache = tmp_path / "cache"
    first = fetch_dss(COMA, 1 * u.arcmin, cache_dir=cache, pixels=30)
    second = fetch_dss(COMA, 1 * u.arcmin, cache_dir=cache, pixels=30)
    assert first == second == cache / "dss2_red_194.95000+27.98000_60.0as_30px.fits"
    assert len(fake.calls) == 1
    call = fake.calls[0]
    assert call["survey"] == ["DSS2 Red"] and call["pixels"] == 30 and call["projection"] == "Tan"
    assert call["width"] == call["height"] == 1 * u.arcmin
    img = load_optical(first)
    assert img.shape == (30, 30) and img.pixel_scale_arcsec == pytest.approx(2.0)
    assert img.contains(COMA)
    assert [p.name for p in cache.iterdir()] == [first.name]  # no temporary file left behind


def test_network_failure_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hunt_clusters.sky._fetch as fetch_module

    monkeypatch.setattr(fetch_module, "_skyview", lambda: BrokenSkyView())
    with pytest.raises(HuntClustersError, match=r"SkyView request for DSS2 Red at 194\.95 27\.98 failed \(ConnectionError: no network.*place the file at .*_120px\.fits to work offline"):
        fetch_dss(COMA, 2 * u.arcmin, cache_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_missing_astroquery_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "astroquery.skyview", None)  # makes the import fail
    with pytest.raises(HuntClustersError, match=r"needs astroquery.*pip install 'hunt-clusters\[fetch\]'"):
        fetch_dss(COMA, 2 * u.arcmin, cache_dir=tmp_path)


def test_dry_run_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hunt_clusters.sky._fetch as fetch_module

    monkeypatch.setattr(fetch_module, "_skyview", lambda: BrokenSkyView())
    path = fetch_dss(COMA, 2 * u.arcmin, cache_dir=tmp_path / "c", dry_run=True)
    assert path.name.endswith("_120px.fits") and not path.exists()


def test_unknown_survey(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"survey 'SDSS r' is not a DSS survey; expected one of DSS, DSS1 Blue"):
        fetch_dss(COMA, 2 * u.arcmin, cache_dir=tmp_path, survey="SDSS r")


@pytest.mark.parametrize("size", [2.0, 2 * u.kg, -1 * u.arcmin])
def test_bad_size(tmp_path: Path, size: Any) -> None:
    with pytest.raises(InputError, match="size"):
        fetch_dss(COMA, size, cache_dir=tmp_path)


def test_bad_pixels(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"pixels = 0 must be a positive integer"):
        fetch_dss(COMA, 2 * u.arcmin, cache_dir=tmp_path, pixels=0)


@pytest.mark.remote_data
def test_live_skyview_dss_of_coma(tmp_path: Path) -> None:
    path = fetch_dss(COMA, 2 * u.arcmin, cache_dir=tmp_path, pixels=60)
    img = load_optical(path)
    assert img.shape == (60, 60)
    assert img.contains(COMA)
    assert img.center.separation(COMA) < 3 * u.arcsec
