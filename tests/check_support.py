"""Shared support for the exercise-check tests (tests/test_checks_*.py): the message rules, held on
every verdict any check gives while these tests run, and the helpers every lesson's tests use.

    from check_support import first_try, one_line   # first_try is autouse: importing it is enough

Importing this module registers ``enforce_message_rules`` as an observer of every check
(``core.OBSERVERS``): a verdict that breaks a rule fails the test that produced it, at the call.
The rules (issue 30):
- the diagnosis, wrapped at ``core.WIDTH`` columns, is at most ``core.MAX_LINES`` lines (core never
  cuts it: a long one fails here); on the third wrong try the code follows on its own lines;
- before ``hint()`` or the third wrong try, nothing of the solution's code shows;
- after the third wrong try, the code shown is the one registered for the learner's framework;
- advice speaks the framework of the learner's answer: no torch API in a verdict on a TensorFlow
  answer, no TensorFlow API in a verdict on a torch answer.
"""
from __future__ import annotations

import os
import re
from typing import Any, Iterable

import pytest

from course_utils.check import core

# API names that are advice for one framework: a verdict on the other framework's answer names none.
# (The words "torch" and "TensorFlow" alone may describe what was handed in or expected.)
API_OF = {
    "torch": re.compile(r"\btorch\.|\bnn\.|\.backward\(|DataLoader|\bgradcheck\b|\.item\(\)|state_dict"
                        r"|\bautograd\b|\.permute\(|\bSummaryWriter\b|set_epoch|\.to\(device\)"),
    "tensorflow": re.compile(r"\btf\.|\bkeras\.|GradientTape|tf\.data|\.numpy\(\)|tf_function"
                             r"|\bas_default\(|experimental_relax|input_signature"),
}
OTHER = {"torch": "tensorflow", "tensorflow": "torch"}

# Fragments of a solution that no verdict may show before hint() or the third try, beyond the
# solution's own statements (found by ``solution_fragments``): e.g. the keyword that fixes it.
GIVEAWAYS: dict[str, set[str]] = {}


def add_giveaways(exercise_id: str, fragments: Iterable[str]) -> None:
    """Name more text that gives exercise ``exercise_id``'s answer away (call it at module level)."""
    GIVEAWAYS.setdefault(exercise_id, set()).update(fragments)


def solution_fragments(exercise_id: str) -> set[str]:
    """The statements of an exercise's registered solutions (and their right-hand sides) that are long
    enough to be the answer rather than a common word: none of them may show before the third try."""
    found = set(GIVEAWAYS.get(exercise_id, ()))
    for code in core.SOLUTIONS.get(exercise_id, {}).values():
        for statement in re.split(r"[\n;]|\s—\s", code):
            statement = statement.split("  #")[0].strip()
            rhs = statement.split("=", 1)[1].strip() if re.match(r"^answer\s*=[^=]", statement) else statement
            for text in (statement, rhs):
                if len(text) >= 12 and not text.startswith("#"):
                    found.add(text)
    return found


def rule_breaks(verdict: core.Verdict, answer: Any = None) -> list[str]:
    """What in this verdict breaks the message rules (empty when it keeps them)."""
    problems = []
    text = str(verdict)
    head = core.wrap(f"Exercise {verdict.exercise} — {verdict.message}")
    if "Traceback" in text:
        problems.append("shows a traceback")
    if len(head) > core.MAX_LINES:
        problems.append(f"diagnosis runs to {len(head)} lines of {core.WIDTH} columns (at most {core.MAX_LINES})")
    solved = verdict.status == "hint" or verdict.tries >= core.TRIES_BEFORE_SOLUTION
    if verdict.status == "wrong" and not solved:
        if verdict.code or "the code:" in text:
            problems.append("shows the solution's code before hint() or the third try")
        shown = [f for f in solution_fragments(verdict.exercise) if f in verdict.message]
        if shown:
            problems.append(f"gives the answer away before hint() or the third try: {shown[0]!r}")
    if verdict.status == "wrong" and solved and verdict.exercise in core.SOLUTIONS:
        kind = core.answer_framework(answer)
        solutions = core.SOLUTIONS[verdict.exercise]
        if kind in solutions and verdict.code != solutions[kind]:
            problems.append(f"the third try shows another framework's code, not the {kind} one")
        if not verdict.code:
            problems.append("the third try shows no code")
    kind = core.answer_framework(answer)
    accepts = core.ACCEPTS.get(verdict.exercise, ("any",))
    # An exercise of one framework (4.2 asks for a tf.function) answers the other's answer in its own.
    if verdict.status != "hint" and kind in OTHER and (kind in accepts or not set(accepts) & set(OTHER)):
        advice = API_OF[OTHER[kind]].search(verdict.message)
        if advice:
            problems.append(f"advice for {OTHER[kind]} ({advice.group(0)!r}) on a {kind} answer")
    return problems


