"""Checks for the exercises of 14_sequences_attention: one LSTM step as Keras takes it, port a GRU, fix a mask.

The exercises' inputs live here, so a check never trusts the learner's cell. Framework-free at import:
``exercise_lstm`` and ``lstm_one_step`` import torch only when called (the learner already has).
"""
from __future__ import annotations

import sys
from typing import Any

import numpy as np

from ..lessons import porting
from ..base.arrays import framework_of
from .core import Wrong, as_array, describe, expect_finite, exercise

_rng = np.random.default_rng(14)

# Exercise 14.1: a Keras LSTM(4) classifier over 5 steps of 3 features, 3 classes, ported to torch (b_hh = 0).
LSTM_FEATURES, LSTM_HIDDEN, LSTM_CLASSES, LSTM_LR = 3, 4, 3, 0.5
LSTM_KERAS = [_rng.normal(0, 0.5, size=s).astype(np.float32) for s in ((3, 16), (4, 16), (16,), (4, 3), (3,))]
LSTM_X = _rng.normal(size=(6, 5, 3)).astype(np.float32)
LSTM_Y = np.array([0, 1, 2, 0, 1, 2], dtype=np.int64)

# Exercise 14.2: a torch nn.GRU(3, 2): weight_ih (6, 3), weight_hh (6, 2), bias_ih (6,), bias_hh (6,); gates r, z, n.
GRU_PARAMS = [_rng.normal(size=s).round(2).astype(np.float32) for s in ((6, 3), (6, 2), (6,), (6,))]

# Exercise 14.3: 3 sequences padded to 8 steps; torch's key_padding_mask is True at the padded steps.
MASK_LENGTHS = (8, 5, 3)
MASK_STEPS = 8
PAD = np.arange(MASK_STEPS)[None, :] >= np.array(MASK_LENGTHS)[:, None]


def exercise_lstm() -> Any:
    """A fresh torch LSTM classifier (``rnn``: ``nn.LSTM(3, 4, batch_first=True)``, ``fc``: ``nn.Linear(4, 3)``)
    holding ``LSTM_KERAS`` ported with ``porting.lstm_to_torch`` (so ``bias_hh_l0`` is zero)."""
    import torch
    from torch import nn

    class LSTMClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.LSTM(LSTM_FEATURES, LSTM_HIDDEN, batch_first=True)
            self.fc = nn.Linear(LSTM_HIDDEN, LSTM_CLASSES)

        def forward(self, x):
            _, (h, _) = self.rnn(x)
            return self.fc(h[-1])

    model = LSTMClassifier()
    arrays = porting.lstm_to_torch(*LSTM_KERAS[:3]) + [LSTM_KERAS[3].T, LSTM_KERAS[4]]
    with torch.no_grad():
        for p, a in zip(model.parameters(), arrays):
            p.copy_(torch.from_numpy(np.ascontiguousarray(a)))
    return model


def _stepped(freeze: bool, steps: int = 1, lr: float = LSTM_LR) -> list[np.ndarray]:
    """The exercise model's parameters after ``steps`` SGD steps (mean cross-entropy), b_hh frozen or not."""
    import torch

    model = exercise_lstm()
    model.rnn.bias_hh_l0.requires_grad_(not freeze)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(torch.from_numpy(LSTM_X)), torch.from_numpy(LSTM_Y)).backward()
        optimizer.step()
    return [p.detach().numpy().copy() for p in model.parameters()]


def _close(a: list[np.ndarray], b: list[np.ndarray], atol: float = 1e-5) -> bool:
    return all(x.shape == y.shape and np.allclose(x, y, atol=atol) for x, y in zip(a, b))


@exercise("14.1", accepts=("torch",), framework=lambda answer: "torch", solution={"torch": (
    "model_pt.rnn.bias_hh_l0.requires_grad_(False); "
    "optimizer = torch.optim.SGD([p for p in model_pt.parameters() if p.requires_grad], lr=0.5); "
    "nn.CrossEntropyLoss()(model_pt(torch.from_numpy(X_ex)), torch.from_numpy(y_ex)).backward(); "
    "optimizer.step(); answer = model_pt")})
