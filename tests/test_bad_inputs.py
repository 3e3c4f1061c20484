"""Wrong inputs to every public helper a learner calls: a short message that says what to do, never a
traceback from inside the package.

Covered, discovered at collection time so that new helpers are covered the day they are added:
- the functions in ``course_utils.__all__`` (compare, load_digits, setup, to_numpy, run_pdb, ...);
- every exercise check registered in ``course_utils.check.__all__``;
- every public function of ``course_utils.pt_utils`` and ``course_utils.tf_utils``.

The contract: a call with a wrong argument either returns normally (e.g. ``compare`` saying
``allclose=False``) or raises ``CourseError`` with a message of at most a few short lines. A check
always returns a short ``Verdict`` (a diagnosis of at most two lines of 100 columns). Wrong arguments are generated with hypothesis (derandomized,
no example database: the same examples every run): wrong types, shapes and dtypes, None, NaN, ragged
lists, and tensors of the other framework. One parameter is made wrong at a time; the others get
a right value where the test knows one (``GOOD`` below), so the call reaches the check under test.

Helpers that break the contract today are listed in ``KNOWN_GAPS`` (strict xfail: the test fails
once a gap is fixed, so the list stays honest). tests/test_checks_all.py covers the checks with a
fixed list of typical mistakes; this file adds generated ones.
"""
from __future__ import annotations

import functools
import inspect
import textwrap
from pathlib import Path

import nbformat
import numpy as np
import pytest
import tensorflow as tf
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import course_utils as cu
from course_utils import pt_utils, tf_utils
from course_utils.check import core
from course_utils.base.errors import CourseError

MAX_LINES = 4
MAX_CHARS = 600
SETTINGS = settings(max_examples=25, deadline=None, derandomize=True, database=None, report_multiple_bugs=False,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                           HealthCheck.data_too_large])


def public_functions(module) -> dict[str, object]:
    return {name: obj for name, obj in vars(module).items()
            if not name.startswith("_") and inspect.isfunction(obj) and obj.__module__ == module.__name__}


TOP = {name: getattr(cu, name) for name in cu.__all__ if inspect.isfunction(getattr(cu, name))}
CHECKS = {name: getattr(cu.check, name) for name in cu.check.__all__
          if callable(getattr(cu.check, name)) and hasattr(getattr(cu.check, name), "exercise_id")}
FRAMEWORK = {"pt_utils": pt_utils, "tf_utils": tf_utils}
HELPERS = {f"{mod}.{name}": func for mod, module in FRAMEWORK.items()
           for name, func in public_functions(module).items()}

# Cases that break the contract today: "<function>-<parameter>" -> what goes wrong. They run as strict
# xfails, so fixing one makes the test fail until its line here is removed.
KNOWN_GAPS: dict[str, str] = {  # measured 2026-11-22: what each raises instead
}


# -- wrong values -------------------------------------------------------------------------------
DTYPES = [np.float16, np.float32, np.float64, np.int32, np.int64, np.uint8, np.bool_, np.complex64]


def as_framework(arr: np.ndarray, kind: str):
    if kind == "torch":
        return torch.from_numpy(np.array(arr))
    if kind == "tensorflow":
        return tf.constant(arr)
    return arr


arrays = st.builds(as_framework,
                   hnp.arrays(dtype=st.sampled_from(DTYPES),
                              shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5)),
                   st.sampled_from(["numpy", "torch", "tensorflow"]))
plain = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3),  # small: a huge size is valid, only slow
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8), st.lists(st.floats(allow_nan=True) | st.integers(-9, 9), max_size=4),
    st.just([[1.0], [2.0, 3.0]]), st.just({"X": 1}), st.just(np.array(["a", None], dtype=object)),
    st.just(torch.nn.Linear(2, 2)), st.just(len), st.just(Path("no/such/folder")),
)
wrong_values = st.one_of(plain, arrays)


# -- right values for the parameters the test knows (so one wrong argument is tested at a time) -----
def digits_sample(n: int = 8):
    d = cu.load_digits(flat=True)
    return d.X_train[:n], d.y_train[:n]


