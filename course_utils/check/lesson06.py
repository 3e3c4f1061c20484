"""Checks for the exercises of 06_devices.

Where an answer lives is read from the tensor itself (``.device``), without importing a framework:
the framework an answer comes from is already imported, and is found in ``sys.modules``.
"""
from __future__ import annotations

import sys
from typing import Any

import numpy as np

from ..base.arrays import framework_of, is_tensor_like
from .core import (Wrong, one_line, as_array, describe, device_type_name, expect_close, expect_float, expect_shape,
                   exercise)

# The inputs that exercises 6.1 and 6.3 hand out, written out here so the checks do not trust the cell.
DEVICE_X = (np.arange(12, dtype=np.float32).reshape(4, 3) / 4).astype(np.float32)
DEVICE_W = np.array([[1.0, -1.0], [0.5, 2.0], [-2.0, 0.0]], dtype=np.float32)


def expected_default_device(kind: str) -> str:
    """The default device type of an imported framework: ``"cuda"``/``"mps"``/``"cpu"`` or ``"GPU"``/``"CPU"``."""
    if kind == "torch":
        torch = sys.modules["torch"]
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        return "mps" if mps is not None and mps.is_available() else "cpu"
    tf = sys.modules["tensorflow"]
    return "GPU" if tf.config.list_physical_devices("GPU") else "CPU"


def _device_type(answer: Any, kind: str) -> str:
    if kind == "torch":
        return answer.device.type
    device = getattr(answer, "device", "") or ""
    return device.rsplit("device:", 1)[-1].split(":")[0]


@exercise("6.1", solution={
    "torch": "answer = torch.from_numpy(X).to(device_pt) @ torch.from_numpy(W).to(device_pt)",
    "tensorflow": "with tf.device(device_tf): answer = tf.constant(X) @ tf.constant(W)"})
def device_matmul(answer: Any) -> str:
    """DEVICE_X @ DEVICE_W computed on the framework's default device, still a tensor there."""
    kind = framework_of(answer)
    if isinstance(answer, np.ndarray):
        raise Wrong("your answer is a NumPy array: host memory, not a device. "
                    "Hint: hand in the framework's tensor, unconverted.")
    if kind == "torch" and getattr(getattr(answer, "device", None), "type", "") == "meta":
        raise Wrong("your answer lives on the meta device: shapes, no values. "
                    "Hint: the default device (pt_utils.default_device()).")
    arr = as_array(answer, numpy=False)
    expect_shape(arr, (4, 2), hint="X is (4, 3) and W is (3, 2): X @ W, not W @ X.")
    expect_float(arr, hint="build the tensors from the NumPy arrays as they are.")
    expect_close(arr, DEVICE_X @ DEVICE_W, hint="compute X @ W (a matrix product, not X * W).")
    want, found = expected_default_device(kind), _device_type(answer, kind)
    if found != want:
        where = "device=device / .to(device)" if kind == "torch" else "with tf.device(device):"
        raise Wrong(f"the values are right but the result lives on {found}, not on the default "
                    f"device ({want}). Hint: {where}.")
    return f"It lives on {found}, the default device of {kind} here."


@exercise("6.2", accepts=("torch",), solution={"torch": (
    "t = torch.ones(3)\n"
    "lin = torch.nn.Linear(3, 1)\n"
    "t.to(\"meta\")    # returns a new tensor: t itself stays put\n"
    "lin.to(\"meta\")  # moves the module's parameters in place\n"
    "answer = (t.device.type, lin.weight.device.type)")})
def to_is_not_in_place(answer: Any) -> str:
    """After ``t.to("meta")`` and ``lin.to("meta")``: (t's device type, lin.weight's device type), as a
    tuple or list of two strings or ``torch.device`` objects."""
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        raise Wrong(f"your answer is {describe(answer)}; expected a pair of device types: (t's, lin.weight's).")
    items = [device_type_name(a) for a in answer]
    if not all(isinstance(a, str) for a in items):
        raise Wrong("both items should be device types such as \"cpu\" or \"meta\" (a string or a torch.device). "
                    "Hint: a tensor's .device.type.")
    t_dev, lin_dev = items
    if (t_dev, lin_dev) == ("meta", "meta"):
        raise Wrong("t is still on cpu: tensor.to() returns a new tensor and leaves t where it was; "
                    "only a module's .to() moves in place.")
    if (t_dev, lin_dev) == ("cpu", "cpu"):
        raise Wrong("lin did move: nn.Module.to() moves the parameters in place. "
                    "Only tensor.to() returns a copy and leaves the original alone.")
    if (t_dev, lin_dev) == ("meta", "cpu"):
        raise Wrong("it is the other way round: the tensor stays, the module moves.")
    if (t_dev, lin_dev) != ("cpu", "meta"):
        raise Wrong(f"{one_line(repr(answer), 50)} is not it. Hint: print both devices after the two calls.")
    return "x = x.to(device) must be assigned; model.to(device) need not be."


@exercise("6.3", accepts=("tensorflow",), solution={"tensorflow": (
    "parts = []\n"
    "for i in range(2):\n"
    "    with tf.device(f\"/CPU:{i}\"):\n"
    "        parts.append(tf.constant(X[2 * i:2 * i + 2]) @ tf.constant(W))\n"
    "answer = parts")})
def split_over_logical_cpus(answer: Any) -> str:
    """[rows 0-1 of X @ W computed on /CPU:0, rows 2-3 computed on /CPU:1], as TensorFlow tensors."""
    if not isinstance(answer, (list, tuple)) or len(answer) != 2:
        raise Wrong(f"your answer is {describe(answer)}; expected a list of two tensors "
                    "[part_0, part_1], one per logical CPU.")
    if any(framework_of(part) != "tensorflow" or not is_tensor_like(part) for part in answer):
        raise Wrong("both parts should be TensorFlow tensors: logical CPUs are a TensorFlow feature "
                    "(torch has one CPU device).")
    expected = DEVICE_X @ DEVICE_W
    for i, part in enumerate(answer):
        arr = as_array(part, what=f"part {i}")
        expect_shape(arr, (2, 2), what=f"part {i}", hint=f"part {i} is rows {2 * i}-{2 * i + 1} of X, times W.")
        expect_float(arr, what=f"part {i}")
        expect_close(arr, expected[2 * i:2 * i + 2], what=f"part {i}",
                     hint=f"X[{2 * i}:{2 * i + 2}] @ W.")
    devices = ["/" + part.device.rsplit("device:", 1)[-1] for part in answer]
    if devices != ["/CPU:0", "/CPU:1"]:
        raise Wrong(f"the values are right but the parts ran on {devices[0]} and {devices[1]}, not /CPU:0 and /CPU:1. "
                    "Hint: one tf.device block per part.")
    return ("Each half was multiplied on its own logical device; logical CPUs share host memory, so "
            "nothing had to be copied between them.")
