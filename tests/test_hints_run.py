"""Hints that run (issue 35) and enough cases per check (issue 30).

1. Every registered exercise, in every framework it accepts: the code ``cu.check.hint(id)`` shows for
   that framework, pasted after the lesson's own cells, runs and the lesson's check cell says
   "correct". How a lesson is prepared and which cells are skipped: tests/hint_runner.py (one fresh
   process per lesson, lessons two at a time). The lesson's own solution cell must reach "correct"
   from the same prepared namespace: that is what shows the skipped cells are unrelated.
   A hint known not to run is a strict xfail in ``BROKEN_HINTS`` naming why: fixing it turns the test
   red until its line is removed.
2. Every exercise's unit tests (tests/test_checks_lessonNN.py) hand its check at least
   ``MIN_MISTAKES`` distinct wrong answers and ``MIN_ALTERNATIVES`` distinct right ones, counted from
   the verdicts themselves (check_support's observer), not from the test code.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import check_support
from course_utils.check import core

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb") if not p.name.startswith("00_"))
MIN_MISTAKES, MIN_ALTERNATIVES = 6, 3
RUNNER_TIMEOUT_S = 900  # one lesson, on a loaded machine

# (exercise, framework) -> why its hint does not run today. Strict xfail: a fix turns it red.
PROSE = "the registered code is prose, not Python (SyntaxError when pasted)"
BROKEN_HINTS: dict[tuple[str, str], str] = {
}
# exercise -> why its unit tests' count is short today (strict xfail, as above).
SHORT_OF_CASES: dict[str, str] = {
    "1.3": "2 distinct right answers: the three right tries hold two equal torch tensors "
           "(torch.tensor(images).unsqueeze(1) and torch.from_numpy(images)[:, None] are the same answer)",
    "3.3": "2 distinct right answers: the six float32 right tries are the same loss value, plus its float64 cast",
    "6.3": "0 right answers seen: they are checked in a subprocess (two logical CPUs must be set before TF "
           "starts), whose verdicts the count cannot observe",
}


def exercise_key(exercise_id: str) -> tuple[int, ...]:
    return tuple(int(p) for p in exercise_id.split("."))


CASES = sorted(((e, f) for e, accepts in core.ACCEPTS.items() for f in accepts),
               key=lambda c: (exercise_key(c[0]), c[1]))


def run_lesson(notebook: Path) -> dict:
    done = subprocess.run([sys.executable, str(TESTS / "hint_runner.py"), str(notebook)],
                          capture_output=True, text=True, timeout=RUNNER_TIMEOUT_S,
                          env={**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT)})
    lines = [line for line in done.stdout.splitlines() if line.startswith("HINT-RESULTS ")]
    if not lines:
        return {"crash": f"rc {done.returncode}; stderr tail: {done.stderr[-1500:]}"}
    return json.loads(lines[-1][len("HINT-RESULTS "):])


@pytest.fixture(scope="module")
def lessons() -> dict[str, dict]:
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip((p.name for p in NOTEBOOKS), pool.map(run_lesson, NOTEBOOKS)))


def outcome(lessons: dict[str, dict], exercise_id: str, framework: str) -> dict:
    for name, lesson in lessons.items():
        assert "crash" not in lesson, f"{name}: the hint runner crashed: {lesson['crash']}"
        for result in lesson["results"]:
            if (result["id"], result["framework"]) == (exercise_id, framework):
                return {**result, "lesson": name}
    pytest.fail(f"exercise {exercise_id}: no check cell calls it in notebooks 01-14")


def describe(result: dict) -> str:
    if result.get("error"):
        return f"{result['lesson']}: pasting it raised {result['error']}"
    if result.get("check_error"):
        return f"{result['lesson']}: the check cell raised {result['check_error']}"
    return f"{result['lesson']}: the check said {result.get('status')!r}: {result.get('message')}"


def with_known_breaks(cases):
    for exercise_id, framework in cases:
        reason = BROKEN_HINTS.get((exercise_id, framework))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        yield pytest.param(exercise_id, framework, marks=marks, id=f"{exercise_id}-{framework}")


@pytest.mark.parametrize("exercise_id, framework", list(with_known_breaks(CASES)))
def test_hint_runs_to_correct(lessons, exercise_id, framework):
    result = outcome(lessons, exercise_id, framework)
    assert result.get("error") is None and result.get("check_error") is None \
        and result.get("status") == "correct", describe(result)


@pytest.mark.parametrize("exercise_id", sorted(core.EXERCISES, key=exercise_key))
def test_prepared_namespace_is_enough_for_the_lessons_own_solution(lessons, exercise_id):
    """The cells the runner skipped are unrelated: the lesson's solution cell still reaches "correct"."""
    result = outcome(lessons, exercise_id, "lesson")
    assert result.get("status") == "correct", describe(result)


def test_the_runner_skips_only_cells_and_reports_every_cell_error(lessons):
    """The cells that ran raised nothing they are not tagged to raise."""
    errors = {name: lesson.get("cell_errors") for name, lesson in lessons.items() if lesson.get("cell_errors")}
    assert not errors, errors


