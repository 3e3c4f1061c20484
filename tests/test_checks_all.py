"""Every registered exercise check, fed generic wrong answers: each answers in at most two lines, never raises.

Importing check_support holds the message rules (issue 30) on every verdict given here; every lesson's
check tests import it too (tested below), so the rules are held over every check's unit tests.

Runs over whatever ``course_utils.check.__all__`` lists, so a lesson's checks are covered as soon as
they are registered. Also ties the notebooks to the registry: every ``cu.check.<name>(...)`` call in
a notebook names a registered check whose exercise id matches the ``### Exercise N.M`` above it.
"""
from __future__ import annotations

import re

import numpy as np
import pytest
import tensorflow as tf
import torch

import course_utils as cu
from course_utils.check import core
from check_support import enforce_message_rules, first_try, rule_breaks  # noqa: F401 (first_try: autouse)
from notebook_rules import NOTEBOOKS, read, tags
from pathlib import Path

CHECKS = {name: getattr(cu.check, name) for name in cu.check.__all__
          if callable(getattr(cu.check, name)) and hasattr(getattr(cu.check, name), "exercise_id")}


def wrong_answers():
    """(id, answer): what learners really hand in by mistake, and things no check expects."""
    yield "none", None
    yield "empty-list", []
    yield "list", [[1.0, 2.0], [3.0, 4.0]]
    yield "ragged-list", [[1.0], [2.0, 3.0]]
    yield "string", "my answer"
    yield "int", 7
    yield "bool", True
    yield "dict", {"a": 1}
    yield "nan-numpy", np.full((3, 4), np.nan, dtype=np.float32)
    yield "inf-numpy", np.full((2, 2), np.inf)
    yield "empty-numpy", np.zeros((0,), dtype=np.float32)
    yield "object-numpy", np.array(["a", None], dtype=object)
    yield "nan-torch", torch.full((5, 1, 8, 8), float("nan"))
    yield "nan-tf", tf.fill((5, 8, 8, 1), float("nan"))
    yield "torch-int", torch.arange(12)
    yield "torch-grad", torch.ones(3, 4, requires_grad=True) * 2
    yield "torch-bf16", torch.ones(3, 4, dtype=torch.bfloat16)
    yield "torch-scalar", torch.tensor(3.5)
    yield "tf-variable", tf.Variable(tf.zeros((3, 4)))
    yield "tf-string", tf.constant(["a", "b"])
    yield "tf-ragged", tf.ragged.constant([[1.0], [2.0, 3.0]])
    yield "torch-module", torch.nn.Linear(2, 2)
    yield "keras-layer", tf.keras.layers.Dense(2)
    yield "torch-dtype", torch.float32
    yield "function", lambda x: x
    yield "generator", (i for i in range(3))
    yield "huge", np.ones((200, 200), dtype=np.float32)


WRONG = list(wrong_answers())


def assert_one_line(verdict, name, answer=None):
    """(Its name is older than issue 30.) A Verdict within the message rules, with a known status."""
    assert isinstance(verdict, core.Verdict), f"{name} returned {type(verdict).__name__}, not a Verdict"
    problems = rule_breaks(verdict, answer)
    assert not problems, f"{name}: {'; '.join(problems)}:\n{verdict}"
    assert verdict.status in ("correct", "wrong", "not attempted", "not checked")


def test_there_are_checks():
    assert CHECKS, "no checks registered in course_utils.check.__all__"


def test_exercise_ids_are_unique_and_well_formed():
    ids = [f.exercise_id for f in CHECKS.values()]
    assert len(ids) == len(set(ids)), f"two checks share an exercise id: {sorted(ids)}"
    for name, f in CHECKS.items():
        assert re.fullmatch(r"\d+\.\d+", f.exercise_id), f"{name}: exercise id {f.exercise_id!r} is not 'N.M'"
        assert f.__doc__, f"{name}: say in a docstring what the exercise asks for"


