"""Lesson 07's Keras piece that worker processes must import by name: a ``keras.utils.PyDataset`` whose
batches run plain Python and report the process that made them.

``_tf`` in the name: importing this module imports Keras (and so TensorFlow), never PyTorch.
A ``PyDataset`` with ``use_multiprocessing=True`` is sent to worker processes like a torch ``Dataset``:
forked on Linux, spawned (pickled, imported by name) on macOS and Windows, hence a module.

Used in: 07_data_pipelines.
"""
from __future__ import annotations

import os

import keras
import numpy as np

from ..base import validate


class PythonWorkPids(keras.utils.PyDataset):
    """``num_batches`` batches of ``batch_size`` samples; each batch runs plain Python and each sample is the id of the
    process that ran it (float64, shape (batch_size, 1)). ``workers`` and ``use_multiprocessing`` go to
    ``PyDataset``: with ``use_multiprocessing=True`` Keras runs ``__getitem__`` in a pool of processes."""

    def __init__(self, num_batches: int, batch_size: int = 4, steps: int = 20_000, **kwargs):
        super().__init__(**kwargs)
        where = "pipelines_tf.PythonWorkPids"
        self.batches = validate.integer(num_batches, "num_batches", where, minimum=1)
        self.batch_size = validate.integer(batch_size, "batch_size", where, minimum=1)
        self.steps = validate.integer(steps, "steps", where, minimum=0)

    def __len__(self) -> int:
        return self.batches

    def __getitem__(self, index: int) -> np.ndarray:
        sum(k * k % 7 for k in range(self.batch_size * self.steps))   # plain Python: holds the GIL throughout
        return np.full((self.batch_size, 1), os.getpid(), dtype=np.float64)
