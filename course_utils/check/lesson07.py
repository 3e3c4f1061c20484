"""Checks for the exercises of 07_data_pipelines: a real shuffle, reproducible augmentation, cache/prefetch order.

The frameworks are never imported here: the checks read what the learner hands in (a tf.data
pipeline, a DataLoader, a Dataset or a function) and take torch or TensorFlow from ``sys.modules``
only when they need it. The exercises' inputs are rebuilt here, so a check never trusts the learner's cell.

The checks run what they claim: 7.1 iterates several epochs and tests where the labels land (bounds
whose false-fail and false-pass rates ``tests/test_checks_lesson07.py`` computes); 7.2 builds the
learner's Dataset with other seeds and other images, re-seeds every global generator between passes,
and, where the start method is fork, runs real DataLoader workers.
"""
from __future__ import annotations

import copy
import random
import sys
from typing import Any

import numpy as np

from ..base.arrays import framework_of, is_tensor_like
from .core import Wrong, as_array, describe, exercise

# --- Exercise 7.1: the digits' training labels, sorted (1,438 of them), batched by 64 ----------------
SHUFFLE_BATCH = 64
SHUFFLE_EPOCHS = 10
# A shuffle buffer of B samples over sorted data can output the first 9 only at position
# (first index of the 9s) - B + 1 or later. A full shuffle puts a 9 among the first FIRST_NINE_BY
# outputs of at least one of SHUFFLE_EPOCHS epochs except with probability ~1e-9 (the tests compute it);
# every buffer of at most (first index of the 9s) + 1 - FIRST_NINE_BY samples never does.
FIRST_NINE_BY = 20
# Two consecutive epochs' batches hold (nearly) the same classes when the order is fixed: the
# correlation of their class counts per batch is 1 for a fixed order (shuffled once, or no reshuffle),
# ~0.78 for a buffer of 16 over a fixed order, and 0 ± 0.065 for two full shuffles (the tests measure it).
MAX_EPOCH_SIMILARITY = 0.5

# --- Exercise 7.2: the noisy digits --------------------------------------------------------------
NOISE_SAMPLES = 32
NOISE_STD = 0.1
# 32 samples × 64 pixels = 2048 draws: the sample std is 0.1 ± 0.0016 and the mean 0 ± 0.0022; these
# bounds are more than 6 standard deviations away.
NOISE_STD_BAND = (0.09, 0.11)
NOISE_MAX_MEAN = 0.015
NOISE_SEEDS = (0, 1, 7)
WORKER_TIMEOUT_S = 60

# --- Exercise 7.3: decode → cache → shuffle → augment → batch(64) → prefetch, judged by running it -------
ENCODED_SAMPLES = 256
BATCH = 64
READ_AHEAD_TIMEOUT_S = 5.0


def _framework_by_class(answer: Any) -> str:
    """The library a learner's object builds on: its class or one of its base classes ("python" if none)."""
    for cls in type(answer).__mro__:
        root = (cls.__module__ or "").split(".")[0]
        if root == "torch":
            return "torch"
        if root in ("tensorflow", "keras"):
            return "tensorflow"
    return framework_of(answer)


# --- 7.1 -----------------------------------------------------------------------------------------

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


def _one_epoch(answer: Any, total: int) -> list[np.ndarray]:
    batches = []
    for batch in answer:
        labels = _labels_of(batch)
        if not is_tensor_like(labels) or isinstance(labels, (np.ndarray, np.generic)):
            raise Wrong(f"the pipeline yields {describe(labels)}; it should yield the framework's tensors "
                        "(no NumPy iterator or NumPy collate).")
        batches.append(as_array(labels, what="a batch").reshape(-1))
        if len(batches) > 2 * total:
            raise Wrong("the pipeline does not end: one epoch, please (no .repeat()).")
    return batches


def first_nine_position(epoch: np.ndarray) -> int:
    """Where the first 9 comes in an epoch of labels (its length if there is none)."""
    nines = np.flatnonzero(epoch == 9)
    return int(nines[0]) if len(nines) else len(epoch)


