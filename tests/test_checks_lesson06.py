"""The 06_devices exercise checks: right answers in both frameworks pass; wrong ones say why in one line."""
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
import torch

import course_utils as cu
from course_utils.check import core
from check_support import add_giveaways, first_try, one_line  # noqa: F401 (first_try: autouse)
from course_utils.check.lesson06 import DEVICE_W, DEVICE_X
from course_utils import pt_utils, tf_utils


add_giveaways("6.2", ["lin.weight.device.type)"])
# ---- 6.1 device_matmul ------------------------------------------------------------------------

def right_6_1_torch():
    device = pt_utils.default_device()
    return torch.tensor(DEVICE_X, device=device) @ torch.tensor(DEVICE_W, device=device)


def right_6_1_tf():
    with tf.device(tf_utils.default_device()):
        return tf.constant(DEVICE_X) @ tf.constant(DEVICE_W)


@pytest.mark.parametrize("make", [right_6_1_torch, right_6_1_tf], ids=["torch", "tf"])
def test_device_matmul_right(make):
    verdict = cu.check.device_matmul(make(), quiet=True)
    assert verdict, str(verdict)


def test_device_matmul_float64_was_never_excluded():
    device = pt_utils.default_device()
    X, W = torch.tensor(DEVICE_X, dtype=torch.float64, device=device), torch.tensor(DEVICE_W, dtype=torch.float64, device=device)
    assert cu.check.device_matmul(X @ W, quiet=True)


@pytest.mark.parametrize("answer, words", [
    (..., "not attempted yet"),
    (None, "is None"),
    ([[1.0, 2.0]], "a list"),
    (DEVICE_X @ DEVICE_W, "NumPy array"),
    (torch.tensor(DEVICE_W.T @ DEVICE_X.T), "shape (2, 4)"),
    (torch.tensor((DEVICE_X @ DEVICE_W).astype(np.int64)), "dtype int64"),
    ((DEVICE_X @ DEVICE_W).tolist(), "a list, not a tensor"),
    (torch.tensor(DEVICE_X) * torch.tensor(DEVICE_W[:, 0]), "shape (4, 3)"),
    (torch.full((4, 2), float("nan")), "NaN"),
    (tf.constant(DEVICE_X[:, :2] * DEVICE_W[:2].T[:, :2].sum(0)), "different values"),
    (torch.tensor(DEVICE_X @ DEVICE_W, device="meta"), "meta device"),
])
def test_device_matmul_wrong(answer, words):
    verdict = cu.check.device_matmul(answer, quiet=True)
    assert not verdict
    assert words in one_line(verdict)


def test_device_matmul_wrong_device(monkeypatch):
    """On a GPU machine, the typical mistake is a result left on the CPU: the check names both."""
    import course_utils.check.lesson06 as lesson06
    monkeypatch.setattr(lesson06, "expected_default_device", lambda kind: "cuda" if kind == "torch" else "GPU")
    for answer in (right_6_1_torch(), right_6_1_tf()):
        text = one_line(cu.check.device_matmul(answer, quiet=True))
        assert "values are right" in text and "not on the default device" in text


# ---- 6.2 to_is_not_in_place -------------------------------------------------------------------

def test_to_is_not_in_place_right():
    t, lin = torch.ones(3), torch.nn.Linear(3, 1)
    t.to("meta")
    lin.to("meta")
    assert cu.check.to_is_not_in_place((t.device.type, lin.weight.device.type), quiet=True)
    # the same answer in other reasonable containers and kinds
    assert cu.check.to_is_not_in_place([t.device.type, lin.weight.device.type], quiet=True)
    assert cu.check.to_is_not_in_place((t.device, lin.weight.device), quiet=True)
    assert cu.check.to_is_not_in_place(("CPU", str(lin.weight.device)), quiet=True)


@pytest.mark.parametrize("answer, words", [
    (..., "not attempted yet"),
    (None, "expected a pair of device types"),
    (("cpu",), "expected a pair"),
    ((1, 2), "should be device types"),
    ([torch.device("meta"), torch.device("cpu")], "other way round"),
    (("meta", "meta"), "returns a new tensor"),
    (("cpu", "cpu"), "moves the parameters in place"),
    (("meta", "cpu"), "other way round"),
    (("cuda", "meta"), "not it"),
])
def test_to_is_not_in_place_wrong(answer, words):
    verdict = cu.check.to_is_not_in_place(answer, quiet=True)
    assert not verdict
    assert words in one_line(verdict)


# ---- 6.3 split_over_logical_cpus --------------------------------------------------------------

RIGHT_6_3 = """
import tensorflow as tf, course_utils as cu
from course_utils.check.lesson06 import DEVICE_W, DEVICE_X
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
X, W = tf.constant(DEVICE_X), tf.constant(DEVICE_W)
parts = []
for i in range(2):
    with tf.device(f"/CPU:{i}"):
        parts.append(X[2 * i:2 * i + 2] @ W)
cu.check.split_over_logical_cpus(parts)
cu.check.split_over_logical_cpus(tuple(parts))  # a tuple is as right as a list
parts = []
for name in ("/CPU:0", "/device:CPU:1"):  # the long device name, tf.matmul on float64 copies
    with tf.device(name):
        k = len(parts)
        parts.append(tf.matmul(tf.cast(X[2 * k:2 * k + 2], tf.float64), tf.cast(W, tf.float64)))
cu.check.split_over_logical_cpus(parts)
"""


def test_split_over_logical_cpus_right():
    """Run in a fresh process: the CPU can be split only before TF's first op (not so in pytest)."""
    out = subprocess.run([sys.executable, "-c", RIGHT_6_3], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-500:]
    assert out.stdout.startswith("Exercise 6.3 — correct."), out.stdout
    assert out.stdout.count("Exercise 6.3 — correct.") == 3, out.stdout


def test_split_over_logical_cpus_same_device():
    X, W = tf.constant(DEVICE_X), tf.constant(DEVICE_W)
    with tf.device("/CPU:0"):
        parts = [X[:2] @ W, X[2:] @ W]
    text = one_line(cu.check.split_over_logical_cpus(parts, quiet=True))
    assert "values are right" in text and "/CPU:0 and /CPU:0" in text


@pytest.mark.parametrize("answer, words", [
    (..., "not attempted yet"),
    (None, "expected a list of two tensors"),
    (tf.constant(DEVICE_X @ DEVICE_W), "expected a list of two tensors"),
    ([torch.ones(2, 2), torch.ones(2, 2)], "should be TensorFlow tensors"),
    ([tf.ones((2, 2)), [1.0]], "should be TensorFlow tensors"),
    ([tf.constant(DEVICE_X @ DEVICE_W), tf.constant(DEVICE_X @ DEVICE_W)], "shape (4, 2)"),
    ([tf.constant((DEVICE_X[:2] @ DEVICE_W).astype(np.int32)), tf.ones((2, 2))], "dtype int32"),
    ([DEVICE_X[:2] @ DEVICE_W, DEVICE_X[2:] @ DEVICE_W], "should be TensorFlow tensors"),
    ([tf.fill((2, 2), float("nan")), tf.ones((2, 2))], "NaN"),
    ([tf.constant(DEVICE_X[2:] @ DEVICE_W), tf.constant(DEVICE_X[:2] @ DEVICE_W)], "different values"),
])
def test_split_over_logical_cpus_wrong(answer, words):
    verdict = cu.check.split_over_logical_cpus(answer, quiet=True)
    assert not verdict
    assert words in one_line(verdict)
