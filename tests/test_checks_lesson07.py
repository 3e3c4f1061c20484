"""The 07_data_pipelines exercise checks: right answers in both frameworks pass; plausible mistakes are
refused with a short reason in the learner's framework (check_support holds the message rules).

7.1's check is statistical: its error rates are computed here, from the check's own bounds."""
import math
import os

import numpy as np
import pytest
import tensorflow as tf
import torch
from torch.utils.data import DataLoader, Dataset, RandomSampler, TensorDataset

import course_utils as cu
from check_support import assert_right, assert_wrong, first_try, one_line  # noqa: F401 - first_try is autouse
from course_utils.check import lesson07

LABELS = np.sort(cu.load_digits().y_train)
X_CLEAN = cu.load_digits().X_train[:32]
N = len(LABELS)
FIRST_NINE = int(np.flatnonzero(LABELS == 9)[0])   # where the 9s start in the sorted labels


def tf_labels(labels=LABELS):
    return tf.data.Dataset.from_tensor_slices(labels)


# --- 7.1 a real shuffle ------------------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda: tf_labels().shuffle(N, seed=0).batch(64),                               # the lesson's answer
    lambda: tf_labels().shuffle(10_000).batch(64),                                   # a buffer larger than the data
    lambda: tf_labels().shuffle(N).batch(64, num_parallel_calls=tf.data.AUTOTUNE).prefetch(1),
    lambda: tf.data.Dataset.from_tensor_slices((LABELS.astype(np.float32), LABELS)).shuffle(N).batch(64),
    lambda: DataLoader(torch.from_numpy(LABELS), batch_size=64, shuffle=True),
    lambda: DataLoader(torch.from_numpy(LABELS), batch_size=64, shuffle=True, generator=torch.Generator().manual_seed(0)),
    lambda: DataLoader(TensorDataset(torch.zeros(N, 2), torch.from_numpy(LABELS)), batch_size=64,
                       sampler=RandomSampler(range(N))),
    lambda: DataLoader(LABELS, batch_size=64, shuffle=True),                          # a NumPy array as the Dataset
], ids=["tf-full", "tf-larger-buffer", "tf-parallel-batch", "tf-pairs", "torch", "torch-generator",
        "torch-sampler", "torch-numpy-dataset"])
def test_full_shuffle_right(make):
    assert_right(cu.check.full_shuffle, make())


@pytest.mark.parametrize("make, words", [
    (lambda: tf_labels().shuffle(16, seed=0).batch(64), "the shuffle is local"),
    (lambda: tf_labels().shuffle(1000, seed=0).batch(64), "the shuffle is local"),
    (lambda: tf_labels().shuffle(1024).batch(64), "the shuffle is local"),
    (lambda: tf_labels().shuffle(1200, seed=0).batch(64), "the shuffle is local"),
    (lambda: tf_labels().batch(64).shuffle(100, seed=0), "not the batches"),
    (lambda: tf_labels().shuffle(2000, seed=0).batch(64, drop_remainder=True), "not all 1438"),
    (lambda: np.random.default_rng(0).permutation(LABELS), "not its output"),
    (lambda: list(tf_labels().shuffle(2000).batch(64)), "not its output"),
    (lambda: tf_labels().shuffle(2000, seed=0).batch(32), "expected 64"),
    (lambda: tf_labels().shuffle(N, seed=0, reshuffle_each_iteration=False).batch(64), "shuffled once"),
    (lambda: tf_labels(np.random.default_rng(0).permutation(LABELS)).batch(64), "shuffled once"),
    (lambda: tf_labels(np.random.default_rng(0).permutation(LABELS)).shuffle(16).batch(64), "shuffled once"),
    (lambda: tf_labels().shuffle(N).take(1000).batch(64), "not all 1438"),
    (lambda: tf_labels().shuffle(N).batch(64).repeat(), "does not end"),
    (lambda: DataLoader(torch.from_numpy(LABELS), batch_size=64), "not mixed"),
    (lambda: DataLoader(torch.from_numpy(LABELS), batch_size=64, shuffle=True, drop_last=True), "not all 1438"),
    (lambda: DataLoader(torch.from_numpy(LABELS), batch_size=100, shuffle=True), "expected 64"),
    (lambda: DataLoader(torch.from_numpy(np.random.default_rng(0).permutation(LABELS)), batch_size=64), "shuffled once"),
    (lambda: DataLoader(torch.from_numpy(LABELS[:1000]), batch_size=64, shuffle=True), "not all 1438"),
])
def test_full_shuffle_wrong(make, words):
    assert_wrong(cu.check.full_shuffle, make(), words)


