"""Write the workshop schedule (docs/instructors/schedule.md): one-day tracks and a two-day course.

What a slot is made of: each lesson's header says ``**Time:** N min teaching + M min exercises``, and a
learner's Run All in the browser adds its own minutes (tests/test_browser.py records each notebook's
open + Run All + save time in ``build/browser/times.json``). A lesson never measured in the browser is
estimated from the strict nbval run (``build/notebook_times.json``) times ``NBVAL_TO_BROWSER``, the
largest browser/nbval ratio measured (the newcomer audit: 1.4-3.5x), and the page says so.

The plans (course_utils/kit/tracks.py holds the tracks and each lesson's optional sections):

- a day runs ``DAY`` (09:00-17:00, two coffee breaks and lunch); day 1 opens with the setup check,
  sized for the room (``setup_minutes``), every day ends with a wrap-up, and the tables end when the
  day does;
- a lesson that meets a break goes on after it, but no part of a lesson is shorter than
  ``MIN_FRAGMENT`` minutes: a shorter gap before a break is catch-up time for the exercises;
- when a day is too short for its lessons' full slots, the longest are shortened 5 minutes at a time,
  never below their core (the optional sections and all but one exercise dropped), and the page says
  which sections to skip; when the day has room, lessons get up to ``MAX_EXTRA`` more exercise minutes.

``make schedule`` writes the page only when its text would change (a new measurement, a changed
lesson header, a new lesson): the measurements are kept in a comment at the end of the page and read
back, so a run with nothing new leaves the tracked file untouched.

``kernel_peak_memory`` measures what one learner's kernel needs (for sizing a JupyterHub).

Used in: ``make schedule`` / ``python -m course_utils schedule``; tests/test_schedule.py.
"""
from __future__ import annotations

import json
import math
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from ..base.errors import CourseError
from ..base.paths import course_root, lesson_notebooks
from .tracks import FULL_COURSE_DAYS, OPTIONAL, TRACKS, heading_key

TIME_LINE = re.compile(r"\*\*Time:\*\*\s*(\d+)\s*min teaching\s*\+\s*(\d+)\s*min exercises")
EXERCISE = re.compile(r"^#{2,4} .*?Exercise (\d+\.\d+)", re.M)
# (start, end) of each session and the pause after it; the last session ends the day.
DAY = [(9 * 60, 10 * 60 + 30, "Coffee break"), (10 * 60 + 45, 12 * 60 + 15, "Lunch"),
       (13 * 60 + 15, 14 * 60 + 45, "Coffee break"), (15 * 60, 17 * 60, "")]
WRAP_UP = 15          # the end of every day: questions, what comes next
RECAP = 10            # the start of every later day: yesterday in five points, every kernel started
MIN_FRAGMENT = 20     # no part of a lesson shorter than this, before or after a break
MAX_EXTRA = 15        # spare minutes of a day go to exercises, at most this many per lesson
ROOM = 30             # learners, unless WORKSHOP_ROOM says otherwise
NBVAL_TO_BROWSER = 3.5
NOT_MEASURED_S = 120  # a lesson never run anywhere: book two minutes for its Run All
BROWSER_TIMES = "build/browser/times.json"
# The page keeps its measurements in a comment, read back by the next `make schedule`.
MEASURED = re.compile(r"<!-- measured run times \(s\): (\{.*?\}) -->")
SETUP_LABEL = "Welcome and setup check: every learner runs lesson 00 (or `make doctor`); helpers fix what is red"
RECAP_LABEL = "Recap of the day before; every learner's kernel started"
GAP_LABEL = "Catch-up: exercises and questions"
WRAP_LABEL = "Wrap-up: questions, what the day showed, what comes next"


def setup_minutes(room: int) -> int:
    """The opening's length: 15 minutes, plus 5 for every 15 learners (a room of 30: 25 minutes).

    A room's slowest laptops set the pace; the audit's reinstall alone took 3.5 minutes with a local mirror.
    """
    return 15 + 5 * math.ceil(max(room, 1) / 15)


