"""Checks for the exercises of 09_saving_deploying: resume a run, export for any batch, spot unsafe loads.

The exercises' inputs are written out here, and the expected answers are computed in NumPy, so a
check never trusts the learner's cells. The frameworks are imported only inside the functions that
build an exercise's files (the notebook has imported them already).
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

from ..base.arrays import framework_of
from .core import Wrong, as_array, describe, exercise, expect_finite

# --- Exercise 9.1: a Linear(4, 3) trained one step with SGD(lr=0.5, momentum=0.9), then resumed --------
LR, MOMENTUM = 0.5, 0.9
_rng = np.random.default_rng(91)
RESUME_W0 = (_rng.normal(size=(3, 4)) / 2).astype(np.float32)     # torch layout (out, in)
RESUME_B0 = np.zeros(3, np.float32)
FIRST_X = _rng.normal(size=(6, 4)).astype(np.float32)             # the step before the checkpoint
FIRST_Y = np.array([0, 1, 2, 0, 1, 2], np.int64)
RESUME_X = _rng.normal(size=(6, 4)).astype(np.float32)            # the step the learner takes
RESUME_Y = np.array([2, 2, 1, 0, 0, 1], np.int64)


def _grads(W: np.ndarray, b: np.ndarray, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of the mean cross-entropy of ``X @ W.T + b`` (float64)."""
    z = X.astype(np.float64) @ W.T.astype(np.float64) + b
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1.0
    d = p / len(y)
    return d.T @ X, d.sum(axis=0)


def _resume_states() -> dict[str, np.ndarray]:
    """The weights: at the checkpoint, after a correct resume, and after the usual mistakes."""
    g1W, g1b = _grads(RESUME_W0, RESUME_B0, FIRST_X, FIRST_Y)
    W1, b1 = RESUME_W0 - LR * g1W, RESUME_B0 - LR * g1b            # momentum buffer = g1 (torch)
    g2W, _ = _grads(W1, b1, RESUME_X, RESUME_Y)
    g0W, _ = _grads(RESUME_W0, RESUME_B0, RESUME_X, RESUME_Y)
    return {"right": W1 - LR * (MOMENTUM * g1W + g2W), "checkpoint": W1, "no momentum": W1 - LR * g2W,
            "from scratch": RESUME_W0 - LR * g0W, "initial": RESUME_W0.astype(np.float64)}


def make_resume_checkpoint_pt(path: str | Path) -> Path:
    """Write Exercise 9.1's torch checkpoint ``{"model": state_dict, "optimizer": state_dict}``; return its path."""
    import torch

    model = torch.nn.Linear(4, 3)
    with torch.no_grad():
        model.weight.copy_(torch.from_numpy(RESUME_W0))
        model.bias.copy_(torch.from_numpy(RESUME_B0))
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    torch.nn.CrossEntropyLoss()(model(torch.from_numpy(FIRST_X)), torch.from_numpy(FIRST_Y)).backward()
    optimizer.step()
    path = Path(path)
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, path)
    return path


def make_resume_checkpoint_tf(path: str | Path) -> Path:
    """Write Exercise 9.1's Keras checkpoint: a compiled ``Dense(3)`` model after one step, as ``.keras``."""
    import keras
    import tensorflow as tf

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="dense")], name="tiny")
    model.get_layer("dense").set_weights([RESUME_W0.T, RESUME_B0])
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=LR, momentum=MOMENTUM), loss=loss_fn)
    with tf.GradientTape() as tape:
        loss = loss_fn(FIRST_Y, model(FIRST_X, training=True))
    model.optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
    path = Path(path)
    model.save(path)
    return path


def _weight_framework(answer: Any) -> str:
    """torch for torch's (3, 4) layout, TensorFlow for Keras' (4, 3) kernel (a NumPy copy included)."""
    kind = framework_of(answer)
    if kind in ("torch", "tensorflow"):
        return kind
    shape = tuple(getattr(answer, "shape", ()))
    return {(3, 4): "torch", (4, 3): "tensorflow"}.get(shape, "any")


def _optimizer_advice(kind: str) -> str:
    if kind == "tensorflow":
        return "load the whole .keras file, optimizer included."
    return "restore the optimizer's state too."


@exercise("9.1", framework=_weight_framework, solution={
    "torch": ("checkpoint = torch.load(resume_pt, weights_only=True)\n"
              "tiny = nn.Linear(4, 3)\n"
              "tiny.load_state_dict(checkpoint[\"model\"])\n"
              "tiny_opt = torch.optim.SGD(tiny.parameters(), lr=0.5, momentum=0.9)\n"
              "tiny_opt.load_state_dict(checkpoint[\"optimizer\"])\n"
              "tiny_opt.zero_grad()\n"
              "nn.CrossEntropyLoss()(tiny(torch.from_numpy(X_resume)), torch.from_numpy(y_resume)).backward()\n"
              "tiny_opt.step()\n"
              "answer = tiny.weight.detach()"),
    "tensorflow": ("tiny_tf = keras.models.load_model(resume_tf)   # the model, compiled, with its optimizer\n"
                   "tiny_tf.train_on_batch(X_resume, y_resume)\n"
                   "answer = tiny_tf.get_layer(\"dense\").kernel")})
