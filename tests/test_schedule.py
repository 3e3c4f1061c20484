"""The workshop schedule (course_utils/schedule.py, `make schedule`): built from the lessons' **Time:**
lines and the measured times; deterministic; no lesson straddles a break; nothing overlaps."""
from __future__ import annotations

import json

from course_utils import schedule
from notebook_rules import NOTEBOOKS, minutes, read


def test_reads_every_lesson_header_and_time(tmp_path):
    times = tmp_path / "times.json"
    times.write_text(json.dumps({NOTEBOOKS[0].name: 12.3}))
    items = schedule.lessons(times)
    assert [l.name for l in items] == [p.name for p in NOTEBOOKS]
    for lesson, path in zip(items, NOTEBOOKS):
        assert (lesson.teaching, lesson.exercises) == minutes(read(path))
    assert items[0].run_s == 12.3 and all(l.run_s is None for l in items[1:])


def test_slot_adds_the_run_and_rounds_to_five():
    assert schedule.Lesson("01_x.ipynb", "01 · X", 30, 15, 18.3).slot == 50
    assert schedule.Lesson("01_x.ipynb", "01 · X", 30, 15, 290.0).slot == 50
    assert schedule.Lesson("01_x.ipynb", "01 · X", 30, 15, 301.0).slot == 55


def fake(n):
    return [schedule.Lesson(f"{i:02d}_l.ipynb", f"{i:02d} · L", 30, 15, 30.0) for i in range(n)]


def test_plan_never_overlaps_and_keeps_lessons_in_sessions():
    for days in (1, 2):
        timetable, left = schedule.plan(fake(14), days)
        placed = [what for rows in timetable for _, _, what in rows if what.endswith(".ipynb)")]
        assert len(placed) + len(left) == 13, "lesson 00 is pre-work; every other lesson is placed or listed"
        assert placed == sorted(placed), "lessons keep their order"
        for rows in timetable:
            assert all(a < b for a, b, _ in rows)
            assert all(b1 <= a2 for (_, b1, _), (a2, _, _) in zip(rows, rows[1:])), "rows overlap"
            assert rows[-1][1] <= 17 * 60


def test_two_days_fit_more_than_one():
    one, left1 = schedule.plan(fake(14), 1)
    two, left2 = schedule.plan(fake(14), 2)
    assert len(left2) < len(left1)


def test_render_is_deterministic_and_marks_unmeasured(tmp_path):
    items = schedule.lessons(tmp_path / "none.json")
    text = schedule.render(items)
    assert text == schedule.render(items)
    assert "not measured" in text and "## One-day workshop" in text and "## Two-day workshop" in text


def test_command_writes_the_page(tmp_path, capsys):
    out = tmp_path / "schedule.md"
    assert schedule.main(str(tmp_path / "none.json"), str(out)) == 0
    assert out.read_text().startswith("# Workshop schedule")
    assert "not measured yet" in capsys.readouterr().out
