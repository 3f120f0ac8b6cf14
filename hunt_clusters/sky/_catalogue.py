"""Candidate catalogues: read CSV, ECSV, FITS or VOTable tables and map them to the contract columns."""

from __future__ import annotations

import csv
import logging
import os
import re
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import astropy.units as u
import numpy as np
from astropy.coordinates import Angle
from astropy.io.fits.verify import VerifyWarning
from astropy.io.votable.exceptions import VOWarning
from astropy.table import MaskedColumn, Table
from astropy.utils.exceptions import AstropyUserWarning

from .. import CLASSES
from .._errors import InputError
from ._remote import is_url

log = logging.getLogger(__name__)

#: Accepted spellings of each contract column, matched case-insensitively, in order of preference.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "candidate_id": (
        "candidate_id", "cand_id", "candidate", "id", "name", "source_id", "src_id", "srcname",
        "source_name", "object", "object_name", "objname", "xclass", "xclass_id", "iauname",
    ),
    "ra": ("ra", "ra_deg", "radeg", "raj2000", "_raj2000", "ra_j2000", "ra_icrs", "alpha_j2000", "ra_2000"),
    "dec": (
        "dec", "dec_deg", "decdeg", "dej2000", "_dej2000", "decj2000", "_decj2000", "dec_j2000", "de_icrs",
        "dec_icrs", "delta_j2000", "dec_2000",
    ),
    "xray_image": ("xray_image", "xray_file", "xray_path", "x_image", "xmm_image"),
    "optical_image": ("optical_image", "optical_file", "optical_path", "dss_image", "dss_file"),
    "extent_arcsec": ("extent_arcsec", "extent", "ext", "ext_arcsec"),
    "ext_like": ("ext_like", "extlike", "ext_lik"),
    "count_rate": ("count_rate", "countrate", "rate", "cts_rate"),
    "redshift": ("redshift", "z", "z_spec", "zspec"),
    "expert_class": ("expert_class", "expert_label", "class"),
    "spec_class": ("spec_class", "spectroscopic_class"),
    "true_class": ("true_class",),
}
"""Contract column -> spellings accepted on input (case-insensitive; first match wins)."""

CONTRACT_COLUMNS: tuple[str, ...] = tuple(COLUMN_ALIASES)
"""Contract columns in their documented order (docs/formats.md); only the first three are required."""

_IMAGE_COLUMNS = ("xray_image", "optical_image")
_FLOAT_COLUMNS = ("extent_arcsec", "ext_like", "count_rate", "redshift")
_CLASS_COLUMNS = ("expert_class", "true_class")
SPEC_CLASSES: tuple[str, ...] = ("cluster", "non-cluster")
"""Values of ``spec_class`` besides the empty string."""

_FORMATS = {
    ".csv": "ascii.csv",
    ".ecsv": "ascii.ecsv",
    ".fits": "fits",
    ".fit": "fits",
    ".fts": "fits",
    ".fits.gz": "fits",
    ".xml": "votable",
    ".vot": "votable",
    ".votable": "votable",
}


def _format_of(path: Path) -> str | None:
    name = path.name.lower()
    for suffix in sorted(_FORMATS, key=len, reverse=True):
        if name.endswith(suffix):
            return _FORMATS[suffix]
    return None


def _csv_header(path: Path) -> tuple[list[str], int]:
    """The column names of a CSV file and the number of comment (``#``) or blank lines before them."""
    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        for skipped, row in enumerate(csv.reader(fh)):
            if row and not row[0].lstrip().startswith("#"):
                return [c.strip() for c in row], skipped
    return [], 0


def _read_csv(path: Path) -> Table:
    """CSV through pandas' C parser (astropy's fast reader cannot keep one column as text), so that
    an id column of ``007`` stays ``"007"``; empty cells become masked values."""
    import pandas as pd  # here, not at import: ~0.4 s of every command's start-up

    names, skip = _csv_header(path)
    id_col = _find(names, COLUMN_ALIASES["candidate_id"])
    frame = pd.read_csv(
        path,
        skiprows=skip,
        dtype={id_col: str} if id_col is not None else None,
        keep_default_na=False,
        na_values=[""],
        skipinitialspace=True,
    )
    frame.columns = [str(c).strip() for c in frame.columns]
    return Table.from_pandas(frame)


