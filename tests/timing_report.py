"""Print each notebook's execution time across repeated strict runs (``make test-repeat``).

    python tests/timing_report.py build/notebook_times.run1.json build/notebook_times.run2.json ...

Each file is a copy of build/notebook_times.json (written by the root conftest.py after an nbval run):
``{"NN_slug.ipynb": seconds}``. Prints one row per notebook: the time of each run, the median and
the spread, and flags a notebook over the 60 s budget (NOTEBOOK_BUDGET_S).

Used in: the Makefile (``make test-repeat``).
"""
from __future__ import annotations

import json
import os
import statistics
import sys
from pathlib import Path

BUDGET_S = float(os.environ.get("NOTEBOOK_BUDGET_S", "60"))


def report(runs: list[dict[str, float]]) -> str:
    """The table as text; a notebook missing from a run shows '-'. For example:

        notebook    run 1   run 2   run 3   median  max-min
        00_a.ipynb  10.0    12.0    11.0    11.0    2.0
        total       10.0    12.0    11.0    11.0
    """
    names = sorted(set().union(*runs))
    width = max([len("notebook")] + [len(n) for n in names]) + 2
    head = f"{'notebook':<{width}}" + "".join(f"run {i + 1:<4}" for i in range(len(runs))) + "median  max-min"
    rows = [head]
    for name in names:
        times = [run.get(name) for run in runs]
        known = [t for t in times if t is not None]
        cells = "".join(f"{t:<8.1f}" if t is not None else f"{'-':<8}" for t in times)
        flag = f"   OVER the {BUDGET_S:.0f} s budget" if known and max(known) > BUDGET_S else ""
        rows.append(f"{name:<{width}}{cells}{statistics.median(known):<8.1f}{max(known) - min(known):.1f}{flag}")
    totals = [sum(run.get(n, 0.0) for n in names) for run in runs]
    rows.append(f"{'total':<{width}}" + "".join(f"{t:<8.1f}" for t in totals) + f"{statistics.median(totals):.1f}")
    return "\n".join(rows)


def main(paths: list[str]) -> int:
    runs = [json.loads(Path(p).read_text()) for p in paths]
    print(report(runs))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
