"""Find the exposure and background maps that sit beside an XMM-Newton image file.

Two naming schemes are recognised:

* XMM pipeline (PPS) products, ``P<obsid:10><inst:2><flag:1><expid:3><TYPE><band:4>.FTZ``, e.g.
  ``P0098010101M2U009IMAGE_3000.FTZ`` with ``P0098010101M2U009EXPMAP3000.FTZ`` and
  ``P0098010101M2X000BKGMAP3000.FTZ``. The background map is a merged product with another
  flag/exposure code (``X000``), so maps are matched by ObsID, instrument and band code; a map with
  the image's own flag and exposure code is preferred when there are several.
* SAS/XGA-style products, ``<stem>img.fits`` with ``<stem>expmap.fits`` (and ``<stem>bkgmap.fits``).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

log = logging.getLogger(__name__)

_PPS = re.compile(
    r"^P(?P<obsid>\d{10})(?P<inst>[A-Z0-9]{2})(?P<flag>[A-Z])(?P<expid>[0-9A-Z]{3})"
    r"(?P<type>IMAGE_|EXPMAP|BKGMAP)(?P<band>[0-9A-Z]{4})\.(?P<ext>FTZ|FIT|FITS|FTS)(?P<gz>\.GZ)?$",
    re.IGNORECASE,
)
_SAS = re.compile(r"^(?P<stem>.+?)(?P<type>img|expmap|bkgmap)(?P<ext>\.fits?(\.gz)?)$", re.IGNORECASE)


def _pps_match(image: Path, maptype: str) -> Path | None:
    m = _PPS.match(image.name)
    if m is None or m["type"].upper() != "IMAGE_":
        return None
    found: list[tuple[int, Path]] = []
    for cand in image.parent.glob(f"P{m['obsid']}*"):
        c = _PPS.match(cand.name)
        if (
            c is None
            or c["type"].upper() != maptype
            or c["inst"].upper() != m["inst"].upper()
            or c["band"].upper() != m["band"].upper()
        ):
            continue
        same_exposure = c["flag"].upper() == m["flag"].upper() and c["expid"].upper() == m["expid"].upper()
        found.append((0 if same_exposure else 1, cand))
    if not found:
        return None
    found.sort(key=lambda t: (t[0], t[1].name))
    if len(found) > 1:
        names = [f.name for _, f in found]
        log.debug("%s: several %s candidates %s; using %s", image, maptype, names, found[0][1].name)
    return found[0][1]


def _sas_match(image: Path, maptype: str) -> Path | None:
    m = _SAS.match(image.name)
    if m is None or m["type"].lower() != "img":
        return None
    for ext in dict.fromkeys((m["ext"], ".fits", ".fits.gz")):
        cand = image.with_name(f"{m['stem']}{maptype.lower()}{ext}")
        if cand.is_file():
            return cand
    return None


def find_xmm_maps(image_path: str | Path) -> tuple[Path | None, Path | None]:
    """The exposure and background map files beside an XMM image, each None when absent.

    Parameters
    ----------
    image_path : str or pathlib.Path
        The counts image (PPS ``P*IMAGE_*.FTZ`` or SAS ``*img.fits``).

    Returns
    -------
    exposure, background : pathlib.Path or None

    Examples
    --------
    >>> find_xmm_maps("/nonexistent/P0098010101M2U009IMAGE_3000.FTZ")
    (None, None)
    """
    image = Path(image_path)
    exposure = _pps_match(image, "EXPMAP") or _sas_match(image, "EXPMAP")
    background = _pps_match(image, "BKGMAP") or _sas_match(image, "BKGMAP")
    return exposure, background
