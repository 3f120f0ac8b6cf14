"""A tiny learnable survey for the CNN tests: 16x16 tensors whose X-ray channel shows the class."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hunt_clusters import CLASSES

SIZE = 16


def blob(rng: np.random.Generator, cls: str) -> np.ndarray:
    """[optical, X-ray]: clusters are broad X-ray blobs, point sources sharp, the rest faint noise."""
    yy, xx = np.mgrid[:SIZE, :SIZE] - (SIZE - 1) / 2
    r2 = xx**2 + yy**2
    x = np.zeros((SIZE, SIZE, 2), dtype=np.float32)
    x[..., 0] = rng.random((SIZE, SIZE)) * 0.3
    width = {"low-z": 4.0, "hi-z": 2.5, "galaxy": 1.2, "point": 0.6, "other": 0.0}[cls]
    amp = {"low-z": 1.0, "hi-z": 0.7, "galaxy": 0.5, "point": 0.9, "other": 0.0}[cls]
    if width:
        x[..., 1] = amp * np.exp(-r2 / (2 * width**2))
    if cls == "galaxy":
        x[..., 0] += 0.7 * np.exp(-r2 / 8.0)
    x[..., 1] += rng.random((SIZE, SIZE)) * 0.1
    return x


def write_survey(folder: Path, n: int = 120, seed: int = 0) -> dict[str, Path]:
    """Write tensors.npz, candidates.csv and labels.csv (majority, with vote fractions) into ``folder``.

    The first third is the overlap (experts and volunteers), of which the first half is the
    spectroscopic test set; the rest alternates expert-only and volunteer-only candidates.
    """
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    ids = [f"T{i:03d}" for i in range(n)]
    truth = [CLASSES[i % 5] for i in range(n)]
    x = np.stack([blob(rng, c) for c in truth])
    n_ov = n // 3
    in_overlap = np.arange(n) < n_ov
    in_test = np.arange(n) < n_ov // 2
    in_expert = in_overlap | ((np.arange(n) % 2 == 0) & ~in_overlap)
    in_zoo = in_overlap | ((np.arange(n) % 2 == 1) & ~in_overlap)
    cat = pd.DataFrame({
        "candidate_id": ids, "ra": 150.0 + np.arange(n) * 0.01, "dec": 2.0,
        "expert_class": np.where(in_expert, truth, ""),
        "spec_class": np.where(in_test, np.where(np.isin(truth, ["low-z", "hi-z"]), "cluster", "non-cluster"), ""),
        "true_class": truth, "in_expert": in_expert, "in_zooniverse": in_zoo, "in_test": in_test,
        "redshift": np.where(np.isin(truth, ["low-z", "hi-z"]), 0.3, np.nan),
    })
    cat.to_csv(folder / "candidates.csv", index=False)
    np.savez(folder / "tensors.npz", x=x, candidate_id=np.array(ids))
    rows = []
    for cid, c, z in zip(ids, truth, in_zoo):
        if not z:
            continue
        votes = np.full(5, 0.0)
        votes[CLASSES.index(c)] = 6
        votes[(CLASSES.index(c) + 1) % 5] = 4   # ambiguous: 6 against 4
        frac = votes / votes.sum()
        rows.append({"candidate_id": cid, "subject_id": 1000 + len(rows), "n_votes": 10,
                     **{f"frac_{k}": f for k, f in zip(CLASSES, frac)}, "label": c, "agreement": 0.6,
                     "p_cluster": frac[0] + frac[1], "method": "majority"})
    pd.DataFrame(rows).to_csv(folder / "labels.csv", index=False)
    return {"tensors": folder / "tensors.npz", "catalogue": folder / "candidates.csv",
            "labels": folder / "labels.csv"}
