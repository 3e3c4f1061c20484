"""The learner's workspace: their own copies of the lessons, built once and never overwritten.

``make lab`` calls ``build("workspace")`` and serves that folder. The first run writes the learner
copy of every lesson (course_utils/learner.py: solutions replaced by ``answer = ...``, outputs
cleared). Later runs add lessons that are new, and bring an updated lesson only to a copy that the
learner has not changed; a changed copy is never touched, and the update lands beside it as
``NN_slug.updated.ipynb``. ``refresh(dest, "03")`` (``make learner-refresh LESSON=03``) replaces a
copy on request, after keeping a backup in ``backups/``.

How "changed" is known: ``.course-manifest.json`` in the workspace records the sha256 of each copy
as it was written. A copy whose bytes still hash to that value is the course's; any other is the
learner's (saving in JupyterLab after running a cell is enough to make it theirs). A notebook that
is not in the manifest is the learner's too. Deleting the manifest is safe: nothing is overwritten
then, updates only arrive as ``.updated.ipynb``.

The workshop JupyterHub builds each user's folder with the same function: ``build(user_dir)``.

Used in: ``make lab``, ``make learner``, ``make learner-refresh``; tests/test_learner_day.py.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from .errors import CourseError
from .paths import course_root, lesson_notebooks

MANIFEST = ".course-manifest.json"
UPDATED_SUFFIX = ".updated.ipynb"
BACKUPS = "backups"


@dataclass
class Report:
    """What ``build`` did, one list of file names per outcome."""

    dest: Path
    added: list[str] = field(default_factory=list)      # new in the workspace
    updated: list[str] = field(default_factory=list)    # the learner had not changed it: replaced by the new version
    kept: list[str] = field(default_factory=list)       # the learner changed it, and the lesson did not change
    beside: list[str] = field(default_factory=list)     # the learner changed it; the new version is NN_slug.updated.ipynb
    unchanged: list[str] = field(default_factory=list)  # already the current version

    def lines(self) -> list[str]:
        """One line per file that needs the learner's attention, then a summary line."""
        out = [f"  new: {n}" for n in self.added]
        out += [f"  updated (you had not changed it): {n}" for n in self.updated]
        out += [f"  yours, kept as it is; the new version is beside it: {Path(n).stem}{UPDATED_SUFFIX}"
                for n in self.beside]
        total = len(self.added) + len(self.updated) + len(self.kept) + len(self.beside) + len(self.unchanged)
        out.append(f"{self.dest}: {total} lessons ({len(self.added)} new, {len(self.updated)} updated, "
                   f"{len(self.kept) + len(self.beside)} with your changes kept)")
        return out


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _learner_bytes(src: Path) -> bytes:
    import nbformat

    from .learner import learner_notebook

    nb = learner_notebook(nbformat.read(src, as_version=4))
    return (nbformat.writes(nb) + "\n").encode("utf-8")


def _read_manifest(dest: Path) -> dict[str, dict[str, str]]:
    """{name: {"written": sha256 of the copy as written, "built": sha256 of the latest version built}}."""
    path = dest / MANIFEST
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {str(k): {"written": str(v["written"]), "built": str(v["built"])}
                for k, v in data.get("copies", {}).items()}
    except (ValueError, AttributeError, KeyError, TypeError):
        return {}  # a damaged manifest: treat every copy as the learner's (nothing is overwritten)


def _write_manifest(dest: Path, copies: dict[str, dict[str, str]]) -> None:
    text = json.dumps({"about": "sha256 of each lesson copy as the course wrote it (course_utils/workspace.py); "
                                "a copy with another hash is yours and is never overwritten",
                       "copies": dict(sorted(copies.items()))}, indent=1)
    (dest / MANIFEST).write_text(text + "\n", encoding="utf-8")


def _dest(dest: str | Path) -> Path:
    out = Path(dest)
    out = out if out.is_absolute() else course_root() / out
    out.mkdir(parents=True, exist_ok=True)
    return out


