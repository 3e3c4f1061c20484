"""The learner's workspace: their own copies of the lessons, kept through every course update.

``make lab`` calls ``build("workspace")`` and serves that folder. The first run writes the learner
copy of every lesson (course_utils/kit/learner.py: solutions replaced by ``answer = ...``, outputs
cleared). Later runs add lessons that are new and bring every updated lesson in:

- a copy the learner has not changed takes the new version in place (one they ran and saved is first
  copied to ``backups/``: its outputs were theirs);
- a copy the learner changed is first saved to ``backups/NN_slug.<time>.ipynb``; the new version is
  written in its place with the learner's answer cells (the cells tagged ``placeholder``) carried
  over, so their answers are in the new lesson and nothing is duplicated in the file browser;
- a copy that cannot be read as a notebook is never touched: the update lands beside it as
  ``NN_slug.updated.ipynb``.

``refresh(dest, "03")`` (``make learner-refresh LESSON=03``) replaces a copy with a fresh one on
request, after keeping a backup in ``backups/``. Nothing the learner wrote is overwritten or deleted
without a copy in ``backups/`` first.

How "changed" is known: ``.course-manifest.json`` in the workspace records a fingerprint of each
copy as it was written: the sha256 of its cells' types and **sources** only, so running a lesson and
saving it (outputs, execution counts, kernel metadata) does not make it the learner's. A copy whose
sources still match is the course's; any other is the learner's. Manifests written before this rule
hold the sha256 of the whole file, and still match an untouched copy. A notebook the manifest does not
know is the learner's. Deleting the manifest is safe: every copy is then treated as the learner's.

The workshop JupyterHub builds each user's folder with the same function: ``build(user_dir)``.

Used in: ``make lab``, ``make learner``, ``make learner-refresh``; tests/test_learner_day.py.
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..base.errors import CourseError
from ..base.paths import course_root, lesson_notebooks

MANIFEST = ".course-manifest.json"
UPDATED_SUFFIX = ".updated.ipynb"
BACKUPS = "backups"


PLACEHOLDER_TAG = "placeholder"
CHECK_CALL = re.compile(r"\bcu\.check\.(\w+)\(")


@dataclass
class Report:
    """What ``build`` did, one list of file names per outcome (``carried``: name -> how many answers)."""

    dest: Path
    added: list[str] = field(default_factory=list)      # new in the workspace
    updated: list[str] = field(default_factory=list)    # the learner had not changed it: replaced by the new version
    merged: list[str] = field(default_factory=list)     # the learner changed it: new version, their answers carried
    kept: list[str] = field(default_factory=list)       # the learner changed it, and the lesson did not change
    beside: list[str] = field(default_factory=list)     # unreadable copy, kept; the new version is NN_slug.updated.ipynb
    unchanged: list[str] = field(default_factory=list)  # already the current version
    carried: dict[str, int] = field(default_factory=dict)
    backups: dict[str, str] = field(default_factory=dict)  # name -> its backup, relative to dest
    order: list[str] = field(default_factory=list)      # every lesson, in the order built

    def line(self, name: str) -> str:
        """What happened to one lesson, in one line."""
        if name in self.added:
            return f"  {name}: new"
        if name in self.updated:
            kept = f"; your run's outputs are in {self.backups[name]}" if name in self.backups else ""
            return f"  {name}: updated (you had not changed it){kept}"
        if name in self.merged:
            n = self.carried.get(name, 0)
            return (f"  {name}: updated; your {n} answer{'s' if n != 1 else ''} carried over "
                    f"(your copy before the update: {self.backups[name]})")
        if name in self.beside:
            return (f"  {name}: yours could not be read as a notebook and is kept as it is; "
                    f"the new version is {Path(name).stem}{UPDATED_SUFFIX}")
        if name in self.kept:
            return f"  {name}: yours, up to date"
        return f"  {name}: up to date"

    def lines(self) -> list[str]:
        """One line per lesson, then a summary line."""
        out = [self.line(n) for n in self.order]
        total = len(self.order)
        out.append(f"{self.dest}: {total} lessons ({len(self.added)} new, {len(self.updated) + len(self.merged)} "
                   f"updated, {len(self.merged)} with your answers carried over, "
                   f"{len(self.kept) + len(self.merged) + len(self.beside)} with your changes kept)")
        return out


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fingerprint(data: bytes) -> str | None:
    """sha256 of a notebook's cell types and sources: what the learner wrote, not what running it
    changed (outputs, execution counts, metadata). None when ``data`` is not a notebook."""
    try:
        cells = json.loads(data.decode("utf-8")).get("cells", [])
        parts = [[c.get("cell_type", ""), "".join(c.get("source", ""))] for c in cells]
    except (ValueError, UnicodeDecodeError, AttributeError, TypeError):
        return None
    return sha256(json.dumps(parts, ensure_ascii=False).encode("utf-8"))


def _learner_bytes(src: Path) -> bytes:
    import nbformat

    from .learner import learner_notebook

    nb = learner_notebook(nbformat.read(src, as_version=4))
    return (nbformat.writes(nb) + "\n").encode("utf-8")


def _answer_keys(cells: list[dict]) -> dict[str, int]:
    """{key: index} of the answer (placeholder) cells: the check called in the next code cell (the
    exercise's identity), else "#k" for the k-th placeholder."""
    keys: dict[str, int] = {}
    k = 0
    for i, cell in enumerate(cells):
        if PLACEHOLDER_TAG not in cell.get("metadata", {}).get("tags", []):
            continue
        nxt = next((c for c in cells[i + 1:] if c.get("cell_type") == "code"), None)
        m = CHECK_CALL.search("".join(nxt.get("source", ""))) if nxt else None
        key = f"check:{m.group(1)}" if m and f"check:{m.group(1)}" not in keys else f"#{k}"
        keys[key] = i
        k += 1
    return keys


def carry_answers(mine: bytes, fresh: bytes, pristine: bytes | None = None) -> tuple[bytes, int] | None:
    """The new version ``fresh`` with the learner's answer cells from ``mine`` in it, and how many
    answers were carried. An answer is carried when the learner's cell differs from the placeholder it
    started as (``pristine``: the version the learner got, when known; else the new placeholder).
    A cell keeps the learner's source and outputs. None when ``mine`` is not a notebook."""
    try:
        old = json.loads(mine.decode("utf-8"))
        new = json.loads(fresh.decode("utf-8"))
        base = json.loads(pristine.decode("utf-8")) if pristine else None
        old_cells, new_cells = old["cells"], new["cells"]
    except (ValueError, UnicodeDecodeError, KeyError, TypeError):
        return None
    base_keys = _answer_keys(base["cells"]) if isinstance(base, dict) and "cells" in base else {}
    new_keys = _answer_keys(new_cells)
    carried = 0
    for key, i in _answer_keys(old_cells).items():
        if key not in new_keys:
            continue
        theirs, target = old_cells[i], new_cells[new_keys[key]]
        started_as = base["cells"][base_keys[key]] if key in base_keys else target
        if "".join(theirs.get("source", "")) == "".join(started_as.get("source", "")):
            continue  # not answered
        target["source"] = theirs.get("source", "")
        target["outputs"] = theirs.get("outputs", [])
        target["execution_count"] = theirs.get("execution_count")
        carried += 1
    return (json.dumps(new, indent=1, ensure_ascii=False) + "\n").encode("utf-8"), carried


def _backup(out: Path, path: Path) -> Path:
    """Copy ``path`` into ``out/backups/`` under a name that is not taken yet; return the copy."""
    (out / BACKUPS).mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    stem, suffix = path.name.removesuffix(".ipynb"), ".ipynb" if path.name.endswith(".ipynb") else ""
    dest = out / BACKUPS / f"{stem}.{stamp}{suffix}"
    n = 1
    while dest.exists():
        dest = out / BACKUPS / f"{stem}.{stamp}-{n}{suffix}"
        n += 1
    shutil.copy2(path, dest)
    return dest


def _read_manifest(dest: Path) -> dict[str, dict[str, str]]:
    """{name: {"written": fingerprint of the copy as written, "built": fingerprint of the latest version built}}.

    Older manifests hold the sha256 of the whole file instead; both are accepted (see ``_is_course_copy``)."""
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
    text = json.dumps({"about": "fingerprint (sha256 of the cells' types and sources) of each lesson copy as the "
                                "course wrote it (course_utils/kit/workspace.py); a copy with other sources is yours "
                                "and is never overwritten without a backup",
                       "copies": dict(sorted(copies.items()))}, indent=1)
    (dest / MANIFEST).write_text(text + "\n", encoding="utf-8")


def _dest(dest: str | Path) -> Path:
    out = Path(dest)
    out = out if out.is_absolute() else course_root() / out
    out.mkdir(parents=True, exist_ok=True)
    return out


def _has_outputs(data: bytes) -> bool:
    """True when a notebook was run and saved (a code cell has outputs or an execution count)."""
    try:
        cells = json.loads(data.decode("utf-8")).get("cells", [])
    except (ValueError, UnicodeDecodeError, AttributeError):
        return False
    return any(c.get("outputs") or c.get("execution_count") for c in cells if c.get("cell_type") == "code")


def _is_course_copy(data: bytes, known: dict[str, str] | None) -> bool:
    """True when the copy's sources are the ones the course wrote (or, for an older manifest, its bytes)."""
    return known is not None and known["written"] in (fingerprint(data), sha256(data))


def build(dest: str | Path = "workspace", notebooks: list[Path] | None = None,
          prebuilt: str | Path | None = None) -> Report:
    """Bring the learner copies in ``dest`` up to date, keeping the learner's work.

    For each lesson ``notebooks/NN_slug.ipynb`` (or each path in ``notebooks``):

    - no copy in ``dest`` → write it;
    - the copy's sources are the current version's → nothing to do (run and saved is not "changed");
    - a copy the learner has not changed (its sources are those the manifest recorded) → replace it
      with the current version;
    - a copy the learner changed (or one the manifest does not know) → if the lesson is unchanged since
      it was last built, leave it; if the lesson changed, back it up to ``backups/`` and write the new
      version with the learner's answer cells carried over;
    - a copy that is not a readable notebook → leave it; the new version goes beside it as
      ``NN_slug.updated.ipynb``.

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
        report.order.append(name)
        target, beside = out / name, out / (src.stem + UPDATED_SUFFIX)
        fresh = src.read_bytes() if prebuilt is not None else _learner_bytes(src)
        new = fingerprint(fresh) or sha256(fresh)
        known = manifest.get(name)
        if not target.exists():
            target.write_bytes(fresh)
            report.added.append(name)
        else:
            data = target.read_bytes()
            current = fingerprint(data)
            if current == new:
                report.unchanged.append(name)
            elif _is_course_copy(data, known):  # the course's copy, run or not, never edited
                if _has_outputs(data):  # run and saved: the outputs are the learner's, kept in backups/
                    report.backups[name] = str(_backup(out, target).relative_to(out))
                target.write_bytes(fresh)
                report.updated.append(name)
            elif _built_before(out, name, known) in (new, sha256(fresh)) and not beside.exists():
                report.kept.append(name)  # the learner's, and the lesson has not changed since
                continue
            else:
                merged = carry_answers(data, fresh, _pristine(out, name))
                if merged is None:  # not a notebook we can read: never touched
                    beside.write_bytes(fresh)
                    report.beside.append(name)
                    manifest[name] = {"written": known["written"] if known else "", "built": new}
                    continue
                report.backups[name] = str(_backup(out, target).relative_to(out))
                if beside.exists():  # an update left beside it by an older build: kept too, then out of the way
                    _backup(out, beside)
                    beside.unlink()
                target.write_bytes(merged[0])
                report.merged.append(name)
                report.carried[name] = merged[1]
                manifest[name] = {"written": new, "built": new}
                _store_pristine(out, name, fresh)
                continue
        if beside.exists():  # the copy itself is the current version now; keep the old beside file too
            _backup(out, beside)
            beside.unlink()
        manifest[name] = {"written": new, "built": new}
        _store_pristine(out, name, fresh)
    _write_manifest(out, manifest)
    return report


PRISTINE = ".course-versions"


def _built_before(out: Path, name: str, known: dict[str, str] | None) -> str | None:
    """The fingerprint of the version last built here: from the manifest, else from the stored course version."""
    if known is not None:
        return known["built"]
    pristine = _pristine(out, name)
    return fingerprint(pristine) if pristine else None


def _pristine(out: Path, name: str) -> bytes | None:
    """The course's version of a lesson as last written into this workspace (to tell answers from placeholders)."""
    path = out / PRISTINE / name
    return path.read_bytes() if path.exists() else None


def _store_pristine(out: Path, name: str, data: bytes) -> None:
    (out / PRISTINE).mkdir(exist_ok=True)
    (out / PRISTINE / name).write_bytes(data)


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
    backup = _backup(out, target) if target.exists() else None
    beside = out / (src.stem + UPDATED_SUFFIX)
    if beside.exists():
        _backup(out, beside)
        beside.unlink()
    fresh = _learner_bytes(src)
    target.write_bytes(fresh)
    manifest = _read_manifest(out)
    new = fingerprint(fresh) or sha256(fresh)
    manifest[src.name] = {"written": new, "built": new}
    _write_manifest(out, manifest)
    _store_pristine(out, src.name, fresh)
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