# CHECK_RULES_REPORT=path: note every broken rule in that file instead of failing (a survey of all lessons).
REPORT = os.environ.get("CHECK_RULES_REPORT")


def enforce_message_rules(verdict: core.Verdict, answer: Any = None) -> None:
    """The observer: fail the test at the check call whose verdict breaks a rule."""
    problems = rule_breaks(verdict, answer)
    if problems and REPORT:
        with open(REPORT, "a") as out:
            out.write(f"{verdict.exercise}\t{'; '.join(problems)}\t{verdict.message!r}\n")
        return
    assert not problems, f"message rule broken ({'; '.join(problems)}):\n{verdict}"


if enforce_message_rules not in core.OBSERVERS:
    core.OBSERVERS.append(enforce_message_rules)


# Every verdict of this session (exercise, status, what was handed in, the test): tests/test_hints_run.py
# counts each exercise's distinct wrong answers and right alternatives from them. With
# CHECK_VERDICTS_LOG=path they are also written there, one JSON line each.
RECORDED: list[dict] = []
VERDICTS_LOG = os.environ.get("CHECK_VERDICTS_LOG")


def answer_fingerprint(answer: Any) -> str:
    """Equal for the same answer handed in twice; for an object whose value cannot be read (a model, a
    loader), the test and the object, so that the same object re-checked counts once."""
    import hashlib

    import numpy as np

    from course_utils.base.arrays import is_tensor_like, to_numpy
    try:
        if isinstance(answer, np.ndarray) or is_tensor_like(answer):
            values = np.ascontiguousarray(to_numpy(answer))
            digest = hashlib.sha1(values.tobytes()).hexdigest()[:12]
            return f"{type(answer).__name__}{values.shape}{values.dtype}:{digest}"
    except Exception:  # noqa: BLE001 - a tensor that cannot be read: fall through to the generic keys
        pass
    code = getattr(answer, "__code__", None)
    if code is not None:
        digest = hashlib.sha1(code.co_code + repr(code.co_consts).encode()).hexdigest()[:12]
        return f"function {getattr(answer, '__qualname__', '?')}:{digest}"
    if isinstance(answer, (int, float, str, bytes, bool, type(None), tuple, frozenset, set, type)) or answer is ...:
        return f"{type(answer).__name__}:{re.sub(r'0x[0-9a-f]+', '', repr(answer))[:300]}"
    return f"{os.environ.get('PYTEST_CURRENT_TEST', '').split(' ')[0]}:{type(answer).__qualname__}@{id(answer)}"


def record_verdict(verdict: core.Verdict, answer: Any = None) -> None:
    record = {"exercise": verdict.exercise, "status": verdict.status, "answer": answer_fingerprint(answer),
              "test": os.environ.get("PYTEST_CURRENT_TEST", "").split("::")[0]}
    RECORDED.append(record)
    if VERDICTS_LOG:
        import json
        with open(VERDICTS_LOG, "a") as out:
            out.write(json.dumps(record) + "\n")


if record_verdict not in core.OBSERVERS:
    core.OBSERVERS.append(record_verdict)


@pytest.fixture(autouse=True)
def first_try():
    """Each test starts as a learner's first try: hints point, the solution's code is not shown."""
    core.reset_tries()
    yield
    core.reset_tries()


def one_line(verdict: core.Verdict) -> str:
    """The verdict's diagnosis with its line breaks joined (so that a phrase wrapped across two lines
    is still found), after asserting the message rules that need no answer. (Its name is older than
    issue 30, when a verdict was one line; ``str(verdict)`` is what the learner sees.)"""
    assert isinstance(verdict, core.Verdict), f"a check returned {type(verdict).__name__}, not a Verdict"
    problems = [p for p in rule_breaks(verdict) if not p.startswith("the third try shows another")]
    assert not problems, f"message rule broken ({'; '.join(problems)}):\n{verdict}"
    return f"Exercise {verdict.exercise} — {verdict.message}" + (f"\n{verdict.code}" if verdict.code else "")


def assert_wrong(check, answer: Any, *words: str, **kwargs: Any) -> core.Verdict:
    """``check(answer)`` is refused, and its message holds every one of ``words``."""
    verdict = check(answer, quiet=True, **kwargs)
    text = one_line(verdict)
    assert not verdict, f"a wrong answer was called correct: {text}"
    for word in words:
        assert word in text, f"{word!r} not in: {text}"
    return verdict


def assert_right(check, answer: Any, **kwargs: Any) -> core.Verdict:
    """``check(answer)`` is accepted."""
    verdict = check(answer, quiet=True, **kwargs)
    assert verdict, f"a right answer was refused: {one_line(verdict)}"
    return verdict