def good_values(qualname: str) -> dict[str, object]:
    """Right arguments by parameter name, for ``pt_utils.*`` / ``tf_utils.*`` (built once per module)."""
    return _good_values(qualname.split(".")[0])


@functools.lru_cache(maxsize=None)
def _good_values(module: str) -> dict[str, object]:
    X, y = digits_sample()
    if module == "pt_utils":
        model = pt_utils.build_mlp()
        other = tf_utils.build_mlp()
        return {"model": model, "dst": model, "src": other, "X": X, "y": y, "seed": 0,
                "loss_fn": torch.nn.CrossEntropyLoss(), "optimizer": torch.optim.SGD(model.parameters(), lr=0.1),
                "obj": torch.zeros(2)}
    model = tf_utils.build_mlp()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return {"model": model, "dst": model, "src": pt_utils.build_mlp(), "X": X, "y": y, "seed": 0,
            "loss_fn": tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            "optimizer": tf.keras.optimizers.SGD(learning_rate=0.1), "obj": tf.zeros(2)}


def call_args(func, wrong_param: str, wrong, good: dict) -> tuple[list, dict]:
    """Positional and keyword arguments: ``wrong`` for one parameter, right or default values elsewhere."""
    args, kwargs = [], {}
    for p in inspect.signature(func).parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.name == wrong_param:
            value = wrong
        elif p.name in good:
            value = good[p.name]
        elif p.default is not p.empty:
            continue
        else:
            value = wrong  # no right value known: every unknown required argument is wrong
        if p.kind == p.KEYWORD_ONLY or p.default is not p.empty:  # options by name, as lessons pass them
            kwargs[p.name] = value
        else:
            args.append(value)
    return args, kwargs


def assert_short_course_error(exc: BaseException, what: str) -> None:
    __tracebackhide__ = True
    if not isinstance(exc, CourseError):
        pytest.fail(f"{what} raised {type(exc).__name__} from inside the package instead of a CourseError: "
                    f"{textwrap.shorten(str(exc), 300)}", pytrace=False)
    message = str(exc)
    assert message.strip(), f"{what}: CourseError without a message"
    assert len(message.splitlines()) <= MAX_LINES and len(message) <= MAX_CHARS, \
        f"{what}: a {len(message.splitlines())}-line, {len(message)}-character message; keep it to a few lines"