@dataclass(frozen=True)
class Section:
    title: str
    minutes: float      # its share of the lesson's teaching minutes (by its lines of text and code)
    optional: bool
    rank: int = -1      # optional sections: the order to drop them in (course_utils/kit/tracks.py)


@dataclass(frozen=True)
class Lesson:
    """One lesson: its header minutes, sections, and Run All time in the browser (measured or estimated)."""

    name: str
    title: str
    teaching: int
    exercises: int
    run_s: float | None
    source: str = "browser"   # "browser", "nbval" (estimated: nbval x NBVAL_TO_BROWSER) or "" (never measured)
    nbval_s: float | None = None
    sections: tuple[Section, ...] = ()
    exercise_ids: tuple[str, ...] = ()

    @property
    def number(self) -> str:
        return self.name[:2]

    @property
    def slot(self) -> int:
        """Minutes to book: teaching + exercises + one Run All in the browser, rounded up to 5."""
        run_min = math.ceil((self.run_s if self.run_s is not None else NOT_MEASURED_S) / 60)
        return 5 * math.ceil((self.teaching + self.exercises + run_min) / 5)

    @property
    def optional_minutes(self) -> float:
        return sum(s.minutes for s in self.sections if s.optional)

    @property
    def homework_minutes(self) -> float:
        """Exercise minutes saved by doing one exercise in class and the others as homework."""
        n = len(self.exercise_ids)
        return self.exercises * (n - 1) / n if n > 1 else 0.0

    @property
    def floor(self) -> int:
        """The shortest slot that still teaches the core: optional sections and all but one exercise dropped."""
        return max(MIN_FRAGMENT, 5 * math.ceil((self.slot - self.optional_minutes - self.homework_minutes) / 5))

    def skip_for(self, cut: int) -> list[str]:
        """What to skip to save ``cut`` minutes: optional sections in their order, then exercises as homework."""
        skipped, saved = [], 0.0
        for s in sorted((s for s in self.sections if s.optional), key=lambda s: s.rank):
            if saved < cut:
                skipped.append(f"{s.title} (~{max(1, round(s.minutes))} min)")
                saved += s.minutes
        if saved < cut and len(self.exercise_ids) > 1:
            skipped.append(f"exercises {', '.join(self.exercise_ids[1:])} as homework")
        return skipped


def _sections(nb, teaching: int, number: str) -> tuple[Section, ...]:
    """The lesson's ``##`` sections with their share of the teaching minutes, marked core or optional."""
    optional = [heading_key(o) for o in OPTIONAL.get(number, [])]
    found: list[list] = []  # [title, lines]
    for cell in nb.cells:
        for line in cell.source.splitlines() if cell.cell_type == "markdown" else []:
            if line.startswith("## "):
                found.append([line[3:].strip(), 0])
        if found:
            found[-1][1] += max(1, len(cell.source.splitlines()))
    taught = [f for f in found if heading_key(f[0]) not in ("further reading",)]
    total = sum(lines for _, lines in taught) or 1
    out = []
    for title, lines in taught:
        key = heading_key(title)
        rank = next((i for i, o in enumerate(optional) if key.startswith(o)), -1)
        out.append(Section(title, teaching * lines / total, rank >= 0, rank))
    return tuple(out)


def unmatched_optional(nb_path: Path) -> list[str]:
    """Names in tracks.OPTIONAL for this lesson that match none of its ``##`` headings (should be [])."""
    nb = nbformat.read(nb_path, as_version=4)
    keys = [heading_key(line[3:]) for c in nb.cells if c.cell_type == "markdown"
            for line in c.source.splitlines() if line.startswith("## ")]
    return [o for o in OPTIONAL.get(nb_path.name[:2], []) if not any(k.startswith(heading_key(o)) for k in keys)]


def _read_times(path: str | Path) -> dict[str, float]:
    p = Path(path)
    p = p if p.is_absolute() else course_root() / p
    try:
        return {str(k): float(v) for k, v in json.loads(p.read_text()).items()} if p.exists() else {}
    except (ValueError, TypeError, AttributeError):
        return {}


