"""The machinery behind ``cu.check.<exercise>(answer)``: framework-agnostic, short feedback.

A check is a small function decorated with ``@exercise("1.2")`` that looks at the answer with the
``expect_*`` helpers below and raises ``Wrong("what is wrong. Hint: ...")`` at the first problem.
The decorator turns that into a ``Verdict``, prints it and never lets an exception escape: a learner
sees "correct", "not quite: <why>" or "not attempted yet", never a traceback.

Message rules (tests/check_support.py enforces them on every verdict the unit tests produce): a
verdict is at most ``MAX_LINES`` lines of ``WIDTH`` columns; its diagnosis is never cut; its advice
speaks the framework of the learner's answer; the code that solves the exercise appears only after
``hint()`` or the third wrong try, on its own lines after the diagnosis, in the learner's framework.

The placeholder answer is ``...`` (Ellipsis): learner copies hold ``answer = ...``.

Hints come in two steps. A wrong answer gets a diagnosis and a pointer (what to look at), never the
code that solves the exercise. The code is registered with the check, one per framework the
exercise accepts (``@exercise("3.1", solution={"torch": "answer = ...", "tensorflow": "answer =
..."})``; a framework-free exercise, whose answer is a number or a set, says ``accepts=("any",)``
and registers one string), and is shown only when asked, ``cu.check.hint("3.1")``, or after the
third wrong try of the same exercise.

A stale answer is not graded. Inside IPython, ``cu.setup()`` calls ``track_answers()``, which
registers two small IPython event hooks (``pre_run_cell``/``post_run_cell``, IPython's public API)
that note, for each cell, whether it raised and whether it (re)bound ``answer``. A check then
refuses to grade when the cell run just before it raised ("fix the error above first"), or when
``answer`` still holds the value another exercise's check graded. Outside IPython, or without
``cu.setup()``, nothing is tracked and every answer is graded.
"""
from __future__ import annotations

import ast
import functools
import inspect
import re
import sys
import textwrap
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import numpy as np

from ..base.arrays import framework_of, is_tensor_like, to_numpy
from ..base.errors import CourseError
PLACEHOLDER = ...

# Short: a verdict must never turn into a wall of text (TF's errors run to kilobytes). A verdict is
# wrapped at WIDTH columns and its diagnosis (with the pointer to hint()) fits MAX_LINES lines.
WIDTH = 100
MAX_LINES = 2
MAX_MESSAGE = WIDTH * MAX_LINES  # the most characters one_line() keeps of a quoted text by default
# A framework's own error message, quoted inside a verdict: its first words.
MAX_QUOTE = 80
# The frameworks an exercise accepts unless it says otherwise; "any" is a framework-free answer.
FRAMEWORKS = ("torch", "tensorflow")
FRAMEWORK_LABEL = {"torch": "torch", "tensorflow": "TensorFlow", "any": ""}
# Wrong tries of one exercise after which the verdict also shows the solution's code.
TRIES_BEFORE_SOLUTION = 3


def one_line(text: str, limit: int = MAX_MESSAGE) -> str:
    """Collapse whitespace and newlines; if longer than ``limit``, cut at a word boundary and add "…".

    >>> one_line("a\n  b")
    'a b'
    >>> one_line("shapes (2, 3) and (4, 5) are incompatible", 30)
    'shapes (2, 3) and (4, 5) are…'
    """
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:  # cut between words, unless that loses more than half the room
        cut = cut[:space]
    return cut.rstrip(" ,;:") + "…"


class Wrong(Exception):
    """Raised inside a check: the answer is wrong, and the message says why (one sentence + a pointer).

    The pointer says where to look, not the code that solves the exercise: that code is the
    check's ``solution=`` and is shown by ``hint()`` or after the third wrong try.
    """


# --- stale answers: what the cells before a check did (IPython only, registered by cu.setup) -----

ANSWER = "answer"  # the name every exercise assigns
_MISSING = object()


