"""Checks for the exercises of 13_claims_checked: BatchNorm's conventions, and porting a model the course
has not shown (a strided 1-D conv net, where "same" padding differs) in either direction, proven equal.

Models are read through the attributes both frameworks expose (``modules()``/``named_parameters()`` in
torch, ``layers``/``get_weights()`` in Keras) and run through the framework that made them, found in
``sys.modules``: this module imports neither framework.
"""
from __future__ import annotations

import sys
from typing import Any

import numpy as np

from ..base.arrays import framework_of, is_tensor_like
from .core import Wrong, describe, exercise, framework_name

# Exercise 13.1: the two defaults (torch BatchNorm1d(), Keras BatchNormalization()).
TORCH_BN = {"momentum": 0.1, "eps": 1e-5}      # running = (1 - momentum)·running + momentum·batch
KERAS_BN = {"momentum": 0.99, "epsilon": 1e-3}  # running = momentum·running + (1 - momentum)·batch

# Exercise 13.2: a strided 1-D conv net on sequences (N, C=2, L=8): Conv1d(2, 4, 3, stride=2) with "same"-sized
# output → ReLU → Flatten → Linear(16, 3). Keras' padding="same" pads (0, 1) here, torch's padding=1 pads (1, 1).
SEQ_CHANNELS, SEQ_LENGTH, SEQ_FILTERS, SEQ_KERNEL, SEQ_STRIDE, SEQ_CLASSES = 2, 8, 4, 3, 2, 3
SEQ_OUT = -(-SEQ_LENGTH // SEQ_STRIDE)       # 4 positions after the convolution, as "same" padding keeps
# Ported float32 forwards agree to 1e-5 (COURSE.md); relative to the logits' size when they exceed 1.
PORT_ATOL = 1e-5
SEQ_X = np.random.default_rng(13).normal(size=(5, SEQ_CHANNELS, SEQ_LENGTH)).astype(np.float32)  # NCL


def _bn_kind(answer: Any) -> str:
    if isinstance(answer, type):
        raise Wrong(f"that is the class {answer.__name__} itself; create a layer with the right arguments.")
    name = type(answer).__name__
    kind = framework_of(answer)
    if kind == "torch" and name.startswith("BatchNorm"):
        return "torch"
    if name == "BatchNormalization":
        return "keras"
    layer = {"torch": "nn.BatchNorm1d(...)", "tensorflow": "keras.layers.BatchNormalization(...)"}.get(
        kind, "Keras' or torch's")
    raise Wrong(f"your answer is {describe(answer)}; expected a BatchNorm layer: {layer}.")


# What each framework's layer must be set to, and what to say when it is not (one rule for both directions).
_BN_RULES = {
    "keras": dict(copied=TORCH_BN["momentum"], default=KERAS_BN["momentum"], want=1 - TORCH_BN["momentum"],
                  eps_default=KERAS_BN["epsilon"], want_eps=TORCH_BN["eps"], eps_name="epsilon",
                  copied_says="momentum=0.1 copies torch's number, but the two weigh opposite terms: torch's weighs "
                              "the new batch, Keras' the old value.",
                  default_says="momentum is still Keras' default 0.99: the running statistics would move 10× slower "
                               "than torch's.",
                  hint="Keras keeps momentum × the old value.",
                  eps_default_says="epsilon is still Keras' default 1e-3; torch's BatchNorm adds 1e-5 to the variance.",
                  eps_needed="torch's BatchNorm adds 1e-05 to the variance.",
                  right="Keras momentum = 1 − torch momentum; epsilon 1e-5, torch's."),
    "torch": dict(copied=KERAS_BN["momentum"], default=TORCH_BN["momentum"], want=1 - KERAS_BN["momentum"],
                  eps_default=TORCH_BN["eps"], want_eps=KERAS_BN["epsilon"], eps_name="eps",
                  copied_says="momentum=0.99 copies Keras' number, but torch's momentum weighs the new batch: this "
                              "layer would forget its history at each step.",
                  default_says="momentum is still torch's default 0.1; Keras' default keeps 0.99 of the old value.",
                  hint="torch's momentum weighs the new batch.",
                  eps_default_says="eps is still torch's default 1e-5; Keras' BatchNormalization adds 1e-3 to the variance.",
                  eps_needed="Keras' BatchNormalization adds 0.001 to the variance.",
                  right="torch momentum = 1 − Keras momentum; eps 1e-3, Keras'."),
}


def _judge_bn(momentum: float, eps: float, rule: dict[str, Any]) -> str:
    if np.isclose(momentum, rule["copied"]):
        raise Wrong(rule["copied_says"])
    if np.isclose(momentum, rule["default"]):
        raise Wrong(rule["default_says"])
    if not np.isclose(momentum, rule["want"]):
        raise Wrong(f"momentum={momentum:g} matches neither convention. Hint: {rule['hint']}")
    if np.isclose(eps, rule["eps_default"]):
        raise Wrong(rule["eps_default_says"])
    if not np.isclose(eps, rule["want_eps"], rtol=1e-3, atol=0):
        raise Wrong(f"{rule['eps_name']}={eps:g}; {rule['eps_needed']}")
    return rule["right"]


@exercise("13.1", solution={"tensorflow": "answer = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5)",
                            "torch": "answer = nn.BatchNorm1d(4, momentum=0.01, eps=1e-3)"})
def batchnorm_match(answer: Any) -> str:
    """A BatchNorm layer of one framework set to behave like the other's default: a Keras layer with torch's
    conventions (momentum 0.9, epsilon 1e-5) or a torch layer with Keras' (momentum 0.01, eps 1e-3)."""
    kind = _bn_kind(answer)
    if kind == "keras":
        return _judge_bn(float(answer.momentum), float(answer.epsilon), _BN_RULES["keras"])
    if answer.momentum is None:
        raise Wrong("momentum=None makes torch keep a cumulative average, not Keras' moving one.")
    return _judge_bn(float(answer.momentum), float(answer.eps), _BN_RULES["torch"])


# --- 13.2 -------------------------------------------------------------------------------------------------

def _torch_layers(model: Any) -> list[tuple[str, np.ndarray, np.ndarray | None]]:
    found = []
    for m in model.modules():
        own = dict(m.named_parameters(recurse=False))
        if own:
            bias = own.get("bias")
            found.append((type(m).__name__, own["weight"].detach().cpu().numpy(),
                          None if bias is None else bias.detach().cpu().numpy()))
    return found


def _keras_layers(model: Any) -> list[tuple[str, np.ndarray, np.ndarray | None]]:
    found = []
    for layer in model.layers:
        weights = [np.asarray(w) for w in layer.get_weights()]
        if weights:
            found.append((type(layer).__name__, weights[0], weights[1] if len(weights) > 1 else None))
    return found


def _same_padding(length: int, kernel: int, stride: int) -> tuple[int, int]:
    """The zeros Keras' (and TensorFlow's) padding="same" adds (before, after): the odd one goes after."""
    total = max((-(-length // stride) - 1) * stride + kernel - length, 0)
    return total // 2, total - total // 2


def _padding_pt(model: Any) -> tuple[int, int] | None:
    """The zeros (before, after) the torch model adds to the sequence up to its Conv1d; None where it pads
    another way (a custom module, reflection, a nonzero constant) that this reader cannot see."""
    before = after = 0
    for m in model.modules():
        kind = type(m).__name__
        if kind in ("ConstantPad1d", "ZeroPad1d"):
            if float(getattr(m, "value", 0.0)) != 0.0:
                return None
            before, after = before + m.padding[0], after + m.padding[1]
        elif kind == "Conv1d":
            if m.padding_mode != "zeros" or m.padding == "same":
                return None
            pad = 0 if m.padding == "valid" else m.padding[0]
            return before + pad, after + pad
    return None


def _padding_keras(model: Any) -> tuple[int, int] | None:
    """The same for the Keras model, up to its Conv1D."""
    before = after = 0
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "ZeroPadding1D":
            before, after = before + layer.padding[0], after + layer.padding[1]
        elif kind == "Conv1D":
            if layer.padding == "valid":
                return before, after
            if layer.padding == "same" and tuple(layer.dilation_rate) == (1,):
                added = _same_padding(SEQ_LENGTH + before + after, layer.kernel_size[0], layer.strides[0])
                return before + added[0], after + added[1]
            return None
    return None


def _split_pair(answer: Any) -> tuple[Any, Any]:
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        raise Wrong(f"your answer is {describe(answer)}; expected the two models as a pair: (model_pt, model_tf).")
    kinds = [framework_of(m) for m in answer]
    if any(is_tensor_like(m) or isinstance(m, np.ndarray) for m in answer):
        raise Wrong("your pair holds outputs, not models: hand in the two models themselves, (model_pt, model_tf); "
                    "the check runs them on its own input.")
    if sorted(kinds) != ["tensorflow", "torch"]:
        held = " and ".join(f"{framework_name(m)} {type(m).__name__}" for m in answer)
        raise Wrong(f"your pair holds a {held}; expected one torch model and one Keras model.")
    model_pt, model_tf = answer if kinds[0] == "torch" else answer[::-1]
    if not hasattr(model_pt, "modules") or not hasattr(model_tf, "layers"):
        raise Wrong("expected a torch nn.Module and a Keras model (not layers, not functions).")
    return model_pt, model_tf


@exercise("13.2", accepts=("any",), solution=(
    "W, b = seq_pt[0].weight.detach().numpy(), seq_pt[0].bias.detach().numpy()       # (out, in, k), (out,)\n"
    "V, c = seq_pt[3].weight.detach().numpy(), seq_pt[3].bias.detach().numpy()       # (3, 16): inputs in (C, L) order\n"
    "# torch's padding=1 adds a zero at each end; Keras' \"same\" with stride 2 only one, at the end: pad as torch\n"
    "seq_tf = keras.Sequential([keras.Input((8, 2)), keras.layers.ZeroPadding1D(1), keras.layers.Conv1D(4, 3, strides=2),\n"
    "                           keras.layers.ReLU(), keras.layers.Flatten(), keras.layers.Dense(3)])\n"
    "seq_tf.layers[1].set_weights([W.transpose(2, 1, 0), b])                          # -> (k, in, out)\n"
    "seq_tf.layers[-1].set_weights([V.reshape(3, 4, 4).transpose(0, 2, 1).reshape(3, 16).T, c])  # (C, L) -> (L, C)\n"
    "answer = (seq_pt, seq_tf)"))
def ported_sequence_model(answer: Any) -> str:
    """(model_pt, model_tf), in either order: the lesson's strided 1-D conv net in both frameworks after a port in
    either direction, padding included. The check runs both on ``SEQ_X`` (torch NCL, Keras NLC) and wants the
    same logits."""
    model_pt, model_tf = _split_pair(answer)
    layers_pt, layers_tf = _torch_layers(model_pt), _keras_layers(model_tf)
    kinds = ([k for k, _, _ in layers_pt], [k for k, _, _ in layers_tf])
    if kinds != (["Conv1d", "Linear"], ["Conv1D", "Dense"]):
        raise Wrong(f"the models' layers with weights are {kinds[0]} and {kinds[1]}; expected the exercise's "
                    "Conv1d + Linear and Conv1D + Dense.")
    torch, tf = sys.modules.get("torch"), sys.modules.get("tensorflow")
    with torch.no_grad():
        out_pt = model_pt(torch.from_numpy(SEQ_X)).detach().cpu().numpy()
    out_tf = np.asarray(model_tf(SEQ_X.transpose(0, 2, 1), training=False) if tf is not None
                        else model_tf(SEQ_X.transpose(0, 2, 1)))
    if out_pt.shape != out_tf.shape:
        raise Wrong(f"the models give shapes {out_pt.shape} and {out_tf.shape}; build both as the exercise shows.")
    if float(out_pt.std()) < 1e-6:
        raise Wrong("the torch model's logits are all the same number: did you zero its weights? Port real weights.")
    gap = float(np.abs(out_pt - out_tf).max())
    if gap <= PORT_ATOL * max(1.0, float(np.abs(out_pt).max())):
        return f"both give the same logits on the check's input (max|diff| <= {PORT_ATOL:.0e}): the port is proven."
    (_, Wc, bc), (_, Wd, bd) = layers_pt
    (_, Kc, kc), (_, Kd, kd) = layers_tf
    conv_ok = Kc.shape == Wc.transpose(2, 1, 0).shape and np.allclose(Kc, Wc.transpose(2, 1, 0), atol=1e-6)
    if not conv_ok:
        if Kc.size == Wc.size and np.allclose(Kc.reshape(-1), Wc.reshape(-1), atol=1e-6):
            raise Wrong("the conv kernel was reshaped, not transposed: the numbers never moved. "
                        "Hint: torch stores (out, in, k), Keras (k, in, out).")
        raise Wrong(f"the logits differ (max|diff| = {gap:.2g}): the conv kernels differ. torch stores them "
                    "(out, in, k), Keras (k, in, out).")
    if bc is not None and kc is not None and not np.allclose(bc, kc, atol=1e-6):
        raise Wrong("the conv kernels match but the conv biases do not: port the bias too (it needs no transpose).")
    pads = _padding_pt(model_pt), _padding_keras(model_tf)
    if None not in pads and pads[0] != pads[1]:
        raise Wrong(f"the convolutions pad differently (zeros before, after): torch {pads[0]}, Keras {pads[1]}; "
                    "pad one like the other.")
    ported = (Wd.reshape(SEQ_CLASSES, SEQ_FILTERS, SEQ_OUT).transpose(0, 2, 1).reshape(SEQ_CLASSES, -1).T
              if Wd.shape == (SEQ_CLASSES, SEQ_FILTERS * SEQ_OUT) else None)
    dense_ok = ported is not None and Kd.shape == ported.shape and np.allclose(Kd, ported, atol=1e-6)
    if not dense_ok and Kd.shape == Wd.T.shape and np.allclose(Kd, Wd.T, atol=1e-6):
        raise Wrong("the dense layer was only transposed: torch flattens the conv output as (C, L), Keras as (L, C). "
                    "Lesson 03's flatten trap, in 1-D.")
    if not dense_ok and Kd.size == Wd.size and np.allclose(Kd.reshape(-1), Wd.reshape(-1), atol=1e-6):
        raise Wrong("the dense weights were reshaped, not transposed: torch stores (out, in), Keras (in, out); "
                    "the numbers must move.")
    if bd is not None and kd is not None and not np.allclose(bd, kd, atol=1e-6):
        raise Wrong("the dense weights look ported but the dense biases differ: copy the bias too.")
    if dense_ok:
        raise Wrong(f"every weight is ported, yet the logits differ (max|diff| = {gap:.2g}): the models compute "
                    "different things; build both as shown.")
    raise Wrong(f"the logits differ (max|diff| = {gap:.2g}); the conv layer matches: look at the dense layer "
                "after the flatten.")