def previous_times(page: str | Path) -> dict[str, dict[str, float]]:
    """The times recorded in an earlier schedule page: {"browser": {...}, "nbval": {...}} (empty if none).

    A page from before the browser times recorded only nbval's, as a flat {name: seconds}."""
    path = Path(page)
    path = path if path.is_absolute() else course_root() / path
    empty: dict[str, dict[str, float]] = {"browser": {}, "nbval": {}}
    if not path.exists():
        return empty
    m = MEASURED.search(path.read_text(encoding="utf-8"))
    try:
        data = json.loads(m.group(1)) if m else {}
    except ValueError:
        return empty
    if data and not {"browser", "nbval"} & set(data):
        data = {"nbval": data}
    try:
        return {k: {str(n): float(s) for n, s in data.get(k, {}).items()} for k in ("browser", "nbval")}
    except (TypeError, ValueError, AttributeError):
        return empty


def lessons(times_file: str | Path = "build/notebook_times.json",
            previous: dict[str, dict[str, float]] | None = None,
            browser_file: str | Path = BROWSER_TIMES) -> list[Lesson]:
    """Every lesson notebook (``notebooks/NN_*.ipynb``) with its minutes, sections and Run All time:
    the browser's (new, else ``previous``), else nbval's x NBVAL_TO_BROWSER, else None.

    >>> [l.name for l in lessons()][:1]   # doctest: +SKIP
    ['00_setup_check.ipynb']
    """
    previous = previous or {}
    browser = {**previous.get("browser", {}), **_read_times(browser_file)}
    nbval = {**previous.get("nbval", {}), **_read_times(times_file)}
    found = []
    for path in lesson_notebooks():
        nb = nbformat.read(path, as_version=4)
        header = nb.cells[0].source if nb.cells else ""
        m = TIME_LINE.search(header)
        teaching, exercises = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
        title = header.splitlines()[0].lstrip("# ").strip() if header else path.stem
        ids = tuple(dict.fromkeys(EXERCISE.findall("\n".join(c.source for c in nb.cells if c.cell_type == "markdown"))))
        b, n = browser.get(path.name), nbval.get(path.name)
        if b is not None:
            run, source = b, "browser"
        elif n is not None:
            run, source = n * NBVAL_TO_BROWSER, "nbval"
        else:
            run, source = None, ""
        found.append(Lesson(path.name, title, teaching, exercises, run, source, n,
                            _sections(nb, teaching, path.name[:2]), ids))
    return found