def _binds_answer(source: str) -> bool:
    """Does this cell's code bind ``answer`` at top level (``answer = ...``, ``answer, b = ...``, a for/with)?

    >>> _binds_answer("x = 1\nanswer = x * 2"), _binds_answer("print(answer)")
    (True, False)
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics or a typo: a plain look at the lines
        return re.search(rf"^[ \t]*{ANSWER}[ \t]*(:[^=\n]*)?=(?!=)", source, flags=re.M) is not None
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue  # a name bound inside a function is not the notebook's `answer`
        if isinstance(node, ast.Name) and node.id == ANSWER and isinstance(node.ctx, ast.Store):
            return True
        stack.extend(ast.iter_child_nodes(node))
    return False


class AnswerTracker:
    """What the IPython hooks saw: did the last cell raise, and has ``answer`` changed since a check?

    ``pre_run_cell`` notes which object ``answer`` is when a cell starts; ``post_run_cell`` notes
    whether the cell succeeded and whether it rebound ``answer`` (a new object, or an assignment
    in its code: ``answer = 4`` twice is the same object). A check that grades ``answer`` records
    its exercise id in ``graded_by``, until a cell binds ``answer`` again.
    """

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.before: Any = _MISSING       # `answer` when the running cell started
        self.running = ""                 # the running cell's code
        self.last: tuple[bool, bool] | None = None  # (succeeded, bound answer) of the cell run before
        self.graded_by: str | None = None  # the exercise whose check last graded the current `answer`

    def _answer(self) -> Any:
        return self.shell.user_ns.get(ANSWER, _MISSING)

    def pre_run_cell(self, info: Any) -> None:
        self.before = self._answer()
        self.running = getattr(info, "raw_cell", "") or ""

    def post_run_cell(self, result: Any) -> None:
        source = getattr(getattr(result, "info", None), "raw_cell", "") or ""
        if not source.strip():  # an empty cell changes nothing
            return
        # A cell that raised may have stopped before its `answer = ...` line: trust only a new object.
        bound = self._answer() is not self.before or (bool(result.success) and _binds_answer(source))
        if bound:
            self.graded_by = None
        self.last = (bool(result.success), bound)
        self.before, self.running = _MISSING, ""

    def refusal(self, exercise_id: str, answer: Any) -> str | None:
        """Why ``answer`` must not be graded now, or None (and then this exercise owns it)."""
        current = self._answer()
        if (self.before is not _MISSING and current is not self.before) or _binds_answer(self.running):
            self.graded_by = exercise_id  # bound in the running cell itself: fresh
            return None
        if self.last is not None and not self.last[0]:
            return "the answer cell above raised an error: fix the error above first, then run this cell again."
        if answer is not current:  # the learner handed in something else by name: grade that
            return None
        if self.graded_by not in (None, exercise_id):
            return (f"`answer` has not changed since you checked Exercise {self.graded_by}: "
                    "run this exercise's answer cell first, then this cell again.")
        self.graded_by = exercise_id
        return None


_TRACKER: AnswerTracker | None = None


def track_answers() -> bool:
    """Register the two hooks of ``AnswerTracker`` in the running IPython shell (once; called by cu.setup).

    Returns False, and does nothing, outside IPython (plain Python grades every answer).
    """
    global _TRACKER
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return False
    if _TRACKER is not None and _TRACKER.shell is shell:
        return True  # cu.setup() ran again: keep the hooks and what they saw
    tracker = AnswerTracker(shell)
    shell.events.register("pre_run_cell", tracker.pre_run_cell)
    shell.events.register("post_run_cell", tracker.post_run_cell)
    _TRACKER = tracker
    return True


# --- hints in two steps ---------------------------------------------------------------------------

SOLUTIONS: dict[str, dict[str, str]] = {}  # exercise id -> {framework: the code that solves it}
ACCEPTS: dict[str, tuple[str, ...]] = {}   # exercise id -> the frameworks its answer may come from
EXERCISES: set[str] = set()                # every exercise id a check is registered for
_TRIES: dict[str, int] = {}        # exercise id -> wrong tries so far
_LAST_WRONG: dict[str, int] = {}   # exercise id -> id() of the last wrong answer (a re-run is no new try)
_LAST_FRAMEWORK: dict[str, str] = {}  # exercise id -> the framework of the last answer checked
# Called with (verdict, answer) after every check (the unit tests hold the message rules here).
OBSERVERS: list[Callable[["Verdict", Any], None]] = []


def _record(verdict: "Verdict") -> None:
    """Append the verdict (exercise, result, try, time; never the answer) to the learner's record."""
    try:
        from ..record import record_verdict

        record_verdict(verdict)
    except Exception:  # recording never fails a check
        pass