def _find(names: Iterable[str], aliases: tuple[str, ...]) -> str | None:
    lower: dict[str, str] = {}
    for n in names:
        lower.setdefault(n.strip().lower(), n)
    for a in aliases:
        if a in lower:
            return lower[a]
    return None


def _read_table(path: Path) -> Table:
    fmt = _format_of(path)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if fmt == "ascii.csv":
                table = _read_csv(path)
            else:
                table = Table.read(path, format=fmt) if fmt else Table.read(path)
    except Exception as exc:  # noqa: BLE001 - astropy raises many types for unreadable tables
        known = ", ".join(sorted(set(_FORMATS)))
        raise InputError(
            f"{path}: cannot read it as a table ({type(exc).__name__}: {exc}); expected one of {known}"
        ) from None
    for w in caught:
        if issubclass(w.category, (VOWarning, VerifyWarning, AstropyUserWarning, u.UnitsWarning)):
            log.debug("%s: %s", path, w.message)
        else:  # pragma: no cover - anything unexpected is re-raised with its category
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return table


def _row_values(col: Any) -> tuple[np.ndarray, np.ndarray]:
    """Values as an object array and a boolean mask of missing entries (masked or empty strings)."""
    mask = np.asarray(getattr(col, "mask", np.zeros(len(col), bool)), dtype=bool)
    if mask.ndim == 0:
        mask = np.full(len(col), bool(mask))
    values = np.asarray(col.filled() if isinstance(col, MaskedColumn) else col)
    if values.dtype.kind == "S":
        values = np.char.decode(values, "utf-8")
    if values.dtype.kind == "U":
        stripped = np.char.strip(values)
        mask = mask | (stripped == "")
        values = stripped
    elif values.dtype.kind == "f":
        mask = mask | ~np.isfinite(values)
    return values, mask


_SEXAGESIMAL = re.compile(
    r"^([+-])?(\d{1,3})(?:\s*[:hd\u00b0]\s*|\s+)(\d{1,2})(?:\s*[:m']\s*|\s+)(\d{1,2}(?:\.\d*)?)\s*[s\"]?$"
)


def _quick_sexagesimal(text: str) -> float | None:
    """``[+-]DD:MM:SS.s`` (or with h/d, m, s letters, or spaces) in units of the first field, else None.

    A fast path for the common forms; anything else (and out-of-range minutes or seconds) is left
    to :class:`astropy.coordinates.Angle`.
    """
    m = _SEXAGESIMAL.match(text)
    if m is None:
        return None
    minutes, seconds = int(m[3]), float(m[4])
    if minutes >= 60 or seconds >= 60:
        return None
    value = int(m[2]) + minutes / 60.0 + seconds / 3600.0
    return -value if m[1] == "-" else value


def _angle_deg(col: Any, which: str, label: str) -> np.ndarray:
    """RA or Dec in degrees from numbers (deg or with a unit) or sexagesimal strings."""
    values, missing = _row_values(col)
    if np.any(missing):
        row = int(np.flatnonzero(missing)[0]) + 1
        raise InputError(f"{label}: row {row}: {col.info.name} is empty; every candidate needs {which} in degrees")
    unit = getattr(col, "unit", None)
    if values.dtype.kind in "iuf":
        out = np.asarray(values, dtype=np.float64)
        if unit is not None and unit != u.deg:
            try:
                out = (out * unit).to_value(u.deg)
            except u.UnitConversionError:
                raise InputError(f"{label}: column {col.info.name} has unit {unit}; expected an angle (deg)") from None
        return out
    if values.dtype.kind != "U":
        raise InputError(
            f"{label}: column {col.info.name} has type {values.dtype}; expected {which} as numbers or strings"
        )
    try:
        return values.astype(np.float64)
    except ValueError:
        pass
    text_unit = u.hourangle if which == "RA" else u.deg
    factor = 15.0 if which == "RA" else 1.0
    out = np.empty(len(values))
    for i, v in enumerate(values):
        quick = _quick_sexagesimal(v)
        if quick is not None:
            out[i] = quick * factor
            continue
        try:
            out[i] = float(v)
            continue
        except ValueError:
            pass
        try:
            out[i] = Angle(v, unit=text_unit).deg
        except (ValueError, u.UnitsError):
            form = "'14:29:56.0', '14h29m56s' or degrees" if which == "RA" else "'-62:41:05', '-62d41m05s' or degrees"
            raise InputError(
                f"{label}: row {i + 1}: {col.info.name} = {_py(v)!r} is not an angle; expected {form}"
            ) from None
    return out


