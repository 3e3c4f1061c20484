"""The 07_data_pipelines exercise checks: right answers in both frameworks pass; wrong ones say why in one line."""
import numpy as np
import pytest
import tensorflow as tf
import torch
from torch.utils.data import DataLoader, Dataset

import course_utils as cu

LABELS = np.sort(cu.load_digits().y_train)
X_CLEAN = cu.load_digits().X_train[:32]


def one_line(verdict):
    text = str(verdict)
    assert "\n" not in text and "Traceback" not in text
    return text


# --- 7.1 a real shuffle ------------------------------------------------------------------------

def test_full_shuffle_right_in_both():
    assert cu.check.full_shuffle(tf.data.Dataset.from_tensor_slices(LABELS).shuffle(len(LABELS), seed=0).batch(64),
                                 quiet=True)
    loader = DataLoader(torch.from_numpy(LABELS), batch_size=64, shuffle=True, generator=torch.Generator().manual_seed(0))
    assert cu.check.full_shuffle(loader, quiet=True)


@pytest.mark.parametrize("make, words", [
    (lambda: ..., "not attempted yet"),
    (lambda: tf.data.Dataset.from_tensor_slices(LABELS).shuffle(16, seed=0).batch(64), "the shuffle is local"),
    (lambda: tf.data.Dataset.from_tensor_slices(LABELS).shuffle(300, seed=0).batch(64), "the shuffle is local"),
    (lambda: tf.data.Dataset.from_tensor_slices(LABELS).batch(64).shuffle(100, seed=0), "not the batches"),
    (lambda: tf.data.Dataset.from_tensor_slices(LABELS).shuffle(2000, seed=0).batch(64, drop_remainder=True),
     "not all 1438"),
    (lambda: np.random.default_rng(0).permutation(LABELS), "not its output"),
    (lambda: list(tf.data.Dataset.from_tensor_slices(LABELS).shuffle(2000).batch(64)), "not its output"),
    (lambda: tf.data.Dataset.from_tensor_slices(LABELS).shuffle(2000, seed=0).batch(32), "expected 64"),
])
def test_full_shuffle_wrong(make, words):
    verdict = cu.check.full_shuffle(make(), quiet=True)
    assert not verdict
    assert words in one_line(verdict)


# --- 7.2 reproducible augmentation -------------------------------------------------------------

class PerIndex(Dataset):
    def __init__(self, X, seed=0):
        self.X, self.seed = torch.from_numpy(X), seed

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + i)
        return self.X[i] + 0.1 * torch.randn(self.X[i].shape, generator=g)


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


def test_reproducible_noise_right_in_both():
    assert cu.check.reproducible_noise(PerIndex(X_CLEAN), quiet=True)
    X_tf = tf.constant(X_CLEAN)
    noisy = lambda i: X_tf[i] + 0.1 * tf.random.stateless_normal((8, 8), seed=[0, i])  # noqa: E731
    assert cu.check.reproducible_noise(noisy, quiet=True)


@pytest.mark.parametrize("answer, words", [
    (..., "not attempted yet"),
    (PerIndex, "that is the class"),
    (SharedGenerator(X_CLEAN), "another order"),
    (ConstantSeed(X_CLEAN), "same noise"),
    (NumPyOut(X_CLEAN), "return a tensor"),
    (PerIndex(X_CLEAN[:8]), "expected 32"),
    (lambda i: torch.from_numpy(X_CLEAN[i]), "no noise"),
])
def test_reproducible_noise_wrong(answer, words):
    verdict = cu.check.reproducible_noise(answer, quiet=True)
    assert not verdict
    assert words in one_line(verdict)


# --- 7.3 cache and prefetch in the right place ---------------------------------------------------

ENCODED = tf.data.Dataset.from_tensor_slices(np.zeros((256, 4, 4, 3), np.uint8)).enumerate()


def decode(index, image):
    return index, tf.cast(image, tf.float32) / 255.0


def augment(index, image):
    return image + 0.05 * tf.random.stateless_normal(tf.shape(image), seed=tf.stack([tf.constant(1, tf.int64), index]))


def chain(*steps):
    ds = ENCODED
    for step in steps:
        ds = {"decode": lambda d: d.map(decode, num_parallel_calls=2), "cache": lambda d: d.cache(),
              "shuffle": lambda d: d.shuffle(256, seed=0), "augment": lambda d: d.map(augment),
              "batch": lambda d: d.batch(64), "prefetch": lambda d: d.prefetch(tf.data.AUTOTUNE)}[step](ds)
    return ds


def test_cache_prefetch_order_right():
    assert cu.check.cache_prefetch_order(chain("decode", "cache", "shuffle", "augment", "batch", "prefetch"), quiet=True)
    # the other working order: augment, then shuffle (both after cache, before batch)
    assert cu.check.cache_prefetch_order(chain("decode", "cache", "augment", "shuffle", "batch", "prefetch"), quiet=True)


@pytest.mark.parametrize("steps, words", [
    (("decode", "shuffle", "augment", "batch", "cache", "prefetch"), "freezes"),
    (("decode", "shuffle", "augment", "cache", "batch", "prefetch"), "freezes"),
    (("cache", "decode", "shuffle", "augment", "batch", "prefetch"), "decodes again"),
    (("decode", "shuffle", "cache", "augment", "batch", "prefetch"), "replays"),
    (("prefetch", "decode", "cache", "shuffle", "augment", "batch"), "not the last"),
    (("decode", "cache", "shuffle", "augment", "batch"), "no prefetch"),
    (("decode", "cache", "shuffle", "augment", "batch", "batch", "prefetch"), "each once"),
])
def test_cache_prefetch_order_wrong(steps, words):
    verdict = cu.check.cache_prefetch_order(chain(*steps), quiet=True)
    assert not verdict
    assert words in one_line(verdict)


def test_cache_prefetch_order_refuses_a_dataloader():
    verdict = cu.check.cache_prefetch_order(DataLoader(torch.zeros(4)), quiet=True)
    assert not verdict and "DataLoader" in one_line(verdict)