@pytest.mark.parametrize("name", sorted(CHECKS))
@pytest.mark.parametrize("label, answer", WRONG, ids=[w[0] for w in WRONG])
def test_wrong_inputs_answer_in_one_line(name, label, answer):
    verdict = CHECKS[name](answer, quiet=True)
    assert_one_line(verdict, name, answer)
    assert verdict.status != "not attempted", f"{name}({label}) says 'not attempted'"


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_placeholder_means_not_attempted(name, capsys):
    for call in (lambda: CHECKS[name](...), lambda: CHECKS[name](), lambda: CHECKS[name](core.PLACEHOLDER)):
        verdict = call()
        assert verdict.status == "not attempted"
        out = capsys.readouterr().out
        assert out.count("\n") <= core.MAX_LINES and "not attempted yet" in out, f"{name}: printed {out!r}"


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_the_other_frameworks_tensor_is_handled(name):
    """A tensor of either framework, of a common shape, never crashes a check."""
    for answer in (torch.zeros(3, 4), tf.zeros((3, 4)), torch.zeros(5, 1, 8, 8), tf.zeros((5, 8, 8, 1))):
        assert_one_line(CHECKS[name](answer, quiet=True), name, answer)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_hints_come_in_two_steps(name, capsys):
    """Wrong tries 1 and 2: a diagnosis and a pointer to cu.check.hint; the 3rd wrong try, or hint(), shows the code."""
    check = CHECKS[name]
    ex = check.exercise_id
    if ex not in core.SOLUTIONS and int(ex.split(".")[0]) > 6:  # lessons written after issue 12 adopt it as they land
        pytest.skip(f"{name}: no solution= registered yet, @exercise({ex!r}, solution=...)")
    assert ex in core.SOLUTIONS, f"{name}: register the solution's code, @exercise({ex!r}, solution=...)"
    core.reset_tries()
    tries = [check(answer, quiet=True) for answer in ("wrong 1", "wrong 2", "wrong 3")]
    assert all(not t for t in tries)
    for t in tries[:2]:
        assert not t.code and f'cu.check.hint("{ex}")' in str(t), str(t)
    assert "After 3 tries, the code" in tries[2].message and tries[2].code, str(tries[2])
    assert str(tries[2]).endswith("\n".join("    " + line for line in tries[2].code.splitlines()))
    assert_one_line(tries[2], name)
    again = check(tries and "wrong 3", quiet=True)  # the same wrong answer again (a re-run) is no 4th try
    assert core._TRIES[ex] in (3, 4)
    core.reset_tries()
    capsys.readouterr()
    shown = cu.check.hint(ex)
    out = capsys.readouterr().out
    assert out.startswith(f"Exercise {ex} — the code") and shown.code and shown.code.splitlines()[-1] in out
    assert not shown and not again


def test_every_exercise_has_a_solution_for_each_framework_it_accepts():
    """A hint for every exercise, in every framework its answer may come from (issue 30): a TF learner
    gets TF code. An exercise registered without saying what it accepts is reported, not passed."""
    problems = []
    for name, check in sorted(CHECKS.items()):
        ex = check.exercise_id
        accepts, solutions = core.ACCEPTS.get(ex), core.SOLUTIONS.get(ex, {})
        if not solutions:
            problems.append(f"{ex} ({name}): no solution registered")
        elif accepts in (None, ("undeclared",)):
            problems.append(f"{ex} ({name}): one solution for all frameworks; a dict per framework, "
                            "or accepts=('any',) if the answer is framework-free")
        else:
            missing = [f for f in accepts if f not in solutions and not (f == "any" and len(solutions) == 1)]
            if missing:
                problems.append(f"{ex} ({name}): accepts {accepts} but has no solution for {missing}")
    assert not problems, "\n".join(problems)


def test_the_third_try_shows_the_code_of_the_learners_framework():
    core.reset_tries()
    for framework, answer in (("torch", torch.zeros(2)), ("tensorflow", tf.zeros(2))):
        core.reset_tries()
        answers = [answer + i for i in range(3)]  # kept alive: a new object each, so three tries
        tries = [cu.check.arange_matrix(a, quiet=True) for a in answers]
        assert tries[2].code == core.SOLUTIONS["1.1"][framework], str(tries[2])
        shown = cu.check.hint("1.1")
        assert shown.code == core.SOLUTIONS["1.1"][framework]


def test_every_lesson_check_test_holds_the_message_rules():
    """Every tests/test_checks_lessonNN.py imports check_support, whose observer holds the rules on each
    verdict its tests produce: the rules then cover every check's unit tests."""
    missing = [p.name for p in sorted(Path(__file__).parent.glob("test_checks_lesson*.py"))
               if "from check_support import" not in p.read_text()]
    assert not missing, f"these test files do not import check_support (no message rules held): {missing}"


