"""course_utils.base.servers: a real child server on loopback, waited for, and always stopped."""
import os
import signal
import sys

import psutil
import pytest

import course_utils as cu
from course_utils.base import servers

HTTP = ["python", "-m", "http.server", "--bind", "127.0.0.1", "{port}"]


def test_start_answers_on_loopback_and_stops():
    with servers.start(HTTP, name="files") as web:
        assert web.alive and "Directory listing" in web.get("/")
        conns = [c for c in psutil.Process(web.process.pid).net_connections() if c.status == "LISTEN"]
        assert conns and all(c.laddr.ip == "127.0.0.1" for c in conns)
        pid, port = web.process.pid, web.port
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert not servers.port_is_open(port)
    assert servers.running() == []


def test_children_of_the_service_are_stopped_too():
    # A shell that starts a server and waits: stopping the service must stop the grandchild as well.
    web = servers.start(["sh", "-c", f"{sys.executable} -m http.server --bind 127.0.0.1 {{port}}; sleep 60"],
                        name="wrapped")
    children = psutil.Process(web.process.pid).children(recursive=True)
    web.stop()
    assert children and not any(c.is_running() and c.status() != psutil.STATUS_ZOMBIE for c in children)


def test_a_server_that_dies_is_reported_in_one_line_and_cleaned_up():
    with pytest.raises(cu.CourseError) as info:
        servers.start(["python", "-c", "import sys; print('boom: bad flag'); sys.exit(3)"], name="broken")
    assert "exited with code 3" in str(info.value) and "boom: bad flag" in str(info.value)
    assert "\n" not in str(info.value) and servers.running() == []


def test_a_missing_program_is_one_line():
    with pytest.raises(cu.CourseError, match="could not start"):
        servers.start(["no-such-program-xyz"], name="ghost")


def test_stop_all_stops_what_is_left():
    servers.start(HTTP, name="a")
    servers.start(HTTP, name="b")
    assert servers.stop_all() == 2 and servers.running() == []


def test_timeout_stops_the_process():
    with pytest.raises(cu.CourseError, match="did not answer"):
        servers.start(["python", "-c", "import time; time.sleep(30)"], name="mute", timeout=1)
    assert servers.running() == []


def test_a_server_dies_with_the_kernel_that_started_it_even_on_sigkill(tmp_path):
    """atexit cannot run when a kernel is SIGKILLed; on Linux the child is told by the OS instead."""
    if not sys.platform.startswith("linux"):
        pytest.skip("PR_SET_PDEATHSIG is Linux-only; elsewhere atexit and with-blocks stop servers")
    import subprocess
    import time

    script = ("import sys, time; from course_utils.base import servers; "
              "web = servers.start(['python', '-m', 'http.server', '--bind', '127.0.0.1', '{port}'], name='orphan'); "
              "print(web.process.pid, web.port, flush=True); time.sleep(60)")
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    pid, port = map(int, parent.stdout.readline().split())
    assert psutil.pid_exists(pid) and servers.port_is_open(port)
    parent.send_signal(signal.SIGKILL)
    parent.wait(10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and servers.port_is_open(port):
        time.sleep(0.1)
    assert not servers.port_is_open(port), "the server outlived the SIGKILLed kernel"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="netlink and /proc/net are Linux's")
def test_listening_sockets_read_from_the_os_both_ways_agree():
    """Issue 26: sock_diag (netlink, what the sampler uses) and /proc/net/tcp* report the same listeners,
    and a wildcard bind is told from a loopback one."""
    import socket

    with socket.create_server(("0.0.0.0", 0)) as wide, socket.create_server(("127.0.0.1", 0)) as narrow:
        fast, slow = servers.listening_inodes(), servers._proc_listeners()
        mine = {l.port: l for l in servers.listening_sockets([os.getpid()], include_children=False)}
        wide_port, narrow_port = wide.getsockname()[1], narrow.getsockname()[1]
    ours = lambda table: {inode: a for inode, a in table.items() if a[1] in (wide_port, narrow_port)}  # noqa: E731
    assert len(ours(fast)) == 2 and ours(fast) == ours(slow)  # (other processes' sockets may come and go)
    assert mine[wide_port].scope == "ALL interfaces" and not mine[wide_port].loopback
    assert mine[narrow_port].scope == "loopback" and mine[narrow_port].loopback
