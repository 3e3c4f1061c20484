"""Time each notebook under nbval, print the table, and hold each to the course's budget.

COURSE.md: every notebook executes in <= 60 s on 2 CPU cores. The per-notebook times are also
written to build/notebook_times.json (the workshop schedule reads them).
"""
from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path

NOTEBOOK_BUDGET_S = float(os.environ.get("NOTEBOOK_BUDGET_S", "60"))
_times: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _times[path] += report.duration


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _times:
        return
    terminalreporter.section("notebook execution times")
    for path, seconds in sorted(_times.items()):
        flag = "" if seconds <= NOTEBOOK_BUDGET_S else f"   OVER the {NOTEBOOK_BUDGET_S:.0f} s budget"
        terminalreporter.write_line(f"{seconds:6.1f} s  {path}{flag}")
    out = Path(config.rootpath) / "build" / "notebook_times.json"
    out.parent.mkdir(exist_ok=True)
    previous = json.loads(out.read_text()) if out.exists() else {}
    previous.update({Path(p).name: round(s, 1) for p, s in _times.items()})
    out.write_text(json.dumps(previous, indent=1, sort_keys=True) + "\n")


def pytest_sessionfinish(session, exitstatus):
    over = {p: s for p, s in _times.items() if s > NOTEBOOK_BUDGET_S}
    if over and session.exitstatus == 0:
        print(f"\nnotebooks over the {NOTEBOOK_BUDGET_S:.0f} s budget: {over}")
        session.exitstatus = 1
