"""The room: every learner's record side by side, for the instructor (issue 34).

Each learner's record is a log of JSON lines (course_utils/record.py). This module reads the logs
found in one folder and makes the board: learners x exercises, with for each cell

    ✓n  done, in n graded tries        ✗n  n tries, not done yet
    ○   opened (the check ran on the placeholder), no try yet      ·   not started

then a sticky-note column (⚑ 3.2 = stuck on 3.2) and, per lesson, the one-minute cards (how many,
mean clarity 1-5, the sentences). Symbols carry the meaning; colours only repeat it (colour-blind
helpers read the symbols).

Where the logs are looked for, under ``folder``: ``<learner>/build/record/log.jsonl`` (the hub's
users/ folder), ``<learner>/record/log.jsonl`` and ``<learner>.jsonl`` (logs collected by hand).
``python -m course_utils room DIR`` prints the table; the hub's board service
(tools/hub/board.py) serves ``html()`` to instructors only.
"""
from __future__ import annotations

import html as _html
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..record import read_log, summarize

PATTERNS = ("*/build/record/log.jsonl", "*/record/log.jsonl", "*.jsonl")
SYMBOL = {"done": "✓", "tried": "✗", "opened": "○", "not started": "·"}


@dataclass
class Room:
    learners: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> record.summarize()

    @property
    def exercises(self) -> list[str]:
        seen = {ex for state in self.learners.values() for ex in state["exercises"]}
        return sorted(seen, key=_key)

    def cell(self, learner: str, exercise: str) -> tuple[str, str]:
        """(kind, text): kind is done / tried / opened / not started; text e.g. "✓2"."""
        row = self.learners[learner]["exercises"].get(exercise)
        if row is None:
            return "not started", SYMBOL["not started"]
        if row["done"]:
            return "done", f"{SYMBOL['done']}{row['tries']}"
        if row["tries"]:
            return "tried", f"{SYMBOL['tried']}{row['tries']}"
        return "opened", SYMBOL["opened"]

    def feedback(self) -> dict[str, list[dict[str, Any]]]:
        """lesson -> the cards (clarity, comment), in learner order."""
        out: dict[str, list[dict[str, Any]]] = {}
        for name in sorted(self.learners):
            for lesson, card in self.learners[name]["feedback"].items():
                out.setdefault(lesson, []).append(card)
        return dict(sorted(out.items()))


def _key(exercise: str) -> tuple:
    parts = exercise.split(".")
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts)


def load(folder: str | Path) -> Room:
    """Every learner's log under ``folder`` (see the module docstring for where they are looked for)."""
    folder = Path(folder)
    room = Room()
    for pattern in PATTERNS:
        for log in sorted(folder.glob(pattern)):
            name = log.stem if pattern == "*.jsonl" else log.relative_to(folder).parts[0]
            if name in room.learners or name.startswith("."):
                continue
            room.learners[name] = summarize(read_log(log))
    return room


def table(room: Room) -> str:
    """The board as text (``python -m course_utils room DIR``)."""
    exercises = room.exercises
    if not room.learners:
        return "No learner records found."
    width = max(8, *(len(n) for n in room.learners))
    head = f"{'learner':<{width}} " + " ".join(f"{ex:>5}" for ex in exercises) + "  stuck"
    lines = [head]
    for name in sorted(room.learners):
        cells = " ".join(f"{room.cell(name, ex)[1]:>5}" for ex in exercises)
        stuck = room.learners[name]["stuck"]
        lines.append(f"{name:<{width}} {cells}  {'⚑ ' + stuck if stuck else ''}".rstrip())
    lines.append("✓n done in n tries · ✗n n tries, not yet · ○ opened · · not started · ⚑ stuck (cu.stuck)")
    for lesson, cards in room.feedback().items():
        scores = [c["clarity"] for c in cards if isinstance(c.get("clarity"), int)]
        mean = f"{sum(scores) / len(scores):.1f}" if scores else "-"
        lines.append(f"lesson {lesson}: {len(cards)} card(s), clarity {mean}/5")
        lines += [f"  “{c['comment']}”" for c in cards if c.get("comment")]
    return "\n".join(lines)


COLOUR = {"done": "#cfe8cf", "tried": "#f6d7a7", "opened": "#e8e8e8", "not started": "#ffffff"}


def html(room: Room, refresh_s: int = 10, title: str = "The room") -> str:
    """The board as one HTML page that reloads itself every ``refresh_s`` seconds."""
    e = _html.escape
    exercises = room.exercises
    rows = []
    for name in sorted(room.learners):
        stuck = room.learners[name]["stuck"]
        cells = "".join(
            f'<td class="{kind.replace(" ", "-")}" style="background:{COLOUR[kind]}" title="{e(name)} {e(ex)}: {kind}">'
            f"{e(text)}</td>" for ex, (kind, text) in ((ex, room.cell(name, ex)) for ex in exercises))
        flag = f'<td class="stuck" style="background:#f4b6c2">⚑ {e(stuck)}</td>' if stuck else "<td></td>"
        rows.append(f"<tr><th>{e(name)}</th>{cells}{flag}</tr>")
    cards = []
    for lesson, items in room.feedback().items():
        scores = [c["clarity"] for c in items if isinstance(c.get("clarity"), int)]
        mean = f"{sum(scores) / len(scores):.1f}" if scores else "-"
        quotes = "".join(f"<li>{e(c['comment'])}</li>" for c in items if c.get("comment"))
        cards.append(f"<h3>Lesson {e(lesson)}: {len(items)} card(s), clarity {mean}/5</h3><ul>{quotes}</ul>")
    head = "".join(f"<th>{e(ex)}</th>" for ex in exercises)
    stuck_count = sum(1 for s in room.learners.values() if s["stuck"])
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="{int(refresh_s)}">
<title>{e(title)}</title>
<style>body{{font-family:sans-serif;margin:1em}} table{{border-collapse:collapse}}
td,th{{border:1px solid #999;padding:.25em .5em;text-align:center;font-size:1.1em}} th{{background:#f3f3f3}}
.legend span{{margin-right:1.5em}}</style></head>
<body><h1>{e(title)}: {len(room.learners)} learner(s), {stuck_count} stuck</h1>
<p class="legend"><span>✓n done in n tries</span><span>✗n n tries, not yet</span><span>○ opened</span>
<span>· not started</span><span>⚑ stuck</span> (refreshes every {int(refresh_s)} s; read at {time.strftime('%H:%M:%S')})</p>
<table id="board"><tr><th>learner</th>{head}<th>stuck</th></tr>
{''.join(rows)}
</table>
<h2>One-minute cards</h2>
{''.join(cards) or '<p>No cards yet.</p>'}
</body></html>
"""


def main(folder: str | Path) -> int:
    folder = Path(folder)
    if not folder.is_dir():
        print(f"room: {folder} is not a folder (collect each learner's record/log.jsonl into one folder).")
        return 1
    print(table(load(folder)))
    return 0
