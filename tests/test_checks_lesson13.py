"""The 13_claims_checked exercise checks: right answers in both frameworks pass; wrong ones say why in one line."""
import keras
import numpy as np
import pytest
import tensorflow as tf
import torch
from torch import nn

import course_utils as cu
from check_support import assert_right, assert_wrong, first_try, one_line  # noqa: F401 - first_try is autouse
from course_utils.check import core
from course_utils.check.lesson13 import SEQ_X


# --- 13.1 BatchNorm conventions ---------------------------------------------------------------------

def test_batchnorm_right_in_both():
    assert cu.check.batchnorm_match(keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5), quiet=True)
    assert cu.check.batchnorm_match(nn.BatchNorm1d(4, momentum=0.01, eps=1e-3), quiet=True)
    assert cu.check.batchnorm_match(nn.BatchNorm2d(3, momentum=0.01, eps=0.001), quiet=True)   # any width, 2-D too
    assert_right(cu.check.batchnorm_match, keras.layers.BatchNormalization(axis=1, momentum=1 - 0.1, epsilon=0.00001))
    assert_right(cu.check.batchnorm_match, nn.BatchNorm1d(8, eps=1e-3, momentum=1 - 0.99, affine=False))


def test_batchnorm_right_answer_really_matches():
    """Keras configured as the check wants updates its running mean exactly like torch's default."""
    x = np.random.default_rng(0).normal(2.0, 1.0, size=(16, 4)).astype(np.float32)
    bn_pt, bn_tf = nn.BatchNorm1d(4), keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5)
    bn_pt.train()(torch.from_numpy(x))
    bn_tf(x, training=True)
    assert np.allclose(bn_pt.running_mean.numpy(), np.asarray(bn_tf.moving_mean), atol=1e-6)


@pytest.mark.parametrize("answer, words", [
    (..., "not attempted yet"),
    (None, "expected a BatchNorm layer"),
    (nn.Linear(2, 2), "expected a BatchNorm layer"),
    ((0.9, 1e-5), "expected a BatchNorm layer"),
    (keras.layers.BatchNormalization(momentum=0.1, epsilon=1e-5), "opposite terms"),
    (keras.layers.BatchNormalization(epsilon=1e-5), "still Keras' default 0.99"),
    (keras.layers.BatchNormalization(momentum=0.9), "still Keras' default 1e-3"),
    (keras.layers.BatchNormalization(momentum=0.5, epsilon=1e-5), "matches neither"),
    (nn.BatchNorm1d(4, momentum=0.99, eps=1e-3), "copies Keras' number"),
    (nn.BatchNorm1d(4, eps=1e-3), "still torch's default 0.1"),
    (nn.BatchNorm1d(4, momentum=0.01), "still torch's default 1e-5"),
    (nn.BatchNorm1d(4, momentum=None, eps=1e-3), "cumulative average"),
    (nn.BatchNorm1d, "the class BatchNorm1d itself"),
    (keras.layers.BatchNormalization, "the class BatchNormalization itself"),
    (keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-3 / 100 * 10), "epsilon=0.0001"),
])
def test_batchnorm_wrong(answer, words):
    verdict = cu.check.batchnorm_match(answer, quiet=True)
    assert not verdict and words in one_line(verdict)
    assert "forget to call" not in str(verdict)


def test_batchnorm_advice_names_the_answers_framework():
    text = str(assert_wrong(cu.check.batchnorm_match, tf.zeros(3), "keras.layers.BatchNormalization"))
    assert "nn.BatchNorm" not in text
    text = str(assert_wrong(cu.check.batchnorm_match, torch.zeros(3), "nn.BatchNorm1d"))
    assert "keras." not in text


# --- 13.2 the strided 1-D conv net, ported --------------------------------------------------------------

def models(seed=0, keras_padding="same"):
    """The exercise's pair: torch pads (1, 1), Keras' "same" (0, 1). keras_padding="torch" gives the Keras model
    torch's padding (ZeroPadding1D(1) before an unpadded conv), as the solution does."""
    torch.manual_seed(seed)
    model_pt = nn.Sequential(nn.Conv1d(2, 4, kernel_size=3, stride=2, padding=1), nn.ReLU(), nn.Flatten(),
                             nn.Linear(4 * 4, 3))
    return model_pt, keras_seq(padding=keras_padding)


def torch_params(model_pt):
    conv, dense = (next(m for m in model_pt if isinstance(m, kind)) for kind in (nn.Conv1d, nn.Linear))
    return [t.detach().numpy() for t in (conv.weight, conv.bias, dense.weight, dense.bias)]


def flatten_port(V):
    return V.reshape(3, 4, 4).transpose(0, 2, 1).reshape(3, 16).T


def port_to_keras(model_pt, model_tf, conv=lambda W: W.transpose(2, 1, 0), dense=flatten_port, biases=True):
    W, b, V, c = torch_params(model_pt)
    conv_tf = next(layer for layer in model_tf.layers if isinstance(layer, keras.layers.Conv1D))
    conv_tf.set_weights([conv(W), b if biases else np.zeros_like(b)])
    model_tf.layers[-1].set_weights([dense(V), c])
    return model_pt, model_tf


