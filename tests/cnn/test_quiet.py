"""A normal predict prints no TensorFlow warning: the runs of an ensemble share one traced graph."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hunt_clusters import CLASSES

from .toy import SIZE

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _run_folder(root: Path, n_runs: int) -> Path:
    """A run folder holding ``n_runs`` (untrained) models of one architecture, as train-on-votes saves them."""
    from hunt_clusters.cnn import make_model

    run = root / "run"
    (run / "votes-hard").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({
        "models": [{"name": "votes-hard", "label_source": "votes", "target": "hard", "output": "softmax"}],
        "class_names": list(CLASSES), "config": {"input_size": SIZE}, "versions": {"hunt_clusters": "test"}}))
    for r in range(n_runs):
        make_model((SIZE, SIZE, 2), 5, seed=r).save(run / "votes-hard" / f"run_{r:02d}.keras")
    return run


def test_predict_with_many_runs_traces_once_and_warns_nothing(tmp_path: Path) -> None:
    from hunt_clusters.cnn import TensorSet, load_ensemble, predict

    run = _run_folder(tmp_path, 7)
    x = np.random.default_rng(0).random((40, SIZE, SIZE, 2), dtype=np.float32)
    tensors = TensorSet(x=x, candidate_id=np.array([f"T{i:02d}" for i in range(40)]), sources=("test",))
    np.save(tmp_path / "x.npy", x)
    # the warning is judged in a fresh process, as a user's predict runs: TensorFlow counts traces per
    # Python function (Layer.__call__) over the whole process, so earlier tests would count here too
    script = (
        "import sys, numpy as np\n"
        "from hunt_clusters.cnn import TensorSet, predict\n"
        "x = np.load(sys.argv[2])\n"
        "t = TensorSet(x=x, candidate_id=np.array([f'T{i:02d}' for i in range(len(x))]), sources=('test',))\n"
        "predict(sys.argv[1], t, batch_size=16)\n")  # 3 batches, one of them shorter
    done = subprocess.run([sys.executable, "-c", script, str(run), str(tmp_path / "x.npy")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "retracing" not in done.stderr, done.stderr
    table = predict(run, tensors, batch_size=16)
    # the shared graph gives each model's own outputs: the mean over the runs of model(x)
    _, _, models = load_ensemble(run)
    p = np.mean([np.asarray(m(x)) for m in models], axis=0)
    assert table["p_low-z"].to_numpy() == pytest.approx(p[:, 0], abs=1e-5)
    assert table["p_cluster"].to_numpy() == pytest.approx(p[:, 0] + p[:, 1], abs=1e-5)
    assert (table["n_runs"] == 7).all()