def reset_tries() -> None:
    """Forget every wrong try (tests use it; a new kernel starts with none)."""
    _TRIES.clear()
    _LAST_WRONG.clear()
    _LAST_FRAMEWORK.clear()


def wrap(text: str, width: int = WIDTH) -> list[str]:
    """``text`` as lines of at most ``width`` columns, broken between words (a word longer than a line
    is split); nothing is dropped.

    >>> wrap("aaa bbb ccc", 7)
    ['aaa bbb', 'ccc']
    """
    return textwrap.wrap(" ".join(str(text).split()), width, break_on_hyphens=False) or [""]


def _exercise_key(exercise_id: str) -> tuple[int, ...]:
    return tuple(int(p) for p in exercise_id.split(".") if p.isdigit())


def _code_for(exercise_id: str, framework: str | None) -> tuple[str, str]:
    """(label, code): the solution in ``framework``; all registered ones, labelled, when it is unknown."""
    solutions = SOLUTIONS[exercise_id]
    if framework in solutions:
        return FRAMEWORK_LABEL.get(framework, framework), solutions[framework]
    if len(solutions) == 1:
        (only, code), = solutions.items()
        return FRAMEWORK_LABEL.get(only, only), code
    return "", "\n".join(f"# {FRAMEWORK_LABEL.get(k, k)}\n{v}" for k, v in solutions.items())


def hint(exercise_id: str) -> "Verdict":
    """Print and return the code that solves an exercise: ``cu.check.hint("3.2")``, in the framework of
    the last answer checked for it (every framework's code before any answer was checked).

    >>> hint("3.1")   # doctest: +SKIP
    Exercise 3.1 — the code (torch):
        answer = W.permute(2, 3, 1, 0)
    """
    key = str(exercise_id).strip()
    if key in EXERCISES and key not in SOLUTIONS:
        verdict = Verdict(key, "hint", "no code registered for this exercise yet: the lesson's solution shows it.",
                          printed=True)
        print(verdict)
        return verdict
    if key not in SOLUTIONS:
        known = ", ".join(sorted(SOLUTIONS, key=_exercise_key)) or "none"
        raise CourseError(f"hint({exercise_id!r}): no exercise with that id; exercises with a hint: {known}.")
    label, code = _code_for(key, _LAST_FRAMEWORK.get(key))
    verdict = Verdict(key, "hint", f"the code{f' ({label})' if label else ''}:", printed=True, code=code)
    print(verdict)
    return verdict


@dataclass(frozen=True)
class Verdict:
    """What a check said. True only when the answer is correct.

    ``message`` is the diagnosis (one paragraph, wrapped at ``WIDTH`` columns when shown); ``code``,
    after the third wrong try or from ``hint()``, is the solution, shown on its own lines after it.
    """

    exercise: str
    status: str  # "correct" | "wrong" | "not attempted" | "not checked" (stale answer) | "hint"
    message: str
    printed: bool = field(default=False, repr=False, compare=False)
    code: str = field(default="", compare=False)
    tries: int = field(default=0, compare=False)  # wrong tries of this exercise so far, this one included

    def __bool__(self) -> bool:
        return self.status == "correct"

    def lines(self) -> list[str]:
        """The diagnosis wrapped at ``WIDTH`` columns, then the code (if any), indented, line by line."""
        shown = wrap(f"Exercise {self.exercise} — {self.message}")
        return shown + ["    " + line for line in self.code.splitlines()]

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def _ipython_display_(self) -> None:
        # The check already printed its line; don't show it a second time as Out[].
        if not self.printed:
            print(self)


