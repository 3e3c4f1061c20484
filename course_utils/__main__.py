"""The course's command line: ``python -m course_utils <command>``.

    doctor     is this machine ready? one [OK]/[FAIL] line per check; exit 1 on any FAIL
    manifest   rewrite data/MANIFEST from the files in data/ (maintainers only)
    learner    build the learner copies (solutions replaced by placeholders) into build/learner/
    workspace  build or update the learner's own copies in workspace/ (never overwrites their work)
    slides     build a Reveal.js deck per lesson into build/slides/ (reveal.js from node_modules/)
    schedule   write docs/instructors/schedule.md from the lesson headers and measured times
    progress   your own record: each exercise checked, done or not, tries (course_utils/record.py)
    room       the board as text: learners x exercises from the records collected in one folder
"""
from __future__ import annotations

import argparse
import sys


def cmd_doctor(args: argparse.Namespace) -> int:
    from .kit import doctor

    return doctor.main()


def cmd_manifest(args: argparse.Namespace) -> int:
    from .data import write_manifest

    print(f"wrote {write_manifest()}")
    return 0


def cmd_learner(args: argparse.Namespace) -> int:
    from .kit import learner

    return learner.main(args.out, args.notebooks)


def cmd_workspace(args: argparse.Namespace) -> int:
    from .kit import workspace

    return workspace.main(args.out, args.refresh)


def _workspace_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="workspace", help="the learner's folder (default: workspace)")
    parser.add_argument("--refresh", metavar="LESSON", default=None,
                        help="replace this lesson's copy with the current version, keeping a backup")


def cmd_slides(args: argparse.Namespace) -> int:
    from .kit import slides

    return slides.main(args.out, args.notebooks)


def cmd_schedule(args: argparse.Namespace) -> int:
    from .kit import schedule

    return schedule.main(args.times, args.out, args.memory)


def cmd_progress(args: argparse.Namespace) -> int:
    from .record import progress

    progress()
    return 0


def cmd_room(args: argparse.Namespace) -> int:
    from .kit import room

    return room.main(args.folder)


def _room_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", help="a folder of learners' records: <name>/record/log.jsonl or <name>.jsonl")


def _build_args(default_out: str):
    def add(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("notebooks", nargs="*", help="notebooks to build (default: every lesson)")
        parser.add_argument("--out", default=default_out, help=f"output folder (default: {default_out})")
    return add


def _schedule_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--times", default="build/notebook_times.json",
                        help="measured execution times, written by the nbval run (make test-notebooks)")
    parser.add_argument("--out", default="docs/instructors/schedule.md")
    parser.add_argument("--memory", nargs="*", default=[], metavar="NOTEBOOK",
                        help="also execute these notebooks and print each kernel's peak memory (MiB)")


COMMANDS = {
    "doctor": (cmd_doctor, "check that this machine is ready for the course"),
    "manifest": (cmd_manifest, "rewrite data/MANIFEST (after changing data/)"),
    # name: (function, help, optional function that adds the command's arguments)
    "learner": (cmd_learner, "build the learner notebooks into build/learner/", _build_args("build/learner")),
    "workspace": (cmd_workspace, "build or update the learner's copies in workspace/", _workspace_args),
    "slides": (cmd_slides, "build Reveal.js slide decks into build/slides/", _build_args("build/slides")),
    "schedule": (cmd_schedule, "write docs/instructors/schedule.md", _schedule_args),
    "progress": (cmd_progress, "your own record: exercises checked, done, tries"),
    "room": (cmd_room, "the board as text, from learners' records collected in one folder", _room_args),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_utils", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (func, help_text, *add_args) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text)
        command.set_defaults(func=func)
        for add in add_args:
            add(command)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
