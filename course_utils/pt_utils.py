"""PyTorch helpers. Mirrors ``tf_utils``: same names, same parameters, same kinds of return value
(plain Python or NumPy, never a framework tensor unless the name says model/tensor).
``tests/test_mirror.py`` fails when the two drift apart.

Importing this module imports torch; ``import course_utils`` does not.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from .lessons import porting
from .base import validate
from .base.errors import CourseError


def seed(seed: int) -> None:
    """Seed torch's generators on every device (``torch.manual_seed``)."""
    torch.manual_seed(validate.integer(seed, "seed", "pt_utils.seed", minimum=0, maximum=2**32 - 1))


def device_name() -> str:
    """Where this framework computes by default here: ``"cuda (<GPU name>)"``, ``"mps"`` or ``"cpu"``.

    >>> device_name()            # on a laptop without a GPU
    'cpu'
    """
    if torch.cuda.is_available():
        return f"cuda ({torch.cuda.get_device_name(0)})"
    if torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def default_device() -> str:
    """The device string for device-agnostic code: ``"cuda:0"``, else ``"mps"``, else ``"cpu"``.

    Mirrors ``tf_utils.default_device`` (which returns ``"/GPU:0"`` or ``"/CPU:0"``): both return a
    plain string that the framework's own placement API accepts, here ``torch.ones(2, device=...)``
    and ``model.to(...)``. It only asks the runtime what exists; it moves nothing.

    >>> device = default_device()          # on a laptop without a GPU
    >>> device, torch.ones(2, device=device).device.type
    ('cpu', 'cpu')

    Used in: 06_devices.
    """
    if torch.cuda.is_available():
        return "cuda:0"
    if torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def device_of(obj: object) -> str:
    """Where a tensor, or a model's first parameter, lives, as a short string: ``"cpu"``, ``"cuda:0"``.

    Mirrors ``tf_utils.device_of`` (``"/CPU:0"``, ``"/GPU:0"``). A model without parameters gives
    ``"(no parameters)"``.

    >>> device_of(torch.ones(2)), device_of(torch.nn.Linear(3, 2))
    ('cpu', 'cpu')

    Used in: 06_devices.
    """
    if isinstance(obj, torch.nn.Module):
        first = next(obj.parameters(), None)
        if first is None:
            return "(no parameters)"
        obj = first
    if not isinstance(obj, torch.Tensor):
        raise validate.wrong_kind("pt_utils.device_of", "obj", "a torch tensor or nn.Module", obj, "tensorflow",
                                  "tf_utils.device_of", error=validate.CourseTypeError)
    return str(obj.device)


def synchronize() -> None:
    """Wait until every operation queued on this framework's accelerator has finished; a benchmark's sync hook.

    A GPU works asynchronously: a call returns as soon as its work is queued, so a clock read right
    after it measures the queueing, not the work. Call this before reading the clock (or pass it as
    ``bench.interleaved(..., sync=synchronize)``). Here: ``torch.cuda.synchronize()`` or
    ``torch.mps.synchronize()``; on a CPU, where an operation has finished when it returns, it does
    nothing. Mirrors ``tf_utils.synchronize``.

    >>> synchronize()          # on a laptop without a GPU: returns at once

    Used in: 12_performance.
    """
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    elif torch.backends.mps.is_available():
        torch.mps.synchronize()


# --- 03_same_model: the models, training, and weight porting ------------------------------------

#: What ``build_mlp``/``build_cnn`` return here (``keras.Model`` in ``tf_utils``).
Model = nn.Module


def _require_model(model: Any, where: str, name: str = "model") -> nn.Module:
    """``model`` if it is a torch ``nn.Module``; else a CourseError (pointing to tf_utils for a Keras model)."""
    if not isinstance(model, nn.Module):
        raise validate.wrong_kind(where, name, "a torch nn.Module", model, "tensorflow", where.replace("pt_", "tf_"))
    return model


def _forward(model: nn.Module, X: torch.Tensor, where: str) -> torch.Tensor:
    """``model(X)``; an input the model cannot take (wrong shape) becomes a one-line CourseError."""
    try:
        return model(X)
    except (RuntimeError, ValueError, TypeError, IndexError) as exc:
        raise validate.call_failed(where, f"the model on X of shape {tuple(X.shape)}", exc,
                                   "check that X has the shape the model expects.") from exc


