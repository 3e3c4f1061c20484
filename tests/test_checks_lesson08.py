"""The 08_visualization exercise checks: right answers in both frameworks pass; wrong ones say why in one line."""
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
import torch
from torch.utils.tensorboard import SummaryWriter

import course_utils as cu
from check_support import assert_right, assert_wrong, first_try, one_line  # noqa: F401 - first_try is autouse
from course_utils.check import core
from course_utils.check.lesson08 import (DIVERGED_STEPS, LR_STEPS, LR_TAG, LR_VALUES, divergence,
                                         diverged_losses)


# --- 8.1 log a schedule under the right tag and step ---------------------------------------------

def log_torch(folder, tag=LR_TAG, steps=LR_STEPS, values=LR_VALUES, close=True):
    writer = SummaryWriter(str(folder))
    for step, value in zip(steps, values):
        writer.add_scalar(tag, float(value), global_step=int(step))
    if close:
        writer.close()
    return writer


def log_tf(folder, tag=LR_TAG, steps=LR_STEPS, values=LR_VALUES):
    writer = tf.summary.create_file_writer(str(folder))
    with writer.as_default():
        for step, value in zip(steps, values):
            tf.summary.scalar(tag, float(value), step=int(step))
    writer.close()


def test_logged_schedule_right_in_both(tmp_path):
    log_torch(tmp_path / "pt")
    log_tf(tmp_path / "tf")
    assert cu.check.logged_schedule(str(tmp_path / "pt"), quiet=True)
    assert cu.check.logged_schedule(tmp_path / "tf", quiet=True)        # a pathlib.Path is fine too


def test_logged_schedule_right_with_keras_style_float32_values(tmp_path):
    log_tf(tmp_path, values=LR_VALUES.astype(np.float32))
    assert cu.check.logged_schedule(str(tmp_path), quiet=True)