def clock(minutes: int) -> str:
    """``clock(545) == '09:05'``."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


Row = tuple[int, int, str, str]  # (start minute, end minute, what, kind: setup|recap|lesson|gap|break|wrap)


def day_room(first: bool, room: int = ROOM) -> int:
    """Teaching minutes in a day: its sessions, less the opening and the wrap-up."""
    return sum(b - a for a, b, _ in DAY) - (setup_minutes(room) if first else RECAP) - WRAP_UP


def pack_day(work: list[tuple[str, int]], first: bool, room: int = ROOM) -> list[Row] | None:
    """Lay (label, minutes) out over one day; None when they do not fit.

    A lesson that meets a break goes on after it when both parts are at least MIN_FRAGMENT minutes;
    otherwise the rest of the session is catch-up time and the lesson starts after the break."""
    queue = [[label, minutes, False] for label, minutes in work]
    rows: list[Row] = []
    opening = (setup_minutes(room), SETUP_LABEL, "setup") if first else (RECAP, RECAP_LABEL, "recap")
    for k, (start, end, pause) in enumerate(DAY):
        now, last = start, k == len(DAY) - 1
        if k == 0:
            rows.append((now, now + opening[0], opening[1], opening[2]))
            now += opening[0]
        limit = end - (WRAP_UP if last else 0)
        while queue and now < limit:
            label, left, started = queue[0]
            take = min(left, limit - now)
            if take < left and left - take < MIN_FRAGMENT:
                take = left - MIN_FRAGMENT
            if take < left and take < MIN_FRAGMENT:
                break
            part = " (continued)" if started else (" (part 1)" if take < left else "")
            rows.append((now, now + take, label + part, "lesson"))
            now += take
            queue[0][1] -= take
            queue[0][2] = True
            if queue[0][1] == 0:
                queue.pop(0)
        if now < limit:
            rows.append((now, limit, GAP_LABEL, "gap"))
        if last:
            rows.append((limit, end, WRAP_LABEL, "wrap"))
        else:
            rows.append((end, DAY[k + 1][0], pause, "break"))
    return None if queue else rows


def _label(lesson: Lesson) -> str:
    return f"{lesson.title} ({lesson.name})"


def fit_day(items: list[Lesson], first: bool, room: int = ROOM, what: str = "this day") -> tuple[list[Row], dict[str, int]]:
    """One day's timetable for these lessons, and the minutes each one gets.

    Too long: the lesson with the most minutes above its core loses 5, until the day holds them all
    (a CourseError if even the cores do not fit). Room to spare: 5 more exercise minutes to the lesson
    in order whose extra time shrinks the day's catch-up gaps, up to MAX_EXTRA each."""
    given = {l.name: l.slot for l in items}

    def pack() -> list[Row] | None:
        return pack_day([(_label(l), given[l.name]) for l in items], first, room)

    rows = pack()
    while rows is None:
        over = [l for l in items if given[l.name] - 5 >= l.floor]
        if not over:
            raise CourseError(f"{what}: the lessons {', '.join(l.number for l in items)} do not fit one day "
                              "even with every optional section skipped; move a lesson to another day.")
        longest = max(over, key=lambda l: (given[l.name] - l.floor, -items.index(l)))
        given[longest.name] -= 5
        rows = pack()

    def badness(r: list[Row]) -> int:
        """Catch-up minutes, and far worse, catch-up time inside a lesson (between its part 1 and the break)."""
        inside = sum(1 for x, y in zip(r, r[1:]) if x[2].endswith("(part 1)") and y[3] == "gap")
        return sum(b - a for a, b, _, kind in r if kind == "gap") + 100 * inside

    grew = True
    while grew:  # lessons shortened above come back first, then the day's spare minutes go to exercises
        grew = False
        short_of_slot = any(given[x.name] < x.slot for x in items)
        for l in sorted(items, key=lambda l: given[l.name] - l.slot):
            if given[l.name] >= l.slot + MAX_EXTRA or (short_of_slot and given[l.name] >= l.slot):
                continue  # no extra exercise time for one lesson while another is cut short
            given[l.name] += 5
            trial = pack()
            if trial is not None and badness(trial) < badness(rows):
                rows, grew = trial, True
                break
            given[l.name] -= 5
    return rows, given


def tracks(items: list[Lesson], room: int = ROOM) -> list[tuple[str, str, list[Lesson], list[Row], dict[str, int]]]:
    """Every one-day track of course_utils/kit/tracks.py whose lessons all exist: (title, why, lessons, rows, minutes)."""
    by_number = {l.number: l for l in items}
    out = []
    for title, why, numbers in TRACKS:
        if all(n in by_number for n in numbers):
            chosen = [by_number[n] for n in numbers]
            rows, given = fit_day(chosen, True, room, f"track {title!r}")
            out.append((title, why, chosen, rows, given))
    return out


def full_course(items: list[Lesson], room: int = ROOM) -> list[tuple[list[Lesson], list[Row], dict[str, int]]]:
    """Every lesson but 00, in order, over FULL_COURSE_DAYS days, cut between lessons where the days'
    loads are most even (each day's load against its room)."""
    queue = [l for l in items if l.number != "00"]
    best = None
    for cuts in _cuts(len(queue), FULL_COURSE_DAYS):
        days = [queue[a:b] for a, b in zip((0, *cuts), (*cuts, len(queue)))]
        load = max(sum(l.slot for l in d) / day_room(k == 0, room) for k, d in enumerate(days))
        if best is None or load < best[0]:
            best = (load, days)
    days = best[1] if best else [queue]
    return [(d, *fit_day(d, k == 0, room, f"full course, day {k + 1}")) for k, d in enumerate(days)]


