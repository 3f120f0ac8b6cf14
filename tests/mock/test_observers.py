"""Mock observers who see only the pixels: cues measured on hand-made subjects, the observer model,
votes on demand, the cue cache, and the truth kept out by construction (shuffled catalogues)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from astropy.table import Table
from handmade_subjects import (
    CLUSTER_HIZ,
    CLUSTER_LOWZ,
    GALAXY,
    NOISE,
    PAIR,
    POINT,
    SCALE,
    Scene,
    mixed_scenes,
    tensor,
    write_subject_set,
)
from mocksurvey_fixtures import TINY, tiny_survey  # noqa: F401  (fixture)

from hunt_clusters import CLASSES
from hunt_clusters._errors import InputError
from hunt_clusters.cli import main
from hunt_clusters.mock import (
    CUE_COLUMNS,
    SurveyResult,
    VolunteerConfig,
    VolunteerCrowd,
    measure_cues,
    simulate_experts,
    subject_set_cues,
    write_export,
)
from hunt_clusters.mock import _observers as obs
from hunt_clusters.mock import _perception as perception


def _cues(scene: Scene) -> dict[str, float]:
    return measure_cues(tensor(scene), SCALE)


# -- perception: cues of hand-made subjects -------------------------------------------------------
def test_xray_snr_inverts_the_render_scale() -> None:
    from hunt_clusters.subjects import _tensors

    snr = np.array([0.0, 1.0, 3.0, 12.5, 60.0, 100.0])
    channel = np.arcsinh(snr / _tensors.XRAY_SOFTENING) / np.arcsinh(_tensors.XRAY_SNR_MAX / _tensors.XRAY_SOFTENING)
    assert perception.xray_snr(channel) == pytest.approx(snr, abs=1e-9)


def test_cues_of_a_wide_empty_source() -> None:
    c = _cues(CLUSTER_HIZ)  # Gaussian, sigma 25", peak S/N 30, nothing in the optical
    assert c["x_peak_snr"] == pytest.approx(30.0, rel=1e-5)
    assert c["x_offset_arcsec"] == pytest.approx(math.hypot(0.5, 0.5) * SCALE, rel=1e-6)
    # half maximum at sigma sqrt(2 ln 2) = 29.4"; the S/N 3 contour at sigma sqrt(2 ln 10) = 53.6"
    assert c["x_core_arcsec"] == pytest.approx(25.0 * math.sqrt(2 * math.log(2)), rel=0.04)
    assert c["x_radius_arcsec"] == pytest.approx(25.0 * math.sqrt(2 * math.log(10)), rel=0.04)
    assert c["x_n_peaks"] == 1 and c["x_edge"] == 0
    assert c["o_n_near"] == 0 and c["o_central_radius_arcsec"] == 0


def test_cues_count_the_galaxies_inside_the_contours() -> None:
    c = _cues(CLUSTER_LOWZ)  # the same X-ray source with 5 galaxies (sigma 4") within 35"
    assert c["o_n_near"] == 5 and c["o_n_ext_near"] == 5
    assert c["o_near_snr"] > 20


def test_cues_of_a_galaxy_a_point_source_a_pair_and_noise() -> None:
    g = _cues(GALAXY)
    assert g["o_central_extended"] == 1 and g["o_central_radius_arcsec"] > 2 * obs.BIG_ARCSEC
    assert g["x_core_arcsec"] == pytest.approx(8.0 * math.sqrt(2 * math.log(2)), rel=0.15)
    p = _cues(POINT)
    assert p["o_central_extended"] == 0 and 0 < p["o_central_radius_arcsec"] < obs.BIG_ARCSEC
    assert p["x_core_arcsec"] < obs.CORE_ARCSEC
    assert _cues(PAIR)["x_n_peaks"] == 2
    n = _cues(NOISE)
    assert n["x_peak_snr"] == pytest.approx(3.5, rel=1e-5) and n["x_n_peaks"] == 1


def test_contours_cut_by_the_field_edge() -> None:
    cut = _cues(Scene(xray=((0, 0, 15.0, 30.0),), no_xray_right_of=20.0))
    whole = _cues(Scene(xray=((0, 0, 15.0, 30.0),)))
    assert whole["x_edge"] == 0
    assert cut["x_edge"] > obs.EDGE_FRACTION


def test_empty_and_bad_tensors() -> None:
    c = measure_cues(np.zeros((64, 64, 2), dtype=np.float32), 5.625)
    assert list(c) == list(CUE_COLUMNS) and all(v == 0 for v in c.values())
    with pytest.raises(InputError, match=r"shape \(64, 64, 3\)"):
        measure_cues(np.zeros((64, 64, 3)), 5.625)


def test_cues_are_cached_by_checksum(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = write_subject_set(tmp_path / "set", mixed_scenes(6))
    first = subject_set_cues(folder)
    assert (folder / perception.CUES_NAME).is_file()

    def boom(*a: object, **k: object) -> None:
        raise AssertionError("measured again")

    monkeypatch.setattr(perception, "measure_many", boom)
    again = subject_set_cues(folder)
    pd.testing.assert_frame_equal(first, again)
    # a changed picture is measured again (its checksum changed)
    write_subject_set(folder, [PAIR, *mixed_scenes(6)[1:]])
    with pytest.raises(AssertionError, match="measured again"):
        subject_set_cues(folder)


def test_cues_in_parallel_are_the_same(tmp_path: Path) -> None:
    x = np.stack([tensor(s) for s in mixed_scenes(60)])
    pd.testing.assert_frame_equal(perception.measure_many(x, SCALE), perception.measure_many(x, SCALE, jobs=2))


def test_no_tensors_is_one_clear_error(tmp_path: Path) -> None:
    folder = write_subject_set(tmp_path / "set", mixed_scenes(2))
    (folder / "tensors.npz").unlink()
    with pytest.raises(InputError, match="no tensors.npz"):
        subject_set_cues(folder)


# -- the observer model ----------------------------------------------------------------------------
def test_experts_apply_the_field_guide() -> None:
    scenes = [CLUSTER_LOWZ, CLUSTER_HIZ, GALAXY, POINT, PAIR, NOISE]
    cues = pd.DataFrame([_cues(s) for s in scenes])
    p = obs.class_probabilities(obs.cue_arrays(cues), obs.experts(len(scenes), lapse=0.0))
    assert np.allclose(p.sum(axis=1), 1.0)
    assert [CLASSES[i] for i in p.argmax(axis=1)] == ["low-z", "hi-z", "galaxy", "point", "other", "other"]


def test_lapses_of_volunteers_and_of_experts() -> None:
    cues = obs.cue_arrays(pd.DataFrame([_cues(s) for s in (PAIR, CLUSTER_HIZ)]))
    vol = _volunteer(0.75)
    vol = obs.Observers(**{**vol.__dict__, "lapse": np.array([0.2])}).take(np.array([0, 0]))
    assert obs.class_probabilities(cues, vol).min() >= 0.2 / 5 - 1e-12  # a slip: any answer
    # an expert's lapse is a hurried glance: the experts' rule seen with a mean volunteer's noise
    glance = obs.experts(2, lapse=1.0)
    same = obs.Observers(**{**obs.experts(2, lapse=0.0).__dict__, "skill": np.full(2, obs.VOLUNTEER_MEAN_SKILL),
                            "noise": np.ones(2)})
    assert np.allclose(obs.class_probabilities(cues, glance), obs.class_probabilities(cues, same))


def _volunteer(skill: float, **bias: bool) -> obs.Observers:
    flags = {k: np.array([bias.get(k, False)]) for k in ("lowz_caller", "no_hiz", "other_caller")}
    return obs.Observers(skill=np.array([skill]), noise=np.ones(1), shift=np.zeros((1, 4)), lapse=np.zeros(1),
                         expert=np.zeros(1, dtype=bool), **flags)


def test_noise_grows_as_snr_and_skill_fall() -> None:
    bright = Scene(xray=((0, 0, 25.0, 30.0),))
    faint = Scene(xray=((0, 0, 25.0, 8.0),))
    cb, cf = (obs.cue_arrays(pd.DataFrame([_cues(s)])) for s in (bright, faint))
    hiz = CLASSES.index("hi-z")
    good, poor = _volunteer(0.95), _volunteer(0.45)
    assert obs.class_probabilities(cb, good)[0, hiz] > obs.class_probabilities(cf, good)[0, hiz]
    assert obs.class_probabilities(cb, good)[0, hiz] > obs.class_probabilities(cb, poor)[0, hiz]


def test_personal_biases() -> None:
    c = obs.cue_arrays(pd.DataFrame([_cues(CLUSTER_HIZ)]))
    plain = obs.class_probabilities(c, _volunteer(0.75))[0]
    never = obs.class_probabilities(c, _volunteer(0.75, no_hiz=True))[0]
    lowz = obs.class_probabilities(c, _volunteer(0.75, lowz_caller=True))[0]
    assert never[CLASSES.index("hi-z")] == 0
    assert never[CLASSES.index("other")] == pytest.approx(plain[CLASSES.index("other")] + plain[CLASSES.index("hi-z")])
    # no big galaxy here: a "low-z caller" turns every hi-z answer into low-z
    assert lowz[CLASSES.index("low-z")] == pytest.approx(plain[CLASSES.index("low-z")] + plain[CLASSES.index("hi-z")])
    assert lowz[CLASSES.index("hi-z")] == 0


# -- by construction: the pixels alone ----------------------------------------------------------
def test_identical_pixels_give_identical_probabilities(tmp_path: Path) -> None:
    scenes = mixed_scenes(8)
    scenes.append(scenes[1])  # the same picture under another candidate id
    folder = write_subject_set(tmp_path / "set", scenes)
    crowd = VolunteerCrowd(folder, VolunteerConfig(seed=3, retirement=5))
    v = np.arange(crowd.n_volunteers)
    a = crowd.probabilities(np.full(v.size, crowd.subject_ids[1]), v)
    b = crowd.probabilities(np.full(v.size, crowd.subject_ids[-1]), v)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, crowd.probabilities(np.full(v.size, crowd.subject_ids[0]), v))


def _catalogue_with_truth(ids: list[str], seed: int) -> Table:
    rng = np.random.default_rng(seed)
    n = len(ids)
    return Table({
        "candidate_id": ids,
        "ra": np.linspace(10.0, 20.0, n),
        "dec": np.linspace(-5.0, 5.0, n),
        "true_class": np.array(CLASSES)[np.arange(n) % 5],
        "spec_class": np.where(np.arange(n) % 2 == 0, "cluster", "non-cluster"),
        "subtype": np.array(["cluster", "elliptical", "agn", "pair", "edge"])[np.arange(n) % 5],
        "redshift": rng.uniform(0.05, 1.2, n),
        "extent_arcsec": rng.uniform(0, 60, n),
        "ext_like": rng.uniform(0, 100, n),
        "count_rate": rng.uniform(0.001, 0.1, n),
        "expert_class": np.array(CLASSES)[(np.arange(n) + 2) % 5],
        "n_members_visible": rng.integers(0, 20, n),
        "counterpart_mag": rng.uniform(12, 21, n),
    })


def test_shuffled_truth_changes_no_byte(tmp_path: Path) -> None:
    scenes = mixed_scenes(24, seed=1)
    ids = [f"XCLASS-{i:04d}" for i in range(24)]
    folder = write_subject_set(tmp_path / "set", scenes, ids)
    cat = _catalogue_with_truth(ids, 0)
    shuffled = cat.copy()
    rng = np.random.default_rng(1)
    for col in shuffled.colnames:
        if col not in ("candidate_id", "ra", "dec"):
            shuffled[col] = shuffled[col][rng.permutation(len(shuffled))]
    assert (shuffled["true_class"] != cat["true_class"]).any()
    cat.write(tmp_path / "a.ecsv", format="ascii.ecsv")
    shuffled.write(tmp_path / "b.ecsv", format="ascii.ecsv")
    cfg = VolunteerConfig(seed=9, retirement=6, expert_fraction=0.2)
    outs = []
    for name, c in (("a", tmp_path / "a.ecsv"), ("b", tmp_path / "b.ecsv"), ("none", None)):
        write_export(tmp_path / f"{name}.csv", folder, catalogue=c, config=cfg)
        outs.append((tmp_path / f"{name}.csv").read_bytes())
    assert outs[0] == outs[1] == outs[2]
    experts = [simulate_experts(folder, seed=4, catalogue=c) for c in (tmp_path / "a.ecsv", tmp_path / "b.ecsv", None)]
    pd.testing.assert_frame_equal(experts[0], experts[1])
    pd.testing.assert_frame_equal(experts[0], experts[2])


def test_catalogue_is_read_for_identifiers_only(tmp_path: Path) -> None:
    folder = write_subject_set(tmp_path / "set", mixed_scenes(3))
    cat = Table({"candidate_id": ["XCLASS-0000", "XCLASS-0002"]})
    with pytest.raises(InputError, match=r"manifest row 3: #candidate_id 'XCLASS-0001' is not in the catalogue"):
        write_export(tmp_path / "e.csv", folder, catalogue=cat)


def test_simulate_labels_its_experts_as_simulate_experts_does(tiny_survey: SurveyResult, tmp_path: Path) -> None:
    from hunt_clusters.subjects import render_subject_set

    render_subject_set(tiny_survey.catalogue_path, tmp_path / "experts", select="in_expert")
    labels = simulate_experts(tmp_path / "experts", seed=TINY.seed, lapse=TINY.expert_lapse)
    cat = tiny_survey.catalogue
    known = dict(zip(cat["candidate_id"], np.ma.filled(cat["expert_class"], "")))
    assert len(labels) == TINY.n_expert
    assert (labels["expert_class"] == labels["candidate_id"].map(known)).all()


# -- votes on demand ----------------------------------------------------------------------------------
def test_crowd_gives_votes_on_demand_from_the_export_population(tmp_path: Path) -> None:
    folder = write_subject_set(tmp_path / "set", mixed_scenes(12))
    cfg = VolunteerConfig(seed=5, retirement=8)
    crowd = VolunteerCrowd(folder, cfg)
    write_export(tmp_path / "e.csv", folder, config=cfg)
    df = pd.read_csv(tmp_path / "e.csv", dtype=str, keep_default_na=False)
    assert set(df.loc[df["expert"] == "", "user_name"]) <= set(crowd.user_name)
    rng = np.random.default_rng(0)
    sid = crowd.subject_ids[0]
    votes, who = crowd.classify(np.full(4000, sid), rng, return_volunteers=True)
    assert len(votes) == 4000 and set(votes) <= set(CLASSES)
    # the vote shares are the mean of the drawn volunteers' probabilities
    p = crowd.probabilities(np.full(who.size, sid), who).mean(axis=0)
    share = np.array([(votes == c).mean() for c in CLASSES])
    assert np.abs(share - p).max() < 0.03
    with pytest.raises(InputError, match="not in this crowd"):
        crowd.classify([1], rng)


# -- CLI ------------------------------------------------------------------------------------------------
def test_simulate_experts_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_subject_set(tmp_path / "set", mixed_scenes(6))
    out = tmp_path / "experts.csv"
    assert main(["-q", "simulate-experts", str(folder), "--out", str(out), "--seed", "2", "--lapse", "0"]) == 0
    got = pd.read_csv(out)
    assert list(got.columns) == ["candidate_id", "expert_class"]
    assert got["expert_class"].tolist() == ["low-z", "hi-z", "galaxy", "point", "other", "other"]
    assert "6 expert labels" in capsys.readouterr().out
    assert main(["-q", "simulate-experts", str(folder), "--out", str(out), "--lapse", "2"]) == 1
    err = capsys.readouterr().err
    assert "--lapse 2.0" in err and "Traceback" not in err
    missing = tmp_path / "no_such_set"
    assert main(["-q", "simulate-experts", str(missing), "--out", str(out)]) == 1
    err = capsys.readouterr().err  # the folder the user gave is described, not its parent
    assert f"{missing}: manifest not found" in err and "found nothing (no such folder)" in err
