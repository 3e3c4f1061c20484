"""What every lesson notebook must look like (STYLE.md), read with nbformat — no kernel started.

Kept apart from the tests so the workshop tools (schedule, learner build) can reuse the parsing.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
TIME_LINE = re.compile(r"\*\*Time:\*\*\s*(\d+)\s*min teaching\s*\+\s*(\d+)\s*min exercises")


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def number_of(path: Path) -> int:
    return int(path.name[:2])


def headings(nb) -> list[tuple[int, int, str]]:
    """[(cell index, level, text)] for every markdown heading, in order."""
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                m = re.match(r"^(#{1,6})\s+(.*\S)\s*$", line)
                if m:
                    found.append((i, len(m.group(1)), m.group(2)))
    return found


def minutes(nb) -> tuple[int, int]:
    """(teaching, exercise) minutes from the header's **Time:** line."""
    m = TIME_LINE.search(nb.cells[0].source)
    if not m:
        raise ValueError("no '**Time:** N min teaching + M min exercises' line in the first cell")
    return int(m.group(1)), int(m.group(2))


def tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))
