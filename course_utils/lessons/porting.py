"""Weight layouts between torch and Keras, in NumPy: the part of ``port_weights`` both directions share.

Framework-free: models are only read through the attributes they expose (``model.layers``,
``model.modules()``), so this module imports neither framework. ``pt_utils.port_weights`` (Keras →
torch) and ``tf_utils.port_weights`` (torch → Keras) do the copying.

Used in: 03_same_model (through port_weights), 13_claims_checked, 14_sequences_attention (the sequence converters).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..base.errors import CourseError


def keras_weighted_layers(model: Any) -> list[tuple[Any, tuple[int, ...] | None]]:
    """[(Keras layer with weights, (H, W, C) of a Flatten right before it or None)], in order."""
    found, flattened = [], None
    for layer in model.layers:
        if type(layer).__name__ == "Flatten":
            try:
                shape = tuple(layer.input.shape)
            except (AttributeError, ValueError):
                raise CourseError("port_weights: cannot read the input shape of a Keras Flatten layer — "
                                  "build the Keras model with the functional API or Sequential(Input(...), ...).") from None
            flattened = tuple(int(d) for d in shape[1:]) if len(shape) == 4 else None
        elif layer.weights:
            found.append((layer, flattened))
            flattened = None
    return found


def torch_weighted_layers(model: Any) -> list[Any]:
    """The modules that hold parameters themselves (``Linear``, ``Conv2d``, ``LSTM``, ...), in definition order.

    A ``MultiheadAttention`` counts as one layer: its ``out_proj`` is ported with it.
    """
    inside_attention = {id(sub) for m in model.modules() if type(m).__name__ == "MultiheadAttention"
                        for sub in m.modules() if sub is not m}
    return [m for m in model.modules()
            if id(m) not in inside_attention and any(True for _ in m.parameters(recurse=False))]


def _unsupported(i: int, kind_pt: str, kind_tf: str) -> CourseError:
    return CourseError(f"port_weights: layer {i + 1} is {kind_pt} in torch but {kind_tf} in Keras — "
                       "only Linear↔Dense, Conv2d↔Conv2D, LSTM, GRU, MultiheadAttention↔MultiHeadAttention, "
                       "LayerNorm↔LayerNormalization and Embedding are ported; list the layers in the same order.")


def to_keras_layout(weight: np.ndarray, kind_pt: str, kind_tf: str, hwc: tuple[int, ...] | None,
                    i: int) -> tuple[np.ndarray, str]:
    """A torch weight as the Keras kernel of layer ``i``, and how it was moved.

    >>> to_keras_layout(np.zeros((10, 4)), "Linear", "Dense", None, 0)[0].shape
    (4, 10)
    """
    if (kind_pt, kind_tf) == ("Linear", "Dense"):
        if hwc is None:
            return weight.T, "transposed"
        # torch flattened (C, H, W); Keras flattens (H, W, C): reorder the input columns too.
        H, W, C = hwc
        return (weight.reshape(-1, C, H, W).transpose(2, 3, 1, 0).reshape(H * W * C, -1),
                "columns reordered (C, H, W) → (H, W, C), transposed")
    if (kind_pt, kind_tf) == ("Conv2d", "Conv2D"):
        return weight.transpose(2, 3, 1, 0), "transpose(2, 3, 1, 0)"
    raise _unsupported(i, kind_pt, kind_tf)


def to_torch_layout(kernel: np.ndarray, kind_tf: str, kind_pt: str, hwc: tuple[int, ...] | None,
                    i: int) -> tuple[np.ndarray, str]:
    """A Keras kernel as the torch weight of layer ``i``, and how it was moved (inverse of ``to_keras_layout``).

    >>> to_torch_layout(np.zeros((4, 10)), "Dense", "Linear", None, 0)[0].shape
    (10, 4)
    """
    if (kind_tf, kind_pt) == ("Dense", "Linear"):
        if hwc is None:
            return kernel.T, "transposed"
        H, W, C = hwc
        return (kernel.reshape(H, W, C, -1).transpose(3, 2, 0, 1).reshape(kernel.shape[1], -1),
                "rows reordered (H, W, C) → (C, H, W), transposed")
    if (kind_tf, kind_pt) == ("Conv2D", "Conv2d"):
        return kernel.transpose(3, 2, 0, 1), "transpose(3, 2, 0, 1)"
    raise _unsupported(i, kind_pt, kind_tf)


# --- Sequence and attention layers ---------------------------------------------------------------
#
# | layer | torch (``nn.*``) | Keras | port |
# |---|---|---|---|
# | LSTM, H units | ``weight_ih_l0 (4H, I)``, ``weight_hh_l0 (4H, H)``, ``bias_ih_l0 (4H)``, ``bias_hh_l0 (4H)``; gates i, f, g, o | ``kernel (I, 4H)``, ``recurrent_kernel (H, 4H)``, ``bias (4H)``; gates i, f, c, o | transpose; Keras bias = ``b_ih + b_hh``; back: ``b_hh = 0`` |
# | GRU, H units | the same four names, ``3H`` rows; gates r, z, n | ``reset_after=True``: ``kernel (I, 3H)``, ``recurrent_kernel (H, 3H)``, ``bias (2, 3H)`` = (input, recurrent); gates z, r, h | gate blocks reordered r,z ↔ z,r, then transpose; ``reset_after=False`` has no torch twin |
# | multi-head attention, E = heads × head_dim | ``in_proj_weight (3E, E)`` = q, k, v stacked; ``in_proj_bias (3E)``; ``out_proj.weight (E, E)``, ``out_proj.bias (E)`` | query/key/value ``kernel (E, heads, head_dim)``, ``bias (heads, head_dim)``; output ``kernel (heads, head_dim, E)``, ``bias (E)`` | split in three, transpose, reshape per head |
# | LayerNorm | ``weight``, ``bias`` (E); ``eps=1e-5`` | ``gamma``, ``beta`` (E); ``epsilon=1e-3`` | copied as they are; the eps must be set alike |
# | Embedding | ``weight (V, E)`` | ``embeddings (V, E)`` | copied as it is |
#
# Only one-layer, one-direction recurrent layers are ported: ``num_layers=1``, ``bidirectional=False``.
# torch's ``batch_first=False`` is about the inputs, not the weights: feed ``(N, L, I)`` with ``batch_first=True``.

LSTM_GATES_TORCH, LSTM_GATES_KERAS = "ifgo", "ifgo"     # the same order: only the layout moves
GRU_GATES_TORCH, GRU_GATES_KERAS = "rzn", "zrn"         # Keras calls n "h"; r and z swap places


def _reorder_gates(rows: np.ndarray, src: str, dst: str) -> np.ndarray:
    """Gate blocks stacked along axis 0 in the order ``src`` → in the order ``dst``."""
    blocks = dict(zip(src, np.split(rows, len(src), axis=0)))
    return np.concatenate([blocks[g] for g in dst], axis=0)


def lstm_to_keras(weight_ih: np.ndarray, weight_hh: np.ndarray, bias_ih: np.ndarray | None,
                  bias_hh: np.ndarray | None) -> list[np.ndarray]:
    """torch ``nn.LSTM`` (one layer) parameters → Keras ``LSTM`` weights ``[kernel, recurrent_kernel, bias]``.

    torch adds two biases, Keras has one: its bias is ``b_ih + b_hh`` (copying ``b_ih`` alone runs without error
    and gives other numbers).

    >>> [w.shape for w in lstm_to_keras(np.zeros((8, 3)), np.zeros((8, 2)), np.zeros(8), np.zeros(8))]
    [(3, 8), (2, 8), (8,)]
    """
    weights = [weight_ih.T, weight_hh.T]
    if bias_ih is not None:
        weights.append(bias_ih + bias_hh)
    return weights


def lstm_to_torch(kernel: np.ndarray, recurrent_kernel: np.ndarray,
                  bias: np.ndarray | None = None) -> list[np.ndarray]:
    """Keras ``LSTM`` weights → torch ``[weight_ih, weight_hh, bias_ih, bias_hh]`` with ``bias_hh = 0``.

    The forward pass is then equal; to *train* alike, ``bias_hh`` must stay at zero (``requires_grad_(False)``):
    otherwise both torch biases receive the gradient and the bias moves twice as far as Keras'.

    >>> [w.shape for w in lstm_to_torch(np.zeros((3, 8)), np.zeros((2, 8)), np.zeros(8))]
    [(8, 3), (8, 2), (8,), (8,)]
    """
    weights = [kernel.T, recurrent_kernel.T]
    if bias is not None:
        weights += [bias, np.zeros_like(bias)]
    return weights


def gru_to_keras(weight_ih: np.ndarray, weight_hh: np.ndarray, bias_ih: np.ndarray | None,
                 bias_hh: np.ndarray | None) -> list[np.ndarray]:
    """torch ``nn.GRU`` parameters → Keras ``GRU(reset_after=True)`` weights ``[kernel, recurrent_kernel, bias (2, 3H)]``.

    Gate blocks r, z, n (torch) → z, r, h (Keras); both keep two biases (Keras stacks them).

    >>> [w.shape for w in gru_to_keras(np.zeros((6, 3)), np.zeros((6, 2)), np.zeros(6), np.zeros(6))]
    [(3, 6), (2, 6), (2, 6)]
    """
    def move(rows):
        return _reorder_gates(rows, GRU_GATES_TORCH, GRU_GATES_KERAS)
    weights = [move(weight_ih).T, move(weight_hh).T]
    if bias_ih is not None:
        weights.append(np.stack([move(bias_ih), move(bias_hh)]))
    return weights


def gru_to_torch(kernel: np.ndarray, recurrent_kernel: np.ndarray,
                 bias: np.ndarray | None = None) -> list[np.ndarray]:
    """Keras ``GRU(reset_after=True)`` weights → torch ``[weight_ih, weight_hh, bias_ih, bias_hh]`` (gates z, r, h → r, z, n).

    >>> [w.shape for w in gru_to_torch(np.zeros((3, 6)), np.zeros((2, 6)), np.zeros((2, 6)))]
    [(6, 3), (6, 2), (6,), (6,)]
    """
    if bias is not None and bias.ndim != 2:
        raise CourseError(f"gru_to_torch: the Keras GRU bias has shape {bias.shape}, not (2, 3H): the layer was built with "
                          "reset_after=False, which nn.GRU cannot express — build it with reset_after=True (the default).")

    def move(rows):
        return _reorder_gates(rows, GRU_GATES_KERAS, GRU_GATES_TORCH)
    weights = [move(kernel.T), move(recurrent_kernel.T)]
    if bias is not None:
        weights += [move(bias[0]), move(bias[1])]
    return weights


def mha_to_keras(in_proj_weight: np.ndarray, in_proj_bias: np.ndarray | None, out_weight: np.ndarray,
                 out_bias: np.ndarray | None, num_heads: int) -> list[np.ndarray]:
    """torch ``nn.MultiheadAttention(E, num_heads)`` → Keras ``MultiHeadAttention(num_heads, key_dim=E // num_heads)``
    weights, in Keras' order: query kernel, bias, key kernel, bias, value kernel, bias, output kernel, bias.

    torch's ``embed_dim`` is the total size E; Keras' ``key_dim`` is per head. Kernels ``(E, heads, head_dim)``,
    biases ``(heads, head_dim)``, output kernel ``(heads, head_dim, E)``.

    >>> [w.shape for w in mha_to_keras(np.zeros((12, 4)), np.zeros(12), np.zeros((4, 4)), np.zeros(4), 2)]
    [(4, 2, 2), (2, 2), (4, 2, 2), (2, 2), (4, 2, 2), (2, 2), (2, 2, 4), (4,)]
    """
    E = out_weight.shape[0]
    if E % num_heads:
        raise CourseError(f"mha_to_keras: embed_dim {E} is not a multiple of num_heads {num_heads}.")
    head_dim = E // num_heads
    weights = []
    biases = np.split(in_proj_bias, 3) if in_proj_bias is not None else [None] * 3
    for W, b in zip(np.split(in_proj_weight, 3, axis=0), biases):    # q, k, v: each (E, E) = (out, in)
        weights.append(W.T.reshape(E, num_heads, head_dim))
        if b is not None:
            weights.append(b.reshape(num_heads, head_dim))
    weights.append(out_weight.T.reshape(num_heads, head_dim, E))
    if out_bias is not None:
        weights.append(out_bias)
    return weights


def mha_to_torch(keras_weights: list[np.ndarray]) -> list[np.ndarray]:
    """Keras ``MultiHeadAttention`` weights (8 with biases, 4 without, in Keras' order) → torch
    ``[in_proj_weight (3E, E), in_proj_bias (3E), out_proj.weight (E, E), out_proj.bias (E)]`` (no biases: 2 arrays).

    >>> [w.shape for w in mha_to_torch(mha_to_keras(np.zeros((12, 4)), np.zeros(12), np.zeros((4, 4)), np.zeros(4), 2))]
    [(12, 4), (12,), (4, 4), (4,)]
    """
    with_bias = len(keras_weights) == 8
    if len(keras_weights) not in (4, 8):
        raise CourseError(f"mha_to_torch: expected the 8 (or 4, without biases) weights of a Keras MultiHeadAttention, "
                          f"got {len(keras_weights)}.")
    step = 2 if with_bias else 1
    kernels = keras_weights[::step]
    E = kernels[0].shape[0]
    in_proj = np.concatenate([k.reshape(E, -1).T for k in kernels[:3]], axis=0)
    out_weight = kernels[3].reshape(-1, E).T
    if not with_bias:
        return [in_proj, out_weight]
    biases = keras_weights[1::2]
    return [in_proj, np.concatenate([b.reshape(-1) for b in biases[:3]]), out_weight, biases[3]]


# The sequence layers port_weights handles: torch kind → Keras kind.
SEQUENCE_LAYERS = {
    "LSTM": "LSTM", "GRU": "GRU", "MultiheadAttention": "MultiHeadAttention",
    "LayerNorm": "LayerNormalization", "Embedding": "Embedding",
}


def is_sequence_pair(kind_pt: str, kind_tf: str) -> bool:
    """Whether ``port_weights`` ports this pair with the sequence converters (several arrays per layer)."""
    return SEQUENCE_LAYERS.get(kind_pt) == kind_tf


def check_sequence_pair(module: Any, layer: Any, where: str) -> int:
    """Refuse a torch/Keras pair whose settings make the same weights compute other numbers; return the number
    of attention heads (1 for other layers). ``where`` names the pair in the message."""
    kind = type(module).__name__
    if kind in ("LSTM", "GRU"):
        cell = getattr(layer, "cell", layer)
        acts = (getattr(cell.activation, "__name__", ""), getattr(cell.recurrent_activation, "__name__", ""))
        if acts != ("tanh", "sigmoid"):
            raise CourseError(f"port_weights: {where}: the Keras {kind} uses activation={acts[0]}, recurrent_activation="
                              f"{acts[1]}; torch's are fixed to tanh and sigmoid.")
        if kind == "GRU" and not cell.reset_after:
            raise CourseError(f"port_weights: {where}: Keras GRU(reset_after=False) has no nn.GRU twin "
                              "(torch applies the reset gate after the recurrent matmul): use reset_after=True.")
    if kind == "LayerNorm" and not np.isclose(module.eps, layer.epsilon, rtol=1e-6, atol=0):
        raise CourseError(f"port_weights: {where}: torch eps={module.eps:g}, Keras epsilon={layer.epsilon:g}: "
                          f"build the Keras layer with epsilon={module.eps:g} (its default is 1e-3).")
    if kind == "MultiheadAttention":
        config = layer.get_config()
        if config["num_heads"] != module.num_heads or config["key_dim"] != module.head_dim:
            raise CourseError(f"port_weights: {where}: torch has {module.num_heads} heads of {module.head_dim}, Keras "
                              f"{config['num_heads']} of key_dim={config['key_dim']}: Keras' key_dim is per head, "
                              "torch's embed_dim is the total.")
        return module.num_heads
    return 1


def torch_params_of(module: Any) -> list[np.ndarray | None]:
    """The arrays a sequence layer's converter takes, read from the torch module (``None`` for a missing bias)."""
    kind = type(module).__name__

    def arr(t):
        return None if t is None else t.detach().cpu().numpy()
    if kind in ("LSTM", "GRU"):
        if module.num_layers != 1 or module.bidirectional or getattr(module, "proj_size", 0):
            raise CourseError(f"port_weights: only one-layer, one-direction {kind}s are ported (num_layers=1, "
                              "bidirectional=False, proj_size=0).")
        return [arr(getattr(module, n, None)) for n in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")]
    if kind == "MultiheadAttention":
        if not module._qkv_same_embed_dim or module.bias_k is not None:
            raise CourseError("port_weights: only MultiheadAttention with kdim = vdim = embed_dim and no add_bias_kv is ported.")
        return [arr(module.in_proj_weight), arr(module.in_proj_bias), arr(module.out_proj.weight), arr(module.out_proj.bias)]
    if kind == "LayerNorm":
        return [arr(module.weight), arr(module.bias)]
    return [arr(module.weight)]                                   # Embedding


def sequence_to_keras(kind_pt: str, params: list[np.ndarray | None], num_heads: int = 1) -> tuple[list[np.ndarray], str]:
    """A torch sequence layer's arrays (``torch_params_of``) as Keras weights, and how they were moved."""
    if kind_pt == "LSTM":
        return lstm_to_keras(*params), "transposed, bias = b_ih + b_hh"
    if kind_pt == "GRU":
        return gru_to_keras(*params), "gates r,z,n → z,r,h, transposed, biases stacked (2, 3H)"
    if kind_pt == "MultiheadAttention":
        return mha_to_keras(*params, num_heads), f"q, k, v split, transposed, reshaped to {num_heads} heads"
    return [p for p in params if p is not None], "copied"


def sequence_to_torch(kind_pt: str, weights: list[np.ndarray]) -> tuple[list[np.ndarray], str]:
    """Keras weights as the arrays of the torch layer ``kind_pt`` (in ``torch_params_of``'s order), and how."""
    if kind_pt == "LSTM":
        return lstm_to_torch(*weights), "transposed, bias → b_ih, b_hh = 0"
    if kind_pt == "GRU":
        return gru_to_torch(*weights), "gates z,r,h → r,z,n, transposed, biases unstacked"
    if kind_pt == "MultiheadAttention":
        return mha_to_torch(weights), "heads merged, transposed, q, k, v stacked"
    return list(weights), "copied"
