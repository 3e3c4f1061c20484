"""The 05_debugging exercise checks: right answers in both frameworks pass; wrong ones say why in one line."""
import numpy as np
import pytest
import tensorflow as tf
import torch

import course_utils as cu
from course_utils.check import core
from check_support import add_giveaways, first_try, one_line  # noqa: F401 (first_try: autouse)
from course_utils.check.lesson05 import BCE_P, BCE_Y, LOGITS_Y, LOGITS_Z


add_giveaways("5.1", ["with_logits"])
add_giveaways("5.2", ["with_logits"])
add_giveaways("5.3", ["squeeze("])
P32, Y32 = BCE_P.astype(np.float32), BCE_Y.astype(np.float32)
Z32, ZY32 = LOGITS_Z.astype(np.float32), LOGITS_Y.astype(np.float32)


def bce_pt(p, y):
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p))


def bce_tf(p, y):
    return -(y * tf.math.log(p) + (1 - y) * tf.math.log(1 - p))


# --- 5.1 ---------------------------------------------------------------------------------------
def test_correct_bce_right_in_both():
    p, y = torch.from_numpy(P32), torch.from_numpy(Y32)
    assert cu.check.correct_bce(bce_pt(p.squeeze(-1), y).mean(), quiet=True)
    assert cu.check.correct_bce(tf.reduce_mean(bce_tf(tf.squeeze(P32, -1), Y32)), quiet=True)
    assert cu.check.correct_bce(torch.nn.functional.binary_cross_entropy(p.squeeze(-1), y), quiet=True)
    # float64, as the exercise's NumPy data are: right too
    p64, y64 = torch.from_numpy(BCE_P), torch.from_numpy(BCE_Y)
    assert cu.check.correct_bce(bce_pt(p64.squeeze(-1), y64).mean(), quiet=True)
    assert cu.check.correct_bce(tf.keras.losses.BinaryCrossentropy()(Y32, tf.squeeze(P32, -1)), quiet=True)


@pytest.mark.parametrize("answer, words", [
    (float(bce_pt(torch.from_numpy(P32[:, 0]), torch.from_numpy(Y32)).mean()), "a float, not a tensor"),
    (bce_pt(torch.from_numpy(P32[:, 0]), torch.from_numpy(Y32)).mean().numpy(), "NumPy array, not a tensor"),
    (np.float64(0.4389), "not a tensor"),
    (torch.nn.BCELoss(), "forget to call it"),
    (tf.keras.losses.BinaryCrossentropy(), "forget to call it"),
    (bce_pt(torch.from_numpy(P32[:, 0]), torch.from_numpy(Y32)).sum(), "the sum"),
])
def test_correct_bce_refuses_what_a_framework_did_not_compute(answer, words):
    verdict = cu.check.correct_bce(answer, quiet=True)
    assert not verdict and words in one_line(verdict)


@pytest.mark.parametrize("answer, words", [
    (..., "not attempted yet"),
    (None, "is None"),
    ([0.5], "a list"),
    (bce_pt(torch.from_numpy(P32), torch.from_numpy(Y32)), "(4, 4)"),           # the broadcast, unreduced
    (bce_pt(torch.from_numpy(P32), torch.from_numpy(Y32)).mean(), "broadcast"),  # the planted bug
    (bce_pt(torch.from_numpy(P32[:, 0]), torch.from_numpy(Y32)), "take the mean"),
    (-bce_pt(torch.from_numpy(P32[:, 0]), torch.from_numpy(Y32)).mean(), "sign"),
    (torch.tensor(float("nan")), "NaN"),
    (torch.tensor(3), "dtype int64"),
    (tf.constant(0.1), "different values"),
])
def test_correct_bce_wrong(answer, words):
    verdict = cu.check.correct_bce(answer, quiet=True)
    assert not verdict
    assert words in one_line(verdict)


# --- 5.2 ---------------------------------------------------------------------------------------
def test_stable_bce_right_in_both():
    z, y = torch.from_numpy(Z32), torch.from_numpy(ZY32)
    assert cu.check.stable_bce(torch.nn.functional.binary_cross_entropy_with_logits(z, y), quiet=True)
    assert cu.check.stable_bce(tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=ZY32, logits=Z32)), quiet=True)
    assert cu.check.stable_bce(tf.reduce_mean(tf.nn.softplus(Z32) - ZY32 * Z32), quiet=True)
    assert cu.check.stable_bce(torch.nn.BCEWithLogitsLoss()(torch.from_numpy(LOGITS_Z), torch.from_numpy(LOGITS_Y)),
                               quiet=True)  # float64


def test_stable_bce_spots_the_naive_and_the_clamped_loss():
    p = torch.sigmoid(torch.from_numpy(Z32))
    naive = bce_pt(p, torch.from_numpy(ZY32)).mean()
    assert "not finite" in one_line(cu.check.stable_bce(naive, quiet=True))
    clamped = bce_pt(p.clamp(1e-7, 1 - 1e-7), torch.from_numpy(ZY32)).mean()
    assert "clamp" in one_line(cu.check.stable_bce(clamped, quiet=True))
    per_example = torch.nn.functional.binary_cross_entropy_with_logits(torch.from_numpy(Z32), torch.from_numpy(ZY32),
                                                                       reduction="none")
    assert "one number" in one_line(cu.check.stable_bce(per_example, quiet=True))


@pytest.mark.parametrize("answer, words", [
    (None, "is None"), ("48.15", "a str"), (tf.constant(1.0), "different values"), (tf.constant(np.inf), "not finite"),
    (np.array(np.inf), "NumPy array, not a tensor"),
    (float(torch.nn.functional.binary_cross_entropy_with_logits(torch.from_numpy(Z32), torch.from_numpy(ZY32))),
     "a float, not a tensor"),
    (torch.nn.BCEWithLogitsLoss(), "forget to call it"),
])
def test_stable_bce_wrong(answer, words):
    verdict = cu.check.stable_bce(answer, quiet=True)
    assert not verdict and words in one_line(verdict)


# --- 5.3 ---------------------------------------------------------------------------------------
def test_first_bad_layer_right():
    assert cu.check.first_bad_layer("block3", quiet=True)
    assert cu.check.first_bad_layer(" Block3 ", quiet=True)


@pytest.mark.parametrize("answer, words", [
    (..., "not attempted yet"),
    (None, "is None"),
    ("block4", "passes on"),
    ("block1", "finite"),
    ("relu", "not one of the model's layers"),
    (3, "expected the layer's name as a string"),
    (torch.nn.Linear(2, 2), "as a string"),
    (tf.keras.layers.Dense(2, name="block3"), "'block3'"),
    ("block2", "finite for every input"),
])
def test_first_bad_layer_wrong(answer, words):
    verdict = cu.check.first_bad_layer(answer, quiet=True)
    assert not verdict and words in one_line(verdict)


def test_check_prints_one_line(capsys):
    cu.check.first_bad_layer("block3")
    assert capsys.readouterr().out.startswith("Exercise 5.3 — correct.")


def test_first_bad_layer_right_alternatives():
    """5.3: the name as the loop found it (a NumPy string, in capitals) is right too."""
    assert cu.check.first_bad_layer(np.str_("block3"), quiet=True)
    assert cu.check.first_bad_layer("BLOCK3", quiet=True)
