"""predict on a Dask cluster: partitions of the tensors scored on the workers, gathered in order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest


def test_partitions_come_back_in_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, threads_client: Any) -> None:
    from hunt_clusters.cnn import _predict
    from hunt_clusters.cnn._data import TensorSet
    from hunt_clusters.cnn._distributed import predict_distributed

    calls: list[int] = []

    def fake_predict(run_dir: str, tensors: TensorSet, *, model: str | None = None, batch_size: int = 512) -> pd.DataFrame:
        assert Path(run_dir).is_absolute()
        calls.append(len(tensors))
        return pd.DataFrame({"candidate_id": tensors.candidate_id, "p_cluster": tensors.x.mean(axis=(1, 2, 3))})

    monkeypatch.setattr(_predict, "predict", fake_predict)
    rng = np.random.default_rng(0)
    ts = TensorSet(x=rng.random((23, 4, 4, 2)).astype(np.float32),
                   candidate_id=np.array([f"C{i}" for i in range(23)]), sources=())
    got = predict_distributed(threads_client, tmp_path, ts, batch_size=5, rows_per_part=5)
    ref = fake_predict(str(tmp_path), ts)
    pd.testing.assert_frame_equal(got, ref)
    assert sorted(calls[:-1]) == [3, 5, 5, 5, 5]  # five partitions, then the reference call