def test_port_right_both_directions_and_orders():
    pair = port_to_keras(*models(keras_padding="torch"))
    assert cu.check.ported_sequence_model(pair, quiet=True)
    assert cu.check.ported_sequence_model(pair[::-1], quiet=True)        # (model_tf, model_pt) too
    assert cu.check.ported_sequence_model(list(pair), quiet=True)
    # the other direction: Keras' weights into a torch model that pads as Keras' "same" does, (0, 1)
    _, model_tf = models(1)
    model_pt = nn.Sequential(nn.ConstantPad1d((0, 1), 0.0), nn.Conv1d(2, 4, 3, stride=2), nn.ReLU(), nn.Flatten(),
                             nn.Linear(16, 3))
    K, k, D, d = [np.asarray(w) for w in model_tf.layers[0].get_weights() + model_tf.layers[3].get_weights()]
    with torch.no_grad():
        model_pt[1].weight.copy_(torch.from_numpy(K.transpose(2, 1, 0)))
        model_pt[1].bias.copy_(torch.from_numpy(k))
        model_pt[4].weight.copy_(torch.from_numpy(D.T.reshape(3, 4, 4).transpose(0, 2, 1).reshape(3, 16)))
        model_pt[4].bias.copy_(torch.from_numpy(d + 0.1))  # Keras' dense bias is 0: a nonzero one on both sides
    model_tf.layers[3].set_weights([D, d + 0.1])
    assert cu.check.ported_sequence_model((model_pt, model_tf), quiet=True)


def test_the_padding_is_the_trap():
    """Review 13-12: with every weight ported, torch's padding=1 and Keras' "same" differ by far more than 1e-5,
    with the same shapes and no error; the check names the padding, with both sides' zeros."""
    model_pt, model_tf = port_to_keras(*models(6))
    out_pt = model_pt(torch.from_numpy(SEQ_X)).detach().numpy()
    out_tf = np.asarray(model_tf(SEQ_X.transpose(0, 2, 1)))
    assert out_pt.shape == out_tf.shape and np.abs(out_pt - out_tf).max() > 1e-2
    verdict = cu.check.ported_sequence_model((model_pt, model_tf), quiet=True)
    assert not verdict and "pad differently" in one_line(verdict)
    assert "(1, 1)" in one_line(verdict) and "(0, 1)" in one_line(verdict)


def test_unported_models_differ_really():
    model_pt, model_tf = models()
    out_pt = model_pt(torch.from_numpy(SEQ_X)).detach().numpy()
    assert np.abs(out_pt - np.asarray(model_tf(SEQ_X.transpose(0, 2, 1)))).max() > 1e-2


@pytest.mark.parametrize("make, words", [
    (lambda: ..., "not attempted yet"),
    (lambda: None, "expected the two models as a pair"),
    (lambda: models()[0], "expected the two models as a pair"),
    (lambda: (torch.zeros(5, 3), np.zeros((5, 3))), "outputs, not models"),
    (lambda: (models()[0], models(1)[0]), "one torch model and one Keras model"),
    (lambda: models(), "the conv kernels differ"),                                   # not ported at all
    (lambda: port_to_keras(*models(), conv=lambda W: W.reshape(3, 2, 4)), "reshaped, not transposed"),
    (lambda: port_to_keras(*models(), biases=False), "conv biases do not"),
    (lambda: port_to_keras(*models(), dense=lambda V: V.T), "pad differently"),   # the padding, said first
    (lambda: port_to_keras(*models(keras_padding="torch"), dense=lambda V: V.T), "only transposed"),  # flatten trap
    (lambda: (nn.Sequential(nn.Linear(16, 3)), models()[1]), "expected the exercise's"),
])
def test_port_wrong(make, words):
    verdict = cu.check.ported_sequence_model(make(), quiet=True)
    assert not verdict and words in one_line(verdict)


def test_check_prints_one_line(capsys):
    cu.check.batchnorm_match(keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5))
    assert capsys.readouterr().out == ("Exercise 13.1 — correct. Keras momentum = 1 − torch momentum; "
                                       "epsilon 1e-5, torch's.\n")


def test_the_13_2_hint_runs_in_the_lessons_namespace():
    """The notebook defines seq_pt and seq_tf (nothing else the hint may use): the hint, pasted, passes."""
    seq_pt, seq_tf = models(13)
    namespace = {"seq_pt": seq_pt, "seq_tf": seq_tf, "np": np, "torch": torch, "nn": nn, "keras": keras}
    exec(core.SOLUTIONS["13.2"]["any"], namespace)
    assert_right(cu.check.ported_sequence_model, namespace["answer"])


@pytest.mark.parametrize("framework", ["torch", "tensorflow"])
def test_the_13_1_solutions_run(framework):
    namespace = {"nn": nn, "keras": keras, "torch": torch}
    exec(core.SOLUTIONS["13.1"][framework], namespace)
    assert_right(cu.check.batchnorm_match, namespace["answer"])


# --- 13.2: the mistakes a learner makes most, and two right answers the solution does not use -------------