def build(dest: str | Path = "workspace", notebooks: list[Path] | None = None,
          prebuilt: str | Path | None = None) -> Report:
    """Bring the learner copies in ``dest`` up to date without ever overwriting the learner's work.

    For each lesson ``notebooks/NN_slug.ipynb`` (or each path in ``notebooks``):

    - no copy in ``dest`` → write it;
    - a copy the learner has not changed (its sha256 is the one in the manifest) → replace it with
      the current version if the lesson changed;
    - a copy the learner changed (or one the manifest does not know) → leave it; if the current
      version differs, write it beside: ``NN_slug.updated.ipynb`` (replaced by each build).

    ``dest`` is relative to the course root unless absolute; it is created if missing. Returns a
    ``Report``; safe to run at every ``make lab`` and for every user of a JupyterHub.

    ``prebuilt``: a folder of learner copies already built (``python -m course_utils learner``, or a
    hub image's ``/srv/course/learner``); its ``*.ipynb`` files are taken as they are, so a hub with
    many learners converts the lessons once, not once per learner (tools/hub/workspace.py).

    >>> report = build("workspace")     # doctest: +SKIP
    >>> report.added[:1]                # doctest: +SKIP
    ['00_setup_check.ipynb']
    """
    out = _dest(dest)
    manifest = _read_manifest(out)
    report = Report(out)
    if prebuilt is not None:
        sources = sorted(Path(prebuilt).glob("*.ipynb"))
    else:
        sources = [Path(n) for n in (notebooks if notebooks is not None else lesson_notebooks())]
    for src in sources:
        if src.name.endswith(UPDATED_SUFFIX):
            continue
        name = src.name
        target, beside = out / name, out / (src.stem + UPDATED_SUFFIX)
        fresh = src.read_bytes() if prebuilt is not None else _learner_bytes(src)
        new = sha256(fresh)
        known = manifest.get(name)
        if not target.exists():
            target.write_bytes(fresh)
            report.added.append(name)
        else:
            current = sha256(target.read_bytes())
            if current == new:
                report.unchanged.append(name)
            elif known is not None and current == known["written"]:  # the course's copy, untouched
                target.write_bytes(fresh)
                report.updated.append(name)
            else:  # the learner's: never overwritten
                if known is None or known["built"] != new or beside.exists():
                    beside.write_bytes(fresh)
                    report.beside.append(name)
                else:
                    report.kept.append(name)
                manifest[name] = {"written": known["written"] if known else "", "built": new}
                continue
        beside.unlink(missing_ok=True)  # the copy itself is the current version now
        manifest[name] = {"written": new, "built": new}
    _write_manifest(out, manifest)
    return report


def refresh(dest: str | Path, lesson: str, notebooks: list[Path] | None = None) -> Path | None:
    """Replace the learner's copy of one lesson (``"03"`` or ``"03_same_model"``) with the current
    version, after copying theirs to ``dest/backups/NN_slug.<time>.ipynb``. Returns the backup's path
    (None when there was no copy). Only on an explicit request: ``make learner-refresh LESSON=03``."""
    out = _dest(dest)
    key = str(lesson).strip()
    sources = [Path(p) for p in (notebooks if notebooks is not None else lesson_notebooks())]
    matches = [p for p in sources if key in (p.stem, p.name, p.name[:2]) or (key.isdigit() and p.name[:2] == key.zfill(2))]
    if len(matches) != 1:
        names = ", ".join(p.name[:2] for p in sources)
        raise CourseError(f"refresh: no single lesson {lesson!r}; give its number, one of {names}.")
    src = matches[0]
    target = out / src.name
    backup = None
    if target.exists():
        (out / BACKUPS).mkdir(exist_ok=True)
        backup = out / BACKUPS / f"{src.stem}.{time.strftime('%Y%m%d-%H%M%S')}.ipynb"
        shutil.copy2(target, backup)
    fresh = _learner_bytes(src)
    target.write_bytes(fresh)
    (out / (src.stem + UPDATED_SUFFIX)).unlink(missing_ok=True)
    manifest = _read_manifest(out)
    manifest[src.name] = {"written": sha256(fresh), "built": sha256(fresh)}
    _write_manifest(out, manifest)
    return backup


def main(dest: str = "workspace", lesson: str | None = None) -> int:
    """Command line: ``python -m course_utils workspace [--out DIR] [--refresh NN]``."""
    if lesson:
        backup = refresh(dest, lesson)
        print(f"lesson {lesson}: fresh copy written" + (f"; yours is kept in {backup}" if backup else ""))
        return 0
    for line in build(dest).lines():
        print(line)
    return 0
