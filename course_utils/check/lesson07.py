"""Checks for the exercises of 07_data_pipelines: a real shuffle, reproducible augmentation, cache/prefetch order.

The frameworks are never imported here: the checks read what the learner hands in (a tf.data
pipeline, a DataLoader, a Dataset or a function) and take torch or TensorFlow from ``sys.modules``
only when they need it. The exercises' inputs are rebuilt here, so a check never trusts the learner's cell.
"""
from __future__ import annotations

import copy
import sys
from typing import Any

import numpy as np

from ..arrays import framework_of, is_tensor_like
from .core import Wrong, as_array, describe, exercise

# Exercise 7.1: the digits' training labels, sorted (1,438 of them), batched by 64.
SHUFFLE_BATCH = 64
MIN_CLASSES_FIRST_BATCH = 8      # a real shuffle puts 10 classes in 64 samples (fewer than 8: p < 1e-6)
MAX_ORDER_CORRELATION = 0.2      # |correlation| of position and label; a real shuffle gives ~0.03

# Exercise 7.2: the noisy digits.
NOISE_SAMPLES = 32
NOISE_STD = 0.1

# Exercise 7.3: the stages, in the right order.
STAGES = ["decode", "cache", "shuffle", "augment", "batch", "prefetch"]


def _digits_labels() -> np.ndarray:
    from ..data import load_digits

    return np.sort(load_digits().y_train)


def _is_pipeline(answer: Any) -> str | None:
    """'tf.data' or 'DataLoader' (or None) for what the learner handed in."""
    kind = framework_of(answer)
    if kind == "tensorflow" and hasattr(answer, "element_spec") and hasattr(answer, "as_numpy_iterator"):
        return "tf.data"
    if kind == "torch" and hasattr(answer, "batch_size") and hasattr(answer, "dataset"):
        return "DataLoader"
    return None


def _labels_of(batch: Any) -> Any:
    if isinstance(batch, (tuple, list)) and batch:
        return batch[-1]
    if isinstance(batch, dict):
        raise Wrong("the batches are dicts; yield the labels themselves (or (x, labels) pairs).")
    return batch


@exercise("7.1")
def full_shuffle(answer: Any) -> str:
    """A pipeline (tf.data.Dataset or DataLoader) over the sorted digit labels: a real shuffle, batches of 64."""
    kind = _is_pipeline(answer)
    if kind is None:
        if is_tensor_like(answer) or isinstance(answer, (list, tuple, np.ndarray)):
            raise Wrong(f"your answer is {describe(answer)}: hand in the pipeline itself (the tf.data.Dataset or the "
                        "DataLoader), not its output.")
        raise Wrong(f"your answer is {describe(answer)}; expected a tf.data.Dataset or a torch DataLoader.")
    expected = _digits_labels()
    batches = []
    for batch in answer:
        labels = _labels_of(batch)
        if not is_tensor_like(labels):
            raise Wrong(f"the pipeline yields {describe(labels)}; it should yield tensors (did you add "
                        ".as_numpy_iterator() or a NumPy collate_fn?).")
        batches.append(as_array(labels, what="a batch").reshape(-1))
        if len(batches) > 2 * len(expected):
            raise Wrong("the pipeline does not end: one epoch, please (no .repeat()).")
    if not batches:
        raise Wrong("the pipeline yields no batches.")
    sizes = [len(b) for b in batches]
    if max(sizes) != SHUFFLE_BATCH:
        raise Wrong(f"the batches hold up to {max(sizes)} labels, expected {SHUFFLE_BATCH}.")
    seen = np.concatenate(batches)
    if len(seen) < len(expected):
        raise Wrong(f"one epoch gives {len(seen)} labels, not all {len(expected)}: keep the last, smaller batch "
                    "(no drop_remainder / drop_last, no take).")
    if len(seen) != len(expected) or not np.array_equal(np.sort(seen), expected):
        raise Wrong(f"one epoch gives {len(seen)} labels, not each of the {len(expected)} exactly once.")
    classes = len(np.unique(batches[0]))
    correlation = float(np.corrcoef(np.arange(len(seen)), seen)[0, 1])
    if all(np.all(np.diff(b) >= 0) for b in batches):
        raise Wrong("every batch is still sorted inside: the samples inside a batch are not mixed. "
                    "Hint: shuffle the samples before batching, not the batches.")
    if classes < MIN_CLASSES_FIRST_BATCH or abs(correlation) > MAX_ORDER_CORRELATION:
        raise Wrong(f"the first batch holds {classes} of the 10 classes and the order still follows the sorting "
                    f"(correlation {correlation:.2f}): the shuffle is local. Hint: the buffer must hold the "
                    "whole data set.")
    return (f"first batch: {classes} classes; tf.data's shuffle draws from its buffer only, so the buffer must "
            "hold all the data (DataLoader's shuffle=True permutes everything).")


def _item(answer: Any, index: int) -> np.ndarray:
    try:
        value = answer[index] if hasattr(answer, "__getitem__") else answer(index)
    except Wrong:
        raise
    except Exception as exc:
        raise Wrong(f"asking for sample {index} failed ({type(exc).__name__}: {str(exc).strip()[:100]}).") from None
    if isinstance(value, (tuple, list)) and value:
        value = value[0]
    if not is_tensor_like(value) or isinstance(value, np.ndarray):
        raise Wrong(f"sample {index} is {describe(value)}; return a tensor (torch.from_numpy / tf.constant).")
    return as_array(value, what=f"sample {index}").astype(np.float64)


