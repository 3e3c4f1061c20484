"""Write the workshop schedule (docs/instructors/schedule.md) from the lessons and measured times.

Each lesson's header says ``**Time:** N min teaching + M min exercises``; the nbval run
(``make test-notebooks``) writes each notebook's measured execution time to
``build/notebook_times.json``. A lesson's slot is teaching + exercises + one "run all" of the
notebook, rounded up to 5 minutes. Every lesson in ``notebooks/NN_*.ipynb`` is placed (the plan grows
with the course), in order, in sessions of 90 minutes between breaks:

- the **full workshop** gives each lesson its whole slot and takes as many days as that needs; a
  lesson that meets a break continues after it ("part 2"), so no session ends in idle time;
- the **one-day tour** fits every lesson into one day by shortening each slot in proportion
  (at least 15 minutes: the side-by-side cells and one exercise; the rest as homework).

Each day ends with a wrap-up slot. Lesson 00 is sent to learners before the day, so the first day
opens with a short check of it instead.

A measured time is never replaced by "not measured": ``main`` keeps the times recorded in the page
it rewrites (a comment at its end) for every lesson that has no new measurement.

``kernel_peak_memory`` measures what one learner's kernel needs (for sizing a JupyterHub).

Used in: ``make schedule`` / ``python -m course_utils schedule``; tests/test_schedule.py.
"""
from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .paths import course_root, lesson_notebooks

TIME_LINE = re.compile(r"\*\*Time:\*\*\s*(\d+)\s*min teaching\s*\+\s*(\d+)\s*min exercises")
# (session length in minutes, what follows it): a day is 09:00-17:00 with two coffee breaks and lunch.
DAY = [(90, "coffee break", 15), (90, "lunch", 60), (90, "coffee break", 15), (90, "end of day", 0)]
DAY_START = 9 * 60
OPENING = 15  # welcome, lesson 00 / `make doctor` on every laptop
WRAP_UP = 15  # the end of every day: questions, what comes next
MIN_TOUR_SLOT = 15
# The page keeps its measurements in a comment, read back by the next `make schedule`.
MEASURED = re.compile(r"<!-- measured run times \(s\): (\{.*?\}) -->")


@dataclass(frozen=True)
class Lesson:
    """One lesson's planned minutes and its measured execution time (None when never measured)."""

    name: str
    title: str
    teaching: int
    exercises: int
    run_s: float | None
    earlier: bool = False  # run_s comes from an earlier run (kept from the previous page)

    @property
    def slot(self) -> int:
        """Minutes to book: teaching + exercises + one run of the notebook, rounded up to 5."""
        run_min = math.ceil((self.run_s or 60) / 60)
        return 5 * math.ceil((self.teaching + self.exercises + run_min) / 5)


def previous_times(page: str | Path) -> dict[str, float]:
    """The run times recorded in an earlier schedule page ({} if none)."""
    path = Path(page)
    path = path if path.is_absolute() else course_root() / path
    if not path.exists():
        return {}
    m = MEASURED.search(path.read_text(encoding="utf-8"))
    try:
        return {str(k): float(v) for k, v in json.loads(m.group(1)).items()} if m else {}
    except (ValueError, TypeError):
        return {}


def lessons(times_file: str | Path = "build/notebook_times.json",
            previous: dict[str, float] | None = None) -> list[Lesson]:
    """Every lesson notebook with its header minutes and measured time (new, else ``previous``).

    >>> [l.name for l in lessons()][:1]   # doctest: +SKIP
    ['00_setup_check.ipynb']
    """
    times_path = Path(times_file)
    times_path = times_path if times_path.is_absolute() else course_root() / times_path
    times = json.loads(times_path.read_text()) if times_path.exists() else {}
    previous = previous or {}
    found = []
    for path in lesson_notebooks():
        nb = nbformat.read(path, as_version=4)
        header = nb.cells[0].source if nb.cells else ""
        m = TIME_LINE.search(header)
        teaching, exercises = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
        title = header.splitlines()[0].lstrip("# ").strip() if header else path.stem
        now, before = times.get(path.name), previous.get(path.name)
        found.append(Lesson(path.name, title, teaching, exercises,
                            now if now is not None else before, earlier=now is None and before is not None))
    return found


def clock(minutes: int) -> str:
    """``clock(545) == '09:05'``."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _sessions(day: int) -> list[tuple[int, int, str, int]]:
    """(start, end, the pause after it, pause length) of a day's sessions."""
    out, start = [], DAY_START
    for length, pause, pause_len in DAY:
        out.append((start, start + length, pause, pause_len))
        start += length + pause_len
    return out


