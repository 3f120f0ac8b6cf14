"""Subject set spec files (``subject_sets/*.yaml``): which catalogue, which candidates, which options."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .._errors import InputError
from ._config import RenderConfig

_KEYS = ("name", "description", "catalogue", "select", "candidates", "out", "render", "tensors",
         "kosiba_layout", "kosiba_class", "kosiba_split", "contact_sheet")


@dataclass(frozen=True)
class SubjectSetSpec:
    """A reproducible subject set, read from YAML by `load_spec`.

    Relative paths in the file (``catalogue``, ``out``, ``kosiba_layout``, ``contact_sheet``) are
    relative to the spec file's folder; ``out`` defaults to ``<spec folder>/<name>/``.
    """

    name: str
    catalogue: Path
    out: Path
    path: Path
    description: str = ""
    select: str | None = None
    candidates: tuple[str, ...] | None = None
    config: RenderConfig = field(default_factory=RenderConfig)
    tensors: bool = True
    kosiba_layout: Path | None = None
    kosiba_class: str = "expert"
    kosiba_split: str | float | None = None
    contact_sheet: Path | None = None


def load_spec(path: str | os.PathLike[str]) -> SubjectSetSpec:
    """Read and check a subject set spec file.

    Parameters
    ----------
    path : path
        A YAML file with ``name``, ``catalogue`` and optionally ``description``, ``select``
        (``all`` or boolean columns joined by ``&``), ``candidates`` (a list of ids), ``out``,
        ``render`` (`RenderConfig` fields), ``tensors``, ``kosiba_layout``, ``kosiba_class``,
        ``kosiba_split``, ``contact_sheet``.

    Returns
    -------
    SubjectSetSpec

    Raises
    ------
    InputError
        Naming the file and the key at fault.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "s.yaml").write_text("name: demo\\ncatalogue: ../survey/c.ecsv\\nrender: {size: 256}\\n")
    >>> spec = load_spec(d / "s.yaml")
    >>> spec.out == d / "demo", spec.catalogue == d / "../survey/c.ecsv", spec.config.size
    (True, True, 256)
    """
    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{p}: spec file not found") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{p}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(raw, dict):
        raise InputError(f"{p}: expected a mapping with at least name: and catalogue:")
    unknown = sorted(set(map(str, raw)) - set(_KEYS))
    if unknown:
        raise InputError(f"{p}: unknown key(s) {', '.join(unknown)}; valid: {', '.join(_KEYS)}")
    for key in ("name", "catalogue"):
        if not raw.get(key) or not isinstance(raw[key], str):
            raise InputError(f"{p}: {key}: is required (a string)")
    base = p.parent

    def rel(key: str) -> Path | None:
        v = raw.get(key)
        if v is None:
            return None
        if not isinstance(v, str):
            raise InputError(f"{p}: {key}: expected a path, got {v!r}")
        q = Path(v)
        return q if q.is_absolute() else base / q

    select = raw.get("select")
    if select is not None and not isinstance(select, str):
        raise InputError(f"{p}: select: expected 'all' or boolean column names joined by '&', got {select!r}")
    cands = raw.get("candidates")
    if cands is not None:
        if not isinstance(cands, list) or not cands:
            raise InputError(f"{p}: candidates: expected a non-empty list of candidate ids")
        cands = tuple(str(c) for c in cands)
    tensors = raw.get("tensors", True)
    if not isinstance(tensors, bool):
        raise InputError(f"{p}: tensors: expected true or false, got {tensors!r}")
    kclass = raw.get("kosiba_class", "expert")
    if kclass not in ("expert", "true"):
        raise InputError(f"{p}: kosiba_class: expected expert or true, got {kclass!r}")
    split: Any = raw.get("kosiba_split")
    if split is not None and not isinstance(split, (str, float, int)):
        raise InputError(f"{p}: kosiba_split: expected a boolean column name or a test fraction")
    config = RenderConfig.from_mapping(raw.get("render"), source=f"{p}: render")
    name = raw["name"]
    return SubjectSetSpec(
        name=name,
        catalogue=rel("catalogue"),  # type: ignore[arg-type]
        out=rel("out") or base / name,
        path=p,
        description=str(raw.get("description") or ""),
        select=select,
        candidates=cands,
        config=config,
        tensors=tensors,
        kosiba_layout=rel("kosiba_layout"),
        kosiba_class=kclass,
        kosiba_split=float(split) if isinstance(split, (int, float)) else split,
        contact_sheet=rel("contact_sheet"),
    )
