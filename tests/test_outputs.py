"""Output folders: no command replaces, clears or writes into a folder holding files it did not write.

Each command that writes an output folder gets a folder holding a stray user file: it is refused in
one line naming the folder and the file, exit 1, and the file (and the folder) stay as they were.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hunt_clusters.cli import main

from report.runfolder import make_run_folder


def _stray(folder: Path, name: str = "notes.txt") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    f = folder / name
    f.write_text("my notes, not hunt-clusters'")
    return f


def _refused(capsys: pytest.CaptureFixture[str], folder: Path, name: str, command: str) -> None:
    err = capsys.readouterr().err
    assert err == (f"error: {folder}: holds {name}, which 'hunt-clusters {command}' does not write; nothing was "
                   f"changed (choose another --out, or move {name} away)\n")


def _argv(command: str, tmp_path: Path, out: Path) -> list[str]:
    """A command line of ``command`` writing ``out`` (its inputs exist where the check comes after them)."""
    if command == "train-on-votes":
        return ["train-on-votes", str(tmp_path / "tensors.npz"), "--out", str(out), "--force"]
    if command == "report":
        return ["report", str(make_run_folder(tmp_path / "run")), "--out", str(out)]
    if command == "aggregate":
        from hunt_clusters.classifications import write_example_export

        return ["aggregate", str(write_example_export(tmp_path / "export.csv")), "--out", str(out)]
    if command == "render":
        return ["render", str(tmp_path / "candidates.ecsv"), "--out", str(out), "--force"]
    if command == "simulate":
        return ["simulate", "--small", "--out", str(out)]
    assert command == "demo"
    return ["demo", "--tiny", "--out", str(out)]


COMMANDS = ("train-on-votes", "report", "aggregate", "render", "simulate", "demo")


@pytest.mark.parametrize("command", COMMANDS)
def test_a_folder_with_a_user_file_is_refused_and_left_as_it_was(
        command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    stray = _stray(out)
    (tmp_path / "tensors.npz").write_bytes(b"")
    assert main(["-q", *_argv(command, tmp_path, out)]) == 1
    _refused(capsys, out, "notes.txt", command)
    assert stray.read_text() == "my notes, not hunt-clusters'"
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


@pytest.mark.parametrize("command", ["train-on-votes", "demo"])
def test_a_user_file_deep_in_an_own_folder_is_refused(command: str, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """--force replaces the whole tree: a file a user added in a subfolder of a run folder stops it too."""
    out = tmp_path / ("cnn" if command == "train-on-votes" else "demo")
    if command == "train-on-votes":  # what train-on-votes writes
        (out / "votes-hard").mkdir(parents=True)
        (out / "config.json").write_text(json.dumps({"versions": {"hunt_clusters": "0"}}))
        for name in ("metrics.json", "predictions.csv", "ensemble.csv", "history.csv", "votes-hard/run_00.keras"):
            (out / name).write_text("x")
    stray = _stray(out / ("votes-hard" if command == "train-on-votes" else "cnn"))
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    (tmp_path / "tensors.npz").write_bytes(b"")
    assert main(["-q", *_argv(command, tmp_path, out)]) == 1
    _refused(capsys, out, f"{stray.parent.name}/notes.txt", command)
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before and stray.exists()


def test_force_needs_a_run_folder_that_hunt_clusters_wrote(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """A folder holding only files named as a run folder's, but not written by hunt-clusters (the
    user's own config.json), is not replaced either."""
    out = tmp_path / "other"
    out.mkdir()
    (out / "config.json").write_text('{"my": "settings"}')
    (tmp_path / "tensors.npz").write_bytes(b"")
    assert main(["-q", *_argv("train-on-votes", tmp_path, out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {out}: not a folder written by 'hunt-clusters train-on-votes' (no config.json")
    assert err.count("\n") == 1 and (out / "config.json").read_text() == '{"my": "settings"}'


def test_a_user_folder_named_like_the_unfinished_run_is_not_removed(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """train-on-votes writes <out>.part first: a folder of that name holding user files stays."""
    stray = _stray(tmp_path / "cnn.part")
    (tmp_path / "tensors.npz").write_bytes(b"")
    assert main(["-q", *_argv("train-on-votes", tmp_path, tmp_path / "cnn")]) == 1
    assert capsys.readouterr().err.startswith(f"error: {tmp_path / 'cnn.part'}: holds notes.txt")
    assert stray.exists()


def test_remove_written_removes_only_what_the_command_writes(tmp_path: Path) -> None:
    from hunt_clusters._outputs import remove_written

    run = tmp_path / "run"
    (run / "votes-hard").mkdir(parents=True)
    for name in ("config.json", "metrics.json", "predictions.csv", "votes-hard/run_00.keras", "votes-hard/run_01.keras"):
        (run / name).write_text("x")
    assert remove_written(run, "train-on-votes") and not run.exists()
    (run / "votes-hard").mkdir(parents=True)
    for name in ("config.json", "votes-hard/run_00.keras", "votes-hard/mine.txt", "mine.csv"):
        (run / name).write_text("x")
    assert not remove_written(run, "train-on-votes")
    assert sorted(p.relative_to(run).as_posix() for p in run.rglob("*")) == ["mine.csv", "votes-hard",
                                                                              "votes-hard/mine.txt"]


def test_replace_folder_checks_again_and_keeps_the_new_result(tmp_path: Path) -> None:
    from hunt_clusters._outputs import ForeignFilesError, replace_folder

    out, part = tmp_path / "run", tmp_path / "run.part"
    for folder in (out, part):
        folder.mkdir()
        (folder / "metrics.json").write_text(folder.name)
    replace_folder(part, out, "train-on-votes")
    assert (out / "metrics.json").read_text() == "run.part" and not part.exists()
    part.mkdir()
    (part / "metrics.json").write_text("new")
    _stray(out)  # appeared while the new run was training
    with pytest.raises(ForeignFilesError, match=r"holds notes.txt.*the new result is in .*run.part"):
        replace_folder(part, out, "train-on-votes")
    assert (out / "notes.txt").exists() and (part / "metrics.json").read_text() == "new"


def test_output_folder_removes_an_interrupted_new_folder_only(tmp_path: Path) -> None:
    from hunt_clusters._outputs import output_folder

    new = tmp_path / "agg"
    with pytest.raises(KeyboardInterrupt), output_folder(new, "aggregate"):
        new.mkdir()
        (new / "votes.parquet").write_bytes(b"x")
        raise KeyboardInterrupt
    assert not new.exists()
    with output_folder(new, "aggregate"):  # a finished run
        new.mkdir()
        (new / "votes.parquet").write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt), output_folder(new, "aggregate"):  # an earlier result stays
        (new / "labels.csv").write_text("half")
        raise KeyboardInterrupt
    assert (new / "votes.parquet").read_bytes() == b"old"
    with pytest.raises(ValueError), output_folder(tmp_path / "b", "aggregate"):  # an error is not an interrupt
        (tmp_path / "b").mkdir()
        (tmp_path / "b" / "rejects.csv").write_text("row,reason")
        raise ValueError
    assert (tmp_path / "b" / "rejects.csv").exists()


def test_check_folder_and_describe(tmp_path: Path) -> None:
    from hunt_clusters._outputs import LAYOUTS, ForeignFilesError, check_folder, describe_folder, foreign_file

    assert check_folder(tmp_path / "none", "report") == tmp_path / "none"
    assert foreign_file(tmp_path / "none", LAYOUTS["report"]) is None
    assert describe_folder(tmp_path / "none") == "nothing (no such folder)"
    (tmp_path / "labels.csv").write_text("x")
    (tmp_path / "votes.parquet").write_text("x")
    assert describe_folder(tmp_path) == "the output folder of 'hunt-clusters aggregate'"
    with pytest.raises(ForeignFilesError, match="holds labels.csv, which 'hunt-clusters report' does not write"):
        check_folder(tmp_path, "report")


@pytest.mark.parametrize("command", ["train-on-votes", "predict", "report", "upload", "simulate-volunteers"])
def test_a_folder_of_another_command_is_named_as_such(command: str, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """Each command that reads a folder made by another names what it expected and what it found."""
    agg = tmp_path / "aggregate"
    agg.mkdir()
    (agg / "votes.parquet").write_bytes(b"")
    (agg / "metrics.json").write_text('{"export": {}, "methods": {}}')
    argv = {"train-on-votes": ["train-on-votes", str(agg), "--out", str(tmp_path / "run")],
            "predict": ["predict", str(agg), str(agg), "--out", str(tmp_path / "p.csv")],
            "report": ["report", str(agg), "--out", str(tmp_path / "rep")],
            "upload": ["upload", str(agg), "--project", "alice/hunt", "--dry-run"],
            "simulate-volunteers": ["simulate-volunteers", str(agg), "--catalogue", str(agg / "metrics.json"),
                                    "--out", str(tmp_path / "e.csv")]}[command]
    assert main(["-q", *argv]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "expected" in err, err
    assert err.endswith("found the output folder of 'hunt-clusters aggregate')\n"), err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["aggregate"]  # nothing written
