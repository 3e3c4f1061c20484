"""Time each notebook under nbval and report it against the course's budget.

COURSE.md: every notebook executes in <= 60 s on 2 CPU cores. That budget is a measured figure in
the report (a busy machine takes longer without anything being wrong), not a failure; a notebook
over NOTEBOOK_HARD_LIMIT_S (default 600 s, ten times the budget) fails the run: that is a hang.
The per-notebook times go to build/notebook_times.json (the workshop schedule reads them), or to
build/notebook_times.<variant>.json inside a portability run (tools/portability.py). The date of each
notebook's last native run in which every cell passed goes to build/strict_passed.json (the website's
version stamp reads it: make site).

It also loads tests/listen_watch.py: every socket a notebook's kernel or its children listen on, read
from the operating system, must be on loopback (issue 26).
"""
from __future__ import annotations

import datetime
import json
import os
import sys
from collections import defaultdict
from pathlib import Path

# Issue 26: while each notebook runs, the listening sockets of its kernel and every child are read from
# the OS; a listener beyond loopback fails the cell that was running (tests/listen_watch.py).
sys.path.insert(0, str(Path(__file__).resolve().parent / "tests"))
pytest_plugins = ["listen_watch"]

# Issue 34: a test run never writes into the developer's own learner record (build/record/); the tests of
# the record (tests/test_record.py) and the hub's room turn it on for themselves.
os.environ.setdefault("COURSE_RECORD", "off")

NOTEBOOK_BUDGET_S = float(os.environ.get("NOTEBOOK_BUDGET_S", "60"))
NOTEBOOK_HARD_LIMIT_S = float(os.environ.get("NOTEBOOK_HARD_LIMIT_S", "600"))
_times: dict[str, float] = defaultdict(float)
_failed: set[str] = set()


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _times[path] += report.duration
        if report.failed:
            _failed.add(path)


def times_file(root: Path) -> Path:
    variant = os.environ.get("COURSE_PORTABILITY_VARIANT")
    return root / "build" / (f"notebook_times.{variant}.json" if variant else "notebook_times.json")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _times:
        return
    terminalreporter.section("notebook execution times")
    for path, seconds in sorted(_times.items()):
        flag = ""
        if seconds > NOTEBOOK_HARD_LIMIT_S:
            flag = f"   OVER the {NOTEBOOK_HARD_LIMIT_S:.0f} s hard limit (a hang?)"
        elif seconds > NOTEBOOK_BUDGET_S:
            flag = f"   over the {NOTEBOOK_BUDGET_S:.0f} s budget (reported, not failed)"
        terminalreporter.write_line(f"{seconds:6.1f} s  {path}{flag}")
    out = times_file(Path(config.rootpath))
    out.parent.mkdir(exist_ok=True)
    previous = json.loads(out.read_text()) if out.exists() else {}
    previous.update({Path(p).name: round(s, 1) for p, s in _times.items()})
    out.write_text(json.dumps(previous, indent=1, sort_keys=True) + "\n")
    if not os.environ.get("COURSE_PORTABILITY_VARIANT"):
        record_strict_passes(Path(config.rootpath) / "build" / "strict_passed.json")


def record_strict_passes(out: Path) -> None:
    """Today's date for every notebook whose cells all passed in this (native) run; others keep theirs."""
    passed = json.loads(out.read_text()) if out.exists() else {}
    today = datetime.date.today().isoformat()
    passed.update({Path(p).name: today for p in _times if p not in _failed})
    out.write_text(json.dumps(passed, indent=1, sort_keys=True) + "\n")


def pytest_sessionfinish(session, exitstatus):
    hung = {p: s for p, s in _times.items() if s > NOTEBOOK_HARD_LIMIT_S}
    if hung and session.exitstatus == 0:
        print(f"\nnotebooks over the {NOTEBOOK_HARD_LIMIT_S:.0f} s hard limit: {hung}")
        session.exitstatus = 1