def lstm_one_step(answer: Any) -> str:
    """The exercise's torch LSTM classifier after one SGD step (lr 0.5, mean cross-entropy on LSTM_X, LSTM_Y)
    that matches Keras' step: ``bias_hh_l0`` stays at zero."""
    if framework_of(answer) == "tensorflow":
        raise Wrong("that is a Keras object; the exercise is about torch's two biases: hand in the torch model.")
    torch = sys.modules.get("torch")
    if torch is None or not isinstance(answer, torch.nn.Module):
        raise Wrong(f"your answer is {describe(answer)[:40]}; expected the torch model (model_pt) after one step.")
    names = [n for n, _ in answer.named_parameters()]
    if names != ["rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0", "fc.weight", "fc.bias"]:
        raise Wrong("that is not the exercise's classifier (rnn + fc): hand in the exercise's model_pt.")
    got = [p.detach().cpu().float().numpy() for p in answer.parameters()]
    for arr in got:
        expect_finite(arr, "a parameter of your model")
    start, right = [p.detach().numpy() for p in exercise_lstm().parameters()], _stepped(freeze=True)
    if _close(got, right):
        return "bias_hh_l0 stayed at 0, so the gates' bias moved as Keras' one bias does."
    if _close(got, start, atol=1e-8):
        raise Wrong("the weights are those before the step: the optimizer has not stepped yet.")
    if _close(got, _stepped(freeze=False)):
        raise Wrong("both torch biases took the step: their sum moved twice as far as Keras' bias. Freeze bias_hh_l0.")
    if _close(got, _stepped(freeze=True, steps=2)) or _close(got, _stepped(freeze=False, steps=2)):
        raise Wrong("that is two steps (the cell ran twice?): re-run the cell that makes model_pt, then step once.")
    if abs(float(got[3].std())) > 1e-8 or np.abs(got[3]).max() > 1e-8:
        raise Wrong("bias_hh_l0 is no longer zero: keep it at 0 (Keras' one bias lives in bias_ih_l0).")
    moved, expected = np.concatenate([(g - s).ravel() for g, s in zip(got, start)]), \
        np.concatenate([(r - s).ravel() for r, s in zip(right, start)])
    scale = float(moved @ expected / (expected @ expected))
    if abs(scale - 1) > 1e-3 and np.allclose(moved, scale * expected, atol=1e-5):
        raise Wrong(f"the step is {scale:.3g}× Keras' step: use lr = 0.5 and the mean loss, as Keras does.")
    raise Wrong("that differs from Keras' step: plain SGD, lr = 0.5, mean cross-entropy, bias_hh_l0 kept at 0.")


def _gru_keras() -> list[np.ndarray]:
    return porting.gru_to_keras(*GRU_PARAMS)


def _gru_arrays(answer: Any) -> list[np.ndarray]:
    """The answer as [kernel, recurrent_kernel, bias]: a list/tuple of 3 arrays, or a Keras layer holding them."""
    if framework_of(answer) == "tensorflow" and hasattr(answer, "get_weights"):
        answer = answer.get_weights()
        if not answer:
            raise Wrong("that Keras layer has no weights yet: build it, then set_weights.")
    if not isinstance(answer, (list, tuple)):
        raise Wrong(f"your answer is {describe(answer)[:30]}; expected [kernel, recurrent_kernel, bias].")
    if len(answer) != 3:
        raise Wrong(f"your answer holds {len(answer)} items; expected 3: [kernel, recurrent_kernel, bias (2, 6)].")
    return [as_array(a, what=f"item {i + 1} of your answer") for i, a in enumerate(answer)]


@exercise("14.2", accepts=("torch", "tensorflow", "any"), solution={
    "any": ("def to_keras_gates(rows):\n"
            "    r, z, n = np.split(rows, 3)\n"
            "    return np.concatenate([z, r, n])\n\n\n"
            "answer = [to_keras_gates(w_ih).T, to_keras_gates(w_hh).T,\n"
            "          np.stack([to_keras_gates(b_ih_ex), to_keras_gates(b_hh_ex)])]"),
    "torch": ("def move(t):\n"
              "    r, z, n = t.chunk(3)\n"
              "    return torch.cat([z, r, n])\n\n\n"
              "w_ih_pt, w_hh_pt, b_ih_pt, b_hh_pt = (torch.from_numpy(a) for a in (w_ih, w_hh, b_ih_ex, b_hh_ex))\n"
              "answer = [move(w_ih_pt).T, move(w_hh_pt).T, torch.stack([move(b_ih_pt), move(b_hh_pt)])]"),
    "tensorflow": ("def move(t):\n"
                   "    r, z, n = tf.split(t, 3)\n"
                   "    return tf.concat([z, r, n], 0)\n\n\n"
                   "answer = [tf.transpose(move(w_ih)), tf.transpose(move(w_hh)),\n"
                   "          tf.stack([move(b_ih_ex), move(b_hh_ex)])]")})