def _count_wrong_try(exercise_id: str, answer: Any) -> int:
    """One more wrong try, unless it is the same answer object as the last wrong one (a re-run)."""
    if _LAST_WRONG.get(exercise_id) != id(answer):
        _TRIES[exercise_id] = _TRIES.get(exercise_id, 0) + 1
        _LAST_WRONG[exercise_id] = id(answer)
    return _TRIES[exercise_id]


def _pointer(exercise_id: str) -> str:
    return f' (cu.check.hint("{exercise_id}") shows the code.)'


def _crash_message(exc: Exception) -> str:
    """A check body that raised something other than ``Wrong``: the error's first words, quoted."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"not quite: checking it raised {type(exc).__name__}" + (f": {one_line(first, MAX_QUOTE)}" if first else "") + "."


def _register(exercise_id: str, solution: str | dict[str, str] | None, accepts: Iterable[str] | None) -> None:
    if isinstance(solution, dict):
        SOLUTIONS[exercise_id] = dict(solution)
        ACCEPTS[exercise_id] = tuple(accepts) if accepts is not None else tuple(solution)
    elif solution is not None:
        # One string: framework-free ("any"), unless `accepts` names one framework it is written in.
        names = tuple(accepts) if accepts is not None else ("any",)
        SOLUTIONS[exercise_id] = {names[0] if len(names) == 1 else "any": solution}
        # A string solution given without `accepts` (older modules): its exercise is marked as not
        # declared, which the registry test reports (a torch or TF answer needs a solution of its own).
        ACCEPTS[exercise_id] = names if accepts is not None else ("undeclared",)
    elif accepts is not None:
        ACCEPTS[exercise_id] = tuple(accepts)


def exercise(exercise_id: str, solution: str | dict[str, str] | None = None,
             accepts: Iterable[str] | None = None,
             framework: Callable[[Any], str] | None = None,
             ) -> Callable[[Callable[..., str | None]], Callable[..., Verdict]]:
    """Turn ``body(answer, ...)`` (raises ``Wrong`` or returns an optional note) into a check.

    ``solution`` is the code that solves the exercise, one per framework the exercise accepts
    (``{"torch": ..., "tensorflow": ...}``; its keys are what it accepts unless ``accepts`` says
    more), or one string for a framework-free answer (``accepts=("any",)``, the default for a
    string). It is shown by ``hint(exercise_id)`` or after ``TRIES_BEFORE_SOLUTION`` wrong tries of
    the same exercise, in the learner's framework: ``framework(answer)`` if given (an answer that is a
    function or a folder), else the library the answer comes from.
    """
    _register(exercise_id, solution, accepts)
    EXERCISES.add(exercise_id)
    framework_in = framework or answer_framework

    def decorate(body: Callable[..., str | None]) -> Callable[..., Verdict]:
        @functools.wraps(body)
        def check(answer: Any = PLACEHOLDER, *args: Any, quiet: bool = False, **kwargs: Any) -> Verdict:
            refusal = _TRACKER.refusal(exercise_id, answer) if _TRACKER is not None else None
            code, tries = "", 0
            if refusal is not None:
                status, message = "not checked", refusal
            # Any placeholder among the answers (learner copies hold `name = ...`) means "not yet".
            elif any(a is PLACEHOLDER for a in (answer, *args, *kwargs.values())):
                status, message = "not attempted", \
                    "not attempted yet: replace the `...` with your answer, then run this cell again."
            else:
                try:
                    _LAST_FRAMEWORK[exercise_id] = framework_in(answer)
                except Exception:  # an answer no framework can name: the hint shows every framework
                    _LAST_FRAMEWORK.pop(exercise_id, None)
                try:
                    note = body(answer, *args, **kwargs)
                    status, message = "correct", "correct." + (f" {note}" if note else "")
                except Wrong as wrong:
                    status, message = "wrong", f"not quite: {' '.join(str(wrong).split())}"
                except Exception as exc:  # a check must never show a traceback
                    status, message = "wrong", _crash_message(exc)
                if status == "wrong" and exercise_id in SOLUTIONS:
                    tries = _count_wrong_try(exercise_id, answer)
                    if tries >= TRIES_BEFORE_SOLUTION:
                        label, code = _code_for(exercise_id, _LAST_FRAMEWORK.get(exercise_id))
                        # the diagnosis stays whole; the code follows on its own lines
                        message += f" After {TRIES_BEFORE_SOLUTION} tries, the code{f' ({label})' if label else ''}:"
                    else:
                        message += _pointer(exercise_id)
            verdict = Verdict(exercise_id, status, message, printed=not quiet, code=code, tries=tries)
            for observe in OBSERVERS:
                observe(verdict, answer)
            _record(verdict)  # the learner's own record (course_utils/record.py): never raises
            if not quiet:
                print(verdict)
            return verdict

        check.exercise_id = exercise_id  # type: ignore[attr-defined]
        return check

    return decorate


def answer_framework(answer: Any) -> str:
    """"torch" or "tensorflow" for an answer from one framework (or a tuple, list or dict holding one
    framework's objects), else "any": the framework whose advice and code a verdict shows.

    >>> answer_framework((np.zeros(1), 2)), answer_framework([])
    ('any', 'any')
    """
    kind = framework_of(answer)
    if kind in FRAMEWORKS:
        return kind
    if isinstance(answer, type):  # a class handed in (nn.BatchNorm1d itself): the library it comes from
        root = (answer.__module__ or "").split(".")[0]
        return {"torch": "torch", "tensorflow": "tensorflow", "keras": "tensorflow"}.get(root, "any")
    items = answer.values() if isinstance(answer, dict) else answer if isinstance(answer, (list, tuple)) else ()
    kinds = {framework_of(x) for x in list(items)[:100]} & set(FRAMEWORKS)
    return kinds.pop() if len(kinds) == 1 else "any"


def describe(x: Any) -> str:
    """A short name for what the learner handed in: 'a torch tensor', 'a Python list', ...

    >>> describe([1, 2])
    'a list'
    """
    kind = framework_of(x)
    if kind == "torch" and is_tensor_like(x):
        return "a torch tensor"
    if kind == "tensorflow" and is_tensor_like(x):
        return "a TensorFlow tensor"
    if isinstance(x, np.ndarray):
        return "a NumPy array"
    if x is None:
        return "None"
    if x is PLACEHOLDER:
        return "the placeholder `...`"
    if kind in ("torch", "tensorflow"):  # a model, a layer, a device, a dtype ...: not a tensor
        name = {"torch": "torch", "tensorflow": "TensorFlow"}[kind]
        if is_loss_object(x):
            return f"a {name} loss object ({type(x).__name__}), not its value — did you forget to call it?"
        if isinstance(x, type):
            return f"the {name} class {x.__name__} itself, not an object made from it"
        return f"a {name} {type(x).__name__} object, not a tensor"
    if isinstance(x, (list, tuple, dict, set, str, int, float, bool)):
        name = type(x).__name__
        return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"
    if inspect.isgenerator(x):
        return "a generator, not a list"
    if isinstance(x, type):
        return f"the class {x.__name__} itself, not an object made from it"
    if callable(x):
        return f"a {'function' if inspect.isroutine(x) else type(x).__name__} — did you forget to call it?"
    return f"a {type(x).__name__}"


def is_loss_object(x: Any) -> bool:
    """A loss *object* (``nn.CrossEntropyLoss()``, ``keras.losses.BinaryCrossentropy()``), not yet called.

    >>> is_loss_object(len)
    False
    """
    if isinstance(x, type) or not callable(x) or is_tensor_like(x):
        return False
    names = [type(x).__module__ or ""] + [c.__name__ for c in type(x).__mro__]
    return any("loss" in n.lower() for n in names)


def framework_name(x: Any) -> str:
    """"torch", "TensorFlow", or "NumPy" / "Python" for the rest (for messages)."""
    return {"torch": "torch", "tensorflow": "TensorFlow", "numpy": "NumPy"}.get(framework_of(x), "Python")


def device_type_name(x: Any) -> Any:
    """A device given as a string (``"cuda:0"``), a ``torch.device`` or a TF device string, as its type
    in lower case (``"cuda"``, ``"cpu"``, ``"meta"``, ``"gpu"``); anything else is returned unchanged.

    >>> device_type_name("cuda:0"), device_type_name("/job:localhost/replica:0/task:0/device:CPU:0")
    ('cuda', 'cpu')
    """
    if framework_of(x) == "torch" and isinstance(getattr(x, "type", None), str) and hasattr(x, "index"):
        return x.type
    if isinstance(x, str):
        text = x.strip().lower().rsplit("device:", 1)[-1].lstrip("/")
        return text.split(":")[0]
    return x


def device_of(x: Any) -> str:
    """Where a tensor lives, as ``"cpu"``, ``"cuda:0"``, ``"mps:0"``, ``"GPU:0"``; ``"cpu"`` for NumPy.

    >>> device_of(np.zeros(2))
    'cpu'
    """
    kind = framework_of(x)
    if kind == "torch" and hasattr(x, "device"):
        return str(x.device)
    if kind == "tensorflow":
        name = str(getattr(x, "device", "") or "")
        m = re.search(r"device:([A-Z]+:\d+)", name)
        return "cpu" if not m or m.group(1).startswith("CPU") else m.group(1)
    return "cpu"


def expect_device(answer: Any, device: str = "cpu", what: str = "your answer", hint: str = "") -> None:
    """The answer lives on ``device`` (``"cpu"``, or a prefix such as ``"cuda"``/``"GPU"``)."""
    found = device_of(answer)
    if not found.lower().startswith(device.lower()):
        default = {"torch": " Hint: .to(device) / .cpu().",
                   "tensorflow": " Hint: create it inside with tf.device(...):."}.get(framework_of(answer), "")
        raise Wrong(f"{what} is on {found}, expected {device}." + (f" Hint: {hint}" if hint else default))


def as_array(answer: Any, *, tensor: bool = True, numpy: bool = True, what: str = "your answer") -> np.ndarray:
    """The answer as NumPy. With ``tensor=True`` only a torch or TF tensor (or NumPy array) is accepted;
    with ``numpy=False`` only a torch or TF tensor: the exercise asks for a value computed by a framework,
    and a NumPy array or a number typed in (or converted) is refused."""
    if answer is None:
        raise Wrong(f"{what} is None — did the cell assign it, or does your function `return` it?")
    if not numpy and framework_of(answer) not in ("torch", "tensorflow"):
        if is_loss_object(answer):
            raise Wrong(f"{what} is {describe(answer)}")
        if not (is_tensor_like(answer) or isinstance(answer, (int, float, complex, list, tuple))):
            raise Wrong(f"{what} is {describe(answer)}; expected a torch tensor or a TensorFlow tensor.")
        raise Wrong(f"{what} is {describe(answer)}, not a tensor: hand in the tensor the framework computes, "
                    "unconverted (no typed-in number).")
    if tensor and is_loss_object(answer):
        raise Wrong(f"{what} is {describe(answer)}")
    if tensor and not is_tensor_like(answer):
        raise Wrong(f"{what} is {describe(answer)}; expected a torch tensor or a TensorFlow tensor.")
    if framework_of(answer) == "torch" and str(getattr(answer, "dtype", "")) == "torch.bfloat16":
        raise Wrong(f"{what} has dtype bfloat16, which NumPy cannot hold; use float32 (.float()).")
    try:
        arr = to_numpy(answer, what)
    except CourseError as exc:
        raise Wrong(str(exc)) from None
    except Exception as exc:  # a symbolic tensor (inside tf.function / a Keras graph), a meta tensor ...
        where = ("hand in an eager tensor computed outside tf.function" if framework_of(answer) == "tensorflow"
                 else "hand in a tensor with values (not on the meta device, not a fake tensor)")
        raise Wrong(f"{what} has no concrete values to check ({type(exc).__name__}); {where}.") from None
    if arr.dtype == object:
        raise Wrong(f"{what} is ragged or mixed: it does not form one rectangular array of numbers.")
    return arr


def expect_shape(arr: np.ndarray, shape: tuple[int, ...], what: str = "your answer", hint: str = "") -> None:
    """``arr.shape == shape``, else ``Wrong`` naming both shapes."""
    if tuple(arr.shape) != tuple(shape):
        raise Wrong(f"{what} has shape {tuple(arr.shape)}, expected {tuple(shape)}." + (f" Hint: {hint}" if hint else ""))


def expect_dtype(arr: np.ndarray, dtypes: Iterable[str], what: str = "your answer", hint: str = "") -> None:
    """``arr``'s dtype is one of ``dtypes`` (NumPy names: "float32", "int64", ...)."""
    names = list(dtypes)
    if arr.dtype.name not in names:
        raise Wrong(f"{what} has dtype {arr.dtype.name}, expected {' or '.join(names)}."
                    + (f" Hint: {hint}" if hint else ""))


def expect_float(arr: np.ndarray, what: str = "your answer", hint: str = "") -> None:
    """Any floating dtype (float16/32/64): for exercises that never asked for float32 in particular."""
    if arr.dtype.kind != "f":
        raise Wrong(f"{what} has dtype {arr.dtype.name}, expected a float dtype."
                    + (f" Hint: {hint}" if hint else ""))


def expect_finite(arr: np.ndarray, what: str = "your answer") -> None:
    """No NaN or inf in a float or complex array."""
    if arr.dtype.kind in "fc" and not np.isfinite(arr).all():
        bad = "NaN" if np.isnan(arr).any() else "inf"
        raise Wrong(f"{what} contains {bad} values; look for a division by zero or a log of 0.")


def expect_close(arr: np.ndarray, expected: np.ndarray, what: str = "your answer", hint: str = "",
                 atol: float = 1e-5) -> None:
    """Same shape, finite, and values within ``atol`` of ``expected``."""
    expected = np.asarray(expected)
    expect_shape(arr, expected.shape, what)
    if arr.dtype.kind not in "biufc":
        raise Wrong(f"{what} holds {arr.dtype.name} values, expected numbers.")
    expect_finite(arr, what)
    diff = np.abs(arr.astype(np.float64) - expected.astype(np.float64))
    if diff.size and diff.max() > atol:
        raise Wrong(f"{what}: right shape, different values (max |diff| {diff.max():.3g})."
                    + (f" Hint: {hint}" if hint else ""))


def expect_equal(value: Any, expected: Any, what: str = "your answer", hint: str = "") -> None:
    """For plain answers (a number, a string, a bool): equal, same type family.

    A 0-d tensor or array counts as its number; floats compare with a relative tolerance of 1e-6.
    """
    if is_tensor_like(value) and not isinstance(expected, str):
        arr = as_array(value, what=what)
        if arr.size != 1:
            raise Wrong(f"{what} is {describe(value)} of shape {arr.shape}; expected one value.")
        value = arr.reshape(()).item()
    if isinstance(expected, bool):
        ok = isinstance(value, (bool, np.bool_)) and bool(value) == expected
    elif isinstance(expected, (int, float)):
        ok = (isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
              and bool(np.isclose(float(value), float(expected), rtol=1e-6, atol=0.0)))
    elif isinstance(expected, str):
        if not isinstance(value, str):
            raise Wrong(f"{what} is {describe(value)}; expected a string, in quotes.")
        ok = value.strip().lower() == expected.lower()
    else:
        try:
            ok = bool(value == expected)
        except Exception:  # e.g. an array compared with a tuple: ambiguous truth value
            ok = False
    if not ok:
        raise Wrong(f"{what} is {one_line(repr(value), 60)}, which is not it." + (f" Hint: {hint}" if hint else ""))