def must_keep_contract(func, args, kwargs, what: str):
    try:
        return func(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 — any other exception is the failure being tested for
        assert_short_course_error(exc, what)


def params_of(func, required: bool | None = None) -> list[str]:
    """Parameter names; ``required=True``: only those without a default, ``False``: only options."""
    return [p.name for p in inspect.signature(func).parameters.values()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
            and (required is None or (p.default is p.empty) == required)]


# Options (parameters with a default) get the slips a learner makes when typing one, not the
# whole generated zoo: None, a string, a negative number, NaN, a tensor of either framework.
OPTION_SLIPS = [None, "yes", -1, float("nan"), np.float32(np.nan), torch.zeros(2), tf.zeros(2)]


def cases(functions: dict[str, object], prefix: str = "") -> list:
    """pytest params (name, param, kind) with the KNOWN_GAPS marks; kind is "data" or "option"."""
    out = []
    for name, func in sorted(functions.items()):
        for kind, required in (("data", True), ("option", False)):
            for param in params_of(func, required):
                case = f"{prefix}{name}-{param}"
                out.append(pytest.param(name, param, kind, id=case, marks=gap(case)))
    return out


def gap(case: str):
    reason = KNOWN_GAPS.get(case)
    # Strict: when the helper is fixed this XPASSes and fails, saying which line to delete.
    return [pytest.mark.xfail(reason=f"known gap {case!r} in KNOWN_GAPS (fixed? delete its line): {reason}",
                              strict=True)] if reason else []


# -- the tests ------------------------------------------------------------------------------------
def test_discovery_found_the_helpers():
    assert {"compare", "load_digits", "setup", "to_numpy"} <= set(TOP)
    assert CHECKS and HELPERS
    known = {c.id for c in cases(TOP, "cu.") + cases(HELPERS)} | {f"{q}-other-framework" for q in HELPERS}
    assert not set(KNOWN_GAPS) - known, f"KNOWN_GAPS lists cases that are gone: {set(KNOWN_GAPS) - known}"


@pytest.mark.parametrize("name, param, kind", cases(TOP, "cu."))
@SETTINGS
@given(data=st.data())
def test_course_utils_functions(name, param, kind, data, capsys):
    func = TOP[name]
    good = {"name": "x", "a": np.zeros(3, np.float32), "b": np.zeros(3, np.float32),
            "func": lambda: None, "commands": ["c"]}
    wrong = data.draw(wrong_values if kind == "data" else st.sampled_from(OPTION_SLIPS), label="wrong")
    args, kwargs = call_args(func, param, wrong, good)
    must_keep_contract(func, args, kwargs, f"cu.{name}({param}={textwrap.shorten(repr(wrong), 60)})")
    capsys.readouterr()


@pytest.mark.parametrize("name", sorted(CHECKS))
@SETTINGS
@given(wrong=wrong_values)
def test_checks_answer_in_a_short_verdict(name, wrong):
    """Issue 30's rule: on a first try the diagnosis fits two lines of 100 columns (the third try adds the
    code on its own lines), and no traceback. Each generated answer is checked as a learner's first try."""
    core.reset_tries()
    verdict = CHECKS[name](wrong, quiet=True)
    assert isinstance(verdict, core.Verdict), f"{name} returned {type(verdict).__name__}"
    text = str(verdict)
    head = core.wrap(f"Exercise {verdict.exercise} — {verdict.message}")
    assert len(head) <= core.MAX_LINES and max(map(len, head)) <= core.WIDTH, f"{name}: {text!r}"
    assert "Traceback" not in text, f"{name}: {text!r}"
    assert verdict.status in ("correct", "wrong"), f"{name}({wrong!r}) said {verdict.status}"


@pytest.mark.parametrize("qualname, param, kind", cases(HELPERS))
@settings(SETTINGS, max_examples=12)
@given(data=st.data())
def test_framework_helpers(qualname, param, kind, data, capsys):
    func = HELPERS[qualname]
    wrong = data.draw(wrong_values if kind == "data" else st.sampled_from(OPTION_SLIPS), label="wrong")
    args, kwargs = call_args(func, param, wrong, good_values(qualname))
    must_keep_contract(func, args, kwargs, f"{qualname}({param}={textwrap.shorten(repr(wrong), 60)})")
    capsys.readouterr()


@pytest.mark.parametrize("qualname", [pytest.param(q, id=f"{q}-other-framework", marks=gap(f"{q}-other-framework"))
                                      for q in sorted(HELPERS)])
def test_framework_helpers_given_the_other_frameworks_tensor(qualname, capsys):
    """Every tensor argument swapped for the other framework's: a CourseError or a right answer."""
    func = HELPERS[qualname]
    good = good_values(qualname)
    to_other = tf.constant if qualname.startswith("pt_utils.") else torch.from_numpy
    for param in params_of(func):
        if param in ("X", "obj", "y"):
            other = to_other(cu.to_numpy(good[param]))  # the right values, in the other framework
            args, kwargs = call_args(func, param, other, good)
            must_keep_contract(func, args, kwargs, f"{qualname}({param}=<other framework's tensor>)")
    capsys.readouterr()


def test_a_course_error_shows_one_line_in_a_notebook(tmp_path):
    """In a real course kernel, after cu.setup(), a wrong input shows one line — no traceback."""
    from nbclient import NotebookClient

    cells = ["import course_utils as cu\ncu.setup(seed=0)",
             'cu.compare("logits", [1.0, 2.0], [1.0, 2.0, 3.0])',
             "cu.load_digits(flat='yes please')"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    for cell in nb.cells[1:]:
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if not errors:
            continue  # a helper may accept the input; then there is nothing to show
        shown = "\n".join(errors[0].traceback)
        assert errors[0].ename == "CourseError", f"{cell.source}: {errors[0].ename}: {errors[0].evalue}"
        assert len(shown.splitlines()) <= MAX_LINES and "File " not in shown and "Traceback" not in shown, shown
    assert any(o.output_type == "error" for o in nb.cells[1].outputs), "compare of different shapes must say so"
