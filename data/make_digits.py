"""Make data/digits.npz from the copy of the UCI handwritten digits that scikit-learn bundles.

Run once by a maintainer, never by the course (it needs scikit-learn, which the course does not):

    pip install scikit-learn==1.9.1
    python data/make_digits.py            # finds sklearn/datasets/data/digits.csv.gz
    python -m course_utils manifest       # refresh data/MANIFEST

The split is fixed (stratified, 20 % test, seed 0) so every lesson and every learner sees the
same train and test images.
"""
from __future__ import annotations

import argparse
import gzip
from pathlib import Path

import numpy as np


def find_csv() -> Path:
    import sklearn.datasets  # only needed to locate the bundled file

    return Path(sklearn.datasets.__file__).parent / "data" / "digits.csv.gz"


def stratified_split(y: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    train, test = [], []
    for label in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == label))
        n_test = int(round(len(idx) * test_fraction))
        test.extend(idx[:n_test])
        train.extend(idx[n_test:])
    return rng.permutation(train), rng.permutation(test)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=None, help="path to digits.csv.gz")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "digits.npz")
    args = parser.parse_args()
    with gzip.open(args.csv or find_csv(), "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    images = table[:, :-1].reshape(-1, 8, 8).astype(np.uint8)  # grey levels 0..16
    labels = table[:, -1].astype(np.uint8)
    train, test = stratified_split(labels, test_fraction=0.2, seed=0)
    np.savez_compressed(
        args.out,
        X_train=images[train], y_train=labels[train],
        X_test=images[test], y_test=labels[test],
    )
    print(f"wrote {args.out}: {len(train)} train, {len(test)} test images")


if __name__ == "__main__":
    main()
