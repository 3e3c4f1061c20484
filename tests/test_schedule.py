"""The workshop schedule (course_utils/kit/schedule.py, `make schedule`), tested on the page it generates:
one-day tracks and a two-day course that fit a real day, setup sized for the room, no lesson part under
20 minutes, the day's end the same in the header and the tables, sections marked core or optional with
what to skip in a short slot, slots from the browser's Run All times, and no rewrite without a change."""
from __future__ import annotations

import json
import re

import pytest

from course_utils.kit import schedule, tracks
from notebook_rules import NOTEBOOKS, minutes, read

ROW = re.compile(r"^\| (\d\d):(\d\d)–(\d\d):(\d\d) \| (.+) \|$")
BREAKS = ("Coffee break", "Lunch")


def page_for(tmp_path, browser=None, nbval=None, room=None, monkeypatch=None) -> str:
    b, n = tmp_path / "browser.json", tmp_path / "nbval.json"
    b.write_text(json.dumps(browser or {}))
    n.write_text(json.dumps(nbval or {}))
    if room is not None:
        monkeypatch.setenv("WORKSHOP_ROOM", str(room))
    out = tmp_path / "schedule.md"
    schedule.main(str(n), str(out), browser_file=str(b))
    return out.read_text()


def timetables(page: str) -> dict[str, list[tuple[int, int, str]]]:
    """Every timetable on the page, by its heading: [(start, end, what)] in minutes of the day."""
    found, heading = {}, None
    for line in page.splitlines():
        if line.startswith("#"):
            heading = line.lstrip("# ").strip()
        m = ROW.match(line)
        if m:
            a, b = int(m.group(1)) * 60 + int(m.group(2)), int(m.group(3)) * 60 + int(m.group(4))
            found.setdefault(heading, []).append((a, b, m.group(5)))
    return found


def lesson_of(what: str) -> str | None:
    m = re.search(r"\((\d\d_[\w]+\.ipynb)\)", what)
    return m.group(1) if m else None


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("schedule")
    return page_for(tmp, browser={p.name: 40.0 for p in NOTEBOOKS})


def test_the_day_ends_when_the_header_says(page):
    m = re.search(r"from (\d\d:\d\d) to (\d\d:\d\d)", page)
    assert m, "the header states the day's start and end"
    start, end = m.groups()
    tables = timetables(page)
    assert len(tables) >= 5
    for heading, rows in tables.items():
        assert schedule.clock(rows[0][0]) == start, heading
        assert schedule.clock(rows[-1][1]) == end, f"{heading}: the table ends at {schedule.clock(rows[-1][1])}, not {end}"
        assert rows[-1][2].startswith("Wrap-up"), heading
        assert all(a < b for a, b, _ in rows) and all(b == c for (_, b, _), (c, _, _) in zip(rows, rows[1:])), \
            f"{heading}: rows overlap or leave holes"


def test_no_lesson_part_under_twenty_minutes(page):
    for heading, rows in timetables(page).items():
        for a, b, what in rows:
            if lesson_of(what):
                assert b - a >= schedule.MIN_FRAGMENT, f"{heading}: {what} gets {b - a} min"
        for (a, b, what), (_, _, after) in zip(rows, rows[1:]):
            if after in BREAKS and lesson_of(what):
                assert b - a >= 20, f"{heading}: {b - a} min of {what} before the {after.lower()}"
        for (_, _, what), (_, _, after) in zip(rows, rows[1:]):
            assert not (what.endswith("(part 1)") and after.startswith("Catch-up")), f"{heading}: idle time inside {what}"


def test_two_or_three_one_day_tracks_and_a_two_day_course(page):
    tables = timetables(page)
    one_day = [h for h in tables if h.startswith("Track ")]
    assert 2 <= len(one_day) <= 3
    assert "Track A: The same model, saved and ported (01 → 02 → 03 → 09 → 13)" in one_day
    assert "## Full course: 2 days" in page and [h for h in tables if h.startswith("Day ")] == ["Day 1", "Day 2"]
    placed = [lesson_of(w) for h in ("Day 1", "Day 2") for _, _, w in tables[h] if lesson_of(w)]
    assert list(dict.fromkeys(placed)) == [p.name for p in NOTEBOOKS if not p.name.startswith("00_")], \
        "the full course teaches every lesson (a new notebooks/NN_*.ipynb too), in order"
    assert not any("Exercises and questions" in w for rows in tables.values() for _, _, w in rows)
    for h in one_day:
        gaps = sum(b - a for a, b, w in tables[h] if w.startswith("Catch-up"))
        assert gaps <= 45, f"{h}: {gaps} min of catch-up"


def test_setup_is_sized_for_the_room(tmp_path, monkeypatch):
    for room, expected in ((10, 20), (30, 25), (60, 35)):
        page = page_for(tmp_path, room=room, monkeypatch=monkeypatch)
        first = timetables(page)["Day 1"][0]
        assert first[2].startswith("Welcome and setup check") and first[1] - first[0] == expected, (room, first)
        assert f"a room of {room}: {expected} min" in page
    assert schedule.setup_minutes(30) >= 25


def test_shortened_lessons_say_what_to_skip(page):
    rows = [l for l in page.splitlines() if l.startswith("| ") and " min | " in l and "full slot" not in l]
    shortened = []
    for line in rows:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 4 and re.fullmatch(r"\d+ min", cells[1]) and re.match(r"\d+ min", cells[2]):
            full, given = int(cells[1].split()[0]), int(cells[2].split()[0])
            if given < full:
                shortened.append(cells[0])
                assert cells[3].startswith("**") and "nothing optional" not in cells[3], line
    assert shortened, "with 13+ lessons of ~55 min, the two-day course shortens some: the page says what to skip"