def day_minutes(first: bool) -> int:
    """Teaching minutes in a day: the sessions, less the opening (day 1) and the wrap-up."""
    return sum(length for length, _, _ in DAY) - (OPENING if first else 0) - WRAP_UP


def _pack(work: list[tuple[str, int]], days: int | None) -> list[list[tuple[int, int, str]]]:
    """Lay out (label, minutes) in order over days of sessions; a block that meets a break goes on after it."""
    queue = [[label, minutes, False] for label, minutes in work]  # [label, minutes left, started]
    timetable: list[list[tuple[int, int, str]]] = []
    while queue or (days is not None and len(timetable) < days):
        first = not timetable
        rows: list[tuple[int, int, str]] = []
        sessions = _sessions(len(timetable))
        now = sessions[0][0]
        if first:
            rows.append((now, now + OPENING, "Welcome; everyone runs lesson 00 (setup check) — fix what is red"))
            now += OPENING
        last_end = sessions[-1][1]
        for start, end, pause, pause_len in sessions:
            now = max(now, start)
            limit = end - (WRAP_UP if end == last_end else 0)
            while queue and now < limit:
                label, left, started = queue[0]
                take = min(left, limit - now)
                if take < 10 and take < left:  # not worth starting or resuming a lesson for a few minutes
                    break
                suffix = " (continued)" if started else (" (part 1)" if take < left else "")
                rows.append((now, now + take, label + suffix))
                now += take
                queue[0][1] -= take
                queue[0][2] = True
                if queue[0][1] == 0:
                    queue.pop(0)
            if end == last_end:
                if now < limit:
                    rows.append((now, limit, "Exercises and questions"))
                    now = limit
                rows.append((now, now + WRAP_UP, "Wrap-up: questions, what the day showed, what comes next"))
            elif now < end:
                rows.append((now, end, "Exercises and questions"))
            if pause_len:
                rows.append((end, end + pause_len, pause.capitalize()))
        timetable.append(rows)
    return timetable


def plan(items: list[Lesson], days: int | None = None) -> tuple[list[list[tuple[int, int, str]]], list[Lesson]]:
    """The full workshop: every lesson but 00, in order, with its whole slot, over as many days as it
    takes (or ``days``, which must be enough). Returns the timetable per day and the lessons left out
    (always none: kept for callers that list them).

    Each day is a list of (start minute, end minute, what), in order and never overlapping.
    """
    queue = [l for l in items if not l.name.startswith("00_")]
    work = [(f"{l.title} ({l.name})", l.slot) for l in queue]
    need = _days_needed(sum(m for _, m in work))
    return _pack(work, max(days or need, need)), []


def _days_needed(total: int) -> int:
    days, room = 1, day_minutes(True)
    while room < total:
        days += 1
        room += day_minutes(False)
    return days


def tour(items: list[Lesson]) -> tuple[list[tuple[int, int, str]], dict[str, int]]:
    """The one-day tour: every lesson but 00 in one day, each slot shortened in proportion
    (multiples of 5, at least MIN_TOUR_SLOT). Returns the day's rows and the minutes per lesson."""
    queue = [l for l in items if not l.name.startswith("00_")]
    room = day_minutes(True)
    total = sum(l.slot for l in queue) or 1
    share = {l.name: max(MIN_TOUR_SLOT, 5 * math.floor(l.slot * min(1.0, room / total) / 5)) for l in queue}
    while sum(share.values()) > room and any(v > MIN_TOUR_SLOT for v in share.values()):
        longest = max(share, key=lambda k: share[k])  # trim the longest first, 5 minutes at a time
        share[longest] -= 5
    slots = {l.name: l.slot for l in queue}
    while queue and sum(share.values()) + 5 <= room:  # hand the rest of the day out, biggest lessons first
        grow = [k for k in sorted(share, key=lambda k: slots[k] - share[k], reverse=True) if share[k] < slots[k]]
        if not grow:
            break
        share[grow[0]] += 5
    while True:  # a few minutes before a break can stay unused: trim until the day holds every lesson
        work = [(f"{l.title} ({l.name})", share[l.name]) for l in queue]
        days = _pack(work, 1)
        if len(days) == 1 or not any(v > MIN_TOUR_SLOT for v in share.values()):
            return days[0], share
        share[max(share, key=lambda k: share[k])] -= 5


def _table(rows: list[tuple[int, int, str]]) -> list[str]:
    return ["| time | what |", "|---|---|"] + [f"| {clock(a)}–{clock(b)} | {what} |" for a, b, what in rows] + [""]


