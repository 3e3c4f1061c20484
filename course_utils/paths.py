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
