"""Find the exposure and background maps that sit beside an XMM-Newton image file.

Two naming schemes are recognised:

* XMM pipeline (PPS) products, ``P<obsid:10><inst:2><flag:1><expid:3><TYPE><band:4>.FTZ``, e.g.
  ``P0098010101M2U009IMAGE_3000.FTZ`` with ``P0098010101M2U009EXPMAP3000.FTZ`` and
  ``P0098010101M2X000BKGMAP3000.FTZ``. The background map is a merged product with another
  flag/exposure code (``X000``), so maps are matched by ObsID, instrument and band code; a map with
  the image's own flag and exposure code is preferred when there are several.
* SAS/XGA-style products, ``<stem>img.fits`` with ``<stem>expmap.fits`` (and ``<stem>bkgmap.fits``).

Beside a URL the same names are looked for in the URL's folder, through its fsspec file system.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from ._remote import is_url, list_names, sibling, url_exists

log = logging.getLogger(__name__)

_PPS = re.compile(
    r"^P(?P<obsid>\d{10})(?P<inst>[A-Z0-9]{2})(?P<flag>[A-Z])(?P<expid>[0-9A-Z]{3})"
    r"(?P<type>IMAGE_|EXPMAP|BKGMAP)(?P<band>[0-9A-Z]{4})\.(?P<ext>FTZ|FIT|FITS|FTS)(?P<gz>\.GZ)?$",
    re.IGNORECASE,
)
_SAS = re.compile(r"^(?P<stem>.+?)(?P<type>img|expmap|bkgmap)(?P<ext>\.fits?(\.gz)?)$", re.IGNORECASE)


def _pps_pick(image_name: str, names: list[str], maptype: str) -> str | None:
    """The ``maptype`` map among the file ``names`` of the image's folder, by the PPS rules (or None)."""
    m = _PPS.match(image_name)
    if m is None or m["type"].upper() != "IMAGE_":
        return None
    found: list[tuple[int, str]] = []
    for name in names:
        c = _PPS.match(name)
        if (
            c is None
            or c["type"].upper() != maptype
            or c["inst"].upper() != m["inst"].upper()
            or c["band"].upper() != m["band"].upper()
        ):
            continue
        same_exposure = c["flag"].upper() == m["flag"].upper() and c["expid"].upper() == m["expid"].upper()
        found.append((0 if same_exposure else 1, name))
    if not found:
        return None
    found.sort()
    if len(found) > 1:
        log.debug("%s: several %s candidates %s; using %s", image_name, maptype, [f for _, f in found], found[0][1])
    return found[0][1]


def _pps_prefix(image_name: str) -> str | None:
    """``P<obsid>``, the names to list beside a PPS image, or None for another name."""
    m = _PPS.match(image_name)
    return None if m is None or m["type"].upper() != "IMAGE_" else f"P{m['obsid']}"


def _sas_names(image_name: str, maptype: str) -> list[str]:
    """The names a SAS ``maptype`` map of the image may have, in order of preference."""
    m = _SAS.match(image_name)
    if m is None or m["type"].lower() != "img":
        return []
    return [f"{m['stem']}{maptype.lower()}{ext}" for ext in dict.fromkeys((m["ext"], ".fits", ".fits.gz"))]


def _pps_match(image: Path, maptype: str) -> Path | None:
    prefix = _pps_prefix(image.name)
    if prefix is None:
        return None
    name = _pps_pick(image.name, [c.name for c in image.parent.glob(f"{prefix}*")], maptype)
    return None if name is None else image.with_name(name)


def _sas_match(image: Path, maptype: str) -> Path | None:
    for name in _sas_names(image.name, maptype):
        cand = image.with_name(name)
        if cand.is_file():
            return cand
    return None


def _url_maps(url: str) -> tuple[str | None, str | None]:
    """The maps beside a URL: the same names, found with the fsspec file system (``glob``, ``exists``)."""
    if "?" in url:  # a signed or parameterised URL names one object: no siblings
        return None, None
    name = url.rsplit("/", 1)[-1]
    prefix = _pps_prefix(name)
    listed = list_names(url, prefix) if prefix is not None else []
    out: list[str | None] = []
    for maptype in ("EXPMAP", "BKGMAP"):
        pick = _pps_pick(name, listed, maptype) if listed else None
        if pick is None:
            pick = next((n for n in _sas_names(name, maptype) if url_exists(sibling(url, n))), None)
        out.append(None if pick is None else sibling(url, pick))
    return out[0], out[1]


def find_xmm_maps(image_path: str | Path) -> tuple[Path | str | None, Path | str | None]:
    """The exposure and background map files beside an XMM image, each None when absent.

    Parameters
    ----------
    image_path : str or pathlib.Path
        The counts image (PPS ``P*IMAGE_*.FTZ`` or SAS ``*img.fits``), or its fsspec URL
        (``https://``, ``s3://``...).

    Returns
    -------
    exposure, background : pathlib.Path, str or None
        Paths for a local image, URLs (str) for a URL.

    Examples
    --------
    >>> find_xmm_maps("/nonexistent/P0098010101M2U009IMAGE_3000.FTZ")
    (None, None)
    """
    if is_url(image_path):
        return _url_maps(str(image_path))
    image = Path(image_path)
    exposure = _pps_match(image, "EXPMAP") or _sas_match(image, "EXPMAP")
    background = _pps_match(image, "BKGMAP") or _sas_match(image, "BKGMAP")
    return exposure, background
