"""Inputs of the CNN: candidate tensors from render folders or the Kosiba2020 PNG layout, and tf.data pipelines."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import CLASSES
from .._errors import InputError

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class TensorSet:
    """Candidate tensors: ``x`` float32 ``(N, S, S, 2)`` [optical, X-ray] in [0, 1], and their ids.

    ``catalogue`` is set when the source carries labels of its own (the Kosiba2020 layout's
    ``train.csv`` / ``test.csv``): ``candidate_id, expert_class, spec_class, in_test``.
    """

    x: np.ndarray
    candidate_id: np.ndarray
    sources: tuple[str, ...]
    catalogue: pd.DataFrame | None = None

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def index_of(self, ids: Sequence[str]) -> np.ndarray:
        """Row of each id (``-1`` where absent)."""
        pos = pd.Index(self.candidate_id)
        return pos.get_indexer(pd.Index(list(ids)))


def _read_npz(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as f:
            if "x" not in f or "candidate_id" not in f:
                raise InputError(f"{path}: not a hunt-clusters tensors file (needs arrays x and candidate_id; "
                                 f"has {', '.join(f.files)})")
            x, ids = f["x"], f["candidate_id"].astype(str)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read the tensors ({exc})") from None
    if x.ndim != 4 or x.shape[1] != x.shape[2] or x.shape[0] != len(ids):
        raise InputError(f"{path}: x has shape {x.shape}; expected (N, S, S, C) with N = {len(ids)} ids")
    return x.astype(np.float32, copy=False), ids


def _read_kosiba(folder: Path, progress: bool) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """The published Kosiba2020 layout: ``<image_id>.png`` [empty, optical, X-ray] + ``train.csv``/``test.csv``."""
    from PIL import Image

    parts = []
    for name, in_test in (("train.csv", False), ("test.csv", True)):
        p = folder / name
        if not p.exists():
            continue
        df = pd.read_csv(p, dtype=str, keep_default_na=False)
        if list(df.columns[:2]) != ["image_id", "class"]:
            raise InputError(f"{p}: expected columns image_id,class; has {','.join(df.columns)}")
        bad = ~df["class"].str.strip().str.lower().isin(CLASSES)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(f"{p}: row {i + 1}: class {df['class'].iloc[i]!r} is not one of {', '.join(CLASSES)}")
        parts.append(pd.DataFrame({"candidate_id": df["image_id"].str.strip(),
                                   "expert_class": df["class"].str.strip().str.lower(), "in_test": in_test}))
    cat = pd.concat(parts, ignore_index=True)
    dup = cat["candidate_id"].duplicated()
    if dup.any():
        raise InputError(f"{folder}: image_id {cat['candidate_id'][dup].iloc[0]!r} is in train.csv and test.csv "
                         "(or twice in one): a test set that overlaps the training set")
    cat["spec_class"] = np.where(cat["in_test"], np.where(cat["expert_class"].isin(("low-z", "hi-z")),
                                                          "cluster", "non-cluster"), "")
    cat["in_expert"] = ~cat["in_test"]
    ids = cat["candidate_id"].to_numpy(dtype=str)
    it: Any = ids
    if progress:
        from tqdm import tqdm

        it = tqdm(ids, desc="read PNGs", unit="image", leave=False)
    x: np.ndarray | None = None
    for i, cid in enumerate(it):
        p = folder / f"{cid}.png"
        try:
            with Image.open(p) as im:
                a = np.asarray(im.convert("RGB"))
        except (OSError, ValueError) as exc:
            raise InputError(f"{p}: cannot read the image of {cid!r} listed in the layout's CSV ({exc})") from None
        if x is None:
            x = np.empty((len(ids), a.shape[0], a.shape[1], 2), dtype=np.float32)
        if a.shape[:2] != x.shape[1:3]:
            raise InputError(f"{p}: {a.shape[1]}x{a.shape[0]} pixels; the others are {x.shape[2]}x{x.shape[1]}")
        x[i] = a[..., 1:] / np.float32(255.0)  # channels [empty, optical, X-ray] -> [optical, X-ray]
    assert x is not None
    return x, ids, cat


def load_tensors(sources: Sequence[str | Path], *, progress: bool = False) -> TensorSet:
    """Read candidate tensors from render folders, ``tensors.npz`` files or Kosiba2020 layouts.

    Parameters
    ----------
    sources : sequence of path
        Each a folder written by ``hunt-clusters render`` (its ``tensors.npz``), a ``.npz`` file
        with ``x`` and ``candidate_id``, or a folder in the Kosiba2020 layout (``train.csv``,
        optional ``test.csv``, ``<image_id>.png`` 3-channel [empty, optical, X-ray]). Several
        sources are concatenated; a candidate in more than one keeps its first tensor.
    progress : bool
        Progress bar while reading PNGs.

    Returns
    -------
    TensorSet

    Raises
    ------
    InputError
        A missing or unreadable source, shapes that differ between sources, NaN or infinite values.
    """
    xs, ids, cats, names = [], [], [], []
    n_dup = 0
    for src in sources:
        p = Path(src)
        if p.is_dir() and (p / "tensors.npz").exists():
            x, i = _read_npz(p / "tensors.npz")
        elif p.is_dir() and (p / "train.csv").exists():
            x, i, cat = _read_kosiba(p, progress)
            cats.append(cat)
        elif p.is_file() and p.suffix == ".npz":
            x, i = _read_npz(p)
        elif p.exists():
            from .._outputs import describe_folder

            raise InputError(f"{p}: not a tensor source (expected a render folder with tensors.npz, a .npz file, "
                             f"or a Kosiba2020 layout with train.csv and PNGs; found {describe_folder(p)})")
        else:
            raise InputError(f"{p}: no such file or folder")
        if xs and x.shape[1:] != xs[0].shape[1:]:
            raise InputError(f"{p}: tensors of shape {x.shape[1:]}, but {names[0]} has {xs[0].shape[1:]}: "
                             "render both with the same --tensor-size")
        bad = ~np.isfinite(x).reshape(len(x), -1).all(axis=1)
        if bad.any():
            raise InputError(f"{p}: {int(bad.sum())} tensor(s) hold NaN or infinite values, e.g. candidate "
                             f"{str(i[np.flatnonzero(bad)[0]])!r}; re-render them")
        new = ~np.isin(i, np.concatenate(ids)) if ids else np.ones(len(i), dtype=bool)
        new &= ~pd.Index(i).duplicated()
        if not new.all():  # a candidate in more than one source keeps its first tensor
            n_dup += int((~new).sum())
            x, i = x[new], i[new]
        xs.append(x)
        ids.append(i)
        names.append(str(p))
    if not xs:
        raise InputError("no tensor source given")
    if n_dup:
        log.info("%d candidates appear in more than one tensor source; the first tensor is kept", n_dup)
    x = np.concatenate(xs) if len(xs) > 1 else xs[0]
    cid = np.concatenate(ids) if len(ids) > 1 else ids[0]
    catalogue = pd.concat(cats, ignore_index=True).drop_duplicates("candidate_id") if cats else None
    return TensorSet(x, cid, tuple(names), catalogue)


def resize(x: np.ndarray, size: int) -> np.ndarray:
    """Tensors ``(N, S, S, C)`` -> ``(N, size, size, C)``: block means when ``size`` divides ``S``
    (flux-preserving, exact), else area interpolation.

    Examples
    --------
    >>> resize(np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1), 2)[0, :, :, 0].tolist()
    [[2.5, 4.5], [10.5, 12.5]]
    """
    s = x.shape[1]
    if size == s:
        return x
    from ._tf import tf

    if s % size == 0:
        f = s // size
        return tf.nn.avg_pool2d(x, f, f, "VALID").numpy()
    return tf.image.resize(x, (size, size), method="area").numpy().astype(np.float32)


def make_dataset(x: np.ndarray, y: np.ndarray, w: np.ndarray | None, *, batch_size: int,
                 shuffle: bool, seed: int) -> Any:
    """A ``tf.data`` pipeline: the arrays in memory, cached, shuffled each epoch, batched, prefetched."""
    from ._tf import tf

    parts = (x, y) if w is None else (x, y, w)
    ds = tf.data.Dataset.from_tensor_slices(parts).cache()
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


__all__ = ["TensorSet", "load_tensors", "make_dataset", "resize"]