def test_full_shuffle_advice_speaks_the_answers_framework():
    local_tf = one_line(cu.check.full_shuffle(tf_labels().shuffle(500).batch(64), quiet=True))
    assert "buffer" in local_tf and "DataLoader" not in local_tf
    windows = [np.random.default_rng(i).permutation(np.arange(i, min(i + 32, N))) for i in range(0, N, 32)]

    class LocalSampler(torch.utils.data.Sampler):   # a sampler that shuffles within windows of 32
        def __iter__(self):
            return iter(np.concatenate(windows).tolist())

        def __len__(self):
            return N

    local_torch = one_line(cu.check.full_shuffle(DataLoader(torch.from_numpy(LABELS), batch_size=64,
                                                            sampler=LocalSampler()), quiet=True))
    assert "local" in local_torch and "tf.data" not in local_torch and "buffer" not in local_torch, local_torch


def buffered_shuffle(source, buffer, rng):
    """tf.data's shuffle, in NumPy: output a random element of the buffer, refill its slot from the input."""
    held, following, out = list(source[:buffer]), buffer, []
    while held:
        i = int(rng.integers(len(held)))
        out.append(held[i])
        if following < len(source):
            held[i], following = source[following], following + 1
        else:
            held[i] = held[-1]
            held.pop()
    return np.array(out)


def test_full_shuffle_error_rates():
    """The two bounds of 7.1's check, with their error rates computed from the bounds themselves."""
    nines, by, epochs = int((LABELS == 9).sum()), lesson07.FIRST_NINE_BY, lesson07.SHUFFLE_EPOCHS
    # A full shuffle fails the "first 9" bound only if no 9 is among the first `by` labels of every epoch.
    p_late = math.comb(N - nines, by) / math.comb(N, by)
    false_fail_nine = p_late ** epochs
    assert false_fail_nine < 1e-8, false_fail_nine
    # A buffer of B outputs the first 9 at position FIRST_NINE - B + 1 at the earliest: every buffer of at
    # most FIRST_NINE + 1 - by samples fails, always (a false-pass rate of 0), here 88% of the data.
    largest_caught = FIRST_NINE + 1 - by
    assert largest_caught / N > 0.88
    rng = np.random.default_rng(0)
    for buffer in (16, 256, 1000, largest_caught):
        runs = [buffered_shuffle(LABELS, buffer, rng) for _ in range(20)]
        assert min(lesson07.first_nine_position(r) for r in runs) >= by
    # the simulation is tf.data's rule: real tf.data, the largest buffer caught, is refused every time
    for seed in range(3):
        verdict = cu.check.full_shuffle(tf_labels().shuffle(largest_caught, seed=seed).batch(64), quiet=True)
        assert not verdict and "local" in str(verdict)
    # Consecutive epochs: the class counts per batch of two full shuffles correlate as 0 ± 0.07;
    # the bound is over 6 standard deviations away (normal tail < 1e-9 per pair of epochs).
    similarity = np.array([lesson07.epoch_similarity(rng.permutation(LABELS), rng.permutation(LABELS))
                           for _ in range(2000)])
    sd = similarity.std()
    assert abs(similarity.mean()) < 0.01 and 0.05 < sd < 0.09 and np.abs(similarity).max() < lesson07.MAX_EPOCH_SIMILARITY
    z = lesson07.MAX_EPOCH_SIMILARITY / sd
    false_fail_order = (epochs - 1) * 0.5 * math.erfc(z / math.sqrt(2))
    assert false_fail_order < 1e-8, false_fail_order
    # ... and a fixed order under a buffer of 16 correlates at 0.7 or more: refused, every time.
    fixed = rng.permutation(LABELS)
    assert min(lesson07.epoch_similarity(buffered_shuffle(fixed, 16, rng), buffered_shuffle(fixed, 16, rng))
               for _ in range(20)) > lesson07.MAX_EPOCH_SIMILARITY
    print(f"7.1: full shuffle refused with p <= {false_fail_nine + false_fail_order:.1e}; "
          f"every buffer <= {largest_caught} ({largest_caught / N:.0%} of the data) refused")


