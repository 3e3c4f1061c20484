"""The learner's own record: each check's verdict, a sticky note, a one-minute card.

What is recorded, one JSON line per event, in ``<learner root>/record/log.jsonl`` (``build/record/``
on a laptop, the learner's own folder on the hub; ``course_utils.base.paths.learner_root``):

- every ``cu.check`` verdict: exercise id, ``correct`` / ``not quite`` / ``not attempted``, the try
  number and the time. Never the learner's code, answer or values.
- ``cu.stuck("3.2")`` / ``cu.unstuck()``: a sticky note the instructor's board shows.
- ``cu.feedback("07", clarity=4, comment="...")``: how clear the lesson was (1-5) and one sentence.

Turn it off in one line: ``cu.progress(recording=False)`` (kept in ``record/OFF``, for every lesson;
``recording=True`` turns it back on), or ``COURSE_RECORD=off`` in the environment. Writing the record
never fails a check or a cell: a read-only folder, a full disk or two kernels at once lose at most
that one line (each event is one ``write`` of one short line to a file opened for appending).
``cu.progress()`` (or ``make progress``) shows the learner's own table.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from .base.paths import learner_root

LOG_NAME = "log.jsonl"
OFF_NAME = "OFF"
MAX_COMMENT = 280
# Verdict status (check/core.py) -> the word the record keeps; "not checked" (a stale answer) and
# "hint" are not verdicts on an answer and are not recorded.
STATUS_WORD = {"correct": "correct", "wrong": "not quite", "not attempted": "not attempted"}
FEEDBACK_INVITE = ("One minute, optional: to record how clear this lesson was (kept in your own folder; on the hub, "
                   'the instructor\'s board shows it), run cu.feedback("NN", clarity=1..5, comment="one sentence").')


def record_dir() -> Path:
    return learner_root() / "record"


def log_path() -> Path:
    return record_dir() / LOG_NAME


def recording() -> bool:
    """Whether events are recorded: not when ``COURSE_RECORD=off`` or ``record/OFF`` exists."""
    if os.environ.get("COURSE_RECORD", "").strip().lower() in {"off", "0", "no", "false"}:
        return False
    try:
        return not (record_dir() / OFF_NAME).exists()
    except OSError:
        return False


def _append(event: dict[str, Any]) -> bool:
    """Append one event as one line; True if written. Never raises."""
    if not recording():
        return False
    try:
        event = {"t": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **event}
        line = (json.dumps(event, ensure_ascii=True, separators=(",", ":")) + "\n").encode()
        folder = record_dir()
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / LOG_NAME, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            written = os.write(fd, line)  # one write of a short line: two kernels never interleave
        finally:
            os.close(fd)
        return written == len(line)
    except Exception:  # read-only folder, full disk, anything: the lesson goes on
        return False


def read_log(path: Path | None = None) -> list[dict[str, Any]]:
    """The events of one log, oldest first; a torn or foreign line is skipped."""
    path = log_path() if path is None else Path(path)
    events = []
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return events
    for line in text.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and isinstance(event.get("kind"), str):
            events.append(event)
    return events


def lesson_of(exercise_id: str) -> str:
    """ "3.2" -> "03"."""
    head = str(exercise_id).split(".")[0]
    return head.zfill(2) if head.isdigit() else head


_TRIES: dict[str, int] | None = None  # exercise id -> graded tries so far (this log), loaded once per kernel
_TRIES_LOG: Path | None = None        # the log _TRIES was counted from


def _load_tries() -> None:
    global _TRIES, _TRIES_LOG
    _TRIES, _TRIES_LOG = {}, log_path()
    for e in read_log():
        if e.get("kind") == "check" and e.get("result") in ("correct", "not quite"):
            _TRIES[str(e.get("exercise"))] = _TRIES.get(str(e.get("exercise")), 0) + 1


def record_verdict(verdict: Any, answer: Any = None) -> None:
    """The check observer (check/core.py calls it for every verdict): exercise, result, try, time."""
    try:
        word = STATUS_WORD.get(verdict.status)
        if word is None or not recording():
            return
        exercise = str(verdict.exercise)
        if _TRIES is None or _TRIES_LOG != log_path():  # first verdict of this kernel: the tries of earlier sessions, from the log
            _load_tries()
        tries = 0
        if word != "not attempted":
            tries = _TRIES[exercise] = _TRIES.get(exercise, 0) + 1
        _append({"kind": "check", "exercise": exercise, "result": word, "try": tries})
    except Exception:
        return


def stuck(exercise_id: str) -> None:
    """Raise a sticky note on an exercise: the instructor's board shows who is stuck where."""
    exercise_id = _short(str(exercise_id).strip())
    if not exercise_id:
        print('stuck: say where, e.g. cu.stuck("3.2").')
        return
    saved = _append({"kind": "stuck", "exercise": exercise_id})
    print(f"Sticky note up on {exercise_id}" + (": the instructor's board shows it." if saved else
          " (not recorded: recording is off or the folder is not writable; raise your hand).")
          + " cu.unstuck() takes it down.")


