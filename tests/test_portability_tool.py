"""tools/portability.py itself, outside any variant run (part of `make test-unit`, a few seconds).

The `busy` variant's burners must never outlive the run: not when the command fails, not on SIGTERM
or Ctrl-C (SIGINT), not when the script is killed outright. The `other-python` variant must run the
command's programs from the second venv and refuse an OTHER_PYTHON that is not another supported Python.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import portability  # noqa: E402

TOOL = [sys.executable, str(ROOT / "tools" / "portability.py")]


def burners_of(pids: list[int]) -> list[int]:
    """The pids among ``pids`` that are still running (not zombies) burners."""
    alive = []
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if stat.split(")")[-1].split()[0] != "Z" and b"os.getppid() == parent" in cmdline:
            alive.append(pid)
    return alive


def start_busy(command: list[str]) -> tuple[subprocess.Popen, list[int]]:
    """The busy variant running ``command``, and its burners' pids once it has said them."""
    # Its own session, like a terminal's foreground job; SIGINT not ignored even when pytest runs in the background.
    proc = subprocess.Popen([*TOOL, "busy", "--", *command], stdout=subprocess.PIPE, text=True, cwd=ROOT,
                            start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    for line in proc.stdout:
        if "CPU burners running (pids" in line:
            pids = [int(p) for p in line.split("pids ", 1)[1].split(")")[0].split()]
            assert len(pids) == portability.visible_cpus(), line
            return proc, pids
    raise AssertionError(f"the busy variant never started its burners (exit {proc.wait()})")


def wait_gone(pids: list[int], seconds: float = 10) -> list[int]:
    end = time.monotonic() + seconds
    while burners_of(pids) and time.monotonic() < end:
        time.sleep(0.2)
    return burners_of(pids)


pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")


def test_busy_stops_its_burners_when_the_command_fails_and_reports_their_cpu_time():
    proc, pids = start_busy([sys.executable, "-c", "import time; time.sleep(2); raise SystemExit(3)"])
    assert burners_of(pids) == pids, "the burners are not running during the command"
    rest = proc.stdout.read()
    assert proc.wait(timeout=60) == 3, "the command's exit code is not passed on"
    assert "burners used" in rest and "of run" in rest, rest  # printed after they were killed and reaped
    assert wait_gone(pids, seconds=0) == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_busy_stops_its_burners_on_a_signal(sig):
    proc, pids = start_busy([sys.executable, "-c", "import time; time.sleep(60)"])
    time.sleep(1)
    # Ctrl-C in a terminal reaches the whole foreground process group: the script and the command.
    os.killpg(proc.pid, sig) if sig == signal.SIGINT else proc.send_signal(sig)
    rest = proc.stdout.read()
    assert proc.wait(timeout=60) == 130
    # Printed by the finally after the burners were killed and reaped (not their own stop on a lost parent).
    assert "interrupted" in rest and "burners used" in rest, rest
    assert wait_gone(pids, seconds=0) == []


def test_busy_burners_stop_by_themselves_when_the_script_is_killed():
    proc, pids = start_busy([sys.executable, "-c", "import time; time.sleep(60)"])
    proc.kill()  # no finally runs: the burners notice that their parent is gone
    proc.wait(timeout=30)
    assert wait_gone(pids) == []
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the orphaned sleeping command
    except ProcessLookupError:
        pass


def test_other_python_takes_the_commands_programs_from_the_second_venv(tmp_path):
    venv = tmp_path / "venv-py312"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").touch()
    command = [".venv/bin/python", "tests/netoff.py", str(ROOT / ".venv" / "bin" / "python"), "-m", "pytest",
               ".venv/bin/not-in-the-other-venv", "notebooks/00_setup_check.ipynb"]
    old = os.getcwd()
    os.chdir(ROOT)
    try:
        swapped = portability.in_other_venv(command, venv)
    finally:
        os.chdir(old)
    assert swapped == [str(venv / "bin" / "python"), "tests/netoff.py", str(venv / "bin" / "python"), "-m", "pytest",
                       ".venv/bin/not-in-the-other-venv", "notebooks/00_setup_check.ipynb"]


def test_other_python_refuses_a_python_that_is_not_another_supported_one(monkeypatch):
    own = portability.course_python_minor()
    monkeypatch.setenv("OTHER_PYTHON", str(ROOT / ".venv" / "bin" / "python"))  # .venv's own Python
    python, said = portability.find_other_python()
    assert python is None and f".venv's 3.{own}" in said
    monkeypatch.setenv("OTHER_PYTHON", "/nonexistent/python3.12")
    python, said = portability.find_other_python()
    assert python is None and "not a working Python" in said
