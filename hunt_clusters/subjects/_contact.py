"""Contact sheets: a grid of subjects captioned with their class, to judge the pictures at a glance."""

from __future__ import annotations

import csv
import logging
import os
from pathlib import Path

import numpy as np
from astropy.table import Table
from PIL import Image, ImageDraw

from .. import CLASSES
from .._errors import InputError
from ._overlay import _font

log = logging.getLogger(__name__)

#: Frame and caption band of a subject without contours on a contact sheet.
_NO_CONTOUR_RED = (210, 30, 30)


def contact_sheet(subject_dir: str | os.PathLike[str], captions: dict[str, str],
                  out: str | os.PathLike[str], *, per_class: int = 5, thumb: int = 256) -> Path:
    """Draw a grid of a subject set's pictures: one row per class, ``per_class`` subjects each.

    Parameters
    ----------
    subject_dir : path
        A subject set folder with ``manifest.csv``.
    captions : dict
        ``candidate_id -> class`` (true class in a mock survey, expert class otherwise); rows follow
        `hunt_clusters.CLASSES`, then any other caption; candidates without one are left out.
    out : path
        The PNG to write.
    per_class : int
        Columns of the grid (subjects per class).
    thumb : int
        Side of each thumbnail in pixels.

    A subject whose manifest row says ``#contour_levels`` 0 (drawn without any X-ray contour) is
    framed in red and captioned ``NO CONTOURS``.

    Returns
    -------
    pathlib.Path
        ``out``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from PIL import Image
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> Image.new("RGB", (64, 64)).save(d / "a.png")
    >>> _ = (d / "manifest.csv").write_text("image,#candidate_id,#ra,#dec\\na.png,a,1,2\\n")
    >>> p = contact_sheet(d, {"a": "point"}, d / "sheet.png", thumb=64)
    >>> with Image.open(p) as im:
    ...     im.size
    (64, 78)
    """
    folder = Path(subject_dir)
    manifest = folder / "manifest.csv"
    if not manifest.is_file():
        raise InputError(f"{manifest}: not found; render the subject set first")
    with open(manifest, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    groups: dict[str, list[tuple[str, str, bool]]] = {}
    for row in rows:
        cid = row.get("#candidate_id", "")
        cls = captions.get(cid, "")
        if cls:
            groups.setdefault(cls, []).append((cid, row["image"], row.get("#contour_levels", "") == "0"))
    order = [c for c in CLASSES if c in groups] + sorted(set(groups) - set(CLASSES))
    if not order:
        raise InputError(f"{folder}: no captioned subjects (no true_class or expert_class for them)")
    ncols = min(per_class, max(len(groups[c]) for c in order))
    cap = max(12, thumb // 18) + 2
    font = _font(cap - 2)
    sheet = Image.new("RGB", (ncols * thumb, len(order) * (thumb + cap)), (20, 20, 20))
    draw = ImageDraw.Draw(sheet)
    for r, cls in enumerate(order):
        for c, (cid, image, no_contours) in enumerate(groups[cls][:ncols]):
            with Image.open(folder / image) as im:
                small = im.convert("RGB").resize((thumb, thumb), Image.Resampling.LANCZOS)
            x, y = c * thumb, r * (thumb + cap)
            sheet.paste(small, (x, y + cap))
            text = f"{cls}  {cid}"
            if no_contours:  # a subject volunteers would see without any X-ray contour
                w = max(3, thumb // 40)
                draw.rectangle((x, y, x + thumb - 1, y + cap + thumb - 1), outline=_NO_CONTOUR_RED, width=w)
                draw.rectangle((x, y, x + thumb - 1, y + cap - 1), fill=_NO_CONTOUR_RED)
                text += "  NO CONTOURS"
            draw.text((x + 3, y + 1), text, fill=(255, 255, 255), font=font)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out)
    log.info("contact sheet: %s (%d classes x %d)", out, len(order), ncols)
    return out


def class_captions(table: Table) -> dict[str, str]:
    """``candidate_id -> class`` for captions: ``true_class`` where present, else ``expert_class``.

    Examples
    --------
    >>> from astropy.table import Table
    >>> t = Table({"candidate_id": ["a", "b"], "true_class": ["", "point"], "expert_class": ["galaxy", "other"]})
    >>> class_captions(t)
    {'a': 'galaxy', 'b': 'point'}
    """
    names = {c.lower(): c for c in table.colnames}
    out: dict[str, str] = {}
    for row in table:
        cid = str(row[names["candidate_id"]]).strip()
        for col in ("true_class", "expert_class"):
            if col in names:
                v = row[names[col]]
                text = "" if v is None or v is np.ma.masked else str(v).strip()
                if text and text not in ("--", "nan", "None"):
                    out[cid] = text.lower()
                    break
    return out
