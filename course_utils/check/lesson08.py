"""Checks for the exercises of 08_visualization: log a schedule TensorBoard can show, find where a loss diverged.

The exercises' inputs are written out here too, so a check never trusts the learner's cell. The
event files are read with ``course_utils.lessons.dashboards.read_scalars`` (imported when a check
runs: it loads TensorBoard's reader, which ``import course_utils`` must not).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..base.arrays import framework_of, is_tensor_like
from .core import Wrong, as_array, describe, exercise, one_line

# Exercise 8.1: the tag, the steps and the schedule to log.
LR_TAG = "train/lr"
LR_STEPS = np.arange(30)
LR_VALUES = 0.1 * 0.5 ** (LR_STEPS // 10)

# Exercise 8.2: the colleague's run, exactly as the notebook's cell logs it (every 5th step).
DIVERGED_STEPS = np.arange(0, 400, 5)


def diverged_losses() -> np.ndarray:
    """The logged losses of Exercise 8.2: falling, raised learning rate at step 210, then NaN."""
    loss = 2.3 * np.exp(-DIVERGED_STEPS / 60) + 0.1
    loss *= 1 + 0.02 * np.random.default_rng(8).standard_normal(len(DIVERGED_STEPS))
    loss[43:] = loss[42] * 1.6 ** np.arange(1, len(DIVERGED_STEPS) - 42)
    loss[60:] = np.nan
    return loss


def divergence(steps: np.ndarray, losses: np.ndarray) -> int:
    """The first step whose loss is more than twice the lowest loss logged before it."""
    lowest = np.fmin.accumulate(losses)
    for i in range(1, len(losses)):
        if losses[i] > 2 * lowest[i - 1]:
            return int(steps[i])
    raise ValueError("the loss never diverged")


def _read(folder: Path):
    from ..base.errors import CourseError
    from ..lessons import dashboards

    try:
        return dashboards.read_scalars(folder)
    except CourseError as exc:
        raise Wrong(str(exc)) from None


def _writer_framework(answer: Any) -> str:
    """Which writer filled the folder: TensorFlow's event files end in ".v2", torch's SummaryWriter's do not."""
    if is_tensor_like(answer) or not isinstance(answer, (str, Path)) or not Path(answer).is_dir():
        kind = framework_of(answer)       # a tensor or a writer handed in: its framework
        return kind if kind in ("torch", "tensorflow") else "any"
    files = [f.name for f in Path(answer).rglob("events.out.tfevents.*")]
    if not files:
        return "any"
    return "tensorflow" if any(name.endswith(".v2") for name in files) else "torch"


def _steps_text(steps: np.ndarray) -> str:
    """A few steps as plain numbers (not np.int64(...) reprs)."""
    shown = [int(s) for s in steps]
    return ", ".join(map(str, shown[:4])) + (f", ..., {shown[-1]}" if len(shown) > 4 else "")


@exercise("8.1", framework=_writer_framework, solution={
    "torch": ("with SummaryWriter(answer_dir) as writer:\n"
              "    for step in range(30):\n"
              "        writer.add_scalar(\"train/lr\", 0.1 * 0.5 ** (step // 10), global_step=step)\n"
              "answer = answer_dir"),
    "tensorflow": ("writer = tf.summary.create_file_writer(answer_dir)\n"
                   "with writer.as_default():\n"
                   "    for step in range(30):\n"
                   "        tf.summary.scalar(\"train/lr\", 0.1 * 0.5 ** (step // 10), step=step)\n"
                   "writer.close()\n"
                   "answer = answer_dir")})
