"""The learner's own record (course_utils/record.py, issue 34): verdicts, sticky note, minute card.

What each check says is appended to ``<learner root>/record/log.jsonl``: exercise, result, try, time,
never the answer; writing it never fails a check (read-only folder, full disk, two processes at once);
``cu.progress(recording=False)`` turns it off; ``cu.feedback(NN)`` as shipped records nothing.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import course_utils as cu
from course_utils import record
from course_utils.base import paths
from course_utils.check import core


@pytest.fixture
def root(tmp_path, monkeypatch):
    """A learner root of its own, recording on (conftest turns it off for every other test)."""
    monkeypatch.setenv("COURSE_LEARNER_ROOT", str(tmp_path / "learner"))
    monkeypatch.delenv("COURSE_RECORD", raising=False)
    core.reset_tries()
    return tmp_path / "learner"


@core.exercise("99.1", accepts=("any",))
def _demo(answer):
    if answer != 42:
        raise core.Wrong("the answer is a number between 41 and 43. Hint: think.")


def events(root: Path) -> list[dict]:
    return [json.loads(line) for line in (root / "record" / "log.jsonl").read_text().splitlines()]


def test_learner_root_is_build_on_a_laptop_and_the_env_var_on_the_hub(monkeypatch, tmp_path):
    monkeypatch.delenv("COURSE_LEARNER_ROOT", raising=False)
    assert paths.learner_root() == paths.course_root() / "build"
    monkeypatch.setenv("COURSE_LEARNER_ROOT", str(tmp_path))
    assert paths.learner_root() == tmp_path
    assert paths.run_scratch("demo").is_relative_to(tmp_path)


def test_every_lesson_writer_goes_under_the_learner_root(monkeypatch, tmp_path):
    """Issue 34: the path helpers of lessons 09, 10, 11, 12, 13, 14 resolve under the one root."""
    from course_utils import bench
    from course_utils.lessons import deploy, extensions, keras_backends

    monkeypatch.setenv("COURSE_LEARNER_ROOT", str(tmp_path))
    for folder in (deploy.cache_dir("run"), deploy.cache_dir("bin"), extensions.cache_dir("so"),
                   bench.inductor_cache_dir(), keras_backends.run_dir() if hasattr(keras_backends, "run_dir")
                   else paths.run_scratch("lesson13")):
        assert Path(folder).is_relative_to(tmp_path), folder
    assert not (paths.course_root() / "build" / "cache" / "09_saving_deploying" / "never").exists()


def test_verdicts_are_recorded_without_the_answer(root):
    _demo(..., quiet=True)
    _demo(41.8765, quiet=True)
    _demo(42, quiet=True)
    got = events(root)
    assert [(e["kind"], e["exercise"], e["result"], e["try"]) for e in got] == [
        ("check", "99.1", "not attempted", 0), ("check", "99.1", "not quite", 1), ("check", "99.1", "correct", 2)]
    assert all(set(e) == {"t", "kind", "exercise", "result", "try"} for e in got)
    assert "8765" not in (root / "record" / "log.jsonl").read_text(), "never the answer"


def test_progress_shows_the_learners_own_table(root, capsys):
    _demo(41, quiet=True)
    _demo(42, quiet=True)
    _demo_two = core.exercise("99.2", accepts=("any",))(lambda a: None)
    _demo_two(..., quiet=True)
    capsys.readouterr()
    cu.progress()
    out = capsys.readouterr().out.splitlines()
    assert out[1].split() == ["99.1", "✓", "done", "2"]
    assert out[2].split() == ["99.2", "·", "not", "attempted", "0"]
    assert out[3] == "1 of 2 exercise(s) done."


def test_stuck_unstuck_and_feedback(root, capsys):
    cu.stuck("3.2")
    state = record.summarize(record.read_log())
    assert state["stuck"] == "3.2"
    cu.unstuck()
    cu.feedback("07", clarity=4, comment="  the   device section\nwent fast ")
    state = record.summarize(record.read_log())
    assert state["stuck"] is None
    assert state["feedback"] == {"07": {"clarity": 4, "comment": "the device section went fast"}}
    cu.feedback("07", clarity=6)
    cu.feedback("07", clarity=2.5)
    assert "nothing recorded" in capsys.readouterr().out
    assert len(record.read_log()) == 3


def test_the_card_as_shipped_prints_one_fixed_line_and_records_nothing(root, capsys):
    cu.feedback("07", clarity=None, comment="")
    assert capsys.readouterr().out == ("One minute, optional: to record how clear this lesson was (kept in your own folder; "
                                       "on the hub, the instructor's board shows it), "
                                       'run cu.feedback("07", clarity=1..5, comment="one sentence").\n')
    assert not (root / "record" / "log.jsonl").exists()


def test_one_line_turns_recording_off_and_on(root):
    cu.progress(recording=False)
    _demo(42, quiet=True)
    cu.stuck("1.1")
    assert not (root / "record" / "log.jsonl").exists()
    cu.progress(recording=True)
    _demo(42, quiet=True)
    assert len(events(root)) == 1


def test_env_var_turns_recording_off(root, monkeypatch):
    monkeypatch.setenv("COURSE_RECORD", "off")
    _demo(42, quiet=True)
    assert not (root / "record").exists()


def test_a_read_only_folder_never_fails_a_check(root, capsys, monkeypatch):
    root.mkdir(parents=True)
    root.chmod(0o500)
    if os.geteuid() == 0:  # root writes anyway: the refusal a learner's account gets, as the OS gives it
        def refuse(*args, **kwargs):
            raise PermissionError(13, "Permission denied")
        monkeypatch.setattr(record.os, "open", refuse)
        monkeypatch.setattr(Path, "mkdir", lambda *a, **k: refuse())
    try:
        verdict = _demo(42)
        assert verdict.status == "correct"
        assert capsys.readouterr().out == "Exercise 99.1 — correct.\n"
        cu.stuck("3.2")
        assert "not recorded" in capsys.readouterr().out
    finally:
        root.chmod(0o700)


def test_a_full_disk_never_fails_a_check(root, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(record.os, "write", full)
    assert _demo(42, quiet=True).status == "correct"
    cu.feedback("01", clarity=3)  # prints "not recorded", raises nothing


def test_a_torn_line_is_skipped(root):
    (root / "record").mkdir(parents=True)
    (root / "record" / "log.jsonl").write_text('{"kind":"stuck","exercise":"1.1"}\n{"kind":"chec')
    assert record.summarize(record.read_log())["stuck"] == "1.1"


def _many(n: int) -> None:
    for _ in range(n):
        _demo(41, quiet=True)


def test_two_kernels_at_once_lose_no_line(root):
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_many, args=(200,)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert all(p.exitcode == 0 for p in procs)
    got = events(root)  # every line parses: no two writes interleaved
    assert len(got) == 400


def test_make_progress_prints_the_table(root):
    cu.stuck("3.2")
    out = subprocess.run([sys.executable, "-m", "course_utils", "progress"], capture_output=True, text=True,
                         env={**os.environ}, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "Sticky note up on 3.2" in out.stdout
