"""Two subject-set folders compared file by file (test helper of tests/scale)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def subject_files(folder: Path) -> dict[str, bytes]:
    """Every file of a render's folder but its resume state, by name."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file() and p.name != "render_state.json"}


def assert_same_set(a: Path, b: Path) -> None:
    """The same files with the same bytes; ``tensors.npz`` by its arrays (the zip stamps a time)."""
    fa, fb = subject_files(a), subject_files(b)
    assert sorted(fa) == sorted(fb)
    for name in fa:
        if name == "tensors.npz":
            with np.load(a / name) as za, np.load(b / name) as zb:
                assert sorted(za.files) == sorted(zb.files)
                for k in za.files:
                    assert np.array_equal(za[k], zb[k]), k
        else:
            assert fa[name] == fb[name], name
