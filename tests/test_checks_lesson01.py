"""The 01_tensors exercise checks: right answers in both frameworks pass; wrong ones say why in one line."""
import numpy as np
import pytest
import tensorflow as tf
import torch

import course_utils as cu
from course_utils.check import core
from check_support import first_try, one_line  # noqa: F401 (first_try: autouse)
from course_utils.check.lesson01 import STANDARDIZE_X


RIGHT_1_1 = [torch.arange(12, dtype=torch.float32).reshape(3, 4),
             tf.reshape(tf.range(12, dtype=tf.float32), (3, 4)),
             torch.arange(0.0, 12.0).view(3, 4),                      # a float range is float32 already
             tf.Variable(tf.reshape(tf.range(12.0), (3, 4)))]


@pytest.mark.parametrize("answer", RIGHT_1_1, ids=["torch", "tf", "torch-float-range", "tf-variable"])
def test_arange_matrix_right(answer):
    assert cu.check.arange_matrix(answer, quiet=True)


@pytest.mark.parametrize("answer, words", [
    (..., "not attempted yet"),
    (None, "is None"),
    ([[0, 1, 2, 3]], "a list"),
    (torch.arange(12).reshape(3, 4), "dtype int64"),
    (tf.reshape(tf.range(12), (3, 4)), "dtype int32"),
    (torch.arange(12, dtype=torch.float32).reshape(4, 3), "shape (4, 3)"),
    (torch.full((3, 4), float("nan")), "NaN"),
    (tf.ones((3, 4)), "different values"),
    ("0..11", "a str"),
    (np.arange(12, dtype=np.float32).reshape(3, 4), "NumPy array, not a tensor"),
    (torch.arange(12, dtype=torch.float32).reshape(4, 3).T, "run down the columns"),
    (torch.arange(12, dtype=torch.float64).reshape(3, 4), "dtype float64"),
    (torch.arange(12, dtype=torch.float32), "shape (12,)"),
])
def test_arange_matrix_wrong(answer, words):
    verdict = cu.check.arange_matrix(answer, quiet=True)
    assert not verdict
    assert words in one_line(verdict)


def test_not_attempted_status():
    assert cu.check.arange_matrix(..., quiet=True).status == "not attempted"


def standardized(ddof=0, axis=0):
    X = STANDARDIZE_X.astype(np.float64)
    return ((X - X.mean(axis, keepdims=True)) / X.std(axis, ddof=ddof, keepdims=True)).astype(np.float32)


def test_standardize_right_in_both():
    X_pt, X_tf = torch.tensor(STANDARDIZE_X), tf.constant(STANDARDIZE_X)
    assert cu.check.standardize_columns((X_pt - X_pt.mean(dim=0)) / X_pt.std(dim=0, correction=0), quiet=True)
    assert cu.check.standardize_columns((X_tf - tf.reduce_mean(X_tf, axis=0)) / tf.math.reduce_std(X_tf, axis=0), quiet=True)


def test_standardize_spots_torch_unbiased_std():
    X = torch.tensor(STANDARDIZE_X)
    verdict = cu.check.standardize_columns((X - X.mean(dim=0)) / X.std(dim=0), quiet=True)
    assert "unbiased" in one_line(verdict) and "correction argument" in str(verdict)
    assert "correction=0" not in str(verdict), "the first try points, it does not hand out the code"


@pytest.mark.parametrize("answer, words", [
    (standardized(), "NumPy array, not a tensor"),
    (torch.tensor(STANDARDIZE_X - STANDARDIZE_X.mean(0)), "did not divide"),
    (torch.tensor((STANDARDIZE_X - STANDARDIZE_X.mean(0)) / STANDARDIZE_X.var(0)), "variance"),
    (tf.constant(standardized(axis=1)), "axis=0"),
    (torch.tensor(standardized(axis=1)), "dim=0"),
    (torch.tensor(standardized()).numpy().tolist(), "a list"),
])
def test_standardize_wrong(answer, words):
    verdict = cu.check.standardize_columns(answer, quiet=True)
    assert not verdict and words in one_line(verdict)


def test_standardize_accepts_float64_which_was_never_excluded():
    X = torch.tensor(STANDARDIZE_X, dtype=torch.float64)
    assert cu.check.standardize_columns((X - X.mean(0)) / X.std(0, correction=0), quiet=True)


def test_standardize_spots_rows_instead_of_columns():
    verdict = cu.check.standardize_columns(torch.tensor(standardized(axis=1)), quiet=True)
    assert "rows" in one_line(verdict)


def test_channel_axis_follows_the_framework():
    images = cu.load_digits().X_train[:5]
    assert cu.check.channel_axis(torch.tensor(images).unsqueeze(1), quiet=True)
    assert cu.check.channel_axis(tf.expand_dims(tf.constant(images), -1), quiet=True)
    wrong = cu.check.channel_axis(torch.tensor(images).unsqueeze(-1), quiet=True)
    assert "NCHW" in one_line(wrong)
    wrong = cu.check.channel_axis(tf.expand_dims(tf.constant(images), 1), quiet=True)
    assert "NHWC" in one_line(wrong)
    assert "NumPy array, not a tensor" in one_line(cu.check.channel_axis(images[:, None], quiet=True))


@pytest.mark.parametrize("answer, words", [
    (torch.tensor(cu.load_digits().X_train[:5]).unsqueeze(-1), "channels last (NHWC)"),
    (tf.expand_dims(tf.constant(cu.load_digits().X_train[:5]), 1), "channels first (NCHW)"),
    (torch.tensor(cu.load_digits().X_train[:5]), "no channel axis"),
    (torch.tensor(cu.load_digits().X_train[:5]).unsqueeze(1).double(), "dtype float64"),
    (torch.tensor(cu.load_digits().X_train[:5]).transpose(1, 2).unsqueeze(1), "different values"),
])
def test_channel_axis_wrong(answer, words):
    verdict = cu.check.channel_axis(answer, quiet=True)
    assert not verdict and words in one_line(verdict)


def test_check_prints_one_line(capsys):
    cu.check.arange_matrix(RIGHT_1_1[0])
    assert capsys.readouterr().out == "Exercise 1.1 — correct.\n"


def test_channel_axis_right_alternatives():
    """Other right forms of 1.3: indexing with None, reshape, a Keras-style tf.newaxis."""
    images = cu.load_digits().X_train[:5]
    assert cu.check.channel_axis(torch.from_numpy(images)[:, None], quiet=True)
    assert cu.check.channel_axis(torch.tensor(images).reshape(5, 1, 8, 8), quiet=True)
    assert cu.check.channel_axis(tf.constant(images)[..., tf.newaxis], quiet=True)