def resume_step(answer: Any) -> str:
    """The weight after one resumed step: torch (3, 4) or Keras (4, 3), as a tensor, a variable or a NumPy copy."""
    kind = _weight_framework(answer)
    arr = as_array(answer, what="your weight")
    if arr.shape == (4, 3):
        arr = arr.T                               # Keras' kernel (in, out)
    elif arr.shape != (3, 4):
        raise Wrong(f"your weight has shape {arr.shape}; expected the weight, (3, 4) in torch or (4, 3) in Keras"
                    + (" (the bias has shape (3,))." if arr.shape == (3,) else "."))
    expect_finite(arr, "your weight")
    states = _resume_states()

    def near(name: str) -> bool:
        return bool(np.allclose(arr, states[name], atol=1e-5))

    if near("right"):
        return "the resumed step used the restored momentum, exactly as the run that never stopped."
    if near("checkpoint"):
        raise Wrong("that is the weight stored in the checkpoint: it is restored, but the step was not taken.")
    if near("no momentum"):
        raise Wrong("right weights, but the step ran without the momentum buffer: "
                    + _optimizer_advice(kind))
    if near("from scratch") or near("initial"):
        raise Wrong("that starts from the untrained weights: load the checkpoint's weights before the step.")
    raise Wrong("that matches no single resumed step on X_resume, y_resume. Did you take more than one step?")


# --- Exercise 9.2: export an MLP so that its loaded program takes any batch from 1 to 64 --------------

def _exercise_weights() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(92)
    return {"fc1.weight": (rng.normal(size=(32, 64)) / 8).astype(np.float32),
            "fc1.bias": (rng.normal(size=32) / 10).astype(np.float32),
            "fc2.weight": (rng.normal(size=(10, 32)) / 6).astype(np.float32),
            "fc2.bias": (rng.normal(size=10) / 10).astype(np.float32)}


def exercise_mlp_pt() -> Any:
    """Exercise 9.2's MLP (the lesson-03 ``MLP``, 64 → 32 → 10) with fixed weights, in eval mode."""
    import torch

    from .. import pt_utils

    model = pt_utils.build_mlp()
    model.load_state_dict({k: torch.from_numpy(v) for k, v in _exercise_weights().items()})
    return model.eval()


def _reference(X: np.ndarray) -> np.ndarray:
    w = _exercise_weights()
    hidden = np.maximum(X.astype(np.float64) @ w["fc1.weight"].T + w["fc1.bias"], 0.0)
    return hidden @ w["fc2.weight"].T + w["fc2.bias"]


def _caller(answer: Any) -> Any:
    """A function X (NumPy) -> outputs for whatever exported/loaded object the learner handed in."""
    kind = framework_of(answer)
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(answer, (torch.nn.Module, torch.export.ExportedProgram)):
        kind = "torch"
    if kind == "torch":
        if hasattr(answer, "module") and hasattr(answer, "graph_signature"):   # an ExportedProgram
            answer = answer.module()
        if isinstance(answer, torch.jit.ScriptModule):
            raise Wrong("that is a TorchScript module (torch.jit, deprecated); this exercise asks for torch.export, "
                        "saved and loaded back.")
        if isinstance(answer, torch.nn.Module) and not isinstance(answer, torch.fx.GraphModule):
            raise Wrong("that is the eager model itself; export it, save it, and hand in what torch.export.load "
                        "gives back.")
        if not callable(answer):
            raise Wrong(f"your answer is {describe(answer)}; expected an exported program.")

        def call(X: np.ndarray) -> Any:
            with torch.no_grad():
                return answer(torch.from_numpy(X))
        return call
    if kind in ("tensorflow", "keras"):
        keras = sys.modules.get("keras")
        if keras is not None and isinstance(answer, keras.Model):
            raise Wrong("that is the Keras model itself; export it (model.export(dir)) and hand in "
                        "tf.saved_model.load(dir).")
        tf = sys.modules["tensorflow"]
        function = getattr(answer, "serve", None)
        if function is None and hasattr(answer, "signatures") and "serving_default" in answer.signatures:
            signature = answer.signatures["serving_default"]

            def function(X: Any) -> Any:
                out = signature(X)
                return next(iter(out.values())) if isinstance(out, dict) else out
        if function is None and callable(answer):
            function = answer
        if function is None:
            raise Wrong(f"your answer is {describe(answer)}; expected what tf.saved_model.load(dir) returns.")
        return lambda X: function(tf.constant(X))
    raise Wrong(f"your answer is {describe(answer)}; expected torch.export.load(...) or tf.saved_model.load(...).")


