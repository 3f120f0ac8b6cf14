"""``hunt-clusters simulate`` from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from astropy.table import Table

from hunt_clusters.cli import main


def test_simulate_small_writes_the_survey_and_prints_the_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "survey"
    assert main(["simulate", "--small", "--out", str(out), "--seed", "3", "--jobs", "2"]) == 0  # -q: the path only
    text = capsys.readouterr().out
    assert "291 candidates: 171 expert, 160 Zooniverse, 40 in both, test set 8 clusters + 8 non-clusters" in text
    for heading in ("class mix (truth)", "redshift distribution", "experts vs truth"):
        assert heading in text
    cat = Table.read(out / "candidates.ecsv")
    assert len(cat) == 291
    assert len(list((out / "xray").glob("*.fits.gz"))) == 291
    assert len(list((out / "optical").glob("*.fits.gz"))) == 291


def test_simulate_sizes_are_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["simulate", "--out", str(tmp_path), "--n-expert", "6", "--n-zooniverse", "5", "--n-overlap", "3",
            "--n-test-clusters", "1", "--n-test-noncluster", "1", "--jobs", "1"]
    assert main(["--quiet", *args]) == 0
    assert len(Table.read(tmp_path / "candidates.ecsv")) == 8


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--n-overlap", "500", "--small"], "--n-overlap) = 500"),
        # --jobs 0 is a usage error (exit 2): tests/test_cli.py::test_counts_below_one_are_usage_errors
    ],
)
def test_simulate_bad_input_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    assert main(["simulate", "--out", str(tmp_path / "s"), *extra]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0]