def logged_schedule(answer: Any) -> str:
    """``answer``: the folder the learner logged ``train/lr`` into, with either framework."""
    if is_tensor_like(answer) or not isinstance(answer, (str, Path)):
        what = "the writer" if hasattr(answer, "flush") and hasattr(answer, "close") else describe(answer)
        raise Wrong(f"your answer is {what}; hand in the folder you logged into (answer_dir).")
    folder = Path(answer)
    if not folder.is_dir():
        raise Wrong(f"there is no folder {one_line(str(folder), 50)}: run the cell that makes answer_dir, log into it.")
    if not any(folder.rglob("events.out.tfevents.*")):
        raise Wrong("the folder holds no event file: create the writer with answer_dir as its folder.")
    table = _read(folder)
    if table.empty:
        if _writer_framework(folder) == "tensorflow":
            raise Wrong("the event file holds no scalar: tf.summary.scalar writes only under writer.as_default(), "
                        "then flush() or close().")
        raise Wrong("the event file holds no scalar yet: the writer buffers events; close it (a with block) "
                    "or flush it first.")
    runs = sorted(table.run.unique())
    if runs != ["."]:
        raise Wrong(f"the scalars are in sub-folder(s) {[r for r in runs if r != '.'][:3]}, not in answer_dir "
                    "itself: log into answer_dir as it is.")
    tags = sorted(table.tag.unique())
    if LR_TAG not in tags:
        raise Wrong(f"found the tag(s) {tags[:3]}, but the exercise asks for '{LR_TAG}' (section/name).")
    rows = table[table.tag == LR_TAG]
    steps, values = rows.step.to_numpy(), rows.value.to_numpy()
    if len(np.unique(steps)) < len(steps):
        repeated = sorted({int(s) for s in steps if (steps == s).sum() > 1})
        raise Wrong(f"step(s) {_steps_text(np.array(repeated))} were logged more than once: pass each value's "
                    "own step, into a fresh answer_dir.")
    if list(steps) != list(LR_STEPS):
        raise Wrong(f"the steps are {_steps_text(steps)} ({len(steps)} of them), expected 0, 1, ..., 29: "
                    "pass the loop's step.")
    wrong = np.flatnonzero(~np.isclose(values, LR_VALUES, rtol=1e-6, atol=0.0))
    if len(wrong):
        i = int(wrong[0])
        raise Wrong(f"at step {i} the logged value is {values[i]:.6g}, expected {LR_VALUES[i]:.6g}: "
                    "the rate halves every 10 steps (integer division).")
    return "TensorBoard shows train/lr in the 'train' section, one point per step."


@exercise("8.2", accepts=("any",), solution="t = dashboards.read_scalars(diverged_dir); "
                          "answer = int(t.step[t.value > 2 * t.value.cummin().shift(1)].iloc[0])")
def divergence_step(answer: Any) -> str:
    """``answer``: the step (not the index) where the loss of Exercise 8.2 diverged."""
    if isinstance(answer, (str, bytes)) or answer is None:
        raise Wrong(f"your answer is {describe(answer)}; expected one whole number, the step.")
    if isinstance(answer, (list, tuple)) and (len(answer) != 1 or not isinstance(answer[0], (int, float))):
        raise Wrong(f"your answer is {describe(answer)} of {len(answer)} items; expected one step.")
    arr = as_array(answer, tensor=False)
    if arr.dtype.kind not in "biuf" or arr.dtype.kind == "b":
        raise Wrong(f"your answer holds {arr.dtype.name} values; expected one whole number, the step.")
    if arr.size != 1:
        raise Wrong(f"your answer has {arr.size} values; expected one step (.iloc[0] / int(...) of the first match).")
    value = float(arr.reshape(()))
    if not np.isfinite(value) or value != round(value):
        raise Wrong(f"{value} is not a whole number; a step is one (the event file's step column).")
    step = int(round(value))
    losses = diverged_losses()
    expected = divergence(DIVERGED_STEPS, losses)
    index = int(np.flatnonzero(DIVERGED_STEPS == expected)[0])
    first_nan = int(DIVERGED_STEPS[np.isnan(losses)][0])
    lowest = int(DIVERGED_STEPS[np.nanargmin(losses)])
    if step == expected:
        return f"At step {expected} the loss had more than doubled from its low at step {lowest}."
    if step == index:
        raise Wrong(f"{step} is the row's position, not its step: the run logged every 5th step, so read the step column.")
    if step == first_nan:
        raise Wrong("that is where the loss became NaN, long after it diverged. Hint: compare each loss with the "
                    "lowest one logged before it.")
    if step == lowest:
        raise Wrong("that is the lowest loss, where the trouble starts; the question asks for the first step whose loss "
                    "is more than twice that low.")
    if step not in set(int(s) for s in DIVERGED_STEPS):
        shown = step if abs(step) < 10**9 else f"{value:.3g}"  # a huge number would fill lines
        raise Wrong(f"step {shown} was never logged: the run logged every 5th step (0, 5, 10, ...).")
    if step < expected:
        raise Wrong(f"at step {step} the loss was not yet twice the lowest before it. Hint: a cumulative minimum "
                    "(cummin) of the losses before each step.")
    raise Wrong(f"at step {step} the loss had diverged already, but not first. Hint: take the first step that matches.")