def keras_seq(flatten=None, dense_activation=None, relu=True, padding="torch"):
    """The Keras side: padding "same" (the exercise's) or "torch" (one zero at each end, as torch's padding=1)."""
    conv = ([keras.layers.Conv1D(4, 3, strides=2, padding="same")] if padding == "same"
            else [keras.layers.ZeroPadding1D(1), keras.layers.Conv1D(4, 3, strides=2)])
    layers = [keras.Input((8, 2))] + conv + ([keras.layers.ReLU()] if relu else [])
    return keras.Sequential(layers + [flatten or keras.layers.Flatten(), keras.layers.Dense(3, activation=dense_activation)])


@pytest.mark.parametrize("make, words", [
    # a naive flatten port: the Keras model's dense kernel only transposed
    (lambda: port_to_keras(*models(2, "torch"), dense=lambda V: V.T), "only transposed"),
    # weights not transposed: reshaped into Keras' shapes (conv, then dense)
    (lambda: port_to_keras(*models(2), conv=lambda W: W.reshape(3, 2, 4)), "reshaped, not transposed"),
    (lambda: port_to_keras(*models(2, "torch"), dense=lambda V: V.reshape(16, 3)), "dense weights were reshaped"),
    # the padding changed on both sides: torch given Keras' (0, 1), Keras given torch's (1, 1)
    (lambda: port_to_keras(nn.Sequential(nn.ConstantPad1d((0, 1), 0.0), nn.Conv1d(2, 4, 3, stride=2), nn.ReLU(),
                                         nn.Flatten(), nn.Linear(16, 3)), keras_seq()), "torch (0, 1), Keras (1, 1)"),
    # a model not equal to the other: every weight ported, but a softmax on Keras' last layer / no ReLU
    (lambda: port_to_keras(models(2)[0], keras_seq(dense_activation="softmax")), "compute different things"),
    (lambda: port_to_keras(models(2)[0], keras_seq(relu=False)), "compute different things"),
    # a model not equal to the other: two fresh models, or a torch model paired with itself
    (lambda: (models(2)[0], models(3)[1]), "the conv kernels differ"),
    (lambda: (models(2)[0], models(2)[0]), "a torch Sequential and torch Sequential"),
    # the weights ported off by a little: below COURSE.md's 1e-5 for a port, not the same model
    (lambda: port_to_keras(*models(2, "torch"), dense=lambda V: flatten_port(V) + 1e-4), "the conv layer matches"),
])
def test_port_plausible_mistakes(make, words):
    verdict = cu.check.ported_sequence_model(make(), quiet=True)
    assert not verdict and words in one_line(verdict)


def test_port_right_alternatives():
    """Keras flattening channels-first (or a Permute) takes the torch dense weights merely transposed."""
    model_pt, _ = models(4)
    for flatten in (keras.layers.Flatten(data_format="channels_first"),
                    keras.Sequential([keras.layers.Permute((2, 1)), keras.layers.Flatten()])):
        pair = port_to_keras(model_pt, keras_seq(flatten=flatten), dense=lambda V: V.T)
        assert cu.check.ported_sequence_model(pair, quiet=True)


def test_port_wrong_gives_no_solution_then_does():
    pair = port_to_keras(*models(5), dense=lambda V: V.T)
    first = cu.check.ported_sequence_model(pair, quiet=True)
    assert not first and "reshape(3, 4, 4)" not in str(first)


def test_keras_on_torch_worker_stays_on_the_cpu_and_its_keras_step_matches_tensorflows(monkeypatch):
    """Review 13-1 and 13-6: where Keras' torch backend would pick another device (mps on a Mac, cuda with a
    GPU; here forced with KERAS_TORCH_DEVICE=meta) the worker still runs on the CPU; and its Keras
    compile + train_on_batch step equals the same Keras code on TensorFlow."""
    from course_utils import pt_utils, tf_utils
    from course_utils.lessons import keras_backends

    monkeypatch.setenv("KERAS_TORCH_DEVICE", "meta")
    torch.manual_seed(0)
    model_pt, model_tf = pt_utils.build_cnn(), tf_utils.build_cnn()
    tf_utils.port_weights(model_pt, model_tf)
    X = np.random.default_rng(0).random((8, 8, 8, 1), dtype=np.float32)
    y = np.arange(8, dtype=np.int64) % 10
    out = keras_backends.run_torch_backend(model_pt, X, y, lr=0.1)
    assert out["facts"]["device"] == "cpu" and out["facts"]["backend"] == "torch"
    assert not out["facts"]["tensorflow imported"]
    before = model_tf.get_weights()
    model_tf.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), jit_compile=False,
                     loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    assert abs(out["keras_loss"] - float(model_tf.train_on_batch(X, y))) < 1e-5
    for on_torch, on_tf in zip(out["keras_weights"], model_tf.get_weights()):
        np.testing.assert_allclose(on_torch, on_tf, atol=1e-5)
    assert max(float(np.abs(w - w0).max()) for w, w0 in zip(out["keras_weights"], before)) > 1e-3   # a real step
