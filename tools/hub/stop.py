"""`make hub-stop`: stop every learner's server and kernel, the board, the culler, the proxy and the hub.

Stopping the hub alone (Ctrl-C) leaves learners' servers and kernels running on purpose (a restart
keeps them: ``cleanup_servers = False``). At the end of a workshop this stops everything the hub of
one state folder started, found by the ``COURSE_HUB_STATE`` mark every one of them carries in its
environment (tools/hub/jupyterhub_config.py): first the learners' servers (SIGTERM: each shuts its
kernels down), then the hub (its services and proxy with it), then anything left, SIGKILL after a
grace period. It prints what it stopped and exits 1 if anything is still alive.

    .venv/bin/python tools/hub/stop.py [STATE]      # STATE: default hub-state/ (HUB_STATE in make)
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[2]


def marked(state: Path) -> list[psutil.Process]:
    """Every live process started by the hub of ``state`` (hub, proxy, culler, board, servers, kernels)."""
    found = []
    for p in psutil.process_iter():
        try:
            if p.environ().get("COURSE_HUB_STATE") == str(state):
                found.append(p)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return found


def describe(p: psutil.Process) -> str:
    try:
        cmd = " ".join(p.cmdline())
        who = p.environ().get("JUPYTERHUB_USER", "")
    except psutil.Error:
        return f"{p.pid} (gone)"
    kind = ("server" if "jupyterhub.singleuser" in cmd else "kernel" if "ipykernel" in cmd
            else "proxy" if "configurable-http-proxy" in cmd else "board" if "board.py" in cmd
            else "culler" if "idle_culler" in cmd else "hub" if "jupyterhub" in cmd else "process")
    return f"{kind} {p.pid}" + (f" ({who})" if who else "")


def terminate(procs: list[psutil.Process], grace: float) -> list[psutil.Process]:
    for p in procs:
        try:
            p.terminate()
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(procs, timeout=grace)
    for p in alive:
        try:
            p.kill()
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(alive, timeout=5)
    return alive


def stop(state: Path, grace: float = 15, quiet: bool = False) -> list[str]:
    """Stop everything the hub of ``state`` started; return what could not be stopped."""
    state = Path(state).resolve()
    found = marked(state)
    hub_pid = None
    pid_file = state / "jupyterhub.pid"
    if pid_file.exists():
        try:
            hub_pid = int(pid_file.read_text().split()[0])
        except (ValueError, IndexError):
            pass
    hubs = [p for p in found if p.pid == hub_pid or ("jupyterhub" in " ".join(_cmd(p)) and "-f" in _cmd(p))]
    servers = [p for p in found if p not in hubs and "jupyterhub.singleuser" in " ".join(_cmd(p))]
    if not quiet:
        print(f"hub-stop: {len(found)} process(es) of the hub in {state}: "
              + (", ".join(describe(p) for p in found) or "none"), flush=True)
    terminate(servers, grace)      # each server shuts its kernels down
    terminate(hubs, grace)         # the hub stops its proxy and services
    rest = [p for p in marked(state)]
    terminate(rest, 5)
    left = [describe(p) for p in marked(state)]
    if not quiet:
        print("hub-stop: everything stopped." if not left else f"hub-stop: still running: {left}", flush=True)
    return left


def _cmd(p: psutil.Process) -> list[str]:
    try:
        return p.cmdline()
    except psutil.Error:
        return []


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("state", nargs="?", default=str(REPO / "hub-state"))
    args = ap.parse_args(argv)
    return 1 if stop(Path(args.state)) else 0


if __name__ == "__main__":
    sys.exit(main())
