"""The 03_same_model exercise checks: right answers in both frameworks pass; wrong ones say why in one line."""
import keras
import numpy as np
import pytest
import tensorflow as tf
import torch

import course_utils as cu
from course_utils.check import core
from check_support import add_giveaways, first_try, one_line  # noqa: F401 (first_try: autouse)
from course_utils.check.lesson03 import CONV_WEIGHT, DENSE_KERNEL, FLATTEN_HWC, LABELS, LOGITS


add_giveaways("3.1", ["transpose(2, 3, 1, 0)"])
add_giveaways("3.2", [".transpose(3, 2, 0, 1)"])
add_giveaways("3.3", ["from_logits=True"])
# --- 3.1 conv kernel ---------------------------------------------------------------------------

def test_conv_kernel_right_in_both():
    assert cu.check.conv_kernel(torch.from_numpy(CONV_WEIGHT).permute(2, 3, 1, 0), quiet=True)
    assert cu.check.conv_kernel(tf.transpose(tf.constant(CONV_WEIGHT), perm=(2, 3, 1, 0)), quiet=True)
    assert cu.check.conv_kernel(CONV_WEIGHT.transpose(2, 3, 1, 0), quiet=True)


def test_conv_kernel_right_answer_really_computes_the_same_convolution():
    conv = torch.nn.Conv2d(2, 4, 3, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(CONV_WEIGHT))
    x = np.random.default_rng(0).normal(size=(2, 5, 5, 2)).astype(np.float32)
    with torch.no_grad():
        out_pt = conv(torch.from_numpy(x).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).numpy()
    layer = keras.layers.Conv2D(4, 3, use_bias=False)
    layer.build((None, 5, 5, 2))
    layer.set_weights([CONV_WEIGHT.transpose(2, 3, 1, 0)])
    assert np.abs(out_pt - np.asarray(layer(x))).max() <= 1e-3 * np.abs(out_pt).max()


@pytest.mark.parametrize("answer, words", [
    (..., "not attempted yet"),
    (None, "is None"),
    ([[1.0, 2.0]], "a list"),
    (torch.from_numpy(CONV_WEIGHT), "still torch's layout"),
    (tf.reshape(tf.constant(CONV_WEIGHT), (3, 3, 2, 4)), "you reshaped"),
    (torch.from_numpy(CONV_WEIGHT).permute(3, 2, 1, 0), "kh and kw are swapped"),
    (torch.from_numpy(CONV_WEIGHT).permute(2, 3, 0, 1), "shape (3, 3, 4, 2)"),
    (torch.full((3, 3, 2, 4), float("nan")), "NaN"),
    (tf.zeros((3, 3, 2, 4)), "different values"),
    (np.moveaxis(CONV_WEIGHT, 0, -1).reshape(3, 3, 2, 4), "different values"),
])
def test_conv_kernel_wrong(answer, words):
    verdict = cu.check.conv_kernel(answer, quiet=True)
    assert not verdict
    assert words in one_line(verdict)


# --- 3.2 flatten order -------------------------------------------------------------------------

def reordered():
    H, W, C = FLATTEN_HWC
    return DENSE_KERNEL.reshape(H, W, C, 4).transpose(3, 2, 0, 1).reshape(4, 12)


def test_flatten_reorder_right_in_both():
    H, W, C = FLATTEN_HWC
    K_pt = torch.from_numpy(DENSE_KERNEL)
    assert cu.check.flatten_reorder(K_pt.reshape(H, W, C, 4).permute(3, 2, 0, 1).reshape(4, 12), quiet=True)
    K_tf = tf.constant(DENSE_KERNEL)
    assert cu.check.flatten_reorder(tf.reshape(tf.transpose(tf.reshape(K_tf, (H, W, C, 4)), (3, 2, 0, 1)), (4, 12)),
                                    quiet=True)


def test_flatten_reorder_right_answer_really_matches_the_keras_layer():
    H, W, C = FLATTEN_HWC
    maps_hwc = np.random.default_rng(1).normal(size=(5, H, W, C)).astype(np.float32)
    out_tf = maps_hwc.reshape(5, -1) @ DENSE_KERNEL                      # Keras: Flatten (H, W, C), Dense
    maps_chw = torch.from_numpy(maps_hwc).permute(0, 3, 1, 2)           # the same maps, NCHW
    out_pt = torch.flatten(maps_chw, 1) @ torch.from_numpy(reordered()).T  # torch: flatten (C, H, W), Linear
    assert np.abs(out_tf - out_pt.numpy()).max() <= 1e-3


@pytest.mark.parametrize("answer, words", [
    (..., "not attempted yet"),
    (None, "is None"),
    ("K.T", "a str"),
    (torch.from_numpy(DENSE_KERNEL), "(in, out) = (12, 4)"),
    (torch.from_numpy(DENSE_KERNEL).T, "you only transposed"),
    (tf.reshape(tf.constant(DENSE_KERNEL), (4, 12)), "a reshape does not transpose"),
    (torch.zeros(12, 4, 1), "shape (12, 4, 1)"),
    (np.full((4, 12), np.nan, np.float32), "NaN"),
    (torch.from_numpy(reordered()) + 1, "different values"),
    (DENSE_KERNEL.reshape(2, 2, 3, 4).transpose(3, 2, 1, 0).reshape(4, 12), "h and w are swapped"),
])
def test_flatten_reorder_wrong(answer, words):
    verdict = cu.check.flatten_reorder(answer, quiet=True)
    assert not verdict
    assert words in one_line(verdict)


