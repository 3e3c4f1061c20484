"""Lesson 14's bridge: the lesson's Keras GRU classifier on Keras' torch backend, in a subprocess.

Keras 3 picks its backend at the first ``import keras`` of a process, so ``run_gru_on_torch_backend`` writes a job
(a torch ``nn.GRU`` classifier's weights in torch layout, a batch, a learning rate) and starts

    KERAS_BACKEND=torch KERAS_TORCH_DEVICE=cpu python -m course_utils.lessons.sequences --job JOB.npz --out OUT.npz

which builds ``keras_gru_classifier`` (a Keras ``GRU`` + ``Dense``), ports the weights with ``porting.gru_to_keras``,
predicts, and takes one SGD step with ``torch.optim.SGD`` on the Keras model (a ``torch.nn.Module`` there).
It never imports TensorFlow, and reports whether anything did.

Framework-free at import (the worker imports torch and keras).

Used in: 14_sequences_attention.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

import numpy as np

from . import porting
from ..base import servers, validate
from ..base.paths import run_scratch
from ..session import CPU_ENV, QUIET_ENV
from .keras_backends import seed_by_hand

MODULE = "course_utils.lessons.sequences"
GRU_PARAMS = ("rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0", "fc.weight", "fc.bias")


def keras_gru_classifier(steps: int, features: int, hidden: int, classes: int) -> Any:
    """``Input (steps, features)`` → ``GRU(hidden)`` (last state) → ``Dense(classes)``, in backend-neutral Keras 3."""
    import keras

    inputs = keras.Input((steps, features))
    x = keras.layers.GRU(hidden, name="rnn")(inputs)
    return keras.Model(inputs, keras.layers.Dense(classes, name="fc")(x), name="gru_classifier")


def run_gru_on_torch_backend(model: Any, X: np.ndarray, y: np.ndarray, lr: float = 0.5,
                             timeout: float = 180.0) -> dict[str, Any]:
    """Run the torch GRU classifier ``model`` (attributes ``rnn``: ``nn.GRU``, ``fc``: ``nn.Linear``) as a Keras
    model on Keras' torch backend, in a new process. ``X`` is ``(N, steps, features)``, ``y`` its labels.

    Returns ``logits``, ``loss`` (before the step), ``weights`` (Keras layout, after one SGD step with
    ``torch.optim.SGD``) and ``facts`` (backend, whether the model is an ``nn.Module``, whether TensorFlow was
    imported). ``model`` is only read.

    >>> out = run_gru_on_torch_backend(gru_pt, X_batch, y_batch)      # doctest: +SKIP
    >>> out["facts"]["backend"]
    'torch'
    """
    where = "sequences.run_gru_on_torch_backend"
    names = dict(model.named_parameters()) if hasattr(model, "named_parameters") else {}
    if validate.kind_of(model) != "torch" or tuple(names) != GRU_PARAMS:
        raise validate.fail(where, "model", "the lesson's torch GRU classifier (rnn = nn.GRU, fc = nn.Linear)", model)
    folder = run_scratch("lesson14")   # this kernel's own: two runs at once never share job files
    job, out = folder / "gru_job.npz", folder / "gru_out.npz"
    out.unlink(missing_ok=True)
    np.savez(job, X=validate.batch(X, "X", where), y=validate.labels(y, "y", where),
             lr=np.float32(validate.number(lr, "lr", where, minimum=0.0)),
             **{name.replace(".", "/"): p.detach().cpu().numpy() for name, p in names.items()})
    env = {**os.environ, **QUIET_ENV, **CPU_ENV, "KERAS_BACKEND": "torch"}
    servers.run_job(MODULE, job, out, "sequences", env, timeout)
    with np.load(out, allow_pickle=False) as result:
        return {"logits": result["logits"], "loss": float(result["loss"]),
                "weights": [result[f"weight{i}"] for i in range(int(result["n_weights"]))],
                "facts": json.loads(str(result["facts"]))}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--job", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(1)            # as lesson 14's kernel (cu.setup(threads=1))
    seed_by_hand(0)
    import keras

    if keras.backend.backend() != "torch":
        raise SystemExit(f"KERAS_BACKEND is {keras.backend.backend()!r}; run with KERAS_BACKEND=torch")
    with np.load(args.job, allow_pickle=False) as job:
        X, y, lr = job["X"], job["y"], float(job["lr"])
        params = [job[name.replace(".", "/")] for name in GRU_PARAMS]
    hidden, classes = params[1].shape[1], params[4].shape[0]
    model = keras_gru_classifier(X.shape[1], X.shape[2], hidden, classes)
    model.get_layer("rnn").set_weights(porting.gru_to_keras(*params[:4]))
    model.get_layer("fc").set_weights([params[4].T, params[5]])

    X_b, y_b = torch.from_numpy(X), torch.from_numpy(y)
    logits = model(X_b)
    facts = {"backend": keras.backend.backend(), "is nn.Module": isinstance(model, torch.nn.Module),
             "output type": f"{type(logits).__module__}.{type(logits).__qualname__}"}
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loss = torch.nn.functional.cross_entropy(model(X_b), y_b)
    loss.backward()
    optimizer.step()
    facts["tensorflow imported"] = "tensorflow" in sys.modules
    weights = [np.asarray(w) for w in model.get_weights()]
    np.savez(args.out, logits=logits.detach().cpu().numpy(), loss=np.float32(loss.item()),
             n_weights=np.int64(len(weights)), facts=np.array(json.dumps(facts)),
             **{f"weight{i}": w for i, w in enumerate(weights)})


if __name__ == "__main__":
    main()
