"""The 14_sequences_attention exercise checks: right answers in either framework pass; plausible mistakes are
named in at most 2 lines of 100 columns."""
import keras
import numpy as np
import pytest
import tensorflow as tf
import torch

import course_utils as cu
from course_utils.lessons import porting
from check_support import first_try, one_line  # noqa: F401 (first_try is autouse)
from course_utils.check.lesson14 import (GRU_PARAMS, LSTM_LR, LSTM_X, LSTM_Y, MASK_STEPS, PAD, exercise_lstm)


def short(verdict):
    """The verdict's diagnosis, joined (check_support holds the message rules on every verdict)."""
    text = one_line(verdict)
    assert "Traceback" not in text
    return text


# --- 14.1 one LSTM step as Keras takes it -------------------------------------------------------

def step(model, lr=LSTM_LR, freeze=True, steps=1, reduction="mean", lengths_of=None):
    if freeze:
        model.rnn.bias_hh_l0.requires_grad_(False)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(LSTM_X)), torch.from_numpy(LSTM_Y),
                                                 reduction=reduction)
        loss.backward()
        optimizer.step()
    return model


def keras_step_weights():
    """The reference, computed by Keras itself: one SGD step on the one-bias LSTM."""
    from course_utils.check.lesson14 import LSTM_KERAS
    inputs = keras.Input(shape=(5, 3))
    model = keras.Model(inputs, keras.layers.Dense(3)(keras.layers.LSTM(4)(inputs)))
    model.set_weights(LSTM_KERAS)
    with tf.GradientTape() as tape:
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(LSTM_Y, model(LSTM_X))
    grads = tape.gradient(loss, model.trainable_variables)
    keras.optimizers.SGD(learning_rate=LSTM_LR).apply_gradients(zip(grads, model.trainable_variables))
    return model.get_weights()


def test_lstm_right_answer_really_matches_keras():
    model = step(exercise_lstm())
    ported = porting.lstm_to_keras(*[p.detach().numpy() for p in model.rnn.parameters()])
    ported += [model.fc.weight.detach().numpy().T, model.fc.bias.detach().numpy()]
    for a, b in zip(ported, keras_step_weights()):
        assert np.abs(a - b).max() < 1e-5


def test_lstm_right_alternatives():
    assert cu.check.lstm_one_step(step(exercise_lstm()), quiet=True)            # b_hh frozen
    model = exercise_lstm()                                                      # b_hh left out of the optimizer
    optimizer = torch.optim.SGD([p for n, p in model.named_parameters() if n != "rnn.bias_hh_l0"], lr=LSTM_LR)
    torch.nn.CrossEntropyLoss()(model(torch.from_numpy(LSTM_X)), torch.from_numpy(LSTM_Y)).backward()
    optimizer.step()
    assert cu.check.lstm_one_step(model, quiet=True)
    model = exercise_lstm()                                                      # by hand, no optimizer
    torch.nn.CrossEntropyLoss()(model(torch.from_numpy(LSTM_X)), torch.from_numpy(LSTM_Y)).backward()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name != "rnn.bias_hh_l0":
                p -= LSTM_LR * p.grad
    assert cu.check.lstm_one_step(model, quiet=True)


@pytest.mark.parametrize("make, words", [
    (lambda: exercise_lstm(), "before the step"),
    (lambda: step(exercise_lstm(), freeze=False), "both torch biases"),
    (lambda: step(exercise_lstm(), steps=2), "two steps"),
    (lambda: step(exercise_lstm(), lr=0.05), "0.1× Keras' step"),
    (lambda: step(exercise_lstm(), reduction="sum"), "6× Keras' step"),
    (lambda: torch.optim.SGD(exercise_lstm().parameters(), lr=0.5), "expected the torch model"),
    (lambda: torch.nn.LSTM(3, 4), "not the exercise's classifier"),
    (lambda: keras.layers.LSTM(4), "a Keras object"),
    (lambda: None, "is None"),
    (lambda: ..., "not attempted yet"),
])
def test_lstm_wrong(make, words):
    verdict = cu.check.lstm_one_step(make(), quiet=True)
    assert not verdict
    assert words in short(verdict)


def test_lstm_b_hh_moved_by_hand_is_named():
    model = step(exercise_lstm())
    with torch.no_grad():
        model.rnn.bias_hh_l0 += 0.1
    verdict = cu.check.lstm_one_step(model, quiet=True)
    assert not verdict and "no longer zero" in short(verdict)


# --- 14.2 port a GRU ---------------------------------------------------------------------------

def reorder(rows):
    r, z, n = np.split(rows, 3)
    return np.concatenate([z, r, n])


w_ih, w_hh, b_ih, b_hh = GRU_PARAMS
RIGHT = [reorder(w_ih).T, reorder(w_hh).T, np.stack([reorder(b_ih), reorder(b_hh)])]


def test_gru_right_answer_really_matches_torch():
    gru = torch.nn.GRU(3, 2, batch_first=True)
    with torch.no_grad():
        for p, a in zip(gru.parameters(), GRU_PARAMS):
            p.copy_(torch.from_numpy(a))
    layer = keras.layers.GRU(2)
    x = np.random.default_rng(0).normal(size=(4, 5, 3)).astype(np.float32)
    layer(x)
    layer.set_weights(RIGHT)
    with torch.no_grad():
        _, h = gru(torch.from_numpy(x))
    assert np.abs(h[-1].numpy() - np.asarray(layer(x))).max() < 1e-5