# --- 7.2 reproducible augmentation -------------------------------------------------------------

def solution_class():
    """The registered 7.2 solution for torch (the lesson's solution cell), run: the class it defines."""
    from course_utils.check import core

    namespace = {"torch": torch, "Dataset": Dataset, "X_clean": X_CLEAN}
    exec(core.SOLUTIONS["7.2"]["torch"], namespace)
    return namespace["ReproducibleNoise"]


PerIndex = solution_class()                # right: a generator made in __getitem__, seeded from (seed, i)


class NumPyPerIndex(PerIndex):              # right: NumPy's generator seeded with (seed, i)
    def __getitem__(self, i):
        noise = np.random.default_rng([self.seed, i]).normal(0, 0.1, size=(8, 8)).astype(np.float32)
        return self.X[i] + torch.from_numpy(noise)


class GlobalSeed(PerIndex):                 # right (if heavy-handed): reseed torch's global generator per item
    def __getitem__(self, i):
        torch.manual_seed(self.seed * 1_000_003 + i)
        return self.X[i] + 0.1 * torch.randn(self.X[i].shape)


class PairOut(PerIndex):                    # right: (noisy image, label) pairs, as a training Dataset gives
    def __getitem__(self, i):
        return super().__getitem__(i), 0


class SharedGenerator(PerIndex):           # the bug: one generator whose state moves on
    def __init__(self, X, seed=0):
        super().__init__(X, seed)
        self.rng = np.random.default_rng(seed)

    def __getitem__(self, i):
        return self.X[i] + torch.from_numpy(self.rng.normal(0, 0.1, size=(8, 8)).astype(np.float32))


class ConstantSeed(PerIndex):              # the same noise for every sample
    def __getitem__(self, i):
        g = torch.Generator().manual_seed(self.seed)
        return self.X[i] + 0.1 * torch.randn(self.X[i].shape, generator=g)


class NumPyOut(PerIndex):
    def __getitem__(self, i):
        return super().__getitem__(i).numpy()


class InitialSeed(PerIndex):               # "torch.initial_seed() is the seed": differs in every worker
    def __getitem__(self, i):
        g = torch.Generator().manual_seed(torch.initial_seed() + i)
        return self.X[i] + 0.1 * torch.randn(self.X[i].shape, generator=g)


class ProcessSeed(PerIndex):               # seeded by the process: right in one process, other noise in workers
    def __getitem__(self, i):
        g = torch.Generator().manual_seed(self.seed + i + os.getpid())
        return self.X[i] + 0.1 * torch.randn(self.X[i].shape, generator=g)


class SeedIgnored(PerIndex):               # per-index noise, but the seed argument changes nothing
    def __getitem__(self, i):
        g = torch.Generator().manual_seed(i)
        return self.X[i] + 0.1 * torch.randn(self.X[i].shape, generator=g)


