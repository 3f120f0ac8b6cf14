"""The CNN stage: models, targets, hold-out, saving, train-on-votes and predict on a tiny toy survey."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hunt_clusters import CLASSES
from hunt_clusters.cli import main

from .toy import SIZE, write_survey

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_survey(tmp_path_factory.mktemp("toy"))


def _train_args(toy: dict[str, Path], out: Path, *extra: str) -> list[str]:
    return ["-q", "train-on-votes", str(toy["tensors"]), "--labels", str(toy["labels"]),
            "--catalogue", str(toy["catalogue"]), "--out", str(out), "--input-size", str(SIZE),
            "--runs", "2", "--epochs", "3", "--retries", "0", *extra]


def test_dirichlet_multinomial_loss_is_scipys_likelihood() -> None:
    from scipy.stats import dirichlet_multinomial

    from hunt_clusters.cnn import dirichlet_multinomial_loss

    k = np.array([[3.0, 1, 0, 2, 0], [0, 0, 0, 0, 0]])
    a = np.array([[2.0, 5, 1.5, 3, 1.1], [1.0, 2, 3, 4, 5]])
    loss = np.asarray(dirichlet_multinomial_loss(k, a))
    assert loss[0] == pytest.approx(-dirichlet_multinomial.logpmf(k[0], a[0], 6), rel=1e-5)
    assert loss[1] == pytest.approx(0.0, abs=1e-6)   # no votes, no information


def test_models_shapes_and_augmentation_is_a_symmetry() -> None:
    from hunt_clusters.cnn import RandomDihedral, make_model

    for arch in ("custom", "resnet"):
        m = make_model((32, 32, 2), 5, architecture=arch)
        assert m.output_shape == (None, 5)
    x = np.random.default_rng(1).random((64, 8, 8, 1)).astype(np.float32)
    layer = RandomDihedral(seed=3)
    y = np.asarray(layer(x, training=True))
    assert np.array_equal(np.asarray(layer(x, training=False)), x)
    # each output is one of the 8 symmetries of its input, and more than one symmetry is used
    found = set()
    for xi, yi in zip(x[..., 0], y[..., 0]):
        syms = [np.rot90(xi, k) for k in range(4)] + [np.rot90(xi.T, k) for k in range(4)]
        match = [i for i, s in enumerate(syms) if np.array_equal(s, yi)]
        assert match
        found.add(match[0])
    assert len(found) >= 4


def test_loss_falls_on_a_learnable_toy_set(toy: dict[str, Path]) -> None:
    from hunt_clusters.cnn import TrainConfig, fit_one, load_tensors, prepare_experiment

    cfg = TrainConfig(label_sources=("truth",), input_size=SIZE, epochs=12, patience=12, runs=1)
    exp = prepare_experiment(load_tensors([toy["tensors"]]), cfg, catalogue=toy["catalogue"])
    _, hist, _, facts = fit_one(exp.tensors.x, exp.targets[0], cfg, 0, 5)
    assert facts["epochs"] == 12
    assert hist["loss"].iloc[-1] < 0.8 * hist["loss"].iloc[0]


def test_holdout_never_reaches_training(toy: dict[str, Path], tmp_path: Path) -> None:
    from hunt_clusters.cnn import TrainConfig, load_tensors, prepare_experiment

    cat = pd.read_csv(toy["catalogue"])
    held = set(cat["candidate_id"][cat["in_expert"] & cat["in_zooniverse"] | cat["in_test"]])
    test = set(cat["candidate_id"][cat["in_test"]])
    tensors = load_tensors([toy["tensors"]])
    for holdout, never in (("overlap", held), ("spec", test)):
        cfg = TrainConfig(label_sources=("votes", "expert", "truth"), targets=("hard", "soft", "dirichlet"),
                          holdout=holdout)
        exp = prepare_experiment(tensors, cfg, labels=toy["labels"], catalogue=toy["catalogue"])
        for t in exp.targets:
            trained = set(tensors.candidate_id[t.rows])
            assert trained and not trained & never, (holdout, t.model)
        if holdout == "spec":  # the overlap outside the test set is trained on
            assert any(set(tensors.candidate_id[t.rows]) & (held - test) for t in exp.targets)
    # and in the files: no held-out candidate is ever in a train or val split
    out = tmp_path / "run"
    assert main(_train_args(toy, out, "--label-source", "votes,expert")) == 0
    pred = pd.read_csv(out / "predictions.csv")
    fitted = set(pred["candidate_id"][pred["split"].isin(["train", "val"])])
    assert fitted and not fitted & held
    assert set(pred["candidate_id"][pred["split"] == "test"]) == test


def test_soft_and_dirichlet_targets_differ_from_hard_on_ambiguous_votes(toy: dict[str, Path]) -> None:
    from hunt_clusters.cnn import TrainConfig, load_tensors, prepare_experiment

    cfg = TrainConfig(label_sources=("votes",), targets=("hard", "soft", "dirichlet"))
    exp = prepare_experiment(load_tensors([toy["tensors"]]), cfg, labels=toy["labels"], catalogue=toy["catalogue"])
    hard, soft, diri = exp.targets
    assert [t.model for t in exp.targets] == ["votes-hard", "votes-soft", "votes-dirichlet"]
    # every toy subject has 6 votes for its class and 4 for the next one
    assert np.array_equal(hard.y.max(axis=1), np.ones(len(hard.y)))
    assert np.allclose(np.sort(soft.y, axis=1)[:, -2:], [0.4, 0.6])
    assert np.allclose(np.sort(diri.y, axis=1)[:, -2:], [4.0, 6.0])
    assert np.array_equal(hard.y.argmax(axis=1), soft.y.argmax(axis=1))
    # balanced class weights for the hard target only
    assert np.allclose(soft.weight, 1.0) and hard.weight.sum() == pytest.approx(len(hard.weight))


def test_run_folder_and_a_saved_model_predicts_the_same(toy: dict[str, Path], tmp_path: Path) -> None:
    import keras

    from hunt_clusters.cnn import load_tensors, predict, predict_proba

    out = tmp_path / "run"
    assert main(_train_args(toy, out, "--label-source", "votes,expert,truth", "--target", "hard,dirichlet")) == 0
    for name in ("config.json", "metrics.json", "candidates.csv", "labels.csv", "predictions.csv",
                 "ensemble.csv", "history.csv", "votes-hard/run_00.keras", "votes-dirichlet/run_01.keras",
                 "expert-hard/run_01.keras", "truth-hard/run_00.keras"):
        assert (out / name).exists(), name
    assert not (tmp_path / "run.part").exists()
    m = json.loads((out / "metrics.json").read_text())
    assert list(m["models"]) == ["votes-hard", "votes-dirichlet", "expert-hard", "truth-hard",
                                 "truth-hard-votes-set", "truth-hard-expert-set"]
    vh = m["models"]["votes-hard"]
    accs = [r["test"]["accuracy"] for r in vh["runs"]]
    assert vh["test_mean"]["accuracy"] == pytest.approx(np.mean(accs))
    assert vh["test_std"]["accuracy"] == pytest.approx(np.std(accs, ddof=1))
    assert m["n"] == {"candidates": 120, "train": 80, "overlap": 40, "overlap_test": 20, "overlap_includes_test": True,
                      "test": 20, "test_clusters": 8}
    # the volunteers' own consensus on the test set: the toy votes always name the true class
    assert m["baselines"]["volunteers-majority"]["test"]["accuracy"] == 1.0
    assert m["baselines"]["experts"]["test"]["accuracy"] == 1.0

    cfg = json.loads((out / "config.json").read_text())
    assert cfg["seeds"] == [0, 1] and cfg["config"]["input_size"] == SIZE and "tensorflow" in cfg["versions"]
    assert cfg["command"].startswith("hunt-clusters -q train-on-votes ") and "--runs 2" in cfg["command"]
    # a model loaded from disk predicts what the run recorded for it
    tensors = load_tensors([toy["tensors"]])
    model = keras.models.load_model(out / "votes-dirichlet" / "run_01.keras", compile=False)
    p = predict_proba(model, tensors.x, "dirichlet")
    pred = pd.read_csv(out / "predictions.csv")
    rec = pred[(pred["model"] == "votes-dirichlet") & (pred["run"] == 1)].set_index("candidate_id")
    assert np.allclose(rec.loc[tensors.candidate_id, [f"p_{c}" for c in CLASSES]].to_numpy(), p, atol=1e-5)
    # predict = the ensemble of the runs: mean and spread of p_cluster
    table = predict(out, tensors, model="votes-hard")
    runs = pred[pred["model"] == "votes-hard"].pivot(index="candidate_id", columns="run", values="p_cluster")
    runs = runs.loc[table["candidate_id"]]
    assert np.allclose(table["p_cluster"], runs.mean(axis=1), atol=1e-5)
    assert np.allclose(table["p_cluster_std"], runs.std(axis=1, ddof=0), atol=1e-5)
    assert np.allclose(table[["p_cluster_run0", "p_cluster_run1"]].to_numpy(), runs.to_numpy(), atol=1e-5)
    # the CLI writes it
    csv = tmp_path / "p.csv"
    assert main(["-q", "predict", str(out), str(toy["tensors"]), "--out", str(csv)]) == 0
    got = pd.read_csv(csv)
    assert list(got.columns[:3]) == ["candidate_id", "p_cluster", "p_cluster_std"] and len(got) == 120
    assert main(["-q", "predict", str(out), str(toy["tensors"]), "--model", "nope", "--out", str(csv)]) == 1


def test_kosiba2020_layout(tmp_path: Path) -> None:
    from PIL import Image

    from .toy import blob

    rng = np.random.default_rng(5)
    folder = tmp_path / "Kosiba2020"
    folder.mkdir()
    rows = {"train": [], "test": []}
    for i in range(60):
        cls = CLASSES[i % 5]
        t = blob(rng, cls)
        a = np.zeros((SIZE, SIZE, 3), dtype=np.uint8)
        a[..., 1:] = np.round(np.clip(t, 0, 1) * 255)
        Image.fromarray(a).save(folder / f"img{i:03d}.png")
        rows["test" if i < 20 else "train"].append((f"img{i:03d}", cls))
    for name, r in rows.items():
        pd.DataFrame(r, columns=["image_id", "class"]).to_csv(folder / f"{name}.csv", index=False)
    out = tmp_path / "run"
    out.mkdir()  # an existing empty folder is a fine --out
    assert main(["-q", "train-on-votes", str(folder), "--label-source", "expert", "--holdout", "spec",
                 "--input-size", str(SIZE), "--runs", "1", "--epochs", "2", "--out", str(out)]) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["n"]["test"] == 20 and m["n"]["test_clusters"] == 8 and m["models"]["expert-hard"]["n_train"] == 40
    # a test set that overlaps the training set
    pd.DataFrame([("img030", "point")], columns=["image_id", "class"]).to_csv(folder / "test.csv", index=False,
                                                                                mode="a", header=False)
    assert main(["-q", "train-on-votes", str(folder), "--label-source", "expert", "--out", str(tmp_path / "r2")]) == 1


def _bad(tmp_path: Path, toy: dict[str, Path], capsys: pytest.CaptureFixture[str], args: list[str],
         expect: str, code: int = 1) -> None:
    out = tmp_path / "bad_run"
    try:
        rc = main(args)
    except SystemExit as exc:  # argparse: usage errors
        rc = exc.code
    assert rc == code
    err = capsys.readouterr().err
    assert expect in err, err
    assert "Traceback" not in err
    if code == 1:
        assert len(err.strip().splitlines()) == 1, err
    assert not out.exists() and not (tmp_path / "bad_run.part").exists()


def test_bad_input_is_one_line_before_training(toy: dict[str, Path], tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bad_run"
    base = _train_args(toy, out)
    # labels for candidates without tensors
    lab = pd.read_csv(toy["labels"])
    extra = lab.iloc[:1].assign(candidate_id="NOPE")
    pd.concat([lab, extra]).to_csv(tmp_path / "labels_extra.csv", index=False)
    args = base.copy()
    args[args.index("--labels") + 1] = str(tmp_path / "labels_extra.csv")
    _bad(tmp_path, toy, capsys, args, "labelled candidate(s) have no tensor, e.g. 'NOPE'")
    # NaN in tensors
    with np.load(toy["tensors"]) as f:
        x, ids = f["x"].copy(), f["candidate_id"]
    x[7, 3, 3, 1] = np.nan
    np.savez(tmp_path / "nan.npz", x=x, candidate_id=ids)
    args = base.copy()
    args[2] = str(tmp_path / "nan.npz")
    _bad(tmp_path, toy, capsys, args, "NaN or infinite values, e.g. candidate 'T007'")
    # dirichlet without vote counts
    lab.drop(columns=["frac_hi-z"]).to_csv(tmp_path / "labels_nofrac.csv", index=False)
    args = base + ["--target", "dirichlet"]
    args[args.index("--labels") + 1] = str(tmp_path / "labels_nofrac.csv")
    _bad(tmp_path, toy, capsys, args, "--target dirichlet needs the vote counts")
    _bad(tmp_path, toy, capsys, base + ["--label-source", "expert", "--target", "soft"], "--target soft needs vote counts")
    # truth without a truth column
    cat = pd.read_csv(toy["catalogue"]).drop(columns="true_class")
    cat.to_csv(tmp_path / "no_truth.csv", index=False)
    args = base + ["--label-source", "truth"]
    args[args.index("--catalogue") + 1] = str(tmp_path / "no_truth.csv")
    _bad(tmp_path, toy, capsys, args, "--label-source truth needs a true_class column")
    # a class missing from the training data
    lab2 = lab.copy()
    lab2.loc[lab2["label"] == "galaxy", "label"] = "point"
    lab2.to_csv(tmp_path / "labels_nogalaxy.csv", index=False)
    args = base.copy()
    args[args.index("--labels") + 1] = str(tmp_path / "labels_nogalaxy.csv")
    _bad(tmp_path, toy, capsys, args, "votes-hard: class(es) galaxy missing from the training data")
    # usage errors exit 2
    _bad(tmp_path, toy, capsys, base + ["--target", "fuzzy"], "choose one or more of hard, soft, dirichlet", code=2)
    _bad(tmp_path, toy, capsys, base + ["--runs", "0"], "--runs", code=2)


def test_help_names_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["train-on-votes", "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for opt in ("--label-source", "--target", "--runs", "--holdout", "--method", "example"):
        assert opt in text
