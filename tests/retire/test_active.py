"""Active learning replayed: BALD picks the candidates its ensemble disagrees on; curves and savings are exact."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hunt_clusters._errors import InputError
from hunt_clusters.retire import ActiveConfig, active_learning, bald, labels_needed
from hunt_clusters.retire import _active

N_POOL, N_INFORMATIVE, N_TEST = 100, 20, 40


def _pool() -> tuple[np.ndarray, np.ndarray]:
    """Pool tensors whose pixel (0, 0) holds the two runs' probabilities of a fake ensemble: the first
    20 candidates split the runs (0.1 / 0.9: BALD 0.53 bits), the others agree (BALD 0)."""
    x = np.zeros((N_POOL, 32, 32, 2), dtype=np.float32)
    x[:N_INFORMATIVE, 0, 0] = (0.1, 0.9)
    x[N_INFORMATIVE:, 0, 0] = np.where(np.arange(N_POOL - N_INFORMATIVE)[:, None] % 2 == 0, 0.8, 0.2)
    return x, np.arange(N_POOL) % 2 == 0


@pytest.fixture()
def fake_cnn(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A fake network: 'trained' = how many informative candidates it saw; its test accuracy is
    0.5 + 0.025 per informative candidate (1.0 with all 20); on the pool it gives the pixel's runs."""
    trained: list[int] = []

    def train(x: np.ndarray, cluster: np.ndarray, **kw: object) -> list[int]:
        k = int(np.isclose(x[:, 0, 0, 0], 0.1).sum())
        trained.append(len(x))
        return [k]

    def predict(models: list[int], x: np.ndarray, forward: object = None) -> np.ndarray:
        if x.shape[0] == N_TEST and np.all(x[:, 0, 0, 1] == -1):
            m = int(round(min(1.0, 0.5 + 0.025 * models[0]) * N_TEST))
            p = np.where(np.arange(N_TEST) < m, 0.9, 0.1)
            return np.stack([p, p], axis=1)
        return x[:, 0, 0, :2].astype(np.float64)

    monkeypatch.setattr(_active, "train_ensemble", train)
    monkeypatch.setattr(_active, "ensemble_p_cluster", predict)
    return trained


def test_bald_asks_for_what_the_ensemble_disagrees_on(fake_cnn: list[int]) -> None:
    x, y = _pool()
    tx = np.zeros((N_TEST, 32, 32, 2), dtype=np.float32)
    tx[:, 0, 0, 1] = -1
    cfg = ActiveConfig(schedule=(10, 30), runs=2, seed=5, votes_per_label=20)
    truth = y.copy()
    truth[:N_INFORMATIVE] = ~truth[:N_INFORMATIVE]          # the labels of the informative candidates are wrong
    res = active_learning(x, y, tx, np.ones(N_TEST, dtype=bool), cfg, pool_truth=truth)
    c = res.curves.set_index(["strategy", "round"])
    assert c["n_labelled"].tolist() == [10, 30, 100] * 2
    assert c["classifications"].tolist() == [200, 600, 2000] * 2
    # the first draw and the whole pool are shared: trained once each, 2 + 2 rounds in all
    assert fake_cnn == [10, 30, 100, 30]
    first = np.sort(np.random.default_rng(5).choice(N_POOL, size=10, replace=False))
    k0 = int((first < N_INFORMATIVE).sum())
    assert c.loc[("bald", 1), "accuracy"] == c.loc[("random", 1), "accuracy"] == round((0.5 + 0.025 * k0) * 40) / 40
    # BALD's second round holds every informative candidate: the fake's accuracy is then 1.0
    assert c.loc[("bald", 2), "accuracy"] == 1.0 and c.loc[("random", 3), "accuracy"] == 1.0
    assert c.loc[("random", 2), "accuracy"] < 1.0
    s = res.summary
    assert s["final_accuracy"] == 1.0 and s["target_accuracy"] == pytest.approx(0.99)
    assert s["labels_needed"] == {"bald": 30, "random": 100}
    assert s["saving_fraction"] == pytest.approx(0.7)
    assert s["schedule"] == [10, 30, 100] and s["pool"] == N_POOL and s["n_test"] == N_TEST
    # BALD's labelled candidates after round 2: the 20 informative (wrong labels) and the first draw's others
    assert c.loc[("bald", 2), "label_accuracy"] == (30 - 20) / 30
    assert c.loc[("bald", 1), "label_accuracy"] == (10 - k0) / 10 and c.loc[("bald", 3), "label_accuracy"] == 0.8
    assert c.loc[("bald", 3), "cluster_share"] == 0.5
    assert s["bald_minus_random"] == {"10": 0.0, "30": 1.0 - c.loc[("random", 2), "accuracy"], "100": 0.0}
    assert s["final_roc_auc"] is None and s["labels_needed_auc"] == {}   # one class in the test set: no AUC


def test_bald_of_the_fake_pool() -> None:
    x, _ = _pool()
    b = bald(x[:, 0, 0, :2].astype(np.float64))
    assert b[:N_INFORMATIVE] == pytest.approx(np.full(N_INFORMATIVE, 1 - (-(0.1 * np.log2(0.1) + 0.9 * np.log2(0.9)))))
    assert np.allclose(b[N_INFORMATIVE:], 0)


def test_labels_needed_and_bad_settings() -> None:
    c = pd.DataFrame({"strategy": ["bald", "bald", "random", "random"], "n_labelled": [10, 20, 10, 20],
                      "accuracy": [0.5, 0.7, 0.5, 0.6]})
    assert labels_needed(c, 0.7, 0.0) == {"bald": 20, "random": None}
    with pytest.raises(InputError, match="must increase"):
        ActiveConfig(schedule=(100, 50))
    with pytest.raises(InputError, match="at least 2"):
        ActiveConfig(runs=1)
    x, y = _pool()
    with pytest.raises(InputError, match="strategy 'greedy' unknown"):
        active_learning(x, y, x[:5], np.ones(5, dtype=bool), strategies=("greedy",))
