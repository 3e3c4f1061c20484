"""Helpers the weight-porting tests share (test_porting.py, test_porting_sequences.py)."""
import numpy as np
import torch


def max_diff(a, b) -> float:
    return float(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)).max())


def randomize_torch(model, seed: int, scale: float = 0.5) -> None:
    """Every torch parameter from N(0, scale²): ports must move real values, not initial ones."""
    gen = np.random.default_rng(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy(gen.normal(0, scale, size=tuple(p.shape)).astype(np.float32)))


def randomize_keras(model, seed: int, scale: float = 0.5) -> None:
    gen = np.random.default_rng(seed)
    for w in model.weights:
        w.assign(gen.normal(0, scale, size=tuple(w.shape)).astype(np.float32))
