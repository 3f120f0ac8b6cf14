"""Read retire's inputs (aggregate's votes and gold split) and write its outputs."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import InputError
from ._caesar import caesar_definitions, caesar_extracts, subject_id_text
from ._decide import RetireConfig

log = logging.getLogger(__name__)

#: What `write_outputs` writes into its folder.
OUTPUT_FILES: tuple[str, ...] = ("decisions.csv", "caesar_extracts.csv", "caesar_rules.json")


@dataclass(frozen=True)
class RetireInputs:
    """The votes (None: no votes yet) and the gold labels SWAP learns from (None: none)."""

    votes: pd.DataFrame | None
    gold: pd.Series | None


def read_votes(path: str | Path) -> RetireInputs:
    """Aggregate's output: a folder (``votes.parquet`` and ``folds.csv``), a ``.parquet`` or a ``.csv`` votes table.

    From a folder the gold subjects are every expert-classified subject of ``folds.csv`` (aggregate
    ``--experts`` writes it): a retirement decision scores nothing, so every expert label may teach
    the volunteers' skills (the replay, which does score, keeps its own held-out subjects). A folder
    of an aggregate from before cross-fitting holds ``gold.csv`` instead: its rows whose ``role`` is
    ``gold``.
    """
    p = Path(path)
    gold: pd.Series | None = None
    if p.is_dir():
        folder, p = p, p / "votes.parquet"
        if not p.exists():
            raise InputError(f"{folder}: no votes.parquet (give the folder 'hunt-clusters aggregate --out' wrote)")
        for name in ("folds.csv", "gold.csv"):
            if (folder / name).exists():
                gold = read_gold(folder / name)
                break
    if not p.exists():
        raise InputError(f"{p}: votes table not found")
    try:
        if p.suffix.lower() == ".parquet":
            votes = pd.read_parquet(p)
        elif p.suffix.lower() == ".csv":
            votes = pd.read_csv(p, dtype={"candidate_id": str, "user": str, "class": str})
        else:
            raise InputError(f"{p}: give votes.parquet, a votes .csv, or aggregate's output folder")
    except (OSError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"{p}: cannot read the votes table ({type(exc).__name__}: {exc})") from None
    votes.attrs["source"] = str(p)
    return RetireInputs(votes, gold)


def read_gold(path: str | Path) -> pd.Series:
    """``candidate_id -> expert_class`` of a gold table: aggregate's ``folds.csv`` (every row), or the
    gold rows of an older aggregate's ``gold.csv`` (column ``role``)."""
    p = Path(path)
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise InputError(f"{p}: gold table not found") from None
    missing = [c for c in ("candidate_id", "expert_class") if c not in df.columns]
    if missing:
        raise InputError(f"{p}: missing column(s) {', '.join(missing)}; a gold table has "
                         "candidate_id, expert_class (and role or fold: aggregate's gold.csv or folds.csv)")
    if "role" in df.columns:
        df = df[df["role"] == "gold"]
    df = df[df["expert_class"].str.strip() != ""]
    return pd.Series(df["expert_class"].to_numpy(), index=pd.Index(df["candidate_id"], name="candidate_id"))


def attach_ledger(decisions: pd.DataFrame, ledger: str | Path) -> pd.DataFrame:
    """Fill missing ``subject_id`` from an upload ledger (``candidate_id, subject_id, ...``)."""
    p = Path(ledger)
    try:
        led = pd.read_csv(p, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise InputError(f"{p}: upload ledger not found") from None
    if not {"candidate_id", "subject_id"} <= set(led.columns):
        raise InputError(f"{p}: an upload ledger has candidate_id and subject_id columns")
    ids = led.set_index("candidate_id")["subject_id"]
    out = decisions.copy()
    sid = out["subject_id"].astype(object)
    fill = sid.isna() & out["candidate_id"].isin(ids.index)
    sid[fill] = out.loc[fill, "candidate_id"].map(ids)
    out["subject_id"] = sid
    return out


def decisions_csv(decisions: pd.DataFrame) -> str:
    """``decisions.csv``'s text: floats to 6 significant digits (``%.6g``), empty where missing.

    The same text as ``to_csv(index=False, float_format="%.6g")``, with the floats formatted in one
    pass of Python string formatting first: pandas' own float formatter calls a Python function
    and a missing-value check per cell (about 1 s for the 6 float columns of 10^5 subjects).

    Examples
    --------
    >>> d = pd.DataFrame({"candidate_id": ["A", "B"], "subject_id": [11.0, None], "p": [1 / 3, np.nan]})
    >>> print(decisions_csv(d), end="")
    candidate_id,subject_id,p
    A,11,0.333333
    B,,
    """
    dec = decisions.copy()
    dec["subject_id"] = subject_id_text(dec["subject_id"])
    for c in dec.columns:
        if pd.api.types.is_float_dtype(dec[c].dtype) and not isinstance(dec[c].dtype, pd.api.extensions.ExtensionDtype):
            v = dec[c].to_numpy(dtype=np.float64)
            text = np.full(len(v), "", dtype=object)
            ok = ~np.isnan(v)
            text[ok] = [f"{x:.6g}" for x in v[ok].tolist()]
            dec[c] = text
    return dec.to_csv(index=False, float_format="%.6g")


def write_outputs(decisions: pd.DataFrame, out: str | Path, config: RetireConfig, *,
                  expert_set: str | int | None = None, reason: str = "consensus") -> list[Path]:
    """Write `OUTPUT_FILES` into ``out`` (each atomically) and return their paths."""
    d = Path(out)
    d.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def put(name: str, text: str) -> None:
        tmp = d / (name + ".part")
        tmp.write_text(text)
        tmp.replace(d / name)
        written.append(d / name)

    put("decisions.csv", decisions_csv(decisions))
    put("caesar_extracts.csv", caesar_extracts(decisions).to_csv(index=False))
    put("caesar_rules.json", json.dumps(caesar_definitions(config, expert_set=expert_set, reason=reason), indent=2) + "\n")
    return written


__all__ = ["OUTPUT_FILES", "RetireInputs", "attach_ledger", "decisions_csv", "read_gold", "read_votes", "write_outputs"]