def test_logged_schedule_right_alternatives(tmp_path):
    with SummaryWriter(str(tmp_path / "with")) as writer:                 # a with block closes the writer
        for step in range(30):
            writer.add_scalar("train/lr", 0.1 * 0.5 ** (step // 10), step)
    assert_right(cu.check.logged_schedule, str(tmp_path / "with"))
    writer = tf.summary.create_file_writer(str(tmp_path / "flushed"))   # flushed, not closed
    with writer.as_default():
        for step in range(30):
            tf.summary.scalar("train/lr", 0.1 * 0.5 ** (step // 10), step=step)
    writer.flush()
    assert_right(cu.check.logged_schedule, str(tmp_path / "flushed"))
    torch_flushed = log_torch(tmp_path / "torch-flushed", close=False)
    torch_flushed.flush()
    assert_right(cu.check.logged_schedule, tmp_path / "torch-flushed")
    torch_flushed.close()


def test_logged_schedule_tf_without_as_default_names_it(tmp_path):
    writer = tf.summary.create_file_writer(str(tmp_path))
    for step in range(30):
        assert tf.summary.scalar(LR_TAG, 0.1, step=step) is False or True   # no default writer: writes nothing
    writer.flush()
    verdict = assert_wrong(cu.check.logged_schedule, str(tmp_path), "as_default()")
    assert "SummaryWriter" not in str(verdict)


def test_logged_schedule_torch_advice_names_no_tf_api(tmp_path):
    writer = log_torch(tmp_path, close=False)
    try:
        verdict = assert_wrong(cu.check.logged_schedule, str(tmp_path), "close it")
        assert "tf." not in str(verdict) and "as_default" not in str(verdict)
    finally:
        writer.close()


def test_logged_schedule_steps_read_as_plain_numbers(tmp_path):
    log_torch(tmp_path, steps=LR_STEPS + 1)
    verdict = assert_wrong(cu.check.logged_schedule, str(tmp_path), "1, 2, 3, 4, ..., 30")
    assert "np.int64" not in str(verdict)


def test_logged_schedule_third_try_shows_the_tf_code_for_a_tf_folder(tmp_path):
    folders = [str(tmp_path / str(i)) for i in range(3)]   # kept alive: a new object is a new try
    for folder in folders:
        log_tf(folder, tag="lr")
        verdict = cu.check.logged_schedule(folder, quiet=True)
    assert "create_file_writer" in verdict.code and "SummaryWriter" not in verdict.code


def test_the_right_answer_really_shows_in_tensorboard(tmp_path):
    from course_utils.lessons import dashboards

    log_torch(tmp_path / "run")
    with dashboards.start_tensorboard(tmp_path) as tb:
        dashboards.wait_for_runs(tb, ["run"])
        frame = dashboards.tensorboard_scalars(tb, "run", LR_TAG)
    assert frame.step.tolist() == LR_STEPS.tolist()
    assert np.allclose(frame.value, LR_VALUES)


def test_logged_schedule_not_attempted():
    assert "not attempted yet" in one_line(cu.check.logged_schedule(..., quiet=True))


def test_logged_schedule_refuses_what_is_not_a_folder(tmp_path):
    writer = log_torch(tmp_path)
    for answer in (writer, torch.tensor(LR_VALUES), LR_VALUES, None, 3):
        verdict = cu.check.logged_schedule(answer, quiet=True)
        assert not verdict and "hand in the folder" in one_line(verdict)
    missing = cu.check.logged_schedule(str(tmp_path / "nope"), quiet=True)
    assert not missing and "there is no folder" in one_line(missing)


def test_logged_schedule_empty_folder(tmp_path):
    verdict = cu.check.logged_schedule(str(tmp_path), quiet=True)
    assert not verdict and "no event file" in one_line(verdict)


def test_logged_schedule_writer_not_closed(tmp_path):
    writer = log_torch(tmp_path, close=False)   # SummaryWriter flushes every 120 s: nothing on disk yet
    try:
        verdict = cu.check.logged_schedule(str(tmp_path), quiet=True)
        assert not verdict and "close it" in one_line(verdict)
    finally:
        writer.close()


@pytest.mark.parametrize("kwargs, words", [
    (dict(tag="lr"), "found the tag(s) ['lr']"),
    (dict(tag="train_lr"), "'train/lr'"),
    (dict(steps=LR_STEPS + 1), "expected 0, 1, ..., 29"),
    (dict(steps=np.zeros(30, int)), "more than once"),
    (dict(values=0.1 * 0.5 ** LR_STEPS), "at step 1 the logged value"),
    (dict(values=0.1 * 0.5 ** (LR_STEPS / 10)), "integer division"),
    (dict(steps=LR_STEPS[:10], values=LR_VALUES[:10]), "10 of them"),
])
def test_logged_schedule_wrong(tmp_path, kwargs, words):
    log_torch(tmp_path, **kwargs)
    verdict = cu.check.logged_schedule(str(tmp_path), quiet=True)
    assert not verdict
    assert words in one_line(verdict)


def test_logged_schedule_cell_run_twice_into_one_folder(tmp_path):
    log_torch(tmp_path)
    log_tf(tmp_path)
    verdict = cu.check.logged_schedule(str(tmp_path), quiet=True)
    assert not verdict and "more than once" in one_line(verdict)


def test_logged_schedule_in_a_sub_folder(tmp_path):
    log_torch(tmp_path / "run1")
    verdict = cu.check.logged_schedule(str(tmp_path), quiet=True)
    assert not verdict and "sub-folder" in one_line(verdict) and "run1" in one_line(verdict)


# --- 8.2 the step where the loss diverged ----------------------------------------------------------

EXPECTED = divergence(DIVERGED_STEPS, diverged_losses())


def test_the_planted_run_is_what_the_exercise_says():
    losses = diverged_losses()
    assert EXPECTED == 220
    assert np.isnan(losses).any() and int(DIVERGED_STEPS[np.nanargmin(losses)]) == 210
    # the notebook's cell, as written there, gives the same losses
    steps = np.arange(0, 400, 5)
    loss = 2.3 * np.exp(-steps / 60) + 0.1
    loss *= 1 + 0.02 * np.random.default_rng(8).standard_normal(len(steps))
    loss[43:] = loss[42] * 1.6 ** np.arange(1, len(steps) - 42)
    loss[60:] = np.nan
    np.testing.assert_array_equal(loss, losses)


def test_the_notebook_logs_the_run_the_check_knows():
    import nbformat

    nb = nbformat.read(Path(__file__).resolve().parents[1] / "notebooks" / "08_visualization.ipynb", as_version=4)
    cell = next(c.source for c in nb.cells if c.cell_type == "code" and "diverged_dir = " in c.source)
    for line in ("np.arange(0, 400, 5)", "default_rng(8)", "loss[42] * 1.6", "loss[60:] = np.nan"):
        assert line in cell


@pytest.mark.parametrize("answer", [220, np.int64(220), 220.0, torch.tensor(220), tf.constant(220),
                                    np.array([220]), torch.tensor([220.0])])
def test_divergence_step_right_in_any_form(answer):
    assert cu.check.divergence_step(answer, quiet=True)


def test_divergence_step_right_from_the_event_file(tmp_path):
    from course_utils.lessons import dashboards

    with SummaryWriter(str(tmp_path)) as writer:
        for step, value in zip(DIVERGED_STEPS, diverged_losses()):
            writer.add_scalar("train/loss", value, global_step=int(step))
    logged = dashboards.read_scalars(tmp_path)
    values = torch.tensor(logged.value.to_numpy())
    first = torch.nonzero(values[1:] > 2 * torch.cummin(values, 0).values[:-1])[0, 0] + 1   # a torch answer
    assert cu.check.divergence_step(torch.tensor(logged.step.to_numpy())[first], quiet=True)


@pytest.mark.parametrize("answer, words", [
    (..., "not attempted yet"),
    (44, "position, not its step"),                  # the row index
    (300, "became NaN"),                             # the first NaN
    (210, "lowest loss"),                            # the minimum
    (215, "not yet twice"),                          # the first increase
    (295, "not first"),                              # the largest finite loss
    (221, "never logged"),
    (220.5, "not a whole number"),
    ("220", "expected one whole number"),
    (None, "expected one whole number"),
    ([215, 220], "of 2 items"),
    (True, "bool"),
    (float("nan"), "not a whole number"),
])
def test_divergence_step_wrong(answer, words):
    verdict = cu.check.divergence_step(answer, quiet=True)
    assert not verdict
    assert words in one_line(verdict)


def test_the_code_comes_only_after_three_wrong_tries(capsys):
    try:
        first = one_line(cu.check.divergence_step(44, quiet=True))
        assert "the code:" not in first and 'cu.check.hint("8.2")' in first
        cu.check.divergence_step(300, quiet=True)
        third = one_line(cu.check.divergence_step(210, quiet=True))
        assert "After 3 tries, the code:" in third and "cummin" in third
        assert "SummaryWriter(answer_dir)" in str(core.hint("8.1"))
    finally:
        core.reset_tries()


@pytest.mark.parametrize("framework", ["torch", "tensorflow"])
def test_each_solution_runs_after_the_lessons_setup_and_passes(tmp_path, framework):
    namespace = {"torch": torch, "tf": tf, "np": np, "SummaryWriter": SummaryWriter, "answer_dir": str(tmp_path)}
    exec(core.SOLUTIONS["8.1"][framework], namespace)
    assert_right(cu.check.logged_schedule, namespace["answer"])


def test_the_8_2_solution_runs_and_passes(tmp_path):
    from course_utils.lessons import dashboards

    with SummaryWriter(str(tmp_path)) as writer:
        for step, value in zip(DIVERGED_STEPS, diverged_losses()):
            writer.add_scalar("train/loss", value, global_step=int(step))
    namespace = {"dashboards": dashboards, "diverged_dir": str(tmp_path)}
    exec(core.SOLUTIONS["8.2"]["any"], namespace)
    assert_right(cu.check.divergence_step, namespace["answer"])
