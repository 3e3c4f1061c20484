"""Each learner's workspace on the hub: their own folder, filled from the learner copies once, never overwritten.

The hub (tools/hub/jupyterhub_config.py) calls :func:`learner_copies` once when it starts and
:func:`populate` before every spawn. ``populate`` copies only the files a learner does not have yet, so a
notebook they changed is never replaced; a lesson added to the course later appears in their folder on
their next start; a lesson they deleted comes back (deleting is not how a learner keeps work).

The learner copies are the ones ``python -m course_utils learner --out DIR`` writes (solutions replaced
by ``answer = ...``, outputs cleared).

    python tools/hub/workspace.py build/hub/users/alice     # what the hub does before alice's spawn
    python tools/hub/workspace.py /home/jovyan --source /srv/course/learner   # z2jh's postStart hook
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def learner_copies(out_dir: str | Path) -> list[Path]:
    """Write the learner copy of every lesson into ``out_dir`` (rebuilt at each hub start: it is
    the course's, not any learner's). Returns the notebooks written."""
    from course_utils import learner  # imports nbconvert only; no framework

    return learner.build(Path(out_dir).resolve())


def populate(home: str | Path, source: str | Path, uid: int | None = None, gid: int | None = None) -> list[Path]:
    """Copy into ``home`` each file of ``source`` that ``home`` does not hold yet; never overwrite.

    ``uid``/``gid``: owner of the folder and of the files copied (the system-user mode, run as root);
    the folder is then made private to that user (mode 0700). Returns the files copied.
    """
    home, source = Path(home), Path(source)
    home.mkdir(parents=True, exist_ok=True)
    copied = []
    for src in sorted(source.rglob("*")):
        if not src.is_file() or ".ipynb_checkpoints" in src.parts:
            continue
        dest = home / src.relative_to(source)
        if dest.exists() or dest.is_symlink():
            continue  # the learner's file, changed or not: theirs
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        copied.append(dest)
        if uid is not None:
            os.chown(dest, uid, gid if gid is not None else -1)
    if uid is not None:
        os.chown(home, uid, gid if gid is not None else -1)
        home.chmod(0o700)
    return copied


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="Fill a learner's folder from the learner copies (never overwrites).")
    ap.add_argument("dest", help="the learner's folder, e.g. build/hub/users/alice or /home/jovyan")
    ap.add_argument("--source", help="learner copies already built (the image's /srv/course/learner); "
                                     "default: build them into build/hub/learner first")
    args = ap.parse_args(argv)
    src = Path(args.source) if args.source else REPO / "build" / "hub" / "learner"
    if not args.source:
        learner_copies(src)
    copied = populate(args.dest, src)
    print(f"{args.dest}: {len(copied)} file(s) added from {src}, nothing overwritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