def _batch_advice(kind: str) -> str:
    if kind == "tensorflow":
        return "Hint: a TensorSpec with None as the batch size."
    return "Hint: dynamic_shapes for the batch axis, max >= 64."


@exercise("9.2", solution={
    "torch": ("exported = torch.export.export(mlp_ex_pt, (torch.zeros(32, 64),),\n"
              "                               dynamic_shapes={\"x\": {0: torch.export.Dim(\"batch\", min=1, max=64)}})\n"
              "torch.export.save(exported, WORK / \"mlp_any_batch.pt2\")\n"
              "answer = torch.export.load(WORK / \"mlp_any_batch.pt2\")"),
    "tensorflow": ("mlp_ex_tf.export(str(WORK / \"mlp_any_batch_tf\"), verbose=False,\n"
                   "                 input_signature=[tf.TensorSpec((None, 64), tf.float32)])   # None: any batch\n"
                   "answer = tf.saved_model.load(str(WORK / \"mlp_any_batch_tf\"))")})
def any_batch_export(answer: Any) -> str:
    """A loaded exported program that reproduces Exercise 9.2's MLP for batches of 1, 5, 33 and 64."""
    if answer is None:
        raise Wrong("your answer is None — assign what you loaded back, e.g. answer = torch.export.load(path).")
    call = _caller(answer)
    kind = "tensorflow" if framework_of(answer) in ("tensorflow", "keras") else "torch"
    rng = np.random.default_rng(7)
    for n in (32, 1, 5, 33, 64):
        X = rng.random((n, 64), dtype=np.float32)
        try:
            out = call(X)
        except Exception as exc:
            if n == 32:
                raise Wrong(f"it fails even for a batch of 32 ({type(exc).__name__}); feed it float32 rows of 64.")
            raise Wrong(f"it fails for a batch of {n} ({type(exc).__name__}): the export fixed the batch. "
                        + _batch_advice(kind)) from None
        arr = as_array(out, what="its output")
        if arr.shape != (n, 10):
            raise Wrong(f"for a batch of {n} it returns shape {arr.shape}, expected ({n}, 10).")
        if not np.allclose(arr, _reference(X), atol=1e-4):
            raise Wrong(f"it runs, but its outputs are not those of {'mlp_ex_tf' if kind == 'tensorflow' else 'mlp_ex_pt'}: "
                        "export that model, with its weights.")
    return "batches of 1, 5, 33 and 64 all ran through the same loaded program."


# --- Exercise 9.3: which loads can run code from the file ----------------------------------------------
UNSAFE = {"b", "d", "f"}
WHY = {
    "a": "a: weights_only=True only rebuilds tensors, dicts, lists and numbers; it refused the payload above.",
    "b": "b: pickle.load calls whatever the file names, as the payload above would have.",
    "c": "c: safetensors holds a JSON header and raw bytes; there is nothing to execute.",
    "d": "d: safe_mode=False lets Keras deserialize a Lambda's Python bytecode.",
    "e": "e: a SavedModel holds TensorFlow ops, no Python; its ops can still touch files (sandbox untrusted models).",
    "f": "f: allow_pickle=True lets np.load unpickle object arrays.",
    "g": "g: an ONNX file is a graph of ONNX operators; ONNX Runtime executes no code from it.",
}


@exercise("9.3", accepts=("any",), solution='answer = {"b", "d", "f"}')
def unsafe_loads(answer: Any) -> str:
    """The set of letters (a-g) of the loads that can run code from the file."""
    if answer is None:
        raise Wrong('your answer is None — assign a set of letters, e.g. answer = {"a", "b"}.')
    if isinstance(answer, str):
        letters = [c for c in answer.lower() if c.isalpha()]
    elif isinstance(answer, (set, frozenset, list, tuple)) and all(isinstance(c, str) for c in answer):
        letters = [c.strip().lower() for c in answer]
    else:
        raise Wrong(f'your answer is {describe(answer)}; expected a set of letters, e.g. answer = {{"a", "b"}}.')
    chosen = set(letters)
    unknown = sorted(chosen - set(WHY))
    if unknown:
        raise Wrong(f"{', '.join(unknown)} is not one of the options a-g.")
    wrongly_unsafe = sorted(chosen - UNSAFE)
    if wrongly_unsafe:
        raise Wrong(f"{wrongly_unsafe[0]} is safe. " + WHY[wrongly_unsafe[0]].split(": ", 1)[1])
    missing = sorted(UNSAFE - chosen)
    if missing:
        raise Wrong(f"unsafe loads are missing ({len(missing)} of {len(UNSAFE)}). Hint: look for the options that "
                    "switch a safety default off, or that unpickle.")
    return ("pickle, np.load(allow_pickle=True) and Keras with safe_mode=False can run Python code from the file; "
            "the rest cannot.")
