"""The renderer reads images through hunt_clusters.sky, once per file while the file is unchanged.

(The fast FITS reader itself, and its agreement with astropy on every real file, is tested in
tests/sky/test_sky_fastfits.py.)
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from subjects_synth import tan_wcs

from hunt_clusters._errors import InputError
from hunt_clusters.sky import SkyImage, load_xray
from hunt_clusters.subjects._inputs import load_image


def _write(path: Path, value: float, n: int = 16) -> Path:
    fits.PrimaryHDU(np.full((n, n), value, dtype=np.float32), tan_wcs(150.0, 2.0, 2.5, n).to_header()).writeto(
        path, overwrite=True)
    return path


def test_a_file_is_read_once_until_it_changes(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.fits", 3.0)
    first = load_image(path, "xray")
    assert isinstance(first, SkyImage) and first.kind == "xray" and first.path == str(path)
    assert load_image(path, "xray") is first
    assert load_image(str(path), "xray") is first  # str and Path name the same file
    assert load_image(path, "optical") is not first and load_image(path, "optical").kind == "optical"
    _write(path, 5.0, n=20)  # another size: a new read whatever the clock's resolution
    again = load_image(path, "xray")
    assert again is not first and again.shape == (20, 20) and float(again.data[0, 0]) == 5.0


def test_the_same_relative_name_in_another_folder_is_another_file(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    for sub, value in (("a", 1.0), ("b", 2.0)):
        (tmp_path / sub).mkdir()
        _write(tmp_path / sub / "x.fits", value)
        os.utime(tmp_path / sub / "x.fits", ns=(10**18, 10**18))  # same mtime and size in both folders
    monkeypatch.chdir(tmp_path / "a")
    assert float(load_image("x.fits", "optical").data[0, 0]) == 1.0
    monkeypatch.chdir(tmp_path / "b")
    assert float(load_image("x.fits", "optical").data[0, 0]) == 2.0


def test_a_sky_image_is_used_as_it_is() -> None:
    image = load_xray((np.ones((8, 8)), tan_wcs(150.0, 2.0, 2.5, 8)), exposure=np.full((8, 8), 10.0))
    assert load_image(image, "xray") is image
    assert load_image(image, "optical") is image


def test_a_missing_file_is_the_sky_readers_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nothere\.fits: file not found"):
        load_image(tmp_path / "nothere.fits", "xray")