def test_runner_keeps_the_cells_an_exercise_reads():
    """The cell selection itself: a cell that binds or changes what the hint reads runs, others don't."""
    sys.path.insert(0, str(TESTS))
    import hint_runner
    cells = [{"source": s, "tags": t, "heading": 0} for s, t in [
        ("import torch\nimport course_utils as cu\ncu.setup()", []),
        ("data = torch.ones(3)\nunrelated = 1", []),
        ("torch.manual_seed(0)\nslow = torch.zeros(9)", []),
        ("data.mul_(2)", []),
        ("answer = data * 2", ["solution"]),
        ("cu.check.arange_matrix(answer)", []),
    ]]
    exercises = [{"id": "1.1", "solution": 4, "check": 5}]
    keep = hint_runner.needed_cells(cells, exercises, {"1.1": {"torch": "answer = data + 0"}})
    assert keep == {0, 1, 3}


# --- issue 30: enough plausible mistakes and right alternatives per exercise ----------------------

def lesson_of(exercise_id: str) -> str:
    return f"{int(exercise_id.split('.')[0]):02d}"


def verdict_counts(records) -> dict[str, dict[str, int]]:
    wrong, right = defaultdict(set), defaultdict(set)
    for record in records:
        {"wrong": wrong, "correct": right}.get(record["status"], defaultdict(set))[record["exercise"]].add(record["answer"])
    return {e: {"mistakes": len(wrong[e]), "alternatives": len(right[e])} for e in set(wrong) | set(right)}


CHECK_TEST_FILES = sorted(TESTS.glob("test_checks_lesson[0-9][0-9].py"))


def ran_earlier_in_this_session(request) -> bool:
    """Did this pytest session run every test of the lesson check files before this one (make test)?"""
    items, names = request.session.items, {p.name for p in CHECK_TEST_FILES}
    here = next((i for i, item in enumerate(items) if Path(str(item.fspath)).name == Path(__file__).name), 0)
    earlier = {Path(str(item.fspath)).name for item in items[:here]}
    return here > 0 and names <= earlier and not any(Path(str(i.fspath)).name in names for i in items[here:])


@pytest.fixture(scope="module")
def check_test_verdicts(request) -> list[dict]:
    """Every verdict of tests/test_checks_lesson01..14.py: from this session when it ran them all
    before (as ``make test`` does), else from one run of them in a subprocess with the log on."""
    if ran_earlier_in_this_session(request) and check_support.RECORDED:
        return [r for r in check_support.RECORDED if re.search(r"test_checks_lesson\d\d\.py", r["test"])]
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "verdicts.jsonl"
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--no-header",
                        *map(str, CHECK_TEST_FILES)], cwd=ROOT, capture_output=True, text=True,
                       timeout=3600, env={**os.environ, "CHECK_VERDICTS_LOG": str(log)})
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_verdict_counting_tells_answers_apart():
    import numpy as np
    records = [{"exercise": "9.9", "status": s, "answer": check_support.answer_fingerprint(a)}
               for s, a in [("wrong", np.zeros(2)), ("wrong", np.zeros(2)), ("wrong", np.ones(2)),
                            ("correct", (1, 2)), ("correct", (1, 2)), ("not attempted", ...)]]
    assert verdict_counts(records) == {"9.9": {"mistakes": 2, "alternatives": 1}}


@pytest.mark.parametrize("exercise_id", [
    pytest.param(e, marks=[pytest.mark.xfail(strict=True, reason=SHORT_OF_CASES[e])] if e in SHORT_OF_CASES else [])
    for e in sorted(core.EXERCISES, key=exercise_key)])
def test_exercise_has_enough_mistakes_and_alternatives(check_test_verdicts, exercise_id):
    counts = verdict_counts(check_test_verdicts).get(exercise_id, {"mistakes": 0, "alternatives": 0})
    assert counts["mistakes"] >= MIN_MISTAKES and counts["alternatives"] >= MIN_ALTERNATIVES, (
        f"tests/test_checks_lesson{lesson_of(exercise_id)}.py hands check {exercise_id} "
        f"{counts['mistakes']} distinct wrong answers and {counts['alternatives']} right ones "
        f"(issue 30: at least {MIN_MISTAKES} and {MIN_ALTERNATIVES})")


def test_counts_reuse_this_sessions_verdicts_only_when_every_check_test_ran_before():
    from types import SimpleNamespace

    def session(*files):
        return SimpleNamespace(session=SimpleNamespace(items=[SimpleNamespace(fspath=TESTS / f) for f in files]))
    lessons_files = [p.name for p in CHECK_TEST_FILES]
    here = Path(__file__).name
    assert ran_earlier_in_this_session(session(*lessons_files, here))
    assert not ran_earlier_in_this_session(session(*lessons_files[1:], here))  # one lesson's tests left out
    assert not ran_earlier_in_this_session(session(here, *lessons_files))      # they run after this file
    assert not ran_earlier_in_this_session(session(here))
