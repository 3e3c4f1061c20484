"""PyTorch helpers. Mirrors ``tf_utils``: same names, same parameters, same kinds of return value
(plain Python or NumPy, never a framework tensor unless the name says model/tensor).
``tests/test_mirror.py`` fails when the two drift apart.

Importing this module imports torch; ``import course_utils`` does not.
"""
from __future__ import annotations

import torch


def seed(seed: int) -> None:
    """Seed torch's generators on every device (``torch.manual_seed``)."""
    torch.manual_seed(seed)


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