def test_every_lesson_has_core_and_optional_sections_marked():
    items = schedule.lessons("/nonexistent.json", browser_file="/nonexistent.json")
    for l in items:
        assert any(not s.optional for s in l.sections), l.name
        if l.number in tracks.OPTIONAL:
            assert [s for s in l.sections if s.optional], l.name
    marked = {l.number for l in items if any(s.optional for s in l.sections)}
    assert {f"{i:02d}" for i in range(1, 14)} <= marked


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_optional_sections_name_real_headings_and_no_exercise(path):
    assert schedule.unmatched_optional(path) == [], "a section in course_utils/kit/tracks.py was renamed in the lesson"
    lesson = next(l for l in schedule.lessons("/x.json", browser_file="/x.json") if l.name == path.name)
    nb = read(path)
    current, with_exercise = None, set()
    for cell in nb.cells:
        for line in cell.source.splitlines() if cell.cell_type == "markdown" else []:
            if line.startswith("## "):
                current = line[3:].strip()
            if re.match(r"#{2,4} .*Exercise \d+\.\d+", line) and current:
                with_exercise.add(current)
    assert not [s.title for s in lesson.sections if s.optional and s.title in with_exercise], \
        "a section with an exercise is core"
    assert (lesson.teaching, lesson.exercises) == minutes(nb)


def test_slots_come_from_the_browser_run_else_nbval_scaled():
    quick = schedule.Lesson("01_x.ipynb", "01 · X", 30, 15, 18.3)
    assert quick.slot == 50
    assert schedule.Lesson("01_x.ipynb", "01 · X", 30, 15, 301.0).slot == 55
    items = {l.name: l for l in schedule.lessons("/none.json", browser_file="/none.json")}
    assert all(l.source == "" and l.run_s is None for l in items.values())


def test_browser_times_win_over_nbval(tmp_path):
    name = NOTEBOOKS[1].name
    (tmp_path / "b.json").write_text(json.dumps({name: 400.0}))
    (tmp_path / "n.json").write_text(json.dumps({name: 10.0, NOTEBOOKS[2].name: 100.0}))
    items = {l.name: l for l in schedule.lessons(tmp_path / "n.json", browser_file=tmp_path / "b.json")}
    assert items[name].run_s == 400.0 and items[name].source == "browser"
    other = items[NOTEBOOKS[2].name]
    assert other.source == "nbval" and other.run_s == 100.0 * schedule.NBVAL_TO_BROWSER
    page = schedule.render(list(items.values()))
    assert "400 s |" in page and "nbval 100.0 s × 3.5" in page


def test_make_schedule_writes_only_when_something_changed(tmp_path, capsys):
    b, n, out = tmp_path / "b.json", tmp_path / "n.json", tmp_path / "schedule.md"
    b.write_text(json.dumps({p.name: 30.0 + i for i, p in enumerate(NOTEBOOKS)}))
    n.write_text("{}")
    schedule.main(str(n), str(out), browser_file=str(b))
    first = out.read_text()
    stamp = out.stat().st_mtime_ns
    capsys.readouterr()
    b.unlink()   # a fresh clone: no build/browser/times.json; the page's own measurements are kept
    schedule.main(str(n), str(out), browser_file=str(b))
    assert "unchanged" in capsys.readouterr().out
    assert out.read_text() == first and out.stat().st_mtime_ns == stamp, "rewritten with nothing new"
    assert "31 s |" in first
    b.write_text(json.dumps({NOTEBOOKS[1].name: 900.0}))   # one new measurement: written, others kept
    schedule.main(str(n), str(out), browser_file=str(b))
    third = out.read_text()
    assert "900 s |" in third and "30 s |" in third and third != first


def test_an_old_page_keeps_its_nbval_times(tmp_path):
    old = tmp_path / "schedule.md"
    old.write_text('text\n<!-- measured run times (s): {"%s": 27.3} -->\n' % NOTEBOOKS[1].name)
    assert schedule.previous_times(old) == {"browser": {}, "nbval": {NOTEBOOKS[1].name: 27.3}}


def test_the_tracked_page_is_current():
    """`make schedule` on the tracked page with no new measurement changes nothing (so a clone stays clean)."""
    tracked = schedule.course_root() / "docs/instructors/schedule.md"
    listed = set(re.findall(r"\((\d\d_\w+\.ipynb)\)", tracked.read_text()))
    if listed != {p.name for p in NOTEBOOKS if not p.name.startswith("00_")}:
        pytest.skip("a lesson was added or removed since the page was written: run `make schedule`")
    items = schedule.lessons("/none.json", previous=schedule.previous_times(tracked), browser_file="/none.json")
    assert schedule.render(items) == tracked.read_text(), "docs/instructors/schedule.md is stale: run `make schedule`"


def test_a_day_that_cannot_hold_its_lessons_says_so():
    from course_utils.base.errors import CourseError

    many = [schedule.Lesson(f"{i:02d}_x.ipynb", f"{i:02d} · X", 40, 15, 60.0) for i in range(1, 12)]
    with pytest.raises(CourseError, match="do not fit one day"):
        schedule.fit_day(many, True)
