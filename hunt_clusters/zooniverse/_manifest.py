"""Read and check a subject-set folder (``manifest.csv`` + images) before anything is sent."""

from __future__ import annotations

import csv
import logging
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from .._errors import InputError

log = logging.getLogger(__name__)

#: The Zooniverse limit on one media file (also checked by panoptes-cli).
MAX_MEDIA_BYTES = 1024 * 1024
#: The manifest columns every subject set must have.
REQUIRED_COLUMNS = ("image", "#candidate_id", "#ra", "#dec")

_SIGNATURES = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
}


@dataclass(frozen=True)
class SubjectRecord:
    """One manifest row, checked: the subject to create.

    Attributes
    ----------
    candidate_id : str
        The hidden ``#candidate_id``, unique in the manifest.
    row : int
        Line number in ``manifest.csv`` (the header is line 1), for error messages.
    image : Path
        The image file (absolute).
    mime : str
        ``image/png``, ``image/jpeg`` or ``image/gif``.
    size : int
        File size in bytes (at most `MAX_MEDIA_BYTES`).
    metadata : Mapping[str, str]
        Every manifest column, hidden ones with their ``#`` prefix, as the Zooniverse CLI sends it.
    """

    candidate_id: str
    row: int
    image: Path
    mime: str
    size: int
    metadata: Mapping[str, str]

    def read_image(self) -> bytes:
        """The image bytes."""
        return self.image.read_bytes()


def read_subject_set(folder: str | Path) -> list[SubjectRecord]:
    """Read ``folder/manifest.csv`` and check every row and image.

    Parameters
    ----------
    folder : str or Path
        A subject-set folder (see ``docs/formats.md``), or the manifest file itself.

    Returns
    -------
    list of SubjectRecord
        In manifest order.

    Raises
    ------
    InputError
        Naming the manifest, row and value: a missing column, an empty or repeated
        ``#candidate_id``, a missing, empty, oversized (> 1 MiB) or non-image file.

    Examples
    --------
    >>> records = read_subject_set("subject_sets/demo")  # doctest: +SKIP
    >>> records[0].metadata["#candidate_id"]              # doctest: +SKIP
    'XLSSC 001'
    """
    path = Path(folder)
    manifest = path if path.is_file() else path / "manifest.csv"
    if not manifest.is_file():
        from .._outputs import describe_folder

        raise InputError(f"{manifest}: manifest not found (expected a subject-set folder of 'hunt-clusters render', "
                         f"with manifest.csv and the images; found {describe_folder(path if path.suffix.lower() != '.csv' else path.parent)})")
    with manifest.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        columns = [c for c in (reader.fieldnames or [])]
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            raise InputError(
                f"{manifest}: missing column(s) {', '.join(missing)}; a manifest needs {', '.join(REQUIRED_COLUMNS)} "
                f"(it has {', '.join(columns) or 'none'})"
            )
        records: list[SubjectRecord] = []
        seen: dict[str, int] = {}
        for lineno, row in enumerate(reader, start=2):
            if None in row:
                raise InputError(f"{manifest}, line {lineno}: more cells than the {len(columns)} columns of the header")
            cid = (row.get("#candidate_id") or "").strip()
            if not cid:
                raise InputError(f"{manifest}, line {lineno}: empty #candidate_id")
            if cid in seen:
                raise InputError(
                    f"{manifest}, line {lineno}: #candidate_id {cid!r} already on line {seen[cid]}; ids must be unique"
                )
            seen[cid] = lineno
            name = (row.get("image") or "").strip()
            if not name:
                raise InputError(f"{manifest}, line {lineno} ({cid}): empty image cell")
            image = (manifest.parent / name).resolve()
            where = f"{manifest}, line {lineno} ({cid})"
            if not image.is_file():
                raise InputError(f"{where}: image {name!r} not found in {manifest.parent}")
            size = image.stat().st_size
            if size == 0:
                raise InputError(f"{where}: image {name!r} is empty")
            if size > MAX_MEDIA_BYTES:
                raise InputError(
                    f"{where}: image {name!r} is {size} bytes; Zooniverse accepts at most {MAX_MEDIA_BYTES} (1 MiB)"
                )
            mime = mimetypes.guess_type(name)[0] or ""
            if mime not in _SIGNATURES:
                raise InputError(f"{where}: image {name!r} is not a .png, .jpg or .gif file")
            with image.open("rb") as fh_img:
                head = fh_img.read(8)
            if not head.startswith(_SIGNATURES[mime]):
                raise InputError(f"{where}: {name!r} does not contain {mime} data (wrong extension or damaged file)")
            for col in ("#ra", "#dec"):
                try:
                    float(row[col])
                except (TypeError, ValueError):
                    raise InputError(f"{where}: {col} {row[col]!r} is not a number (degrees)") from None
            meta = {k: (v if v is not None else "") for k, v in row.items() if k}
            records.append(SubjectRecord(cid, lineno, image, mime, size, MappingProxyType(meta)))
    if not records:
        raise InputError(f"{manifest}: no subjects (the manifest has a header only)")
    log.debug("%s: %d subjects", manifest, len(records))
    return records


__all__ = ["MAX_MEDIA_BYTES", "REQUIRED_COLUMNS", "SubjectRecord", "read_subject_set"]
