"""The room's table and board page from collected records (course_utils/kit/room.py, issue 34), no hub.

`python -m course_utils room DIR` prints the table the hub's board serves; symbols carry the meaning
(✓n done in n tries, ✗n n tries not done, ○ opened, · not started, ⚑ stuck), colours only repeat it.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from course_utils.kit import room


def write(folder: Path, name: str, events: list[dict], nested: bool = False) -> None:
    path = folder / name / "build" / "record" / "log.jsonl" if nested else folder / f"{name}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(e) + "\n" for e in events))


def check(ex, result, n):
    return {"kind": "check", "exercise": ex, "result": result, "try": n}


def collected(tmp_path: Path) -> Path:
    write(tmp_path, "ada", [check("1.1", "not attempted", 0), check("1.1", "not quite", 1), check("1.1", "correct", 2),
                            check("3.2", "not attempted", 0),
                            {"kind": "feedback", "lesson": "01", "clarity": 4, "comment": "clear"}], nested=True)
    write(tmp_path, "bob", [check("1.1", "not quite", 1), check("1.1", "not quite", 2), check("1.1", "not quite", 3),
                            {"kind": "stuck", "exercise": "1.1"},
                            {"kind": "feedback", "lesson": "01", "clarity": 2, "comment": "lost <b>here</b>"}])
    write(tmp_path, "cy", [{"kind": "stuck", "exercise": "3.2"}, {"kind": "unstuck"}, check("10.1", "correct", 1)])
    return tmp_path


def test_the_table_shows_each_learner_and_exercise(tmp_path):
    r = room.load(collected(tmp_path))
    assert sorted(r.learners) == ["ada", "bob", "cy"]
    assert r.exercises == ["1.1", "3.2", "10.1"], "ordered by number, not as text"
    assert [r.cell("ada", ex)[1] for ex in r.exercises] == ["✓2", "○", "·"]
    assert [r.cell("bob", ex)[1] for ex in r.exercises] == ["✗3", "·", "·"]
    assert [r.cell("cy", ex)[1] for ex in r.exercises] == ["·", "·", "✓1"]
    lines = room.table(r).splitlines()
    assert lines[1].split() == ["ada", "✓2", "○", "·"]
    assert lines[2].split() == ["bob", "✗3", "·", "·", "⚑", "1.1"]
    assert lines[3].split() == ["cy", "·", "·", "✓1"], "a lowered sticky note is gone"
    assert "lesson 01: 2 card(s), clarity 3.0/5" in lines


def test_the_page_escapes_comments_and_refreshes(tmp_path):
    page = room.html(room.load(collected(tmp_path)), refresh_s=7)
    assert '<meta http-equiv="refresh" content="7">' in page
    assert "lost &lt;b&gt;here&lt;/b&gt;" in page and "<b>here" not in page
    assert "⚑ 1.1" in page and "✓2" in page and "✗3" in page and "1 stuck" in page


def test_python_m_course_utils_room(tmp_path):
    out = subprocess.run([sys.executable, "-m", "course_utils", "room", str(collected(tmp_path))],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[2].split() == ["bob", "✗3", "·", "·", "⚑", "1.1"]
    missing = subprocess.run([sys.executable, "-m", "course_utils", "room", str(tmp_path / "nope")],
                             capture_output=True, text=True, timeout=120)
    assert missing.returncode == 1 and "not a folder" in missing.stdout