def unstuck() -> None:
    """Take the sticky note down."""
    _append({"kind": "unstuck"})
    print("Sticky note down.")


def feedback(lesson: str, clarity: int | None = None, comment: str = "") -> None:
    """The one-minute card: how clear the lesson was (1-5) and one sentence, in your own record.

    With ``clarity=None`` (the lesson's last cell as shipped) it prints one line inviting you and
    records nothing; it never waits for input, so Run All goes through.
    """
    lesson = _short(lesson if isinstance(lesson, str) else str(lesson)).zfill(2)
    if clarity is None:
        print(FEEDBACK_INVITE.replace("NN", lesson))
        return
    try:
        value = int(clarity)
        ok = bool(value == clarity) and 1 <= value <= 5 and not isinstance(clarity, bool)
    except Exception:
        ok = False
    if not ok:
        print(f"feedback: clarity is a whole number from 1 (lost) to 5 (clear), not {_short(clarity)}; nothing recorded.")
        return
    value = int(clarity)
    text = " ".join(str(comment).split())[:MAX_COMMENT]
    saved = _append({"kind": "feedback", "lesson": lesson, "clarity": value, "comment": text})
    print(f"Thank you: lesson {lesson}, clarity {value}/5" + (", recorded in your own folder." if saved else
          " (not recorded: recording is off or the folder is not writable)."))


def summarize(events: list[dict[str, Any]]) -> dict[str, Any]:
    """One learner's events -> {"exercises": {id: {"done", "tries", "last"}}, "stuck": id|None, "feedback": {...}}."""
    exercises: dict[str, dict[str, Any]] = {}
    stuck_on = None
    cards: dict[str, dict[str, Any]] = {}
    for e in events:
        kind = e.get("kind")
        if kind == "check" and e.get("exercise"):
            row = exercises.setdefault(str(e["exercise"]), {"done": False, "tries": 0, "last": "not attempted"})
            if e.get("result") in ("correct", "not quite"):
                row["tries"] += 1
                row["done"] = row["done"] or e["result"] == "correct"
                row["last"] = e["result"]
        elif kind == "stuck":
            stuck_on = str(e.get("exercise", "?"))
        elif kind == "unstuck":
            stuck_on = None
        elif kind == "feedback" and e.get("lesson"):
            cards[str(e["lesson"])] = {"clarity": e.get("clarity"), "comment": e.get("comment", "")}
    return {"exercises": exercises, "stuck": stuck_on, "feedback": cards}


def progress(recording: bool | None = None) -> None:
    """Print your own table: each exercise you checked, done or not, how many tries.

    ``cu.progress(recording=False)`` turns the record off for every lesson (``True``: back on).
    """
    if recording is not None and not isinstance(recording, bool):
        print(f"progress: recording=True turns the record on, recording=False off; not {_short(recording)}.")
        return
    if recording is not None:
        marker = record_dir() / OFF_NAME
        try:
            if recording:
                marker.unlink(missing_ok=True)
            else:
                marker.parent.mkdir(parents=True, exist_ok=True)
                marker.write_text("recording turned off by cu.progress(recording=False)\n")
            print(f"Recording is {'on' if recording else 'off'} ({record_dir()}).")
        except OSError as exc:
            print(f"Could not change the recording ({type(exc).__name__}); set COURSE_RECORD=off instead.")
        return
    print(progress_text(read_log()))


def progress_text(events: list[dict[str, Any]]) -> str:
    from .check.core import _exercise_key

    state = summarize(events)
    if not state["exercises"] and not state["feedback"] and not state["stuck"]:
        return "Nothing recorded yet: your checks' verdicts will appear here."
    lines = [f"{'exercise':<9} {'':2} {'result':<14} tries"]
    for ex in sorted(state["exercises"], key=_safe_key(_exercise_key)):
        row = state["exercises"][ex]
        mark = "✓" if row["done"] else ("✗" if row["tries"] else "·")
        word = "done" if row["done"] else ("not yet" if row["tries"] else "not attempted")
        lines.append(f"{ex:<9} {mark:2} {word:<14} {row['tries']}")
    done = sum(r["done"] for r in state["exercises"].values())
    lines.append(f"{done} of {len(state['exercises'])} exercise(s) done.")
    if state["stuck"]:
        lines.append(f"Sticky note up on {state['stuck']} (cu.unstuck() takes it down).")
    for lesson, card in sorted(state["feedback"].items()):
        lines.append(f"Lesson {lesson} card: clarity {card['clarity']}/5" + (f": {card['comment']}" if card["comment"] else ""))
    return "\n".join(lines)


def _short(value: Any, limit: int = 24) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _safe_key(key):
    def safe(ex: str):
        try:
            return (0, key(ex))
        except Exception:
            return (1, (ex,))
    return safe