def _cuts(n: int, days: int) -> list[tuple[int, ...]]:
    """Every way to cut n lessons into ``days`` non-empty runs (as the cut positions)."""
    if days <= 1:
        return [()]
    return [(k, *(c + k for c in rest)) for k in range(1, n - days + 2) for rest in _cuts(n - k, days - 1)]


def _table(rows: list[Row]) -> list[str]:
    return ["| time | what |", "|---|---|"] + [f"| {clock(a)}–{clock(b)} | {what} |" for a, b, what, _ in rows] + [""]


def _run_cell(l: Lesson) -> str:
    if l.source == "browser":
        return f"{l.run_s:.0f} s"
    if l.source == "nbval":
        return f"~{l.run_s:.0f} s (nbval {l.nbval_s:.1f} s × {NBVAL_TO_BROWSER:g}, not yet run in the browser)"
    return f"not measured (booked {NOT_MEASURED_S // 60} min)"


def _shortened(items: list[Lesson], given: dict[str, int]) -> list[str]:
    """Per lesson of a plan: its full slot, the minutes given, and what to skip when that is less."""
    lines = ["| lesson | full slot | in this plan | in a shorter slot, skip first |", "|---|---:|---:|---|"]
    for l in items:
        cut = l.slot - given[l.name]
        plan = f"{given[l.name]} min" + (f" (+{-cut} exercise time)" if cut < 0 else "")
        skip = "; ".join(l.skip_for(max(cut, 10))) or "nothing optional: teach it whole"
        lines.append(f"| {l.title} | {l.slot} min | {plan} | {'**' + skip + '**' if cut > 0 else skip} |")
    return lines + [""]


def _day_words() -> str:
    sessions = ", ".join(f"{clock(a)}–{clock(b)}" for a, b, _ in DAY)
    pauses = ", ".join(f"{p.lower()} {clock(b)}–{clock(DAY[k + 1][0])}" for k, (_, b, p) in enumerate(DAY[:-1]))
    return f"from {clock(DAY[0][0])} to {clock(DAY[-1][1])}: sessions {sessions}; {pauses}"


def render(items: list[Lesson], room: int = ROOM) -> str:
    """The schedule page as Markdown (deterministic: no dates, no machine names, no load-dependent words)."""
    browser = {l.name: l.run_s for l in items if l.source == "browser"}
    nbval = {l.name: l.nbval_s for l in items if l.nbval_s is not None}
    lines = [
        "# Workshop schedule",
        "",
        "<!-- Generated by `make schedule` (python -m course_utils schedule) from the lessons, "
        "course_utils/kit/tracks.py and the measured times; do not edit by hand. -->",
        "",
        f"Every day runs {_day_words()}. The day ends at {clock(DAY[-1][1])}, with a "
        f"{WRAP_UP}-minute wrap-up before it; later days open with a {RECAP}-minute recap. Day 1 opens with "
        f"the setup check, sized for a room of {room}: {setup_minutes(room)} min (15 min plus 5 per 15 "
        "learners: the slowest laptops set the pace).",
        "",
        "A lesson's slot is its header's teaching and exercise minutes plus one **Run All in the browser**, "
        "rounded up to 5 minutes. The browser times come from `make test-browser` "
        f"(`{BROWSER_TIMES}`: open, Run All, save); a lesson not yet timed there is estimated as its "
        f"strict nbval time × {NBVAL_TO_BROWSER:g} (the largest ratio measured) and marked. No part of a "
        f"lesson is shorter than {MIN_FRAGMENT} minutes: a lesson that would be cut shorter at a break "
        "starts after it, and the minutes before the break are catch-up time. When a plan gives a lesson "
        "less than its slot, its row in the plan's table says which optional sections to skip; the "
        "sections are listed at the end of this page.",
        "",
        "## Lessons",
        "",
        "| lesson | teaching | exercises | Run All in the browser | slot |",
        "|---|---:|---:|---:|---:|",
    ]
    for l in items:
        lines.append(f"| {l.title} | {l.teaching} min | {l.exercises} min | {_run_cell(l)} | {l.slot} min |")
    lines += ["", "Lesson 00 is sent to learners before the day and run again in the setup check.", ""]
    lines += ["## One-day tracks", "",
              "Each track tells one story with a few lessons, each taught with its exercises; the other "
              "lessons are for self-study.", ""]
    for k, (title, why, chosen, rows, given) in enumerate(tracks(items, room)):
        numbers = " → ".join(l.number for l in chosen)
        lines += [f"### Track {chr(65 + k)}: {title} ({numbers})", "", why[0].upper() + why[1:] + ".", ""]
        lines += _table(rows) + _shortened(chosen, given)
    days = full_course(items, room)
    lines += [f"## Full course: {len(days)} days", "",
              "Every lesson, in order; a day ends between two lessons.", ""]
    for d, (chosen, rows, given) in enumerate(days, 1):
        lines += [f"### Day {d}", ""] + _table(rows) + _shortened(chosen, given)
    lines += ["## Sections: core and optional", "",
              "Core: the setup, every section with an exercise, the summary. Optional sections are listed "
              "in the order to drop them, with their share of the teaching minutes (by length). "
              "Marked in `course_utils/kit/tracks.py`, not in the notebooks.", "",
              "| lesson | optional, skip in this order | core |", "|---|---|---|"]
    for l in items:
        opt = sorted((s for s in l.sections if s.optional), key=lambda s: s.rank)
        core = [s.title for s in l.sections if not s.optional]
        lines.append(f"| {l.title} | {'; '.join(f'{s.title} (~{max(1, round(s.minutes))} min)' for s in opt) or 'none marked'} "
                     f"| {'; '.join(core)} |")
    stored = {"browser": dict(sorted(browser.items())), "nbval": dict(sorted(nbval.items()))}
    lines += ["", f"<!-- measured run times (s): {json.dumps(stored, sort_keys=True)} -->", ""]
    return "\n".join(lines)


