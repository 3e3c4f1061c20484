"""Where the course's files are: the repository root, ``data/`` and ``notebooks/``.

The package is installed editable from the repository, so the root is the folder above it;
``COURSE_ROOT`` overrides that (e.g. for a copy of the data elsewhere).
"""
from __future__ import annotations

import os
from pathlib import Path


def course_root() -> Path:
    return Path(os.environ.get("COURSE_ROOT", Path(__file__).resolve().parents[1]))


def data_dir() -> Path:
    return course_root() / "data"


def notebooks_dir() -> Path:
    return course_root() / "notebooks"


def lesson_notebooks() -> list[Path]:
    """Every lesson notebook, ``notebooks/NN_*.ipynb``, in order."""
    return sorted(notebooks_dir().glob("[0-9][0-9]_*.ipynb"))


def output_dir(out_dir: str | Path) -> Path:
    """``out_dir`` (relative to the course root unless absolute), created if missing."""
    out = Path(out_dir)
    out = out if out.is_absolute() else course_root() / out
    out.mkdir(parents=True, exist_ok=True)
    return out