def render(items: list[Lesson], times_file: str = "build/notebook_times.json") -> str:
    """The schedule page as Markdown (deterministic: no dates, no machine names)."""
    measured = [l for l in items if l.run_s is not None]
    lines = [
        "# Workshop schedule",
        "",
        "<!-- Generated by `make schedule` (python -m course_utils schedule). Edit the lessons' "
        "**Time:** lines or re-measure, then regenerate; do not edit by hand. -->",
        "",
        f"Built from each lesson's `**Time:**` header and the execution times that the strict notebook "
        f"run measured (`{times_file}`, written by `make test-notebooks`). A slot is teaching + exercises "
        "+ one run of the whole notebook, rounded up to 5 minutes. Sessions are 90 minutes, from 09:00 "
        "to 17:00 with two coffee breaks and lunch; every day ends with a wrap-up. Every lesson in "
        "`notebooks/` is placed: the full workshop takes as many days as the slots need, the one-day "
        "tour shortens each lesson instead.",
        "",
        "## Lessons",
        "",
        "| lesson | teaching | exercises | measured run (2 CPU cores) | slot |",
        "|---|---:|---:|---:|---:|",
    ]
    for l in items:
        run = "not measured" if l.run_s is None else f"{l.run_s:.1f} s" + (" (earlier run)" if l.earlier else "")
        lines.append(f"| {l.title} | {l.teaching} min | {l.exercises} min | {run} | {l.slot} min |")
    total = sum(l.slot for l in items if not l.name.startswith("00_"))
    earlier = [l for l in items if l.earlier]
    lines += ["", f"Total without lesson 00: {total} min ({total / 60:.1f} h) of slots; "
                  f"{len(measured)} of {len(items)} lessons measured"
                  + (f" ({len(earlier)} kept from an earlier run, marked)" if earlier else "") + ".", ""]
    timetable, _ = plan(items)
    days = len(timetable)
    lines += [f"## Full workshop: {days} day{'s' if days != 1 else ''}", "",
              "Each lesson with its whole slot; one that meets a break continues after it.", ""]
    for d, rows in enumerate(timetable, 1):
        if days > 1:
            lines += [f"### Day {d}", ""]
        lines += _table(rows)
    rows, share = tour(items)
    lines += ["## One-day tour", "",
              "Every lesson in one day: each gets a share of the day in proportion to its slot (at least "
              f"{MIN_TOUR_SLOT} min): teach the side-by-side cells and the comparison, run one exercise together, "
              "and leave the other exercises as homework.", ""]
    lines += _table(rows)
    stored = {l.name: l.run_s for l in measured}
    lines += [f"<!-- measured run times (s): {json.dumps(stored, sort_keys=True)} -->", ""]
    return "\n".join(lines)


def _times_in_table(page: str | Path) -> dict[str, float]:
    """Pages written before the times were recorded in a comment: read the lessons table by title."""
    path = Path(page)
    path = path if path.is_absolute() else course_root() / path
    if not path.exists():
        return {}
    by_title = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"\| (.+?) \| \d+ min \| \d+ min \| ([\d.]+) s", line)
        if m:
            by_title[m.group(1)] = float(m.group(2))
    found = {}
    for nb_path in lesson_notebooks():
        nb = nbformat.read(nb_path, as_version=4)
        header = nb.cells[0].source if nb.cells else ""
        title = header.splitlines()[0].lstrip("# ").strip() if header else nb_path.stem
        if title in by_title:
            found[nb_path.name] = by_title[title]
    return found


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
         memory: list[str] | None = None) -> int:
    """Command line: write the schedule; with ``memory`` notebooks, print each one's kernel peak.

    A lesson without a new time keeps the one the page recorded before (never "not measured").
    """
    items = lessons(times_file, previous=previous_times(out) or _times_in_table(out))
    dest = Path(out)
    dest = dest if dest.is_absolute() else course_root() / dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(render(items, times_file), encoding="utf-8")
    missing = [l.name for l in items if l.run_s is None]
    kept = [l.name for l in items if l.earlier]
    if kept:
        print(f"kept the earlier measurement of {', '.join(kept)} (no new time in {times_file})")
    print(f"wrote {out}: {len(items)} lessons" + (f"; not measured yet: {', '.join(missing)} "
                                                  "(run `make test-notebooks` first)" if missing else ""))
    for nb in memory or []:
        print(f"{nb}: kernel peak {kernel_peak_memory(nb):.0f} MiB")
    return 0
