"""The course's command line: ``python -m course_utils <command>``.

    doctor     is this machine ready? one [OK]/[FAIL] line per check; exit 1 on any FAIL
    manifest   rewrite data/MANIFEST from the files in data/ (maintainers only)
"""
from __future__ import annotations

import argparse
import sys


def cmd_doctor(args: argparse.Namespace) -> int:
    from . import doctor

    return doctor.main()


def cmd_manifest(args: argparse.Namespace) -> int:
    from .data import write_manifest

    print(f"wrote {write_manifest()}")
    return 0


COMMANDS = {
    "doctor": (cmd_doctor, "check that this machine is ready for the course"),
    "manifest": (cmd_manifest, "rewrite data/MANIFEST (after changing data/)"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_utils", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (func, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text).set_defaults(func=func)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