def _loss(loss_fn: Any, outputs: torch.Tensor, y: torch.Tensor, where: str) -> torch.Tensor:
    """``loss_fn(outputs, y)`` as a 1-element tensor; a loss that cannot be computed becomes a CourseError."""
    try:
        loss = loss_fn(outputs, y)
    except (RuntimeError, ValueError, TypeError, IndexError) as exc:
        fix = "pass a loss such as nn.CrossEntropyLoss() and labels y in [0, classes)."
        raise validate.call_failed(where, "loss_fn(outputs, y)", exc, fix) from exc
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        shape = tuple(getattr(loss, "shape", ()))
        raise CourseError(f"{where}: loss_fn(outputs, y) returned {validate.found(loss)} of shape {shape}, expected a "
                          "1-element torch tensor — use a loss that averages over the batch.")
    return loss


class MLP(nn.Module):
    """``in_features → hidden → ReLU → num_classes``; the MLP of 03_same_model (``build_mlp``)."""

    def __init__(self, in_features: int = 64, hidden: int = 32, num_classes: int = 10):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc2 = nn.Linear(hidden, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(x)))


class CNN(nn.Module):
    """``conv (k×k, no padding) → ReLU → max-pool 2 → flatten → dense``; the CNN of 03_same_model.

    Takes NCHW images ``(N, 1, image_size, image_size)``.
    """

    def __init__(self, image_size: int = 8, channels: int = 8, kernel_size: int = 3, num_classes: int = 10):
        super().__init__()
        side = (image_size - kernel_size + 1) // 2
        self.conv = nn.Conv2d(1, channels, kernel_size)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(channels * side * side, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(torch.relu(self.conv(x)))
        return self.fc(torch.flatten(x, start_dim=1))  # flattens (C, H, W): channels outermost


def build_mlp(in_features: int = 64, hidden: int = 32, num_classes: int = 10) -> Model:
    """The lesson-03 MLP as an ``nn.Module`` (``tf_utils.build_mlp`` builds its Keras twin).

    >>> build_mlp()(torch.zeros(5, 64)).shape        # 2,410 parameters
    torch.Size([5, 10])

    Used in: 03_same_model, 12_performance.
    """
    in_features = validate.integer(in_features, "in_features", "pt_utils.build_mlp", minimum=1)
    hidden = validate.integer(hidden, "hidden", "pt_utils.build_mlp", minimum=1)
    num_classes = validate.integer(num_classes, "num_classes", "pt_utils.build_mlp", minimum=1)
    return MLP(in_features, hidden, num_classes)


def build_cnn(image_size: int = 8, channels: int = 8, kernel_size: int = 3, num_classes: int = 10) -> Model:
    """The lesson-03 CNN as an ``nn.Module``; input NCHW ``(N, 1, image_size, image_size)``.

    >>> build_cnn()(torch.zeros(5, 1, 8, 8)).shape   # 810 parameters
    torch.Size([5, 10])

    Used in: 03_same_model, 12_performance.
    """
    image_size = validate.integer(image_size, "image_size", "pt_utils.build_cnn", minimum=2)
    channels = validate.integer(channels, "channels", "pt_utils.build_cnn", minimum=1)
    # the conv output must be at least 2×2 for the max-pool
    kernel_size = validate.integer(kernel_size, "kernel_size", "pt_utils.build_cnn", minimum=1, maximum=image_size - 1)
    num_classes = validate.integer(num_classes, "num_classes", "pt_utils.build_cnn", minimum=1)
    return CNN(image_size, channels, kernel_size, num_classes)


def count_params(model: Model) -> int:
    """Number of trainable parameters (``sum(p.numel())``), comparable with Keras' ``count_params()``.

    >>> count_params(build_mlp())
    2410

    Used in: 03_same_model.
    """
    model = _require_model(model, "pt_utils.count_params")
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def add_channel_axis(X: np.ndarray) -> np.ndarray:
    """Grey images ``(N, H, W)`` → this framework's layout: NCHW ``(N, 1, H, W)``, float32.

    >>> add_channel_axis(np.zeros((5, 8, 8))).shape
    (5, 1, 8, 8)

    Used in: 03_same_model.
    """
    X = validate.numeric_array(X, "X", "pt_utils.add_channel_axis", ndim=3, dtype="float32")
    return np.ascontiguousarray(X[:, None, :, :])


def predict(model: Model, X: np.ndarray) -> np.ndarray:
    """The model's outputs (logits) for ``X`` as a NumPy array, in inference mode, without gradients.

    >>> predict(build_mlp(), np.zeros((5, 64), np.float32)).shape
    (5, 10)

    Used in: 03_same_model.
    """
    model = _require_model(model, "pt_utils.predict")
    X = validate.batch(X, "X", "pt_utils.predict")
    return _predict(model, X, "pt_utils.predict")


def _predict(model: nn.Module, X: np.ndarray, where: str) -> np.ndarray:
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return _forward(model, torch.as_tensor(X), where).cpu().numpy()
    finally:
        model.train(was_training)


def train_epoch(model: Model, X: np.ndarray, y: np.ndarray, loss_fn: Any, optimizer: Any,
                batch_size: int = 32) -> float:
    """One pass over ``X, y`` in the order given (shuffle before calling), one optimizer step per batch.

    Returns the mean loss over the samples (each batch weighted by its size, as Keras reports it).

    >>> model = build_mlp()
    >>> opt = torch.optim.SGD(model.parameters(), lr=0.1)
    >>> train_epoch(model, X, y, nn.CrossEntropyLoss(), opt, batch_size=32)   # doctest: +SKIP
    1.9713

    Used in: 03_same_model, 12_performance.
    """
    where = "pt_utils.train_epoch"
    model = _require_model(model, where)
    X, y = validate.batch(X, "X", where), validate.labels(y, "y", where)
    validate.same_length(X, y, where)
    loss_fn = validate.function(loss_fn, "loss_fn", where)
    optimizer = validate.methods(optimizer, "optimizer", where, "a torch optimizer", "zero_grad", "step")
    batch_size = validate.integer(batch_size, "batch_size", where, minimum=1)
    model.train()
    X_t, y_t = torch.as_tensor(X), torch.as_tensor(y)
    total, seen = 0.0, 0
    for start in range(0, len(X_t), batch_size):
        X_batch, y_batch = X_t[start:start + batch_size], y_t[start:start + batch_size]
        optimizer.zero_grad()
        loss = _loss(loss_fn, _forward(model, X_batch, where), y_batch, where)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(X_batch)
        seen += len(X_batch)
    return total / max(seen, 1)


def evaluate(model: Model, X: np.ndarray, y: np.ndarray) -> float:
    """Accuracy (a float in [0, 1]): the share of rows whose largest logit is at the label.

    >>> evaluate(model, X_test, y_test)            # doctest: +SKIP
    0.9554

    Used in: 03_same_model.
    """
    model = _require_model(model, "pt_utils.evaluate")
    X, y = validate.batch(X, "X", "pt_utils.evaluate"), validate.labels(y, "y", "pt_utils.evaluate")
    validate.same_length(X, y, "pt_utils.evaluate")
    return float(np.mean(_predict(model, X, "pt_utils.evaluate").argmax(axis=1) == y))


def port_weights(src: Any, dst: Model) -> list[str]:
    """Copy the weights of a Keras model ``src`` into the torch model ``dst`` (same layers, same order).

    Handles the layout differences, layer by layer (``tf_utils.port_weights`` does the reverse):

    - ``Dense`` kernel ``(in, out)`` → ``Linear`` weight ``(out, in)``: transposed;
    - ``Conv2D`` kernel ``(kh, kw, in, out)`` → ``Conv2d`` weight ``(out, in, kh, kw)``: ``transpose(3, 2, 0, 1)``;
    - a ``Dense`` right after ``Flatten`` of an ``(H, W, C)`` map: Keras flattened H, W, C, torch flattens
      C, H, W, so its input rows are reordered too (without this the port is silently wrong);
    - ``LSTM``, ``GRU``, ``MultiHeadAttention``, ``LayerNormalization``, ``Embedding``: the converters in
      ``porting.py`` (its table). An LSTM's second torch bias ``b_hh`` is set to 0: freeze it to train alike.

    Returns one line per layer saying what was done. Raises ``CourseError`` when the layers don't match.

    >>> port_weights(tf_utils.build_cnn(), build_cnn())     # doctest: +SKIP
    ['conv → conv: kernel (3, 3, 1, 8) → weight (8, 1, 3, 3), transpose(3, 2, 0, 1)',
     'fc → fc: kernel (72, 10) → weight (10, 72), rows reordered (H, W, C) → (C, H, W), transposed']

    Used in: 03_same_model, 14_sequences_attention.
    """
    if validate.kind_of(src) != "tensorflow" or not hasattr(src, "layers"):
        raise validate.wrong_kind("pt_utils.port_weights", "src", "a Keras model (copied into dst)", src, "torch",
                                  "tf_utils.port_weights(src, dst) to copy torch → Keras")
    dst = _require_model(dst, "pt_utils.port_weights", "dst")
    src_layers, dst_layers = porting.keras_weighted_layers(src), porting.torch_weighted_layers(dst)
    dst_names = {m: name for name, m in dst.named_modules()}
    if len(src_layers) != len(dst_layers):
        raise CourseError(f"port_weights: the Keras model has {len(src_layers)} layers with weights, the torch model "
                          f"{len(dst_layers)} — build both with the same layers in the same order.")
    report = []
    for i, ((layer, hwc), module) in enumerate(zip(src_layers, dst_layers)):
        kind_tf, kind_pt = type(layer).__name__, type(module).__name__
        if porting.is_sequence_pair(kind_pt, kind_tf):
            report.append(_port_sequence_layer(layer, module, f"{layer.name} → {dst_names[module]}"))
            continue
        arrays = [np.asarray(w) for w in layer.get_weights()]
        kernel, bias = arrays[0], (arrays[1] if len(arrays) > 1 else None)
        weight, how = porting.to_torch_layout(kernel, kind_tf, kind_pt, hwc, i)
        if tuple(weight.shape) != tuple(module.weight.shape):
            raise CourseError(f"port_weights: {layer.name} → {dst_names[module]}: Keras kernel {kernel.shape} gives "
                              f"{tuple(weight.shape)}, but torch expects {tuple(module.weight.shape)} — check the layer sizes.")
        if (bias is None) != (module.bias is None):
            raise CourseError(f"port_weights: {layer.name} → {dst_names[module]}: one side has a bias and the other "
                              "has none — use use_bias=... / bias=... alike.")
        with torch.no_grad():
            module.weight.copy_(torch.from_numpy(np.ascontiguousarray(weight)))
            if bias is not None:
                module.bias.copy_(torch.from_numpy(bias))
        report.append(f"{layer.name} → {dst_names[module]}: kernel {kernel.shape} → weight "
                      f"{tuple(weight.shape)}, {how}")
    return report


def _sequence_params(module: nn.Module) -> list[torch.Tensor | None]:
    """The parameters of a sequence layer in ``porting.torch_params_of``'s order (``None`` for a missing bias)."""
    kind = type(module).__name__
    if kind in ("LSTM", "GRU"):
        return [getattr(module, n, None) for n in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")]
    if kind == "MultiheadAttention":
        return [module.in_proj_weight, module.in_proj_bias, module.out_proj.weight, module.out_proj.bias]
    if kind == "LayerNorm":
        return [module.weight, module.bias]
    return [module.weight]


def _port_sequence_layer(layer: Any, module: nn.Module, where: str) -> str:
    """One Keras LSTM/GRU/MultiHeadAttention/LayerNormalization/Embedding into its torch twin (porting.py's converters)."""
    porting.check_sequence_pair(module, layer, where)
    arrays, how = porting.sequence_to_torch(type(module).__name__, [np.asarray(w) for w in layer.get_weights()])
    params = [p for p in _sequence_params(module) if p is not None]
    if [tuple(a.shape) for a in arrays] != [tuple(p.shape) for p in params]:
        raise CourseError(f"port_weights: {where}: Keras gives {[tuple(a.shape) for a in arrays]}, torch expects "
                          f"{[tuple(p.shape) for p in params]} — check the sizes and that both have biases, or none.")
    with torch.no_grad():
        for p, a in zip(params, arrays):
            p.copy_(torch.from_numpy(np.ascontiguousarray(a)))
    return f"{where}: {len(arrays)} arrays, {how}"


def graph_nodes(graph: Any) -> list[tuple[str, str, list[str]]]:
    """The nodes of a captured PyTorch graph as plain ``(name, op, input names)`` tuples, in order.

    ``graph`` is a ``torch.fx.GraphModule`` (from ``torch.fx.symbolic_trace`` or a ``torch.compile``
    backend) or a ``torch.export.ExportedProgram``. The op is the called function's or module's
    name; inputs are ``"input"`` and the result is ``"output"``. Feed it to ``course_utils.lessons.graphs.draw_graph``.

    >>> graph_nodes(torch.fx.symbolic_trace(torch.nn.ReLU()))
    [('input_1', 'input', []), ('relu', 'relu', ['input_1']), ('output', 'output', ['relu'])]

    Used in: 04_graphs.
    """
    import torch.fx

    if hasattr(graph, "graph_module"):  # an ExportedProgram
        graph = graph.graph_module
    gm = graph if isinstance(graph, torch.fx.Graph) else getattr(graph, "graph", None)
    if not isinstance(gm, torch.fx.Graph):
        raise validate.wrong_kind("pt_utils.graph_nodes", "graph", "a torch.fx GraphModule or an ExportedProgram",
                                  graph, "tensorflow", "tf_utils.graph_nodes")
    modules = dict(graph.named_modules()) if hasattr(graph, "named_modules") else {}
    nodes = []
    for node in gm.nodes:
        if node.op == "placeholder":
            op = "input"
        elif node.op == "output":
            op = "output"
        elif node.op == "call_module":
            op = type(modules[node.target]).__name__ if node.target in modules else str(node.target)
        elif node.op == "call_function":
            op = getattr(node.target, "__name__", str(node.target)).replace(".default", "")
        else:  # call_method, get_attr
            op = str(node.target)
        nodes.append((node.name, op, [n.name for n in node.all_input_nodes]))
    return nodes