def test_the_rule_checker_can_fail():
    """rule_breaks finds each broken rule in a hand-made verdict (the observer is no test that cannot fail)."""
    long = core.Verdict("1.1", "wrong", "not quite: " + "far too many words " * 20, tries=1)
    assert any("lines of" in p for p in rule_breaks(long))
    early = core.Verdict("1.1", "wrong", "not quite: x.", code=core.SOLUTIONS["1.1"]["torch"], tries=1)
    assert any("before hint()" in p for p in rule_breaks(early))
    giveaway = core.Verdict("1.1", "wrong", "not quite: use torch.arange(12, dtype=torch.float32).reshape(3, 4).", tries=1)
    assert any("gives the answer away" in p for p in rule_breaks(giveaway))
    other = core.Verdict("1.1", "wrong", "not quite: Hint: tf.reshape it.", tries=1)
    assert any("advice for tensorflow" in p for p in rule_breaks(other, torch.zeros(1)))
    assert not rule_breaks(other, tf.zeros(1))
    wrong_code = core.Verdict("1.1", "wrong", "not quite: x.", code=core.SOLUTIONS["1.1"]["torch"], tries=3)
    assert any("another framework" in p for p in rule_breaks(wrong_code, tf.zeros(1)))
    with pytest.raises(AssertionError, match="message rule broken"):
        enforce_message_rules(long)


def test_hint_for_an_exercise_without_code_says_so():
    @core.exercise("99.2")
    def no_code(answer):
        """No solution registered."""
    assert "no code registered" in str(cu.check.hint("99.2"))


def test_a_rerun_of_the_same_wrong_answer_is_no_new_try():
    core.reset_tries()
    answer = "the same"
    for _ in range(5):
        verdict = cu.check.first_bad_layer(answer, quiet=True)
    assert core._TRIES["5.3"] == 1 and "the code:" not in str(verdict)


def test_hint_for_an_unknown_exercise_raises():
    with pytest.raises(cu.CourseError, match="no exercise with that id"):
        cu.check.hint("99.9")


def test_one_line_cuts_at_a_word_boundary():
    text = "Input to reshape is a tensor with 12 values, but the requested shape has 10 " * 5
    cut = core.one_line(text, 100)
    assert len(cut) <= 100 and cut.endswith("…") and text.startswith(cut[:-1])
    assert text[len(cut) - 1] == " ", "cut between words"


def test_a_crashing_check_body_still_gives_a_short_message():
    @core.exercise("99.1")
    def crashing(answer):
        """Raises something long and multi-line, like TF does."""
        raise ValueError("first line of a long error\n" + "x" * 5000)

    verdict = crashing(1, quiet=True)
    assert_one_line(verdict, "crashing")
    assert "raised ValueError: first line of a long error" in str(verdict)


def test_helpers_describe_and_device():
    assert core.describe(torch.nn.Linear(1, 1)) == "a torch Linear object, not a tensor"
    assert "forget to call it" in core.describe(torch.nn.MSELoss())
    assert "forget to call it" in core.describe(tf.keras.losses.MeanSquaredError())
    assert "forget to call" in core.describe(len)
    # a class handed in is no function that was not called (issue 30, 13.1)
    assert "class Linear itself" in core.describe(torch.nn.Linear) and "forget" not in core.describe(torch.nn.Linear)
    assert "class BatchNormalization itself" in core.describe(tf.keras.layers.BatchNormalization)
    assert core.device_of(torch.zeros(1)) == "cpu" and core.device_of(tf.zeros(1)) == "cpu"
    core.expect_device(torch.zeros(1), "cpu")
    with pytest.raises(core.Wrong, match="on cpu, expected cuda"):
        core.expect_device(torch.zeros(1), "cuda")


def test_expect_equal_accepts_scalar_tensors_and_tolerates_float_rounding():
    core.expect_equal(torch.tensor(3), 3)
    core.expect_equal(tf.constant(0.1 + 0.2), 0.3)
    with pytest.raises(core.Wrong, match="expected one value"):
        core.expect_equal(torch.ones(2), 1)
    class Ambiguous:
        def __eq__(self, other):
            raise ValueError("truth value of an array is ambiguous")

    with pytest.raises(core.Wrong, match="not it"):
        core.expect_equal(Ambiguous(), (1, 2))


# --- the notebooks call registered checks, under the right exercise heading -----------------------

CALL = re.compile(r"cu\.check\.(\w+)\(")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_check_calls_are_registered(path):
    exercise = None
    for i, cell in enumerate(read(path).cells):
        if cell.cell_type == "markdown":
            if re.search(r"^## ", cell.source, flags=re.M):
                exercise = None  # a new section: a check here is a demo, not an exercise's check
            m = re.search(r"^### Exercise (\d+\.\d+)", cell.source, flags=re.M)
            exercise = m.group(1) if m else exercise
            continue
        if "solution" in tags(cell):
            continue
        for name in CALL.findall(cell.source):
            assert name in CHECKS, f"{path.name} cell {i}: cu.check.{name} is not registered in course_utils/check/__init__.py"
            assert exercise is None or CHECKS[name].exercise_id == exercise, \
                f"{path.name} cell {i}: cu.check.{name} checks exercise {CHECKS[name].exercise_id}, but sits under Exercise {exercise}"
