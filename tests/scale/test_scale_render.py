"""Render (and simulate) on a Dask cluster: the embedded run's files, byte for byte; a lost worker is retried."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from hunt_clusters.cli import main
from hunt_clusters.subjects import RenderConfig, render_subject_set
from render_compare import assert_same_set  # noqa: E402 - tests/scale helper

SMALL = RenderConfig(size=256, format="png")




def test_render_on_a_cluster_is_the_embedded_set(scale_survey: Path, tmp_path: Path, threads_client: Any) -> None:
    emb = render_subject_set(scale_survey, tmp_path / "emb", config=SMALL, jobs=1)
    dsk = render_subject_set(scale_survey, tmp_path / "dask", config=SMALL, client=threads_client)
    assert [r.candidate_id for r in dsk.records] == [r.candidate_id for r in emb.records]
    assert dsk.records == emb.records
    assert_same_set(tmp_path / "emb", tmp_path / "dask")
    # a re-run on the cluster finds everything up to date
    again = render_subject_set(scale_survey, tmp_path / "dask", config=SMALL, client=threads_client)
    assert again.n_skipped == len(emb.records) and again.n_rendered == 0


def test_failures_come_back_in_order(scale_survey: Path, tmp_path: Path, threads_client: Any) -> None:
    from astropy.table import Table

    t = Table.read(scale_survey)
    xray = [str(scale_survey.parent / p) for p in t["xray_image"]]
    xray[1] = xray[4] = str(tmp_path / "missing.fits")
    t["xray_image"] = xray
    t["optical_image"] = [str(scale_survey.parent / p) for p in t["optical_image"]]
    emb = render_subject_set(t, tmp_path / "emb", config=SMALL)
    dsk = render_subject_set(t, tmp_path / "dask", config=SMALL, client=threads_client)
    assert emb.n_failed == 2 and dsk.records == emb.records
    assert_same_set(tmp_path / "emb", tmp_path / "dask")


@pytest.mark.slow
def test_a_worker_killed_mid_render_is_retried(scale_survey: Path, tmp_path: Path) -> None:
    """SIGKILL one of two worker processes while it renders: Dask reruns its partitions elsewhere and the
    folder is complete, each subject once, the same bytes as the embedded run."""
    pytest.importorskip("distributed")
    from distributed import Client, LocalCluster

    config = RenderConfig(size=512, format="png")
    render_subject_set(scale_survey, tmp_path / "emb", config=config)
    out = tmp_path / "dask"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        client.run(lambda: __import__("hunt_clusters.subjects._subject_set"))  # warm imports on the workers
        pids = client.run(os.getpid)
        box: dict[str, Any] = {}

        def work() -> None:
            box["summary"] = render_subject_set(scale_survey, out, config=config, client=client, force=True)

        th = threading.Thread(target=work)
        th.start()
        killed_at = None
        deadline = time.monotonic() + 60
        while th.is_alive() and time.monotonic() < deadline:
            processing = client.processing()
            busy = [w for w, keys in processing.items() if keys]
            if busy and out.exists() and any(out.glob("*.png")):
                killed_at = len(list(out.glob("*.png")))
                os.kill(pids[busy[0]], signal.SIGKILL)
                break
            time.sleep(0.02)
        th.join(120)
    assert killed_at is not None and killed_at < 10, "the render finished before a worker could be killed"
    summary = box["summary"]
    assert summary.ok and summary.n_rendered == 10
    names = [p.name for p in out.iterdir()]
    assert not [n for n in names if n.endswith(".part") or n.endswith(".part.npz")]
    ids = [r.candidate_id for r in summary.records]
    assert len(ids) == len(set(ids)) == 10
    assert_same_set(tmp_path / "emb", out)


def test_render_command_on_local_2(scale_survey: Path, tmp_path: Path) -> None:
    assert main(["-q", "render", str(scale_survey), "--out", str(tmp_path / "emb"), "--size", "256", "--jobs", "1"]) == 0
    assert main(["-q", "render", str(scale_survey), "--out", str(tmp_path / "dask"), "--size", "256",
                 "--scheduler", "local:2"]) == 0
    assert_same_set(tmp_path / "emb", tmp_path / "dask")


def test_simulate_on_a_cluster_is_the_same_survey(tmp_path: Path, threads_client: Any) -> None:
    from hunt_clusters.mock import SurveyConfig, simulate_survey

    cfg = SurveyConfig(seed=1, n_expert=4, n_zooniverse=4, n_overlap=3, n_test_clusters=1, n_test_noncluster=1)
    a = simulate_survey(tmp_path / "emb", cfg)
    b = simulate_survey(tmp_path / "dask", cfg, client=threads_client)
    assert a.catalogue_path.read_bytes() == b.catalogue_path.read_bytes()
    for sub in ("xray", "optical"):
        for f in sorted((tmp_path / "emb" / sub).iterdir()):
            assert f.read_bytes() == (tmp_path / "dask" / sub / f.name).read_bytes(), f.name
