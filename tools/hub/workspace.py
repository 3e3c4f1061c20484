"""Each learner's workspace on the hub: their own folder, filled from the learner copies once, never overwritten.

The hub (tools/hub/jupyterhub_config.py) calls :func:`learner_copies` once when it starts and
:func:`populate` before every spawn. ``populate`` is ``make lab``'s workspace builder
(course_utils.kit.workspace.build) on the prebuilt copies: a notebook the learner changed is never
lost (it is copied to ``backups/`` and the update gets their answer cells carried over); a lesson added to the course later
appears in their folder on their next start; a lesson they deleted comes back.

The learner copies are the ones ``python -m course_utils learner --out DIR`` writes (solutions replaced
by ``answer = ...``, outputs cleared).

    python tools/hub/workspace.py build/hub/users/alice     # what the hub does before alice's spawn
    python tools/hub/workspace.py /home/jovyan --source /srv/course/learner   # z2jh's postStart hook
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def learner_copies(out_dir: str | Path) -> list[Path]:
    """Write the learner copy of every lesson into ``out_dir`` (rebuilt at each hub start: it is
    the course's, not any learner's). Returns the notebooks written."""
    from course_utils.kit import learner  # imports nbconvert only; no framework

    return learner.build(Path(out_dir).resolve())


def populate(home: str | Path, source: str | Path, uid: int | None = None, gid: int | None = None) -> list[Path]:
    """Bring ``home`` up to date from the learner copies in ``source``, never overwriting the learner's work.

    The same rules as ``make lab``'s workspace (course_utils.kit.workspace.build, one piece of code for
    both): a missing copy is written; a copy the learner changed is copied to
    ``backups/`` and the newer version gets their answer cells carried over (``NN_slug.updated.ipynb``
    only beside a copy that cannot be read as a notebook). ``uid``/``gid``: owner of the folder and its files (the
    system-user mode, run as root); the folder is then private to that user (mode 0700). Returns the
    copies added.
    """
    from course_utils.kit import workspace as course_workspace

    home = Path(home)
    report = course_workspace.build(home.resolve(), prebuilt=source)
    if uid is not None:
        for path in [home, *home.rglob("*")]:
            os.chown(path, uid, gid if gid is not None else -1)
        home.chmod(0o700)
    return [home / name for name in report.added]


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