@exercise("7.2")
def reproducible_noise(answer: Any) -> str:
    """A Dataset (or a function of the index) over the first 32 digits: image + N(0, 0.1) noise seeded by the index."""
    from ..data import load_digits

    if answer is None:
        raise Wrong("your answer is None — assign the Dataset itself: answer = ReproducibleNoise(X_clean).")
    if isinstance(answer, type):
        raise Wrong("that is the class; hand in an instance: answer = ReproducibleNoise(X_clean).")
    if not (hasattr(answer, "__getitem__") or callable(answer)) or is_tensor_like(answer) \
            or isinstance(answer, (list, tuple, str, dict)):
        raise Wrong(f"your answer is {describe(answer)}; expected a Dataset (with __getitem__) or a function noisy(i).")
    if hasattr(answer, "__len__") and len(answer) != NOISE_SAMPLES:
        raise Wrong(f"the Dataset has {len(answer)} samples, expected {NOISE_SAMPLES}: build it on X_clean.")
    clean = load_digits().X_train[:NOISE_SAMPLES].astype(np.float64)
    forward = [_item(answer, i) for i in range(NOISE_SAMPLES)]
    if forward[0].shape != clean[0].shape:
        raise Wrong(f"a sample has shape {forward[0].shape}, expected {clean[0].shape} (one digit, 8×8).")
    noise = np.stack(forward) - clean
    std = float(noise.std())
    if std < 1e-6:
        raise Wrong("there is no noise: the samples equal the images. Add noise of std 0.1, seeded by the index.")
    if not 0.05 < std < 0.2:
        raise Wrong(f"the noise has standard deviation {std:.3f}, expected about {NOISE_STD}.")
    if np.allclose(noise, noise[0], atol=1e-6):
        raise Wrong("every sample gets the same noise: the seed must depend on the index i as well as on seed.")
    again = [_item(answer, i) for i in reversed(range(NOISE_SAMPLES))][::-1]
    if not all(np.array_equal(a, b) for a, b in zip(forward, again)):
        raise Wrong("asking for the same samples again (in another order) gives other noise: the noise comes from "
                    "a generator whose state moves on. Hint: make a generator seeded with (seed, i) inside __getitem__.")
    try:
        worker = copy.deepcopy(answer)          # what each worker receives
    except Exception:
        worker = answer
    odd = [_item(worker, i) for i in range(1, NOISE_SAMPLES, 2)]
    if not all(np.array_equal(a, forward[i]) for a, i in zip(odd, range(1, NOISE_SAMPLES, 2))):
        raise Wrong("a copy of the Dataset (what a worker gets) gives other noise for the same sample.")
    return "sample i's noise depends only on (seed, i): the same with 0, 1 or 8 workers, in any order."


def _stages(answer: Any) -> list[str]:
    """The tf.data chain, input first, as names: 'decode'/'augment' (maps, by function name), 'cache', ..."""
    names, node = [], answer
    while node is not None:
        cls = type(node).__name__.lstrip("_")
        if cls in ("MapDataset", "ParallelMapDataset"):
            func = getattr(getattr(node, "_map_func", None), "_func", None)
            names.append(getattr(func, "__name__", "map"))
        else:
            names.append({"CacheDataset": "cache", "ShuffleDataset": "shuffle", "BatchDataset": "batch",
                          "PrefetchDataset": "prefetch"}.get(cls, cls))
        node = getattr(node, "_input_dataset", None)
    return names[::-1]


@exercise("7.3")
def cache_prefetch_order(answer: Any) -> str:
    """A tf.data pipeline on ``encoded``: decode → cache → shuffle → augment → batch(64) → prefetch."""
    if _is_pipeline(answer) != "tf.data":
        if _is_pipeline(answer) == "DataLoader":
            raise Wrong("a DataLoader has no cache or prefetch stage to place; build the tf.data pipeline.")
        raise Wrong(f"your answer is {describe(answer)}; expected a tf.data.Dataset built from `encoded`.")
    stages = [s for s in _stages(answer) if s in STAGES]
    for stage in STAGES:
        if stage not in stages:
            raise Wrong(f"the pipeline has no {stage} step" + (" (map(decode) / map(augment), by those names)."
                                                               if stage in ("decode", "augment") else "."))
    position = {s: stages.index(s) for s in STAGES}
    if position["prefetch"] != len(stages) - 1:
        raise Wrong("prefetch is not the last step: it should overlap everything before it with the training step.")
    if position["cache"] < position["decode"]:
        raise Wrong("cache comes before decode: it stores the encoded data, so every epoch decodes again.")
    if position["cache"] > position["augment"]:
        raise Wrong("cache comes after augment: it freezes the first epoch's random augmentation for all epochs.")
    if position["shuffle"] < position["cache"]:
        raise Wrong("shuffle comes before cache: the cache stores one shuffled order and replays it every epoch.")
    if position["batch"] < position["augment"]:
        raise Wrong("batch comes before augment: augment works on one image at a time here.")
    if position["shuffle"] > position["batch"]:
        raise Wrong("shuffle comes after batch: it shuffles whole batches, not samples.")
    if len(stages) != len(STAGES):
        raise Wrong(f"the steps run as {' → '.join(stages)}; expected each once, in a working order.")
    # shuffle and augment may come in either order between cache and batch: both give a new order and a
    # new augmentation every epoch.
    tf = sys.modules.get("tensorflow")
    if tf is not None:
        first = next(iter(answer))
        if tuple(first.shape)[0] != 64:
            raise Wrong(f"the first batch has {tuple(first.shape)[0]} samples, expected 64.")
    return "decode once, cache the decoded data, then shuffle and augment anew each epoch, batch, prefetch last."
