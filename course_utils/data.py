"""The course's data, checked against ``data/MANIFEST`` before it is used.

``data/MANIFEST`` has one line per file: ``<sha256>  <size in bytes>  <file name>``.
Files are ``.npz`` archives read with ``allow_pickle=False``: loading data never runs code.

Used in: 00_setup_check, 01_tensors, 03_same_model and every lesson that trains a model.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .base import validate
from .base.errors import CourseError
from .base.paths import data_dir

RESTORE_HINT = "run `git checkout -- data/` in the course folder to restore it"


@dataclass(frozen=True)
class ManifestEntry:
    name: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Digits:
    """The handwritten digits split: images ``(N, 8, 8)`` float32 in [0, 1], labels ``(N,)`` int64."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_manifest(folder: Path | None = None) -> dict[str, ManifestEntry]:
    """Parse ``data/MANIFEST`` into ``{file name: entry}``."""
    manifest = (folder or data_dir()) / "MANIFEST"
    if not manifest.is_file():
        raise CourseError(f"{manifest}: missing — {RESTORE_HINT}.")
    entries = {}
    for line in manifest.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        sha, size, name = line.split(maxsplit=2)
        entries[name] = ManifestEntry(name=name, sha256=sha, size=int(size))
    return entries


def write_manifest(folder: Path | None = None) -> Path:
    """Rewrite ``data/MANIFEST`` from the ``.npz`` files present (for maintainers, after make_digits.py)."""
    folder = folder or data_dir()
    lines = ["# sha256  size  file   (python -m course_utils manifest rewrites this)"]
    for path in sorted(folder.glob("*.npz")):
        lines.append(f"{sha256_of(path)}  {path.stat().st_size}  {path.name}")
    (folder / "MANIFEST").write_text("\n".join(lines) + "\n")
    return folder / "MANIFEST"


def verify_file(name: str, folder: Path | None = None) -> Path:
    """Return the path of a data file after checking it against the manifest; else ``CourseError``."""
    folder = folder or data_dir()
    entry = read_manifest(folder).get(name)
    if entry is None:
        raise CourseError(f"data/{name}: not listed in data/MANIFEST — the course ships no such file.")
    path = folder / name
    if not path.is_file():
        raise CourseError(f"data/{name}: missing — {RESTORE_HINT}.")
    if path.stat().st_size != entry.size or sha256_of(path) != entry.sha256:
        raise CourseError(f"data/{name}: checksum mismatch (the file was changed or damaged) — {RESTORE_HINT}.")
    return path


def verify_all(folder: Path | None = None) -> list[tuple[str, str | None]]:
    """Check every file in the manifest; return ``[(name, problem or None)]``."""
    results = []
    for name in read_manifest(folder):
        try:
            verify_file(name, folder)
            results.append((name, None))
        except CourseError as exc:
            results.append((name, str(exc)))
    return results


def load_npz(name: str, folder: Path | None = None) -> dict[str, np.ndarray]:
    """Load a verified ``.npz`` file from ``data/`` as ``{key: array}`` (no pickles)."""
    path = verify_file(name, folder)
    with np.load(path, allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


def load_digits(flat: bool = False, folder: Path | None = None) -> Digits:
    """The 1,797 handwritten digits, split 1,438 train / 359 test (fixed, stratified).

    Images are float32 in [0, 1], shape ``(N, 8, 8)``, or ``(N, 64)`` with ``flat=True``;
    labels are int64 class indices 0-9.

    >>> d = load_digits()
    >>> d.X_train.shape, d.y_train.dtype
    ((1438, 8, 8), dtype('int64'))
    """
    flat = validate.flag(flat, "flat", "load_digits")
    folder = None if folder is None else validate.path(folder, "folder", "load_digits")
    arrays = load_npz("digits.npz", folder)

    def images(key: str) -> np.ndarray:
        x = arrays[key].astype(np.float32) / 16.0  # grey levels 0..16
        return x.reshape(len(x), -1) if flat else x

    return Digits(
        X_train=images("X_train"), y_train=arrays["y_train"].astype(np.int64),
        X_test=images("X_test"), y_test=arrays["y_test"].astype(np.int64),
    )
