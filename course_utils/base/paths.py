"""Where the course's files are: the repository root, ``data/`` and ``notebooks/``, and where a lesson writes.

The package is installed editable from the repository, so the root is the folder above it;
``COURSE_ROOT`` overrides that (e.g. for a copy of the data elsewhere).

Everything a lesson writes (caches, scratch, exported models, worker runs, compiled extensions, the
learner's record) goes under ONE folder, ``learner_root()``: ``build/`` in the repository on a laptop,
and on the hub the learner's own folder, from ``COURSE_LEARNER_ROOT``, which the hub sets per user
(tools/hub/jupyterhub_config.py). Two learners never share a file there.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path


def course_root() -> Path:
    return Path(os.environ.get("COURSE_ROOT", Path(__file__).resolve().parents[2]))


def learner_root() -> Path:
    """Where everything a lesson writes goes: ``$COURSE_LEARNER_ROOT`` (the hub, per user), else ``build/``.

    >>> import os; "COURSE_LEARNER_ROOT" in os.environ or learner_root() == course_root() / "build"
    True
    """
    root = os.environ.get("COURSE_LEARNER_ROOT", "").strip()
    return Path(root) if root else course_root() / "build"


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


def run_scratch(name: str, fresh: bool = False) -> Path:
    """``<learner root>/scratch/<name>/<pid>/`` (``build/scratch/...`` on a laptop): this process's own folder for what a lesson writes while it runs.

    Two runs of one lesson at once (a second kernel, a test, another learner on the hub) each get
    their own folder, so neither deletes the other's files. Folders of processes that have ended are
    removed; ``fresh=True`` also empties this process's folder (a lesson's setup cell, run again).

    >>> run_scratch("demo").relative_to(learner_root()).parts[:2]
    ('scratch', 'demo')
    """
    base = learner_root() / "scratch" / name
    base.mkdir(parents=True, exist_ok=True)
    for other in base.iterdir():
        if other.name.isdigit() and int(other.name) != os.getpid() and not _alive(int(other.name)):
            shutil.rmtree(other, ignore_errors=True)
    mine = base / str(os.getpid())
    if fresh:
        shutil.rmtree(mine, ignore_errors=True)
    mine.mkdir(exist_ok=True)
    return mine


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process (the hub's system users): alive
        return True
    return True
