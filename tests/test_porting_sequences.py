"""The sequence converters of porting.py and port_weights for LSTM, GRU, multi-head attention, LayerNorm and
Embedding: random shapes, both directions, forward equal, and one SGD step equal (the LSTM's frozen b_hh).

Used in: 14_sequences_attention.
"""
from functools import partial

import keras
import numpy as np
import pytest
import tensorflow as tf
import torch
from torch import nn

from course_utils import CourseError, pt_utils, tf_utils
from course_utils.lessons import porting

import porting_support
from porting_support import max_diff

# smaller weights than test_porting's: recurrent cells saturate less
randomize_torch = partial(porting_support.randomize_torch, scale=0.3)
randomize_keras = partial(porting_support.randomize_keras, scale=0.3)

TOL = 1e-5


class RNNClassifier(nn.Module):
    """A recurrent layer reading (N, L, I), then a Linear on the last hidden state."""

    def __init__(self, kind, features, hidden, classes):
        super().__init__()
        self.rnn = getattr(nn, kind)(features, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, classes)

    def forward(self, x):
        _, state = self.rnn(x)
        h = state[0] if isinstance(state, tuple) else state     # LSTM: (h, c)
        return self.fc(h[-1])


def keras_rnn_classifier(kind, features, hidden, classes, steps, **options):
    inputs = keras.Input(shape=(steps, features))
    x = getattr(keras.layers, kind)(hidden, name="rnn", **options)(inputs)
    return keras.Model(inputs, keras.layers.Dense(classes, name="fc")(x))


class AttentionBlock(nn.Module):
    """Self-attention, residual, LayerNorm, mean over time, Linear."""

    def __init__(self, embed, heads, classes):
        super().__init__()
        self.attn = nn.MultiheadAttention(embed, heads, batch_first=True)
        self.norm = nn.LayerNorm(embed)
        self.fc = nn.Linear(embed, classes)

    def forward(self, x):
        a, _ = self.attn(x, x, x, need_weights=False)
        return self.fc(self.norm(x + a).mean(dim=1))


def keras_attention_block(embed, heads, classes, steps):
    inputs = keras.Input(shape=(steps, embed))
    a = keras.layers.MultiHeadAttention(heads, key_dim=embed // heads, name="attn")(inputs, inputs)
    x = keras.layers.LayerNormalization(epsilon=1e-5, name="norm")(inputs + a)
    return keras.Model(inputs, keras.layers.Dense(classes, name="fc")(keras.ops.mean(x, axis=1)))


SHAPES = [(8, 16, 10, 8), (3, 5, 2, 4), (7, 12, 3, 6)]     # features, hidden, classes, steps


def pair(kind, shape):
    features, hidden, classes, steps = shape
    if kind == "attention":
        heads = 2 if hidden % 2 == 0 else 1
        return AttentionBlock(features * 2, heads, classes), keras_attention_block(features * 2, heads, classes, steps)
    return RNNClassifier(kind, features, hidden, classes), keras_rnn_classifier(kind, features, hidden, classes, steps)


def inputs_for(model_pt, shape, n=5, seed=1):
    features, _, _, steps = shape
    width = features * 2 if isinstance(model_pt, AttentionBlock) else features
    return np.random.default_rng(seed).normal(size=(n, steps, width)).astype(np.float32)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("kind", ["LSTM", "GRU", "attention"])
@pytest.mark.parametrize("direction", ["torch->keras", "keras->torch"])
def test_forward_equal_both_ways(kind, shape, direction):
    model_pt, model_tf = pair(kind, shape)
    if direction == "torch->keras":
        randomize_torch(model_pt, seed=2)
        report = tf_utils.port_weights(model_pt, model_tf)
    else:
        randomize_keras(model_tf, seed=2)
        report = pt_utils.port_weights(model_tf, model_pt)
    assert len(report) == len(porting.torch_weighted_layers(model_pt))
    X = inputs_for(model_pt, shape)
    with torch.no_grad():
        out_pt = model_pt(torch.from_numpy(X)).numpy()
    out_tf = np.asarray(model_tf(X))
    assert np.abs(out_pt).max() > 0.05          # not a trivial output
    assert max_diff(out_pt, out_tf) <= TOL


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_round_trip_is_exact(kind, seed):
    features, hidden = 3 + seed, 4 + 2 * seed
    gen = np.random.default_rng(seed)
    gates = 4 if kind == "LSTM" else 3
    w_ih, w_hh = gen.normal(size=(gates * hidden, features)), gen.normal(size=(gates * hidden, hidden))
    b_ih, b_hh = gen.normal(size=gates * hidden), np.zeros(gates * hidden)
    to_keras, to_torch = ((porting.lstm_to_keras, porting.lstm_to_torch) if kind == "LSTM"
                          else (porting.gru_to_keras, porting.gru_to_torch))
    back = to_torch(*to_keras(w_ih, w_hh, b_ih, b_hh))
    for a, b in zip(back, [w_ih, w_hh, b_ih, b_hh]):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("heads, embed", [(1, 4), (2, 8), (4, 8), (3, 12)])
def test_attention_round_trip_is_exact(heads, embed):
    gen = np.random.default_rng(heads)
    params = [gen.normal(size=(3 * embed, embed)), gen.normal(size=3 * embed), gen.normal(size=(embed, embed)),
              gen.normal(size=embed)]
    back = porting.mha_to_torch(porting.mha_to_keras(*params, heads))
    for a, b in zip(back, params):
        assert np.array_equal(a, b)


def test_gru_gates_really_reordered():
    """The naive GRU port (transpose only) is wrong: the converter must move the gate blocks."""
    hidden = 3
    w_ih = np.repeat(np.arange(3.0), hidden)[:, None] * np.ones((1, 2))     # rows tagged 0 (r), 1 (z), 2 (n)
    kernel = porting.gru_to_keras(w_ih, np.zeros((3 * hidden, hidden)), None, None)[0]
    assert kernel[0].tolist() == [1.0] * hidden + [0.0] * hidden + [2.0] * hidden   # z, r, h


def one_sgd_step_gap(model_pt, model_tf, X, y, lr=0.5):
    """Max |weight diff| (in Keras' layout) after one SGD step on the same batch in both."""
    loss_pt = nn.CrossEntropyLoss()(model_pt(torch.from_numpy(X)), torch.from_numpy(y))
    loss_pt.backward()
    torch.optim.SGD([p for p in model_pt.parameters() if p.requires_grad], lr=lr).step()
    with tf.GradientTape() as tape:
        loss_tf = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y, model_tf(X))
    grads = tape.gradient(loss_tf, model_tf.trainable_variables)
    keras.optimizers.SGD(learning_rate=lr).apply_gradients(zip(grads, model_tf.trainable_variables))
    fresh = keras.models.clone_model(model_tf)
    tf_utils.port_weights(model_pt, fresh)                    # torch's stepped weights in Keras' layout
    return max(max_diff(a, b) for a, b in zip(fresh.get_weights(), model_tf.get_weights()))


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "attention"])
def test_one_sgd_step_equal(kind):
    shape = SHAPES[0]
    model_pt, model_tf = pair(kind, shape)
    randomize_keras(model_tf, seed=3)
    pt_utils.port_weights(model_tf, model_pt)
    if kind == "LSTM":
        model_pt.rnn.bias_hh_l0.requires_grad_(False)          # Keras has one bias: keep torch's second at 0
    X, y = inputs_for(model_pt, shape, n=16), np.arange(16) % shape[2]
    assert one_sgd_step_gap(model_pt, model_tf, X, y) <= TOL