def gru_port(answer: Any) -> str:
    """GRU_PARAMS (torch nn.GRU(3, 2), gates r, z, n) as Keras GRU(2, reset_after=True) weights:
    [kernel (3, 6), recurrent_kernel (2, 6), bias (2, 6)], gates z, r, h."""
    kernel, recurrent, bias = _gru_arrays(answer)
    w_ih, w_hh, b_ih, b_hh = GRU_PARAMS
    right = _gru_keras()
    if kernel.shape == w_ih.shape:
        raise Wrong("the kernel still has torch's shape (6, 3); Keras stores (I, 3H) = (3, 6).")
    if kernel.shape == (2, 6) and recurrent.shape == (3, 6):
        raise Wrong("kernel and recurrent_kernel are swapped: the input's kernel comes first.")
    if bias.shape in ((6,), (1, 6)):
        raise Wrong("the bias has 6 numbers: Keras' GRU keeps both biases, stacked (2, 6). Do not add them.")
    if bias.shape == (12,):
        raise Wrong("the biases were concatenated (12,); Keras wants them stacked, shape (2, 6).")
    for arr, want, name in zip((kernel, recurrent, bias), right, ("kernel", "recurrent_kernel", "bias")):
        if arr.shape != want.shape:
            raise Wrong(f"{name} has shape {arr.shape}, expected {want.shape}.")
        expect_finite(arr, name)
    got = [kernel, recurrent, bias]
    if _close(got, right):
        return "gates r, z, n → z, r, h, transposed; the two biases stacked (2, 3H)."
    naive = [w_ih.T, w_hh.T, np.stack([b_ih, b_hh])]
    if _close(got, naive):
        raise Wrong("transposed only: gates still in torch's order r, z, n; Keras reads z, r, h.")
    if _close(got[:2], right[:2]) and _close([got[2][::-1]], [right[2]]):
        raise Wrong("the two bias rows are swapped: row 0 is b_ih (input), row 1 b_hh (recurrent).")
    if _close(got[:2], right[:2]):
        raise Wrong("kernels right; the biases need the same gate reorder (z, r, h).")
    if _close(got[2:], right[2:]):
        raise Wrong("the biases are right; the kernels need the same gate reorder, then .T.")
    raise Wrong("not the torch GRU in Keras' layout. Hint: gates r, z, n → z, r, h, transpose, stack the biases.")


@exercise("14.3", accepts=("torch", "tensorflow", "any"), solution={
    "any": "answer = np.broadcast_to(~pad[:, None, :], (3, 8, 8))  # (batch, query, key), True = attend",
    "torch": "answer = (~torch.from_numpy(pad))[:, None, :].expand(3, 8, 8)",
    "tensorflow": "answer = tf.broadcast_to(tf.logical_not(pad)[:, None, :], (3, 8, 8))"})
def attention_mask(answer: Any) -> str:
    """The Keras ``attention_mask`` (batch, query, key), True = attend, equivalent to torch's
    ``key_padding_mask=PAD`` (True = ignore that key); (3, 1, 8) broadcasts and is accepted."""
    if isinstance(answer, (list, tuple)):
        try:
            answer = np.asarray(answer)
        except ValueError:
            raise Wrong("your list is ragged: its rows differ in length; expected a (3, 8, 8) mask.") from None
    arr = as_array(answer, tensor=False)
    keep = ~PAD
    if arr.dtype.kind == "f" and (np.isinf(arr).any() or (arr < 0).any()):
        raise Wrong("that is an additive float mask (0 / -inf); Keras wants booleans, True = may attend.")
    expect_finite(arr)
    if arr.dtype.kind not in "biuf" or not np.isin(arr, (0, 1)).all():
        raise Wrong(f"your mask holds {arr.dtype.name} values other than 0/1; expected booleans (True = attend).")
    arr = arr.astype(bool)
    if arr.shape == PAD.shape:
        raise Wrong("(3, 8) is torch's key_padding_mask shape; Keras wants (batch, query, key).")
    if arr.ndim != 3 or arr.shape[0] != 3 or arr.shape[2] != MASK_STEPS or arr.shape[1] not in (1, MASK_STEPS):
        raise Wrong(f"your mask has shape {arr.shape}; expected (3, 8, 8) (batch, query, key).")
    full = np.broadcast_to(arr, (3, MASK_STEPS, MASK_STEPS))
    want = np.broadcast_to(keep[:, None, :], full.shape)
    if np.array_equal(full, want):
        return "Keras' True = attend; torch's key_padding_mask True = ignore: inverted, per key."
    if np.array_equal(full, ~want):
        raise Wrong("that is torch's meaning (True = ignore); in Keras True = may attend: invert the mask.")
    if np.array_equal(full, np.broadcast_to(keep[:, :, None], full.shape)):
        raise Wrong("the mask blocks padded *queries*; the padding is on the last axis (key).")
    if np.array_equal(full, want & np.tril(np.ones((MASK_STEPS, MASK_STEPS), bool))):
        raise Wrong("that adds a causal mask; the torch call had only a key padding mask.")
    raise Wrong("the mask differs from torch's key_padding_mask: True where the key (last axis) is real.")