# --- 3.3 matching loss -------------------------------------------------------------------------

def torch_loss():
    return torch.nn.CrossEntropyLoss()(torch.from_numpy(LOGITS), torch.from_numpy(LABELS))


def test_matching_loss_wants_the_fixed_keras_loss():
    verdict = cu.check.matching_loss(torch_loss(), quiet=True)
    assert not verdict and "torch's loss" in str(verdict)  # the exercise asks for the fixed Keras loss
    fixed = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(LABELS, LOGITS)
    assert cu.check.matching_loss(fixed, quiet=True)
    probs = keras.losses.SparseCategoricalCrossentropy()(LABELS, tf.nn.softmax(LOGITS))
    assert cu.check.matching_loss(probs, quiet=True)
    # correct alternatives: the functional form, and float64
    functional = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(LABELS, LOGITS, from_logits=True))
    assert cu.check.matching_loss(functional, quiet=True)
    assert cu.check.matching_loss(tf.cast(fixed, tf.float64), quiet=True)


@pytest.mark.parametrize("answer, words", [
    (float(torch_loss()), "a float, not the tensor"),                       # torch's number as a Python float
    (np.float32(torch_loss().item()), "not the tensor"),                     # ... as a NumPy value
    (1.2039, "a float, not the tensor"),                                      # ... typed in
    (torch_loss(), "torch's loss"),
    (keras.losses.SparseCategoricalCrossentropy(from_logits=True), "forget to call it"),
    (torch.nn.CrossEntropyLoss(), "forget to call it"),
])
def test_matching_loss_refuses_a_number_that_was_not_computed_by_keras(answer, words):
    verdict = cu.check.matching_loss(answer, quiet=True)
    assert not verdict and words in one_line(verdict)


@pytest.mark.parametrize("answer, words", [
    (..., "not attempted yet"),
    (None, "is None"),
    ("1.2", "a str"),
    (tf.ones(3), "shape (3,)"),
    (tf.constant(float("nan")), "NaN"),
    (keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum")(LABELS, LOGITS), "the sum"),
    (tf.constant([True]), "bool"),
    (keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=None)(LABELS, LOGITS), "shape (3,)"),
])
def test_matching_loss_wrong(answer, words):
    verdict = cu.check.matching_loss(answer, quiet=True)
    assert not verdict
    assert words in one_line(verdict)


def test_matching_loss_spots_the_keras_default():
    """The typical mistake: Keras' default from_logits=False on logits."""
    default = keras.losses.SparseCategoricalCrossentropy()(LABELS, LOGITS)
    verdict = cu.check.matching_loss(default, quiet=True)
    assert not verdict
    assert "what does a Keras loss expect by default" in one_line(verdict)
    assert f"{float(torch_loss()):.4f}" in str(verdict)


def test_check_prints_one_line(capsys):
    cu.check.conv_kernel(CONV_WEIGHT.transpose(2, 3, 1, 0))
    assert capsys.readouterr().out == "Exercise 3.1 — correct. Conv2d (out, in, kh, kw) → Conv2D (kh, kw, in, out).\n"



def test_matching_loss_refuses_a_typed_literal_of_the_right_number():
    from course_utils.check.lesson03 import LABELS, LOGITS, _cross_entropy
    right = float(_cross_entropy(LOGITS, LABELS).mean())
    for typed in (round(right, 4), round(right, 4) + 1e-5):   # as printed (4 decimals), or nearly
        verdict = cu.check.matching_loss(tf.constant(typed), quiet=True)
        assert not verdict and "typed in" in str(verdict), str(verdict)
    verdict = cu.check.matching_loss(np.float32(right), quiet=True)     # torch's number as NumPy: refused too
    assert not verdict and "not the tensor" in str(verdict)
    verdict = cu.check.matching_loss(right, quiet=True)                 # ... and as a Python float
    assert not verdict and "not the tensor" in str(verdict)
    fixed = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(LABELS, LOGITS)
    assert cu.check.matching_loss(fixed, quiet=True)
    assert cu.check.matching_loss(tf.cast(fixed, tf.float64), quiet=True)   # float64 still accepted


def test_flatten_reorder_right_alternatives():
    """NumPy's own moveaxis and einsum forms of 3.2 are as right as the reshape-transpose."""
    H, W, C = FLATTEN_HWC
    K = DENSE_KERNEL.reshape(H, W, C, 4)
    assert cu.check.flatten_reorder(np.moveaxis(K, (3, 2), (0, 1)).reshape(4, 12), quiet=True)
    assert cu.check.flatten_reorder(torch.einsum("hwco->ochw", torch.from_numpy(K)).reshape(4, 12), quiet=True)


def test_matching_loss_right_alternatives():
    """3.3: the functional form averaged, and float64 inputs, are the fixed Keras loss too."""
    per_sample = keras.losses.sparse_categorical_crossentropy(LABELS, LOGITS, from_logits=True)
    assert cu.check.matching_loss(tf.reduce_mean(per_sample), quiet=True)
    as64 = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(LABELS, LOGITS.astype(np.float64))
    assert cu.check.matching_loss(as64, quiet=True)
