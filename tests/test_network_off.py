"""The strict notebook run has no network: a cell that tries to download fails loudly and fast.

`make test-notebooks` runs nbval through tests/netoff.py (``unshare -n`` as root, loopback only) and
collects this file in the same pytest process, so the tests below that need ``COURSE_NETWORK_OFF=1``
prove that the very run that checked the notebooks had no way out. The kernel test starts a real
course kernel inside such a namespace and tries to download, as a lesson cell would.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import netoff

ROOT = Path(__file__).resolve().parents[1]
INSIDE = os.environ.get(netoff.MARK) == "1"
CAN = netoff.why_not() is None

# A cell a lesson must never contain: it would hang for minutes on a slow network, or silently
# depend on one. With the network off it has to fail at once with a readable error.
DOWNLOAD_CELL = """
import time, urllib.request
start = time.monotonic()
try:
    urllib.request.urlopen("https://pypi.org/simple/", timeout=30)
    print("DOWNLOADED")
except OSError as exc:
    print(f"FAILED after {time.monotonic() - start:.1f} s: {type(exc).__name__}: {exc}")
"""


def needs_network_off():
    if not (INSIDE or CAN):
        if netoff.in_ci():
            pytest.fail(f"CI=true but the network cannot be switched off here: {netoff.why_not()}")
        pytest.skip(f"the network cannot be switched off on this machine: {netoff.why_not()}")


@pytest.mark.skipif(not INSIDE, reason="only inside the network-off run (make test-notebooks)")
def test_this_run_has_no_route_out():
    start = time.monotonic()
    with pytest.raises(OSError) as info:
        socket.create_connection(("1.1.1.1", 443), timeout=20)
    assert time.monotonic() - start < 5, "a connection attempt must fail at once, not wait for a timeout"
    assert "unreachable" in str(info.value).lower()


@pytest.mark.skipif(not INSIDE, reason="only inside the network-off run (make test-notebooks)")
def test_this_run_keeps_loopback():
    server = socket.create_server(("127.0.0.1", 0))
    with server, socket.create_connection(server.getsockname(), timeout=5):
        pass


def test_a_download_in_a_kernel_fails_loudly_not_slowly(tmp_path):
    """A course kernel (tools/kernel.json) in a network-off namespace: urlopen fails in well under 5 s."""
    needs_network_off()
    script = tmp_path / "run_cell.py"
    script.write_text(
        "import sys, nbformat\n"
        "from nbclient import NotebookClient\n"
        "nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(sys.argv[1])])\n"
        "nb.metadata['kernelspec'] = {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}\n"
        "NotebookClient(nb, timeout=60, kernel_name='python3').execute()\n"
        "print(''.join(o.get('text', '') for o in nb.cells[0].outputs))\n"
    )
    command = [sys.executable, str(script), DOWNLOAD_CELL]
    if not INSIDE:
        command, reason = netoff.wrap(command)
        assert reason is None, reason
    start = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "DOWNLOADED" not in done.stdout, "the kernel reached the network"
    assert "FAILED after" in done.stdout, done.stdout
    seconds = float(done.stdout.split("FAILED after ")[1].split(" s")[0])
    assert seconds < 5, f"the download attempt took {seconds} s to fail: it must fail loudly, not hang"
    assert time.monotonic() - start < 90


def test_the_strict_notebook_run_goes_through_netoff():
    # What `make test-notebooks` really runs (make -n expands the variables): every nbval run, the
    # reference one and the portability variant, goes through netoff and proves it inside.
    dry = subprocess.run(["make", "-n", "--no-print-directory", "test-notebooks"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    runs = [line for line in dry.splitlines() if "--nbval" in line]
    assert len(runs) == 2 and any("tools/portability.py narrow" in line for line in runs), dry
    assert all("tests/netoff.py" in line and "tests/test_network_off.py" in line for line in runs), dry


def test_netoff_says_why_when_it_cannot(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_NETWORK", "on")
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv(netoff.MARK, raising=False)
    assert netoff.main([sys.executable, "-c", "pass"]) == 0
    assert "network: left ON for this run" in capsys.readouterr().out


def test_netoff_refuses_to_pretend_in_ci(monkeypatch, capsys):
    monkeypatch.setattr(netoff, "why_not", lambda: "this needs root (unshare -n)")
    monkeypatch.setenv("CI", "true")
    monkeypatch.delenv("COURSE_NETWORK", raising=False)
    monkeypatch.delenv(netoff.MARK, raising=False)
    assert netoff.main([sys.executable, "-c", "pass"]) == 1
    assert "error: CI=true but the network cannot be switched off" in capsys.readouterr().out
