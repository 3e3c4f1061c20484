"""The workshop schedule (course_utils/schedule.py, `make schedule`): built from the lessons' **Time:**
lines and the measured times; deterministic; no lesson straddles a break; nothing overlaps."""
from __future__ import annotations

import json
import re

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


def fake(n, slot_minutes=(30, 15)):
    return [schedule.Lesson(f"{i:02d}_l.ipynb", f"{i:02d} · L{i}", *slot_minutes, 30.0) for i in range(n)]


def lessons_in(rows):
    """The lesson names a day's rows teach, each once, in order (parts of one lesson count once)."""
    names = []
    for _, _, what in rows:
        if ".ipynb)" in what:
            name = what.split("(")[-2].rstrip(") ") if what.endswith("(continued)") or what.endswith("(part 1)") \
                else what.rsplit("(", 1)[-1].rstrip(")")
            if not names or names[-1] != name:
                names.append(name)
    return names


def check_day(rows):
    assert all(a < b for a, b, _ in rows)
    assert all(b1 <= a2 for (_, b1, _), (a2, _, _) in zip(rows, rows[1:])), "rows overlap"
    assert rows[-1][1] <= 17 * 60
    assert rows[-1][2].startswith("Wrap-up"), "every day ends with a wrap-up"
    breaks = [(a, b) for a, b, what in rows if what in ("Coffee break", "Lunch")]
    for a, b, what in rows:
        assert not any(a < x < b for x, _ in breaks), f"{what} runs through a break"


def test_full_plan_places_every_lesson_over_as_many_days_as_needed():
    for n in (7, 14, 20):
        timetable, left = schedule.plan(fake(n))
        assert not left
        placed = [name for rows in timetable for name in lessons_in(rows)]
        expected = [f"{i:02d}_l.ipynb" for i in range(1, n)]
        assert sorted(set(placed)) == expected, "lesson 00 is pre-work; every other lesson is placed"
        for rows in timetable:
            check_day(rows)
        minutes = {}
        for rows in timetable:
            for a, b, what in rows:
                for name in expected:
                    if f"({name})" in what:
                        minutes[name] = minutes.get(name, 0) + b - a
        assert all(m == 50 for m in minutes.values()), "the full plan gives each lesson its whole slot"
    assert len(schedule.plan(fake(20))[0]) > len(schedule.plan(fake(7))[0]), "the plan grows with the course"


def test_one_day_tour_places_every_lesson_in_one_day():
    for n in (7, 14):
        rows, share = schedule.tour(fake(n))
        check_day(rows)
        assert lessons_in(rows) == [f"{i:02d}_l.ipynb" for i in range(1, n)]
        assert min(share.values()) >= schedule.MIN_TOUR_SLOT
        idle = sum(b - a for a, b, what in rows if what == "Exercises and questions")
        assert idle <= 30, f"{idle} min of idle blocks in the one-day tour"


def test_the_real_course_is_planned_whole():
    items = schedule.lessons("/nonexistent/times.json")
    timetable, _ = schedule.plan(items)
    placed = {name for rows in timetable for name in lessons_in(rows)}
    assert placed == {p.name for p in NOTEBOOKS if not p.name.startswith("00_")}
    rows, _ = schedule.tour(items)
    assert set(lessons_in(rows)) == placed


def test_render_is_deterministic_and_marks_unmeasured(tmp_path):
    items = schedule.lessons(tmp_path / "none.json")
    text = schedule.render(items)
    assert text == schedule.render(items)
    assert "not measured" in text and "## Full workshop" in text and "## One-day tour" in text


def test_command_writes_the_page(tmp_path, capsys):
    out = tmp_path / "schedule.md"
    assert schedule.main(str(tmp_path / "none.json"), str(out)) == 0
    assert out.read_text().startswith("# Workshop schedule")
    assert "not measured yet" in capsys.readouterr().out


def test_a_fresh_clone_keeps_the_measured_times(tmp_path, capsys):
    """`make schedule` without build/notebook_times.json (a fresh clone) keeps the page's measurements."""
    out = tmp_path / "schedule.md"
    times = tmp_path / "times.json"
    times.write_text(json.dumps({p.name: 10.0 + i for i, p in enumerate(NOTEBOOKS)}))
    schedule.main(str(times), str(out))
    first = out.read_text()
    assert "not measured" not in first
    schedule.main(str(tmp_path / "none.json"), str(out))   # no new times at all
    again = out.read_text()
    assert "not measured" not in again and "(earlier run)" in again
    assert f"| {schedule.lessons(times)[1].title} | " in again and "11.0 s (earlier run)" in again
    times.write_text(json.dumps({NOTEBOOKS[1].name: 99.0}))   # one new time: it wins, the others are kept
    schedule.main(str(times), str(out))
    third = out.read_text()
    assert "99.0 s |" in third and "10.0 s (earlier run)" in third


def test_the_tracked_page_keeps_its_numbers_when_regenerated(tmp_path):
    """The page in the repository, rewritten with no new times, loses no measured number."""
    tracked = schedule.course_root() / "docs/instructors/schedule.md"
    copy = tmp_path / "schedule.md"
    copy.write_text(tracked.read_text())
    before = set(re.findall(r"\| ([\d.]+) s", tracked.read_text()))
    schedule.main(str(tmp_path / "none.json"), str(copy))
    after = set(re.findall(r"\| ([\d.]+) s", copy.read_text()))
    assert before <= after, f"lost: {before - after}"