def _class_counts(epoch: np.ndarray) -> np.ndarray:
    """Each batch's count of each class, less what a batch of its size holds on average."""
    counts = np.bincount(np.arange(len(epoch)) // SHUFFLE_BATCH * 10 + epoch.astype(np.int64),
                         minlength=-(-len(epoch) // SHUFFLE_BATCH) * 10).reshape(-1, 10).astype(np.float64)
    share = np.bincount(epoch.astype(np.int64), minlength=10) / len(epoch)
    return (counts - counts.sum(axis=1, keepdims=True) * share).ravel()


def epoch_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of two epochs' class counts per batch: 1 for the same order, about 0 for two shuffles."""
    return float(np.corrcoef(_class_counts(a), _class_counts(b))[0, 1])


def shuffle_verdict(epochs: list[np.ndarray]) -> str | None:
    """Why these epochs of labels (each a permutation of the sorted labels) are no full shuffle, or None.

    The bounds, shared with the tests that compute their error rates: consecutive epochs' batches hold
    unrelated classes; the first 9 comes within the first ``FIRST_NINE_BY`` labels of at least one epoch.
    """
    if min(first_nine_position(e) for e in epochs) >= FIRST_NINE_BY:
        return "local"
    if any(epoch_similarity(a, b) > MAX_EPOCH_SIMILARITY for a, b in zip(epochs, epochs[1:])):
        return "same order"
    return None


def _shuffle_advice(kind: str) -> str:
    if kind == "tf.data":
        return "Its buffer must hold the whole data set."
    return "Draw a permutation of all the samples."


@exercise("7.1", solution={
    "tensorflow": "answer = tf.data.Dataset.from_tensor_slices(labels_sorted).shuffle(len(labels_sorted), seed=0).batch(64)",
    "torch": "answer = DataLoader(torch.from_numpy(labels_sorted), batch_size=64, shuffle=True)"})
def full_shuffle(answer: Any) -> str:
    """A pipeline (tf.data.Dataset or DataLoader) over the sorted digit labels: a real shuffle, batches of 64."""
    kind = _is_pipeline(answer)
    if kind is None:
        if is_tensor_like(answer) or isinstance(answer, (list, tuple, np.ndarray)):
            raise Wrong(f"your answer is {describe(answer)}: hand in the pipeline itself, not its output.")
        expected = {"torch": "a DataLoader", "tensorflow": "a tf.data.Dataset"}.get(
            framework_of(answer), "a tf.data.Dataset or a torch DataLoader")
        raise Wrong(f"your answer is {describe(answer)}; expected {expected}.")
    expected = _digits_labels()
    batches = _one_epoch(answer, len(expected))
    if not batches:
        raise Wrong("the pipeline yields no batches.")
    sizes = [len(b) for b in batches]
    if max(sizes) != SHUFFLE_BATCH:
        raise Wrong(f"the batches hold up to {max(sizes)} labels, expected {SHUFFLE_BATCH}.")
    seen = np.concatenate(batches)
    if len(seen) < len(expected):
        raise Wrong(f"one epoch gives {len(seen)} labels, not all {len(expected)}: keep the last, smaller batch "
                    "(no dropping, no take).")
    if len(seen) != len(expected) or not np.array_equal(np.sort(seen), expected):
        raise Wrong(f"one epoch gives {len(seen)} labels, not each of the {len(expected)} sorted labels exactly once.")
    if all(np.all(np.diff(b) >= 0) for b in batches):
        raise Wrong("every batch is still sorted inside: its samples are not mixed. "
                    "Hint: shuffle the samples before batching, not the batches.")
    epochs = [seen] + [np.concatenate(_one_epoch(answer, len(expected))) for _ in range(SHUFFLE_EPOCHS - 1)]
    if any(len(e) != len(expected) for e in epochs):
        raise Wrong("the epochs differ in length: every epoch must give all the labels once.")
    problem = shuffle_verdict(epochs)
    if problem == "same order":
        raise Wrong(f"{SHUFFLE_EPOCHS} epochs come in (nearly) the same order: the data were shuffled once. "
                    "Each epoch needs a new shuffle.")
    if problem == "local":
        first = min(first_nine_position(e) for e in epochs)
        raise Wrong(f"in {SHUFFLE_EPOCHS} epochs no 9 came before position {first}: the shuffle is local. "
                    + _shuffle_advice(kind))
    classes = len(np.unique(batches[0]))
    return (f"first batch: {classes} classes, and a new order every epoch"
            + (": the buffer holds all the data." if kind == "tf.data" else "."))


# --- 7.2 -----------------------------------------------------------------------------------------

def _sample(answer: Any, index: int, is_function: bool) -> Any:
    try:
        value = answer(index) if is_function else answer[index]
    except Wrong:
        raise
    except Exception as exc:
        raise Wrong(f"asking for sample {index} failed ({type(exc).__name__}: "
                    f"{' '.join(str(exc).split())[:60]}).") from None
    if isinstance(value, (tuple, list)) and value:
        value = value[0]
    return value


def _item(answer: Any, index: int, is_function: bool) -> np.ndarray:
    value = _sample(answer, index, is_function)
    if not is_tensor_like(value) or isinstance(value, (np.ndarray, np.generic)):
        raise Wrong(f"sample {index} is {describe(value)}; return the framework's tensor.")
    return as_array(value, what=f"sample {index}").astype(np.float64)


def _noise_framework(answer: Any) -> str:
    """The framework of a 7.2 answer: its class's, or that of the sample it returns."""
    kind = _framework_by_class(answer)
    if kind in ("torch", "tensorflow"):
        return kind
    try:
        with _GlobalSeeds(0):
            return framework_of(_sample(answer, 0, not hasattr(answer, "__getitem__")))
    except Exception:  # noqa: BLE001 - a broken answer: the hint shows both frameworks
        return "python"


def _noise_advice(kind: str) -> str:
    if kind == "tensorflow":
        return "Hint: a stateless op seeded with (seed, i)."
    return "Hint: a generator made in __getitem__, seeded from (seed, i)."


class _GlobalSeeds:
    """Seed the global generators of Python, NumPy and torch (CPU) with ``seed`` inside; restore them after.
    (TensorFlow's global seed cannot be read back, so it is left alone: its stateful ops differ per call anyway.)"""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def __enter__(self) -> None:
        self.saved = (random.getstate(), np.random.get_state())
        torch = sys.modules.get("torch")
        self.torch_state = torch.default_generator.get_state() if torch is not None else None
        random.seed(self.seed)
        np.random.seed(self.seed)
        if torch is not None:
            torch.default_generator.manual_seed(self.seed)

    def __exit__(self, *exc: Any) -> None:
        random.setstate(self.saved[0])
        np.random.set_state(self.saved[1])
        if self.torch_state is not None:
            sys.modules["torch"].default_generator.set_state(self.torch_state)


def _pass(answer: Any, order: list[int], is_function: bool, seed: int) -> np.ndarray:
    """The samples in ``order``, asked for with the global generators seeded with ``seed``, in index order."""
    with _GlobalSeeds(seed):
        got = {i: _item(answer, i, is_function) for i in order}
    return np.stack([got[i] for i in range(len(order))])


def _worker_samples(answer: Any) -> np.ndarray | None:
    """The 32 samples as 2 real DataLoader workers give them, or None where that cannot run: on Linux
    only, with fork (a class defined in a notebook cannot be sent to a spawned worker, and forking a
    process that has loaded TensorFlow is unsafe on macOS)."""
    torch = sys.modules.get("torch")
    if torch is None or not sys.platform.startswith("linux"):
        return None
    from torch.utils.data import DataLoader

    loader = DataLoader(answer, batch_size=4, num_workers=2, multiprocessing_context="fork",
                        timeout=WORKER_TIMEOUT_S)
    try:
        batches = [b[0] if isinstance(b, (tuple, list)) else b for b in loader]
    except Exception as exc:  # noqa: BLE001 - the answer fails in a worker: say so
        raise Wrong(f"in DataLoader workers your Dataset failed ({type(exc).__name__}).") from None
    return torch.cat(batches).double().numpy()


def _build(cls: type, X: np.ndarray, seed: int) -> Any:
    try:
        return cls(X, seed=seed)
    except Exception as exc:  # noqa: BLE001 - the learner's constructor
        raise Wrong(f"{cls.__name__}(X, seed={seed}) failed ({type(exc).__name__}): it should take any X "
                    "and a seed.") from None


def _seeded_variants(answer: Any) -> tuple[list[np.ndarray], bool] | None:
    """The noise of the learner's class built with other seeds, and whether it is the same noise on other
    images; None for a function (it has no seed to vary)."""
    from ..data import load_digits

    cls = type(answer)
    if not hasattr(answer, "__getitem__") or cls.__init__ is object.__init__:
        return None
    clean = load_digits().X_train[:NOISE_SAMPLES]
    other = load_digits().X_train[NOISE_SAMPLES:2 * NOISE_SAMPLES]
    noises = [_pass(_build(cls, clean, s), list(range(NOISE_SAMPLES)), False, 0) - clean for s in NOISE_SEEDS]
    on_other = _pass(_build(cls, other, NOISE_SEEDS[0]), list(range(NOISE_SAMPLES)), False, 0) - other
    return noises, bool(np.allclose(on_other, noises[0], atol=1e-5))


@exercise("7.2", framework=_noise_framework, solution={
    "torch": ("class ReproducibleNoise(Dataset):\n"
              "    def __init__(self, X, seed=0):\n"
              "        self.X, self.seed = torch.from_numpy(X), seed\n\n"
              "    def __len__(self):\n"
              "        return len(self.X)\n\n"
              "    def __getitem__(self, i):\n"
              "        g = torch.Generator().manual_seed(self.seed * 1_000_003 + i)\n"
              "        return self.X[i] + 0.1 * torch.randn(self.X[i].shape, generator=g)\n\n\n"
              "answer = ReproducibleNoise(X_clean)"),
    "tensorflow": ("X_tf = tf.constant(X_clean)\n"
                   "answer = lambda i: X_tf[i] + 0.1 * tf.random.stateless_normal((8, 8), seed=[0, i])")})
def reproducible_noise(answer: Any) -> str:
    """A Dataset (or a function of the index) over the first 32 digits: image + N(0, 0.1) noise seeded by the index."""
    from ..data import load_digits

    if answer is None:
        raise Wrong("your answer is None — assign the Dataset itself, built on X_clean.")
    if isinstance(answer, type):
        raise Wrong("that is the class; hand in an instance of it, built on X_clean.")
    is_function = not hasattr(answer, "__getitem__")
    if (is_function and not callable(answer)) or is_tensor_like(answer) or isinstance(answer, (list, tuple, str, dict)):
        raise Wrong(f"your answer is {describe(answer)}; expected a Dataset (with __getitem__) or a function noisy(i).")
    if hasattr(answer, "__len__") and len(answer) != NOISE_SAMPLES:
        raise Wrong(f"the Dataset has {len(answer)} samples, expected {NOISE_SAMPLES}: build it on X_clean.")
    kind = _noise_framework(answer)
    clean = load_digits().X_train[:NOISE_SAMPLES].astype(np.float64)
    order = list(range(NOISE_SAMPLES))
    forward = _pass(answer, order, is_function, seed=1)
    if forward.shape[1:] != clean.shape[1:]:
        raise Wrong(f"a sample has shape {forward.shape[1:]}, expected {clean.shape[1:]} (one digit, 8×8).")
    noise = forward - clean
    std, mean = float(noise.std()), float(noise.mean())
    if std < 1e-6:
        raise Wrong("there is no noise: the samples equal the images. Add noise of std 0.1, seeded by the index.")
    if np.allclose(noise, noise[0], atol=1e-6):
        raise Wrong("every sample gets the same noise: the seed must depend on the index i as well as on seed.")
    if not NOISE_STD_BAND[0] < std < NOISE_STD_BAND[1] or abs(mean) > NOISE_MAX_MEAN:
        raise Wrong(f"the noise has mean {mean:.3f} and standard deviation {std:.3f}; expected Gaussian noise "
                    f"of mean 0 and std {NOISE_STD}.")
    backward = _pass(answer, order[::-1], is_function, seed=2)
    if not np.array_equal(backward, forward):
        raise Wrong("the same samples asked for again (in another order) get other noise. " + _noise_advice(kind))
    try:
        copied = copy.deepcopy(answer)             # what a spawned worker receives
    except Exception:  # noqa: BLE001 - an object that cannot be copied is graded as it is
        copied = answer
    if not np.array_equal(_pass(copied, order, is_function, seed=3), forward):
        raise Wrong("a copy of your answer (what a worker gets) gives other noise. " + _noise_advice(kind))
    if not is_function and kind == "torch":
        with _GlobalSeeds(4):                  # the loader draws its workers' base seed from torch's
            in_workers = _worker_samples(answer)
        if in_workers is not None and not np.allclose(in_workers, forward, atol=1e-6):
            raise Wrong("2 DataLoader workers give other noise than 0 workers. " + _noise_advice(kind))
    variants = _seeded_variants(answer)
    if variants is not None:
        noises, same_on_other_images = variants
        if any(np.allclose(noises[0], n, atol=1e-6) for n in noises[1:]):
            raise Wrong(f"seeds {NOISE_SEEDS} give the same noise: the seed argument must change it.")
        if not same_on_other_images:
            raise Wrong("on other images the noise changes: it must depend only on the seed and the index i.")
    return "sample i's noise depends only on (seed, i): the same in any worker, in any order."


# --- 7.3 -----------------------------------------------------------------------------------------

def _exercise_73_inputs() -> tuple[Any, Any, Any, Any, Any]:
    """The check's own ``encoded`` (256 random 4×4×3 uint8 images with their index), a ``decode`` and an
    ``augment`` that count their calls in TF variables, and those two counters. ``augment`` draws from a
    stateful generator, so it differs every time it runs, and returns ``(index, image)`` so that the check
    can follow each sample."""
    tf = sys.modules["tensorflow"]
    images = np.random.default_rng(7).integers(0, 256, size=(ENCODED_SAMPLES, 4, 4, 3), dtype=np.uint8)
    encoded = tf.data.Dataset.from_tensor_slices(images).enumerate()
    decodes, augments = tf.Variable(0, dtype=tf.int64), tf.Variable(0, dtype=tf.int64)
    rng = tf.random.Generator.from_seed(1)

    def decode(index, image):
        decodes.assign_add(1)
        return index, tf.cast(image, tf.float32) / 255.0

    def augment(index, image):
        augments.assign_add(1)
        return index, image + 0.05 * rng.normal(tf.shape(image))

    return encoded, decode, augment, decodes, augments


def _run_epoch(pipeline: Any) -> tuple[list[np.ndarray], np.ndarray]:
    """One epoch: each batch's sample indices, and the images ordered by index."""
    indices, images = [], {}
    try:
        for batch in pipeline:
            if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
                raise Wrong("the batches are not what augment returns: batch its output, with nothing after it.")
            index, image = (np.asarray(as_array(part, what="a batch")) for part in batch)
            indices.append(index.reshape(-1))
            images.update(zip(index.reshape(-1).tolist(), image.reshape(len(index.reshape(-1)), -1)))
    except Wrong:
        raise
    except Exception as exc:  # noqa: BLE001 - the learner's pipeline fails when it runs
        raise Wrong(f"running the pipeline failed ({type(exc).__name__}): decode the uint8 images "
                    "before augmenting them.") from None
    if not indices:
        raise Wrong("the pipeline yields no batches.")
    return indices, np.stack([images[i] for i in sorted(images)])


def _reads_ahead(pipeline: Any, augments: Any) -> bool:
    """Whether, with tf.data's automatic prefetch switched off, the pipeline prepares the next batch while
    the loop holds the first (prefetch at the end does; without it only one batch is made at a time)."""
    import time

    tf = sys.modules["tensorflow"]
    options = tf.data.Options()
    options.experimental_optimization.inject_prefetch = False
    options.experimental_optimization.map_and_batch_fusion = False
    iterator = iter(pipeline.with_options(options))
    before = int(augments.numpy())
    next(iterator)
    deadline = time.monotonic() + READ_AHEAD_TIMEOUT_S
    while time.monotonic() < deadline:
        if int(augments.numpy()) - before >= 2 * BATCH:
            return True
        time.sleep(0.01)
    return False


@exercise("7.3", accepts=("tensorflow",), solution=(
    "def build(encoded, decode, augment):\n"
    "    return (encoded.map(decode, num_parallel_calls=tf.data.AUTOTUNE)\n"
    "            .cache()\n"
    "            .shuffle(256, seed=0)\n"
    "            .map(augment, num_parallel_calls=tf.data.AUTOTUNE)\n"
    "            .batch(64)\n"
    "            .prefetch(tf.data.AUTOTUNE))\n\n\n"
    "answer = build"))
def cache_prefetch_order(answer: Any) -> str:
    """A function ``build(encoded, decode, augment)`` returning decode → cache → shuffle → augment → batch(64)
    → prefetch. Run with the check's own inputs: decode once per sample, a new augmentation and a new order
    every epoch, batches of 64, the next batch prepared while the loop holds one."""
    kind = _is_pipeline(answer)
    if kind == "DataLoader":
        raise Wrong("this exercise builds a TensorFlow pipeline: a DataLoader has no cache stage to place.")
    if kind == "tf.data":
        raise Wrong("hand in the function itself, not the pipeline it returns.")
    if not callable(answer):
        raise Wrong(f"your answer is {describe(answer)}; expected the function build(encoded, decode, augment).")
    if "tensorflow" not in sys.modules:
        raise Wrong("TensorFlow is not imported: run the lesson's setup cell first.")
    encoded, decode, augment, decodes, augments = _exercise_73_inputs()
    try:
        pipeline = answer(encoded, decode, augment)
    except Exception as exc:  # noqa: BLE001 - the learner's function
        raise Wrong(f"build(encoded, decode, augment) failed ({type(exc).__name__}): map decode, then augment, "
                    "in a chain.") from None
    if _is_pipeline(pipeline) != "tf.data":
        raise Wrong(f"build(...) returned {describe(pipeline)}; expected a tf.data.Dataset built from encoded.")
    batches, first = _run_epoch(pipeline)
    if len(batches[0]) != BATCH:
        raise Wrong(f"the first batch has {len(batches[0])} samples, expected {BATCH}.")
    order = np.concatenate(batches)
    if len(order) != ENCODED_SAMPLES or len(set(order.tolist())) != ENCODED_SAMPLES:
        raise Wrong(f"an epoch gives {len(order)} samples, expected all {ENCODED_SAMPLES} of encoded, once.")
    if np.array_equal(order, np.arange(ENCODED_SAMPLES)):
        raise Wrong("the samples come in their original order: the pipeline does not shuffle.")
    if all(np.array_equal(np.sort(b), np.arange(b.min(), b.min() + len(b))) for b in batches):
        raise Wrong("every batch holds consecutive samples: shuffle comes after batch, so it moves whole batches.")
    batches_2, second = _run_epoch(pipeline)
    decoded = int(decodes.numpy())
    if decoded > ENCODED_SAMPLES:
        raise Wrong(f"decode ran {decoded} times in 2 epochs of {ENCODED_SAMPLES} samples: cache the decoded "
                    "samples, so later epochs skip decode.")
    if np.allclose(first, second):
        raise Wrong("epoch 2 replays epoch 1's augmentation: a cache after augment freezes it. Cache before augment.")
    if np.array_equal(np.concatenate(batches_2), order):
        raise Wrong("two epochs come in the same order: a cache after shuffle replays one order. Shuffle after cache.")
    if not _reads_ahead(pipeline, augments):
        raise Wrong("nothing is prepared while the loop holds a batch: prefetch, as the last step, overlaps them.")
    return "decode ran once per sample; each epoch a new order and a new augmentation; the next batch made ahead."
