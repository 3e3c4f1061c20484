"""TensorFlow/Keras helpers. Mirrors ``pt_utils``: same names, same parameters, same kinds of return
value (plain Python or NumPy, never a framework tensor unless the name says model/tensor).
``tests/test_mirror.py`` fails when the two drift apart.

Importing this module imports TensorFlow and Keras; ``import course_utils`` does not.
"""
from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from .lessons import keras_backends, porting
from .base import validate
from .base.errors import CourseError


def seed(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow together (``keras.utils.set_random_seed``)."""
    keras.utils.set_random_seed(validate.integer(seed, "seed", "tf_utils.seed", minimum=0, maximum=2**32 - 1))


def device_name() -> str:
    """Where this framework computes by default here: ``"GPU (<n> device(s))"`` or ``"CPU"``.

    >>> device_name()            # on a laptop without a GPU
    'CPU'
    """
    gpus = tf.config.get_visible_devices("GPU")  # cu.setup() hides GPUs unless gpu=True
    if gpus:
        return f"GPU ({len(gpus)} device{'s' if len(gpus) > 1 else ''})"
    return "CPU"


def default_device() -> str:
    """The device string for device-agnostic code: ``"/GPU:0"`` if TensorFlow sees a GPU, else ``"/CPU:0"``.

    Mirrors ``pt_utils.default_device`` (``"cuda:0"``/``"mps"``/``"cpu"``): both return a plain
    string that the framework's own placement API accepts, here ``with tf.device(...):``. It lists
    physical devices only, which does not start TensorFlow's runtime, so it is safe to call before
    the device configuration (logical devices, memory growth, threads).

    >>> device = default_device()          # on a laptop without a GPU
    >>> with tf.device(device):
    ...     x = tf.ones(2)
    >>> device, x.device.endswith("CPU:0")
    ('/CPU:0', True)

    Used in: 06_devices.
    """
    if tf.config.list_physical_devices("GPU"):
        return "/GPU:0"
    return "/CPU:0"


def device_of(obj: object) -> str:
    """Where a tensor, variable, or a model's first weight, lives, as a short string: ``"/CPU:0"``, ``"/GPU:0"``.

    Mirrors ``pt_utils.device_of`` (``"cpu"``, ``"cuda:0"``). TensorFlow's own ``.device`` is the
    long form ``/job:localhost/replica:0/task:0/device:CPU:0``; this keeps its last part. A model
    without weights (not built yet) gives ``"(no parameters)"``.

    >>> device_of(tf.ones(2))
    '/CPU:0'

    Used in: 06_devices.
    """
    if isinstance(obj, keras.Model) or isinstance(obj, keras.layers.Layer):
        if not obj.weights:
            return "(no parameters)"
        obj = obj.weights[0]
    if isinstance(obj, keras.Variable):
        obj = obj.value
    name = getattr(obj, "device", None) if validate.kind_of(obj) == "tensorflow" else None
    if not isinstance(name, str):
        raise validate.wrong_kind("tf_utils.device_of", "obj", "a TensorFlow tensor, variable or Keras model", obj,
                                  "torch", "pt_utils.device_of", error=validate.CourseTypeError)
    return "/" + name.rsplit("device:", 1)[-1]


def synchronize() -> None:
    """Wait until every operation queued on this framework's accelerator has finished; a benchmark's sync hook.

    A GPU works asynchronously: a call returns as soon as its work is queued, so a clock read right
    after it measures the queueing, not the work. Call this before reading the clock (or pass it as
    ``bench.interleaved(..., sync=synchronize)``). Here: ``tf.test.experimental.sync_devices()``
    (eager code only, outside ``tf.function``); on a CPU, where an operation has finished when it
    returns, it returns at once. Mirrors ``pt_utils.synchronize``.

    >>> synchronize()          # on a laptop without a GPU: returns at once

    Used in: 12_performance.
    """
    tf.test.experimental.sync_devices()


# --- 03_same_model: the models, training, and weight porting ------------------------------------

#: What ``build_mlp``/``build_cnn`` return here (``nn.Module`` in ``pt_utils``).
Model = keras.Model

# What a Keras model or loss raises on an input it cannot take.
_CALL_ERRORS = (ValueError, TypeError, IndexError, tf.errors.OpError)


def _require_model(model: Any, where: str, name: str = "model") -> keras.layers.Layer:
    """``model`` if it is a Keras model (or layer); else a CourseError (pointing to pt_utils for torch)."""
    if not isinstance(model, keras.layers.Layer):
        raise validate.wrong_kind(where, name, "a Keras model", model, "torch", where.replace("tf_", "pt_"))
    return model


def _forward(model: Any, X: np.ndarray, where: str, training: bool) -> tf.Tensor:
    """``model(X, training=...)``; an input the model cannot take (wrong shape) becomes a one-line CourseError."""
    try:
        return model(X, training=training)
    except _CALL_ERRORS as exc:
        raise validate.call_failed(where, f"the model on X of shape {tuple(X.shape)}", exc,
                                   "check that X has the shape the model expects.") from exc


def _loss(loss_fn: Any, y: np.ndarray, outputs: tf.Tensor, where: str) -> tf.Tensor:
    """``loss_fn(y, outputs)`` as a 1-element tensor; a loss that cannot be computed becomes a CourseError."""
    try:
        loss = loss_fn(y, outputs)
    except _CALL_ERRORS as exc:
        fix = "pass a loss such as keras.losses.SparseCategoricalCrossentropy(from_logits=True) and labels y in [0, classes)."
        raise validate.call_failed(where, "loss_fn(y, outputs)", exc, fix) from exc
    if not tf.is_tensor(loss) or loss.shape.num_elements() != 1:
        shape = tuple(getattr(loss, "shape", ()))
        raise CourseError(f"{where}: loss_fn(y, outputs) returned {validate.found(loss)} of shape {shape}, expected a "
                          "1-element TensorFlow tensor — use a loss that averages over the batch.")
    return loss


def build_mlp(in_features: int = 64, hidden: int = 32, num_classes: int = 10) -> Model:
    """The lesson-03 MLP as a functional ``keras.Model`` (``pt_utils.build_mlp`` builds its torch twin).

    Layers ``fc1`` (Dense + ReLU) and ``fc2`` (Dense, logits).

    >>> build_mlp()(np.zeros((5, 64), np.float32)).shape        # 2,410 parameters
    TensorShape([5, 10])

    Used in: 03_same_model, 12_performance.
    """
    in_features = validate.integer(in_features, "in_features", "tf_utils.build_mlp", minimum=1)
    hidden = validate.integer(hidden, "hidden", "tf_utils.build_mlp", minimum=1)
    num_classes = validate.integer(num_classes, "num_classes", "tf_utils.build_mlp", minimum=1)
    inputs = keras.Input((in_features,))
    hidden_out = keras.layers.Dense(hidden, activation="relu", name="fc1")(inputs)
    outputs = keras.layers.Dense(num_classes, name="fc2")(hidden_out)
    return keras.Model(inputs, outputs, name="mlp")


def build_cnn(image_size: int = 8, channels: int = 8, kernel_size: int = 3, num_classes: int = 10) -> Model:
    """The lesson-03 CNN as a functional ``keras.Model``; input NHWC ``(N, image_size, image_size, 1)``.

    ``conv`` (k×k, no padding) → ReLU → max-pool 2 → Flatten (H, W, C order) → ``fc``.

    >>> build_cnn()(np.zeros((5, 8, 8, 1), np.float32)).shape   # 810 parameters
    TensorShape([5, 10])

    Used in: 03_same_model, 12_performance.
    """
    image_size = validate.integer(image_size, "image_size", "tf_utils.build_cnn", minimum=2)
    channels = validate.integer(channels, "channels", "tf_utils.build_cnn", minimum=1)
    # the conv output must be at least 2×2 for the max-pool
    kernel_size = validate.integer(kernel_size, "kernel_size", "tf_utils.build_cnn", minimum=1, maximum=image_size - 1)
    num_classes = validate.integer(num_classes, "num_classes", "tf_utils.build_cnn", minimum=1)
    # the model is backend-neutral Keras 3: lesson 13 runs the same definition on the torch backend
    return keras_backends.build_cnn(image_size, channels, kernel_size, num_classes)


def count_params(model: Model) -> int:
    """Number of trainable parameters, comparable with ``pt_utils.count_params``.

    >>> count_params(build_mlp())
    2410

    Used in: 03_same_model.
    """
    model = _require_model(model, "tf_utils.count_params")
    return int(sum(int(np.prod(w.shape)) for w in model.trainable_weights))


def add_channel_axis(X: np.ndarray) -> np.ndarray:
    """Grey images ``(N, H, W)`` → this framework's layout: NHWC ``(N, H, W, 1)``, float32.

    >>> add_channel_axis(np.zeros((5, 8, 8))).shape
    (5, 8, 8, 1)

    Used in: 03_same_model.
    """
    X = validate.numeric_array(X, "X", "tf_utils.add_channel_axis", ndim=3, dtype="float32")
    return np.ascontiguousarray(X[:, :, :, None])


def predict(model: Model, X: np.ndarray) -> np.ndarray:
    """The model's outputs (logits) for ``X`` as a NumPy array, in inference mode (``training=False``).

    >>> predict(build_mlp(), np.zeros((5, 64), np.float32)).shape
    (5, 10)

    Used in: 03_same_model.
    """
    model = _require_model(model, "tf_utils.predict")
    X = validate.batch(X, "X", "tf_utils.predict")
    return np.asarray(_forward(model, X, "tf_utils.predict", training=False))


def train_epoch(model: Model, X: np.ndarray, y: np.ndarray, loss_fn: Any, optimizer: Any,
                batch_size: int = 32) -> float:
    """One pass over ``X, y`` in the order given (shuffle before calling), one optimizer step per batch.

    A hand-written ``GradientTape`` loop, run eagerly. Returns the mean loss over the samples (each
    batch weighted by its size, as Keras' ``fit`` reports it).

    >>> model = build_mlp()
    >>> opt = keras.optimizers.SGD(learning_rate=0.1)
    >>> train_epoch(model, X, y, keras.losses.SparseCategoricalCrossentropy(from_logits=True), opt, 32)  # doctest: +SKIP
    1.9713

    Used in: 03_same_model, 12_performance.
    """
    where = "tf_utils.train_epoch"
    model = _require_model(model, where)
    X, y = validate.batch(X, "X", where), validate.labels(y, "y", where)
    validate.same_length(X, y, where)
    loss_fn = validate.function(loss_fn, "loss_fn", where)
    optimizer = validate.methods(optimizer, "optimizer", where, "a Keras optimizer", "apply_gradients")
    batch_size = validate.integer(batch_size, "batch_size", where, minimum=1)
    total, seen = 0.0, 0
    for start in range(0, len(X), batch_size):
        X_batch, y_batch = X[start:start + batch_size], y[start:start + batch_size]
        with tf.GradientTape() as tape:
            loss = _loss(loss_fn, y_batch, _forward(model, X_batch, where, training=True), where)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        total += float(loss) * len(X_batch)
        seen += len(X_batch)
    return total / max(seen, 1)


def evaluate(model: Model, X: np.ndarray, y: np.ndarray) -> float:
    """Accuracy (a float in [0, 1]): the share of rows whose largest logit is at the label.

    >>> evaluate(model, X_test, y_test)            # doctest: +SKIP
    0.9554

    Used in: 03_same_model.
    """
    model = _require_model(model, "tf_utils.evaluate")
    X, y = validate.batch(X, "X", "tf_utils.evaluate"), validate.labels(y, "y", "tf_utils.evaluate")
    validate.same_length(X, y, "tf_utils.evaluate")
    outputs = np.asarray(_forward(model, X, "tf_utils.evaluate", training=False))
    return float(np.mean(outputs.argmax(axis=1) == y))


def port_weights(src: Any, dst: Model) -> list[str]:
    """Copy the weights of a torch model ``src`` into the Keras model ``dst`` (same layers, same order).

    Handles the layout differences, layer by layer (``pt_utils.port_weights`` does the reverse):

    - ``Linear`` weight ``(out, in)`` → ``Dense`` kernel ``(in, out)``: transposed;
    - ``Conv2d`` weight ``(out, in, kh, kw)`` → ``Conv2D`` kernel ``(kh, kw, in, out)``: ``transpose(2, 3, 1, 0)``;
    - a ``Linear`` whose Keras twin follows ``Flatten`` of an ``(H, W, C)`` map: torch flattened C, H, W,
      Keras flattens H, W, C, so its input columns are reordered too (without this the port is silently wrong);
    - ``LSTM``, ``GRU``, ``MultiheadAttention``, ``LayerNorm``, ``Embedding``: the converters in ``porting.py``
      (its table: two LSTM biases summed, GRU gates reordered, attention split per head); settings that would
      make the same weights compute other numbers (LayerNorm eps, GRU ``reset_after=False``) raise.

    ``src`` is only read (``modules()``, ``.weight``, ``.bias``): this module does not import torch.
    Returns one line per layer saying what was done. Raises ``CourseError`` when the layers don't match.

    >>> port_weights(pt_utils.build_cnn(), build_cnn())     # doctest: +SKIP
    ['conv → conv: weight (8, 1, 3, 3) → kernel (3, 3, 1, 8), transpose(2, 3, 1, 0)',
     'fc → fc: weight (10, 72) → kernel (72, 10), columns reordered (C, H, W) → (H, W, C), transposed']

    Used in: 03_same_model, 14_sequences_attention.
    """
    if validate.kind_of(src) != "torch" or not hasattr(src, "named_modules"):
        raise validate.wrong_kind("tf_utils.port_weights", "src", "a torch nn.Module (copied into dst)", src,
                                  "tensorflow", "pt_utils.port_weights(src, dst) to copy Keras → torch")
    if not isinstance(dst, keras.Model):
        raise validate.wrong_kind("tf_utils.port_weights", "dst", "a Keras model", dst, "torch",
                                  "pt_utils.port_weights")
    src_layers, dst_layers = porting.torch_weighted_layers(src), porting.keras_weighted_layers(dst)
    src_names = {m: name for name, m in src.named_modules()}
    if len(src_layers) != len(dst_layers):
        raise CourseError(f"port_weights: the torch model has {len(src_layers)} layers with weights, the Keras model "
                          f"{len(dst_layers)} — build both with the same layers in the same order.")
    report = []
    for i, (module, (layer, hwc)) in enumerate(zip(src_layers, dst_layers)):
        kind_pt, kind_tf = type(module).__name__, type(layer).__name__
        if porting.is_sequence_pair(kind_pt, kind_tf):
            report.append(_port_sequence_layer(module, layer, f"{src_names[module]} → {layer.name}"))
            continue
        weight = module.weight.detach().cpu().numpy()
        bias = None if module.bias is None else module.bias.detach().cpu().numpy()
        kernel, how = porting.to_keras_layout(weight, kind_pt, kind_tf, hwc, i)
        expected = [tuple(w.shape) for w in layer.weights]
        if tuple(kernel.shape) != expected[0]:
            raise CourseError(f"port_weights: {src_names[module]} → {layer.name}: torch weight {weight.shape} gives "
                              f"{tuple(kernel.shape)}, but Keras expects {expected[0]} — check the layer sizes.")
        if (bias is None) != (len(expected) == 1):
            raise CourseError(f"port_weights: {src_names[module]} → {layer.name}: one side has a bias and the other "
                              "has none — use bias=... / use_bias=... alike.")
        layer.set_weights([np.ascontiguousarray(kernel)] + ([bias] if bias is not None else []))
        report.append(f"{src_names[module]} → {layer.name}: weight {weight.shape} → kernel "
                      f"{tuple(kernel.shape)}, {how}")
    return report


def _port_sequence_layer(module: Any, layer: Any, where: str) -> str:
    """One torch LSTM/GRU/MultiheadAttention/LayerNorm/Embedding into its Keras twin (porting.py's converters)."""
    num_heads = porting.check_sequence_pair(module, layer, where)
    weights, how = porting.sequence_to_keras(type(module).__name__, porting.torch_params_of(module), num_heads)
    expected = [tuple(w.shape) for w in layer.weights]
    if [tuple(w.shape) for w in weights] != expected:
        raise CourseError(f"port_weights: {where}: torch gives {[tuple(w.shape) for w in weights]}, Keras expects "
                          f"{expected} — check the sizes and that both have biases, or none.")
    layer.set_weights([np.ascontiguousarray(w) for w in weights])
    return f"{where}: {len(weights)} arrays, {how}"


def graph_nodes(graph: Any) -> list[tuple[str, str, list[str]]]:
    """The nodes of a traced TensorFlow graph as plain ``(name, op, input names)`` tuples, in order.

    ``graph`` is a ``ConcreteFunction`` (``f.get_concrete_function(...)``), a ``FuncGraph`` or a
    ``GraphDef``. Control inputs (``^name``) are left out. Feed it to ``course_utils.lessons.graphs.draw_graph``.

    >>> f = tf.function(tf.nn.relu).get_concrete_function(tf.TensorSpec([2]))
    >>> graph_nodes(f)
    [('features', 'Placeholder', []), ('Relu', 'Relu', ['features']), ('Identity', 'Identity', ['Relu'])]

    Used in: 04_graphs.
    """
    if hasattr(graph, "graph"):  # a ConcreteFunction
        graph = graph.graph
    if hasattr(graph, "as_graph_def"):
        graph = graph.as_graph_def()
    if not hasattr(graph, "node"):
        raise validate.wrong_kind("tf_utils.graph_nodes", "graph", "a ConcreteFunction, FuncGraph or GraphDef", graph,
                                  "torch", "pt_utils.graph_nodes")
    return [(node.name, node.op, [i.split(":")[0] for i in node.input if not i.startswith("^")])
            for node in graph.node]