def test_lstm_step_differs_when_both_biases_train():
    """The trap the converter's docstring names: both torch biases get the gradient."""
    shape = SHAPES[0]
    model_pt, model_tf = pair("LSTM", shape)
    randomize_keras(model_tf, seed=3)
    pt_utils.port_weights(model_tf, model_pt)
    X, y = inputs_for(model_pt, shape, n=16), np.arange(16) % shape[2]
    assert one_sgd_step_gap(model_pt, model_tf, X, y) > 1e-3


def test_unportable_settings_raise():
    model_pt, _ = pair("GRU", SHAPES[0])
    legacy = keras_rnn_classifier("GRU", 8, 16, 10, 8, reset_after=False)
    with pytest.raises(CourseError, match="reset_after=False"):
        tf_utils.port_weights(model_pt, legacy)
    block_pt = AttentionBlock(8, 2, 3)
    inputs = keras.Input(shape=(4, 8))
    a = keras.layers.MultiHeadAttention(2, key_dim=4)(inputs, inputs)
    x = keras.layers.LayerNormalization()(inputs + a)                 # Keras' default epsilon=1e-3
    block_tf = keras.Model(inputs, keras.layers.Dense(3)(keras.ops.mean(x, axis=1)))
    with pytest.raises(CourseError, match="epsilon=1e-05"):
        tf_utils.port_weights(block_pt, block_tf)
    inputs = keras.Input(shape=(4, 8))
    a = keras.layers.MultiHeadAttention(2, key_dim=8)(inputs, inputs)  # key_dim taken as the total: wrong
    x = keras.layers.LayerNormalization(epsilon=1e-5)(inputs + a)
    block_tf = keras.Model(inputs, keras.layers.Dense(3)(keras.ops.mean(x, axis=1)))
    with pytest.raises(CourseError, match="key_dim is per head"):
        tf_utils.port_weights(block_pt, block_tf)
    with pytest.raises(CourseError, match="one-layer"):
        tf_utils.port_weights(_two_layer(), keras_rnn_classifier("LSTM", 8, 16, 10, 8))


def _two_layer():
    model = RNNClassifier("LSTM", 8, 16, 10)
    model.rnn = nn.LSTM(8, 16, num_layers=2, batch_first=True)
    return model