def kernel_peak_memory(notebook: str | Path, interval_s: float = 0.2) -> float:
    """Execute ``notebook`` in a fresh course kernel and return the kernel's peak memory (RSS, MiB,
    kernel process plus its children), sampled every ``interval_s`` seconds.

    >>> kernel_peak_memory("notebooks/01_tensors.ipynb")   # doctest: +SKIP
    1234.5
    """
    import threading

    import psutil
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(nb, kernel_name="python3", timeout=600,
                            resources={"metadata": {"path": str(Path(notebook).resolve().parent)}})
    peak, done = [0.0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            km = client.km
            pid = getattr(getattr(km, "provisioner", None), "pid", None) if km else None
            if pid:
                try:
                    proc = psutil.Process(pid)
                    rss = sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)])
                    peak[0] = max(peak[0], rss / 2**20)
                except psutil.Error:
                    pass
            time.sleep(interval_s)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        client.execute()
    finally:
        done.set()
        thread.join()
    return peak[0]


def main(times_file: str = "build/notebook_times.json", out: str = "docs/instructors/schedule.md",
         memory: list[str] | None = None, browser_file: str = BROWSER_TIMES) -> int:
    """Command line: write the schedule when it changed; with ``memory`` notebooks, print each kernel's peak.

    A lesson without a new time keeps the one the page recorded before; a page whose text would not
    change is left as it is (no rewrite, so a clone stays clean)."""
    dest = Path(out)
    dest = dest if dest.is_absolute() else course_root() / dest
    room = int(os.environ.get("WORKSHOP_ROOM") or ROOM)
    items = lessons(times_file, previous=previous_times(dest), browser_file=browser_file)
    text = render(items, room)
    before = dest.read_text(encoding="utf-8") if dest.exists() else None
    if text == before:
        print(f"{out}: unchanged (no new measurement, no lesson changed)")
    else:
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text, encoding="utf-8")
        print(f"wrote {out}: {len(items)} lessons")
    estimated = [l.number for l in items if l.source == "nbval"]
    missing = [l.number for l in items if not l.source]
    if estimated:
        print(f"  estimated from nbval (run `make test-browser` to time them): {', '.join(estimated)}")
    if missing:
        print(f"  never measured: {', '.join(missing)}")
    for nb in memory or []:
        print(f"{nb}: kernel peak {kernel_peak_memory(nb):.0f} MiB")
    return 0
