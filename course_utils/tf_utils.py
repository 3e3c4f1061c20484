"""TensorFlow/Keras helpers. Mirrors ``pt_utils``: same names, same parameters, same kinds of return
value (plain Python or NumPy, never a framework tensor unless the name says model/tensor).
``tests/test_mirror.py`` fails when the two drift apart.

Importing this module imports TensorFlow and Keras; ``import course_utils`` does not.
"""
from __future__ import annotations

import keras
import tensorflow as tf


def seed(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow together (``keras.utils.set_random_seed``)."""
    keras.utils.set_random_seed(seed)


def device_name() -> str:
    """Where this framework computes by default here: ``"GPU (<n> device(s))"`` or ``"CPU"``.

    >>> device_name()            # on a laptop without a GPU
    'CPU'
    """
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        return f"GPU ({len(gpus)} device{'s' if len(gpus) > 1 else ''})"
    return "CPU"
