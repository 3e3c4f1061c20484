"""Lesson 13's Keras 3 backends: the lesson-03 Keras CNN run on the torch backend, in a subprocess.

Keras 3 chooses its backend once, at the first ``import keras`` of a process (``KERAS_BACKEND``): a
kernel that already imported Keras on TensorFlow cannot switch. So ``run_torch_backend`` writes a job
(the weights of a ``torch.nn`` model in torch layout, a batch, a learning rate) and starts

    KERAS_BACKEND=torch python -m course_utils.lessons.keras_backends --job JOB.npz --out OUT.npz

which builds the same Keras model as ``tf_utils.build_cnn`` (same layers, same names), ports the weights
with ``course_utils.lessons.porting`` (the layouts ``tf_utils.port_weights`` uses), predicts, and takes one
training step two ways from the same weights: Keras' own (``compile`` + ``train_on_batch``, Keras' SGD and loss,
Keras' torch trainer), to compare with the same Keras code on TensorFlow; and a *torch* optimizer on the Keras
model, which on this backend is a ``torch.nn.Module``.

Keras' torch backend picks its device at import: ``KERAS_TORCH_DEVICE``, else ``mps`` on Apple silicon, else
``cuda`` when torch sees a GPU. The course computes on the CPU, so the process is started with
``KERAS_TORCH_DEVICE=cpu`` (``session.CPU_ENV``), the worker sets it too before ``import keras`` when it is
missing, and every tensor it makes goes to the model's device.

The worker seeds Python, NumPy and torch by hand: ``keras.utils.set_random_seed`` imports TensorFlow
whenever it is installed, whatever the backend (FIELD_NOTES, "13 Keras 3 backends"). It never imports
TensorFlow, and reports whether anything did.

Framework-free at import: the kernel side imports neither framework (the worker imports torch and keras).

Used in: 13_claims_checked.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from . import porting
from ..base import servers, validate
from ..base.paths import run_scratch
from ..session import CPU_ENV, QUIET_ENV

MODULE = "course_utils.lessons.keras_backends"


def job_dir() -> Path:
    """``build/scratch/lesson13/<pid>/`` (git-ignored, this kernel's own): where jobs and results go."""
    return run_scratch("lesson13")


def build_cnn(image_size: int = 8, channels: int = 8, kernel_size: int = 3, num_classes: int = 10) -> Any:
    """The lesson-03 CNN in backend-neutral Keras 3 (NHWC input), layer for layer ``pt_utils.build_cnn``.

    ``tf_utils.build_cnn`` validates its arguments and returns this model; the torch-backend worker
    builds it without TensorFlow."""
    import keras

    inputs = keras.Input((image_size, image_size, 1))
    x = keras.layers.Conv2D(channels, kernel_size, name="conv")(inputs)
    x = keras.layers.ReLU(name="relu")(x)
    x = keras.layers.MaxPooling2D(2, name="pool")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    outputs = keras.layers.Dense(num_classes, name="fc")(x)
    return keras.Model(inputs, outputs, name="cnn")


def torch_weights(model: Any) -> list[tuple[str, str, np.ndarray, np.ndarray]]:
    """(name, kind, weight, bias) of each torch layer with parameters, in torch layout, as NumPy."""
    if not hasattr(model, "named_modules") or validate.kind_of(model) != "torch":
        raise validate.fail("keras_backends.run_torch_backend", "model", "a torch nn.Module (the lesson-03 CNN)", model)
    names = {m: n for n, m in model.named_modules()}
    return [(names[m], type(m).__name__, m.weight.detach().cpu().numpy(), m.bias.detach().cpu().numpy())
            for m in porting.torch_weighted_layers(model)]


def write_job(path: Path, model: Any, X: np.ndarray, y: np.ndarray, lr: float) -> Path:
    """The job file: each torch layer's weights, the NHWC batch ``X``, labels ``y``, ``lr``."""
    arrays: dict[str, Any] = {"X": validate.batch(X, "X", "keras_backends.run_torch_backend"),
                              "y": validate.labels(y, "y", "keras_backends.run_torch_backend"),
                              "lr": np.float32(validate.number(lr, "lr", "keras_backends.run_torch_backend", minimum=0.0))}
    for i, (name, kind, weight, bias) in enumerate(torch_weights(model)):
        arrays.update({f"layer{i}/name": np.array(name), f"layer{i}/kind": np.array(kind),
                       f"layer{i}/weight": weight, f"layer{i}/bias": bias})
    np.savez(path, **arrays)
    return path


def run_torch_backend(model: Any, X: np.ndarray, y: np.ndarray, lr: float = 0.1,
                      timeout: float = 180.0) -> dict[str, Any]:
    """Run the lesson-03 Keras CNN with ``model``'s weights on Keras' torch backend, in a new process.

    ``model`` is the torch.nn CNN (weights are read, never changed), ``X`` an NHWC batch, ``y`` its labels.
    Returns ``logits`` (NumPy), ``loss`` (before the step), ``keras_weights`` (the weights after Keras' own
    step: ``compile(SGD(lr), SparseCategoricalCrossentropy(from_logits=True))`` + ``train_on_batch``),
    ``keras_loss`` (what ``train_on_batch`` returned), ``weights`` (after one ``torch.optim.SGD`` step on a
    second copy of the Keras model), all weights in Keras layout and ``model.weights`` order, ``facts``
    (what the process saw: backend, device, ``isinstance(model, torch.nn.Module)``, parameter names,
    whether TensorFlow was imported) and ``seconds`` (the subprocess's wall time, start-up included).

    >>> out = run_torch_backend(pt_utils.build_cnn(), X_nhwc, y)       # doctest: +SKIP
    >>> out["facts"]["backend"], out["facts"]["is nn.Module"]
    ('torch', True)
    """
    folder = job_dir()
    job, out = folder / "torch_job.npz", folder / "torch_out.npz"
    out.unlink(missing_ok=True)
    write_job(job, model, X, y, lr)
    env = {**os.environ, **QUIET_ENV, **CPU_ENV, "KERAS_BACKEND": "torch"}  # CPU even on a Mac or CUDA machine
    start = time.perf_counter()
    servers.run_job(MODULE, job, out, "keras_backends", env, timeout)
    seconds = time.perf_counter() - start
    with np.load(out, allow_pickle=False) as result:
        n = int(result["n_weights"])
        return {"logits": result["logits"], "loss": float(result["loss"]),
                "weights": [result[f"weight{i}"] for i in range(n)],
                "keras_weights": [result[f"keras_weight{i}"] for i in range(n)],
                "keras_loss": float(result["keras_loss"]),
                "facts": json.loads(str(result["facts"])), "seconds": seconds}


# --- the worker (runs with KERAS_BACKEND=torch) ---------------------------------------------------------

def seed_by_hand(seed: int) -> None:
    """Python, NumPy and torch, without ``keras.utils.set_random_seed`` (it would import TensorFlow)."""
    import random

    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--job", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(2)            # as cu.setup does in the kernel: the same sums, the same digits
    seed_by_hand(0)
    os.environ.setdefault("KERAS_TORCH_DEVICE", "cpu")   # else Keras picks mps or cuda where there is one
    import keras

    if keras.backend.backend() != "torch":
        raise SystemExit(f"KERAS_BACKEND is {keras.backend.backend()!r}; run with KERAS_BACKEND=torch")
    with np.load(args.job, allow_pickle=False) as job:
        X, y, lr = job["X"], job["y"], float(job["lr"])
        layers = []
        i = 0
        while f"layer{i}/kind" in job:
            layers.append((str(job[f"layer{i}/kind"]), job[f"layer{i}/weight"], job[f"layer{i}/bias"]))
            i += 1

    def ported() -> Any:
        model = build_cnn()
        for i, ((kind_pt, weight, bias), (layer, hwc)) in enumerate(zip(layers, porting.keras_weighted_layers(model))):
            kernel, _ = porting.to_keras_layout(weight, kind_pt, type(layer).__name__, hwc, i)
            layer.set_weights([np.ascontiguousarray(kernel), bias])
        return model

    # Keras' own training step on this backend: the same code the kernel runs on TensorFlow.
    keras_model = ported()
    keras_model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr), jit_compile=False,
                        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    keras_loss = float(keras_model.train_on_batch(X, y))
    keras_weights = [np.asarray(w) for w in keras_model.get_weights()]

    model = ported()
    device = next(model.parameters()).device              # cpu here; every tensor below goes where it is
    X_b, y_b = torch.from_numpy(X).to(device), torch.from_numpy(y).to(device)
    logits = model(X_b)                                   # a torch.Tensor, with autograd attached
    facts = {
        "backend": keras.backend.backend(),
        "device": str(device),
        "is nn.Module": isinstance(model, torch.nn.Module),
        "output type": f"{type(logits).__module__}.{type(logits).__qualname__}",
        "parameters": sum(p.numel() for p in model.parameters()),
        "parameter names": [n for n, _ in model.named_parameters()],
        "tensorflow imported": "tensorflow" in sys.modules,
    }
    # One training step with a torch optimizer and a torch loss, on the Keras model itself.
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    optimizer.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(X_b), y_b)
    loss.backward()
    optimizer.step()
    facts["tensorflow imported"] = facts["tensorflow imported"] or "tensorflow" in sys.modules
    weights = [np.asarray(w) for w in model.get_weights()]
    np.savez(args.out, logits=logits.detach().cpu().numpy(), loss=np.float32(loss.item()),
             keras_loss=np.float32(keras_loss), n_weights=np.int64(len(weights)), facts=np.array(json.dumps(facts)),
             **{f"weight{i}": w for i, w in enumerate(weights)},
             **{f"keras_weight{i}": w for i, w in enumerate(keras_weights)})


if __name__ == "__main__":
    main()