class SeededByData(PerIndex):              # seeded by the image's pixels: other images, other noise
    def __getitem__(self, i):
        g = torch.Generator().manual_seed(self.seed + int(self.X[i].sum() * 1000) + i)
        return self.X[i] + 0.1 * torch.randn(self.X[i].shape, generator=g)


class UniformNoise(PerIndex):              # torch.rand is uniform on [0, 1): mean 0.05, not 0
    def __getitem__(self, i):
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + i)
        return self.X[i] + 0.1 * torch.rand(self.X[i].shape, generator=g)


class TooMuchNoise(PerIndex):
    def __getitem__(self, i):
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + i)
        return self.X[i] + torch.randn(self.X[i].shape, generator=g)


X_TF = tf.constant(X_CLEAN)


class TFPerIndex:                          # right: a TF "Dataset" with __getitem__
    def __init__(self, X, seed=0):
        self.X, self.seed = tf.constant(X), seed

    def __len__(self):
        return int(self.X.shape[0])

    def __getitem__(self, i):
        return self.X[i] + 0.1 * tf.random.stateless_normal((8, 8), seed=[self.seed, i])


@pytest.mark.parametrize("answer", [
    PerIndex(X_CLEAN), NumPyPerIndex(X_CLEAN), GlobalSeed(X_CLEAN), PairOut(X_CLEAN), TFPerIndex(X_CLEAN),
    lambda i: X_TF[i] + 0.1 * tf.random.stateless_normal((8, 8), seed=[0, i]),
], ids=["torch-generator", "numpy-generator", "torch-global-reseed", "pairs", "tf-class", "tf-function"])
def test_reproducible_noise_right(answer):
    assert_right(cu.check.reproducible_noise, answer)


@pytest.mark.parametrize("answer, words", [
    (PerIndex, "that is the class"),
    (SharedGenerator(X_CLEAN), "another order"),
    (ConstantSeed(X_CLEAN), "same noise"),
    (NumPyOut(X_CLEAN), "return the framework's tensor"),
    (PerIndex(X_CLEAN[:8]), "expected 32"),
    (lambda i: torch.from_numpy(X_CLEAN[i]), "no noise"),
    (InitialSeed(X_CLEAN), "other noise"),
    (SeedIgnored(X_CLEAN), "seeds (0, 1, 7) give the same noise"),
    (SeededByData(X_CLEAN), "on other images"),
    (UniformNoise(X_CLEAN), "mean 0.05"),
    (TooMuchNoise(X_CLEAN), "standard deviation 0.99"),
    (lambda i: X_TF[i] + 0.1 * tf.random.normal((8, 8), seed=i), "stateless"),
    (lambda i: X_TF[i] + 0.1 * tf.random.stateless_normal((8, 8), seed=[0, 0]), "same noise"),
])
def test_reproducible_noise_wrong(answer, words):
    assert_wrong(cu.check.reproducible_noise, answer, words)


def test_reproducible_noise_bounds_error_rates():
    """7.2's noise bounds: a right answer (2048 draws of N(0, 0.1)) falls outside them with p < 1e-9; the
    plausible wrong scales (std 0.01, 0.05, 0.2, 1; uniform noise) fall outside them always."""
    from scipy import stats

    n, (low, high), max_mean = 32 * 64, lesson07.NOISE_STD_BAND, lesson07.NOISE_MAX_MEAN
    std_outside = stats.chi2.cdf((n - 1) * (low / 0.1) ** 2, n - 1) + stats.chi2.sf((n - 1) * (high / 0.1) ** 2, n - 1)
    mean_outside = 2 * stats.norm.sf(max_mean / (0.1 / math.sqrt(n)))
    assert std_outside + mean_outside < 1e-9, (std_outside, mean_outside)
    for scale in (0.01, 0.05, 0.2, 1.0):   # the sample std of 2048 draws is within 10 % of the scale (6 sd)
        assert scale * 1.1 <= low or scale * 0.9 >= high, scale
    assert 0.1 * 0.5 > max_mean * 3          # torch.rand's mean, 0.05, is over 3 times the bound