def _py(value: Any) -> Any:
    """A numpy scalar as the plain Python value, so that messages show ``'a'`` not ``np.str_('a')``."""
    return value.item() if isinstance(value, np.generic) else value


def _text(col: Any) -> np.ndarray:
    values, missing = _row_values(col)
    out = np.array([str(v) for v in values], dtype=object) if values.dtype.kind != "U" else values.astype(object)
    out[missing] = ""
    return out.astype(str)


def _floats(col: Any, name: str, label: str) -> np.ndarray:
    values, missing = _row_values(col)
    out = np.full(len(values), np.nan)
    try:  # the whole column at once; row by row only to name the bad value
        out[~missing] = values[~missing].astype(np.float64)
        return out
    except (TypeError, ValueError):
        pass
    for i, v in enumerate(values):
        if missing[i]:
            continue
        try:
            out[i] = float(v)
        except (TypeError, ValueError):
            raise InputError(f"{label}: row {i + 1}: {name} = {_py(v)!r} is not a number") from None
    return out


def _resolve_paths(values: np.ndarray, base: Path) -> np.ndarray:
    out = []
    for v in values:
        if not v:
            out.append("")
        elif is_url(v):  # https://, s3://...: read by the workers through fsspec, as written
            out.append(v)
        else:
            p = Path(os.path.expanduser(v))
            out.append(os.path.normpath(p if p.is_absolute() else base / p))
    return np.array(out, dtype=str) if out else np.array([], dtype=str)


def _validate(table: Table, label: str, image_paths_raw: dict[str, np.ndarray]) -> None:
    ids = np.asarray(table["candidate_id"])
    empty = np.flatnonzero(ids == "")
    if empty.size:
        raise InputError(f"{label}: row {empty[0] + 1}: candidate_id is empty; every candidate needs a unique id")
    _, first, inverse, counts = np.unique(ids, return_index=True, return_inverse=True, return_counts=True)
    repeats = np.flatnonzero((counts[inverse] > 1) & (first[inverse] != np.arange(len(ids))))
    if repeats.size:
        i = int(repeats[0])
        raise InputError(
            f"{label}: row {i + 1}: candidate_id {_py(ids[i])!r} repeats row {first[inverse[i]] + 1}; "
            "ids must be unique"
        )
    ra, dec = np.asarray(table["ra"]), np.asarray(table["dec"])
    bad = np.flatnonzero(~((ra >= 0) & (ra < 360)))
    if bad.size:
        i = int(bad[0])
        raise InputError(f"{label}: row {i + 1}: ra = {_py(ra[i])!r} is outside [0, 360) degrees")
    bad = np.flatnonzero(~((dec >= -90) & (dec <= 90)))
    if bad.size:
        i = int(bad[0])
        raise InputError(f"{label}: row {i + 1}: dec = {_py(dec[i])!r} is outside [-90, 90] degrees")
    for name, allowed in [(c, CLASSES) for c in _CLASS_COLUMNS] + [("spec_class", SPEC_CLASSES)]:
        if name not in table.colnames:
            continue
        values = np.asarray(table[name])
        bad = np.flatnonzero(~np.isin(values, list(allowed) + [""]))
        if bad.size:
            i, v = int(bad[0]), values[bad[0]]
            raise InputError(
                f"{label}: row {i + 1}: {name} = {_py(v)!r} is not a known class; expected one of "
                f"{', '.join(allowed)} or empty"
            )
    for name in _IMAGE_COLUMNS:
        if name not in table.colnames:
            continue
        for i, p in enumerate(table[name]):
            if p and not is_url(p) and not os.path.isfile(p):  # a URL is checked when it is read
                raise InputError(
                    f"{label}: row {i + 1}: {name} {_py(image_paths_raw[name][i])!r} not found (looked for {p}); "
                    "image paths are relative to the catalogue's folder"
                )


