"""Run a command with the outbound network switched off (loopback still up), when this machine allows it.

    python tests/netoff.py COMMAND [ARG ...]

How: as root, ``unshare -n`` gives the command a network namespace of its own with no route out;
loopback starts down there and kernels talk to JupyterLab/nbval over it, so it is brought up first:
``unshare -n sh -c 'ip link set lo up && exec COMMAND'``. A lesson that tries to download anything
then fails at once with "Network is unreachable" (or a name-resolution error) instead of hanging.

When it cannot (not root, or no ``unshare``/``ip``: a learner's laptop), the command runs with the
network as it is, after one line that says so. Under CI (``CI=true``) that is an error instead:
the network-off run is part of what CI proves. ``COURSE_NETWORK=on`` opts out explicitly.

The command sees ``COURSE_NETWORK_OFF=1`` in its environment when the network is off
(tests/test_network_off.py uses it).

Used in: the Makefile (``make test-notebooks``, ``make test-browser``), tests/test_network_off.py.
"""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys

MARK = "COURSE_NETWORK_OFF"


def why_not() -> str | None:
    """None when the network can be switched off here, else the reason it cannot."""
    if os.environ.get("COURSE_NETWORK", "").lower() == "on":
        return "COURSE_NETWORK=on was set"
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "this needs root (unshare -n); on your own machine that is fine"
    for tool in ("unshare", "ip"):
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed"
    probe = subprocess.run(["unshare", "-n", "sh", "-c", "ip link set lo up"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        return f"`unshare -n` failed here ({probe.stderr.strip() or probe.returncode})"
    return None


def wrap(argv: list[str]) -> tuple[list[str], str | None]:
    """The command line that runs ``argv`` with the network off, and None; or ``argv`` and the reason not."""
    reason = why_not()
    if reason is not None:
        return list(argv), reason
    inner = f"ip link set lo up && exec env {MARK}=1 {shlex.join(argv)}"
    return ["unshare", "-n", "sh", "-c", inner], None


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    if os.environ.get(MARK) == "1":  # already inside: don't nest namespaces
        return subprocess.call(argv)
    command, reason = wrap(argv)
    if reason is None:
        print("network: OFF for this run (unshare -n; loopback only) — a download in any cell fails loudly",
              flush=True)
    elif in_ci() and os.environ.get("COURSE_NETWORK", "").lower() != "on":
        print(f"error: CI=true but the network cannot be switched off: {reason}. "
              "Run CI as root with util-linux (unshare) and iproute2 (ip), or set COURSE_NETWORK=on to opt out.",
              flush=True)
        return 1
    else:
        print(f"network: left ON for this run — cannot switch it off: {reason}", flush=True)
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