@pytest.mark.skipif(not os.sys.platform.startswith("linux"), reason="real workers are forked on Linux only")
def test_reproducible_noise_runs_real_workers():
    """A seed from the process passes every in-process test; only real DataLoader workers catch it."""
    verdict = assert_wrong(cu.check.reproducible_noise, ProcessSeed(X_CLEAN), "workers")
    assert "__getitem__" in str(verdict) and "stateless" not in str(verdict)


def test_reproducible_noise_leaves_the_global_generators_alone():
    torch.manual_seed(123)
    np.random.seed(123)
    expected = (torch.rand(1), np.random.rand())
    torch.manual_seed(123)
    np.random.seed(123)
    cu.check.reproducible_noise(GlobalSeed(X_CLEAN), quiet=True)
    assert (torch.rand(1), np.random.rand()) == expected


# --- 7.3 cache and prefetch in the right place ---------------------------------------------------
# Answers are functions build(encoded, decode, augment); the check calls them with its own inputs.

ENCODED = tf.data.Dataset.from_tensor_slices(np.zeros((256, 4, 4, 3), np.uint8)).enumerate()
AUGMENT_RNG = tf.random.Generator.from_seed(1)


def decode(index, image):
    return index, tf.cast(image, tf.float32) / 255.0


def augment(index, image):
    return image + 0.05 * AUGMENT_RNG.normal(tf.shape(image))


STEP = {"decode": lambda d, dec, aug: d.map(dec, num_parallel_calls=2), "cache": lambda d, dec, aug: d.cache(),
        "shuffle": lambda d, dec, aug: d.shuffle(256, seed=0), "augment": lambda d, dec, aug: d.map(aug),
        "batch": lambda d, dec, aug: d.batch(64), "prefetch": lambda d, dec, aug: d.prefetch(tf.data.AUTOTUNE),
        "prefetch1": lambda d, dec, aug: d.prefetch(1),
        "lambda-decode": lambda d, dec, aug: d.map(lambda i, x: dec(i, x)),
        "lambda-augment": lambda d, dec, aug: d.map(lambda i, x: aug(i, x)),
        "parallel-augment": lambda d, dec, aug: d.map(aug, num_parallel_calls=tf.data.AUTOTUNE),
        "parallel-batch": lambda d, dec, aug: d.batch(64, num_parallel_calls=tf.data.AUTOTUNE),
        "fused": lambda d, dec, aug: d.map(lambda i, x: aug(*dec(i, x))),
        "fixed-shuffle": lambda d, dec, aug: d.shuffle(256, seed=0, reshuffle_each_iteration=False),
        "batch32": lambda d, dec, aug: d.batch(32), "take": lambda d, dec, aug: d.take(200)}


def chain(*steps):
    def build(encoded, decode, augment):
        ds = encoded
        for step in steps:
            ds = STEP[step](ds, decode, augment)
        return ds
    # one answer per chain for check_support's fingerprint (a function's code and constants): name the steps
    build.__code__ = build.__code__.replace(co_consts=build.__code__.co_consts + (steps,))
    return build


@pytest.mark.parametrize("steps", [
    ("decode", "cache", "shuffle", "augment", "batch", "prefetch"),
    ("decode", "cache", "shuffle", "parallel-augment", "batch", "prefetch1"),
    ("decode", "cache", "augment", "shuffle", "batch", "prefetch"),   # both after cache, before batch: fine
    ("lambda-decode", "cache", "shuffle", "lambda-augment", "batch", "prefetch"),
    ("decode", "cache", "shuffle", "augment", "parallel-batch", "prefetch"),
], ids=["canonical", "prefetch1", "augment-then-shuffle", "lambda-maps", "parallel-batch"])
def test_cache_prefetch_order_right(steps):
    assert_right(cu.check.cache_prefetch_order, chain(*steps))