def test_gru_right_alternatives():
    assert cu.check.gru_port(RIGHT, quiet=True)
    assert cu.check.gru_port(tuple(torch.from_numpy(np.ascontiguousarray(a)) for a in RIGHT), quiet=True)
    assert cu.check.gru_port([tf.constant(a) for a in RIGHT], quiet=True)
    layer = keras.layers.GRU(2)
    layer.build((None, 5, 3))
    layer.set_weights(RIGHT)
    assert cu.check.gru_port(layer, quiet=True)
    assert cu.check.gru_port(porting.gru_to_keras(*GRU_PARAMS), quiet=True)


@pytest.mark.parametrize("answer, words", [
    ([w_ih.T, w_hh.T, np.stack([b_ih, b_hh])], "gates still in torch's order"),
    ([w_ih, w_hh, np.stack([b_ih, b_hh])], "still has torch's shape"),
    ([RIGHT[0], RIGHT[1], reorder(b_ih) + reorder(b_hh)], "Do not add them"),
    ([RIGHT[0], RIGHT[1], np.concatenate([reorder(b_ih), reorder(b_hh)])], "stacked, shape (2, 6)"),
    ([RIGHT[0], RIGHT[1], np.stack([b_ih, b_hh])], "the biases need the same gate reorder"),
    ([w_ih.T, w_hh.T, RIGHT[2]], "the kernels need the same gate reorder"),
    ([RIGHT[0], RIGHT[1], RIGHT[2][::-1]], "bias rows are swapped"),
    ([RIGHT[1], RIGHT[0], RIGHT[2]], "swapped"),
    (RIGHT[:2], "holds 2 items"),
    (np.stack([RIGHT[2]] * 3), "expected [kernel, recurrent_kernel, bias]"),
    ([RIGHT[0] + 1, RIGHT[1], RIGHT[2] + 1], "not the torch GRU"),
    ([np.full((3, 6), np.nan), RIGHT[1], RIGHT[2]], "NaN"),
    (None, "is None"),
])
def test_gru_wrong(answer, words):
    verdict = cu.check.gru_port(answer, quiet=True)
    assert not verdict
    assert words in short(verdict)


# --- 14.3 the attention mask -------------------------------------------------------------------

KEEP = ~PAD


def test_mask_right_answer_really_matches_torch():
    torch.manual_seed(0)
    mha_pt = torch.nn.MultiheadAttention(8, 2, batch_first=True)
    x = np.random.default_rng(1).normal(size=(3, MASK_STEPS, 8)).astype(np.float32)
    with torch.no_grad():
        out_pt, _ = mha_pt(*[torch.from_numpy(x)] * 3, key_padding_mask=torch.from_numpy(PAD))
    mha_tf = keras.layers.MultiHeadAttention(2, key_dim=4)
    mha_tf(x, x)
    mha_tf.set_weights(porting.mha_to_keras(*[p.detach().numpy() for p in (
        mha_pt.in_proj_weight, mha_pt.in_proj_bias, mha_pt.out_proj.weight, mha_pt.out_proj.bias)], num_heads=2))
    out_tf = mha_tf(x, x, attention_mask=np.broadcast_to(KEEP[:, None, :], (3, 8, 8)))
    assert np.abs(out_pt.numpy() - np.asarray(out_tf)).max() < 1e-5


def test_mask_right_alternatives():
    assert cu.check.attention_mask(np.broadcast_to(KEEP[:, None, :], (3, 8, 8)), quiet=True)
    assert cu.check.attention_mask(KEEP[:, None, :], quiet=True)                     # broadcasts
    assert cu.check.attention_mask((~torch.from_numpy(PAD))[:, None, :].expand(3, 8, 8), quiet=True)
    assert cu.check.attention_mask(tf.broadcast_to(tf.logical_not(PAD)[:, None, :], (3, 8, 8)), quiet=True)
    assert cu.check.attention_mask(KEEP[:, None, :].astype(np.int32), quiet=True)  # 0/1 integers


@pytest.mark.parametrize("answer, words", [
    (np.broadcast_to(PAD[:, None, :], (3, 8, 8)), "invert the mask"),
    (PAD, "key_padding_mask shape"),
    (KEEP, "key_padding_mask shape"),
    (np.broadcast_to(KEEP[:, :, None], (3, 8, 8)), "padded *queries*"),
    (np.where(PAD, -np.inf, 0.0)[:, None, :], "additive float mask"),
    (np.broadcast_to(KEEP[:, None, :], (3, 8, 8)) & np.tril(np.ones((8, 8), bool)), "causal"),
    (np.ones((3, 8, 8), bool), "differs from torch's key_padding_mask"),
    (np.full((3, 8, 8), 0.5), "other than 0/1"),
    (np.ones((8, 8), bool), "expected (3, 8, 8)"),
    ("mask", "expected a NumPy array"),
    ([[True], [False, True]], "ragged"),
])
def test_mask_wrong(answer, words):
    verdict = cu.check.attention_mask(answer, quiet=True)
    assert not verdict
    assert words in short(verdict)


def test_check_prints_one_line(capsys):
    cu.check.attention_mask(KEEP[:, None, :])
    out = capsys.readouterr().out
    assert out.startswith("Exercise 14.3 — correct.") and len(out.splitlines()) <= 2