def read_candidates(path: str | os.PathLike[str] | Table, *, validate: bool = True) -> Table:
    """Read a candidate catalogue and return it with the contract columns of docs/formats.md.

    Column names are matched case-insensitively against :data:`COLUMN_ALIASES` (``RA``, ``ra``,
    ``RAJ2000``, ``RA_deg``, ``_RAJ2000``, ``ALPHA_J2000``...; ``candidate_id``, ``id``, ``name``,
    ``XCLASS``...). RA and Dec may be degrees (a column unit such as rad or hourangle is converted)
    or sexagesimal strings (``"14:29:56.0"``, ``"14h29m56s"``, ``"14 29 56"`` for RA in hours,
    ``"-62:41:05"`` for Dec). J2000/FK5 positions are taken as ICRS (they differ by < 0.03").

    Parameters
    ----------
    path : str, os.PathLike or astropy.table.Table
        A CSV, ECSV, FITS (``.fits``, ``.fits.gz``) or VOTable (``.xml``, ``.vot``) file; other
        extensions are left to astropy's format guessing. A Table is taken as read from the
        current folder.
    validate : bool, optional
        Check unique non-empty ids, RA in [0, 360), Dec in [-90, 90], classes (``expert_class`` and
        ``true_class`` in :data:`hunt_clusters.CLASSES`, ``spec_class`` in cluster / non-cluster,
        each or empty) and that image files exist (URLs are not checked here: they are when read).
        Default True.

    Returns
    -------
    astropy.table.Table
        Contract columns first (``candidate_id`` str; ``ra``, ``dec`` float64 deg; the optional ones
        present: image paths resolved against the catalogue's folder, URLs such as ``https://...``
        or ``s3://...`` kept as written; floats with NaN where missing, classes lower-case with
        ``''`` where missing), then every other input column unchanged. ``meta['base_dir']`` is
        the catalogue's folder, ``meta['source']`` its path.

    Raises
    ------
    InputError
        For a missing or unreadable file, no id/RA/Dec column, or (with ``validate``) a bad value;
        the message names the file, the 1-based data row and the value.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "cands.csv").write_text("Name,RAJ2000,DEJ2000\\nA1835,14:01:02.12,+02:52:43\\n")
    >>> t = read_candidates(folder / "cands.csv")
    >>> t.colnames, round(float(t["ra"][0]), 4), round(float(t["dec"][0]), 4)
    (['candidate_id', 'ra', 'dec'], 210.2588, 2.8786)
    """
    if isinstance(path, Table):
        raw, label, base = path, "<Table>", Path.cwd()
    else:
        p = Path(path)
        label = str(p)
        if not p.is_file():
            raise InputError(f"{p}: file not found (expected a candidate catalogue: CSV, ECSV, FITS or VOTable)")
        raw = _read_table(p)
        base = p.resolve().parent
    if len(raw) == 0:
        raise InputError(f"{label}: the table has no rows; expected one row per candidate")
    found: dict[str, str] = {}
    for name, aliases in COLUMN_ALIASES.items():
        col = _find(raw.colnames, aliases)
        if col is not None and col not in found.values():
            found[name] = col
    for required, what in (("candidate_id", "ids"), ("ra", "RA"), ("dec", "Dec")):
        if required not in found:
            spellings = ", ".join(COLUMN_ALIASES[required][:8])
            raise InputError(
                f"{label}: no {what} column (columns: {', '.join(raw.colnames)}); expected one of {spellings} "
                "(case-insensitive)"
            )
    log.debug("%s: column mapping %s", label, found)
    out = Table(meta=dict(raw.meta))
    out["candidate_id"] = _text(raw[found["candidate_id"]])
    out["ra"] = _angle_deg(raw[found["ra"]], "RA", label)
    out["dec"] = _angle_deg(raw[found["dec"]], "Dec", label)
    out["ra"].unit = out["dec"].unit = u.deg
    raw_paths: dict[str, np.ndarray] = {}
    for name in CONTRACT_COLUMNS[3:]:
        if name not in found:
            continue
        col = raw[found[name]]
        if name in _IMAGE_COLUMNS:
            raw_paths[name] = _text(col)
            out[name] = _resolve_paths(raw_paths[name], base)
        elif name in _FLOAT_COLUMNS:
            out[name] = _floats(col, found[name], label)
            if getattr(col, "unit", None) is not None:
                out[name].unit = col.unit
        else:
            out[name] = np.char.lower(_text(col))
    for col in raw.colnames:
        if col not in found.values() and col not in out.colnames:
            out[col] = raw[col]
    out.meta["base_dir"] = str(base)
    out.meta["source"] = label
    if validate:
        _validate(out, label, raw_paths)
    return out