@pytest.mark.parametrize("steps, words", [
    (("decode", "shuffle", "augment", "batch", "cache", "prefetch"), "freezes"),
    (("decode", "shuffle", "augment", "cache", "batch", "prefetch"), "freezes"),
    (("cache", "decode", "shuffle", "augment", "batch", "prefetch"), "decode ran 512 times"),
    (("decode", "shuffle", "augment", "batch", "prefetch"), "decode ran 512 times"),
    (("decode", "shuffle", "cache", "augment", "batch", "prefetch"), "same order"),
    (("prefetch", "decode", "cache", "shuffle", "augment", "batch"), "nothing is prepared"),
    (("decode", "cache", "shuffle", "augment", "batch"), "nothing is prepared"),
    (("decode", "cache", "shuffle", "augment", "batch", "batch", "prefetch"), "expected 64"),
    (("cache", "shuffle", "fused", "batch", "prefetch"), "decode ran 512 times"),
    (("shuffle", "fused", "cache", "batch", "prefetch"), "freezes"),
    (("decode", "cache", "fixed-shuffle", "augment", "batch", "prefetch"), "same order"),
    (("decode", "cache", "shuffle", "augment", "batch32", "prefetch"), "expected 64"),
    (("decode", "cache", "augment", "batch", "prefetch"), "does not shuffle"),
    (("decode", "cache", "augment", "batch", "shuffle", "prefetch"), "after batch"),
    (("augment", "decode", "cache", "shuffle", "batch", "prefetch"), "map decode, then augment"),
    (("decode", "cache", "shuffle", "augment", "take", "batch", "prefetch"), "expected all 256"),
])
def test_cache_prefetch_order_wrong(steps, words):
    assert_wrong(cu.check.cache_prefetch_order, chain(*steps), words)


def test_cache_prefetch_order_refuses_a_pipeline_or_a_dataloader():
    assert_wrong(cu.check.cache_prefetch_order, DataLoader(torch.zeros(4)), "TensorFlow pipeline")
    built = chain("decode", "cache", "shuffle", "augment", "batch", "prefetch")(ENCODED, decode, augment)
    assert_wrong(cu.check.cache_prefetch_order, built, "the function itself")
    assert_wrong(cu.check.cache_prefetch_order, lambda encoded, decode, augment: 3, "expected a tf.data.Dataset")


def test_exercise_7_3_premise_augment_differs_every_epoch():
    """The lesson's augment really is random per epoch: with no cache, two epochs differ."""
    no_cache = ENCODED.map(decode).map(augment)
    first, second = (np.stack(list(no_cache.as_numpy_iterator())) for _ in range(2))
    assert not np.array_equal(first, second)


# --- every exercise has its solution, per framework, and the solutions run ------------------------

def test_solutions_are_registered_per_framework():
    from course_utils.check import core

    assert set(core.SOLUTIONS["7.1"]) == {"torch", "tensorflow"}
    assert set(core.SOLUTIONS["7.2"]) == {"torch", "tensorflow"}
    assert set(core.SOLUTIONS["7.3"]) == {"tensorflow"}


@pytest.mark.parametrize("exercise, framework", [("7.1", "torch"), ("7.1", "tensorflow"), ("7.2", "torch"),
                                                 ("7.2", "tensorflow"), ("7.3", "tensorflow")])
def test_each_solution_runs_after_the_lessons_setup_and_passes(exercise, framework):
    from course_utils.check import core

    namespace = {"np": np, "tf": tf, "torch": torch, "DataLoader": DataLoader, "Dataset": Dataset,
                 "labels_sorted": LABELS, "X_clean": X_CLEAN}
    exec(core.SOLUTIONS[exercise][framework], namespace)
    check = {"7.1": cu.check.full_shuffle, "7.2": cu.check.reproducible_noise, "7.3": cu.check.cache_prefetch_order}
    assert_right(check[exercise], namespace["answer"])
