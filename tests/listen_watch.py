"""Where the course really listens: a sampler of the OS's listening sockets, and its pytest plugin.

Issue 26: everything the course starts must listen on loopback only (127.0.0.0/8 and ::1). A
server's configuration says where it *should* listen; the kernel's socket table says where it does.
While each notebook runs under nbval, a background thread samples the listening TCP sockets of the
notebook's kernel and all its descendants every ``INTERVAL_S`` seconds; any listener elsewhere fails
the run, naming the notebook, the cell that was running and the process.

Cheap on a busy 2-core machine (Linux): each sample asks the kernel once, through netlink, for the
listening TCP sockets (``servers.listening_inodes``, about 0.06 ms; reading ``/proc/net/tcp*`` costs
about 10 ms); only a listening socket not seen before makes it walk the kernel's process tree and the
processes' open sockets, to find whose it is. Elsewhere it asks psutil per process. The loopback
listeners it found are listed in the summary too: what was measured, not only what failed.

Known exceptions (``KNOWN_EXCEPTIONS``) are reported in the run's summary, never counted as a pass
silently: a library that cannot bind loopback on these pins, and lesson 11's deliberate demonstration
of the default. ``tests/test_safety.py`` proves a wrong bind fails a real nbval run.

Measured with it (Linux, torch 2.13, TF 2.21; address from the OS, ports vary):

    kernels (nbval, JupyterLab's)          127.0.0.1   ZMQ ports
    TensorBoard (05, 08)                   127.0.0.1   --host 127.0.0.1
    Visdom (08)                            127.0.0.1   -bind_local
    model service, uvicorn (09)            127.0.0.1
    torch rendezvous store (11, 13)        127.0.0.1   rank 0 binds it: ddp_worker.rendezvous_store
    gloo pairs (11, 13)                    127.0.0.1   GLOO_SOCKET_IFNAME = the loopback device
    JupyterLab (make lab)                  127.0.0.1   tests/test_safety.py
    JupyterHub, proxy, user servers        127.0.0.1   tests/test_hub.py (make test-hub)
    TF gRPC servers, MultiWorker (11)      [::]        KNOWN EXCEPTION: no option on TF 2.21
    torch TCPStore as env:// makes it      [::]        lesson 11's "before" only (KNOWN EXCEPTION)
    torchrun's agent store                 [::]        not run by a notebook (tests/test_distributed.py)

Loaded by ``conftest.py``; ``python -m pytest -p listen_watch --nbval NB`` with ``tests/`` on the path.
"""
from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import psutil
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from course_utils.base import servers  # noqa: E402

INTERVAL_S = 0.2
# (what the process's command line contains, why it may listen beyond loopback): reported, not passed
KNOWN_EXCEPTIONS = (
    ("course_utils.lessons.tf_worker",
     "TensorFlow 2.21's gRPC server (MultiWorkerMirroredStrategy, TF_CONFIG) binds 0.0.0.0 (= [::]) with no "
     "option to change it (grpc_server_lib.cc); lesson 11 says so and what to do"),
    ("course_utils.lessons.store_demo default",
     "lesson 11's demonstration of torch's default rendezvous store (TCPStore on every interface), "
     "stopped as soon as the OS was read"),
)


@dataclass(frozen=True)
class Finding:
    where: str          # "notebooks/11_distributed.ipynb::Cell 23" (what was running when it was seen)
    pid: int
    process: str
    address: str
    port: int

    @property
    def known(self) -> str | None:
        """The reason, when this listener is a known exception."""
        for marker, reason in KNOWN_EXCEPTIONS:
            if marker in self.process:
                return reason
        return None

    def line(self) -> str:
        return f"{self.where}: pid {self.pid} ({self.process}) listens on {self.address}:{self.port}"


def _tree(roots: Iterable[int]) -> list[int]:
    pids: dict[int, None] = {}
    for pid in roots:
        try:
            proc = psutil.Process(pid)
            pids.update((p.pid, None) for p in [proc, *proc.children(recursive=True)])
        except psutil.Error:
            continue
    return list(pids)


class Watch:
    """Samples, in a daemon thread, the listening sockets of ``roots()`` and their descendants.

    ``where`` labels what is running (a notebook cell); ``findings`` keeps every listener seen outside
    loopback; ``stop()`` ends the thread (idempotent). ``cost()``: the sampler's own CPU time.
    """

    def __init__(self, roots: Callable[[], Iterable[int]], interval: float = INTERVAL_S):
        self.roots = roots
        self.interval = interval
        self.where = "(starting)"
        self.findings: list[Finding] = []   # listeners beyond loopback
        self.loopback: dict[tuple[str, str], int] = {}  # (process, address) -> sockets seen: the good ones
        self.samples = 0
        self.cpu_s = 0.0
        self._seen: set = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "Watch":
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="listen-watch", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.sample()  # one last look: a listener opened just before the end

    def __enter__(self) -> "Watch":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sample()
            except Exception as exc:  # noqa: BLE001  (the sampler must never kill a run; say why it stopped)
                self.findings.append(Finding(self.where, 0, f"the sampler failed: {exc!r}", "?", 0))
                return

    def sample(self) -> None:
        start = time.thread_time()
        with self._lock:
            self.samples += 1
            if sys.platform.startswith("linux"):
                self._sample_proc()
            else:
                self._sample_psutil()
        self.cpu_s += time.thread_time() - start

    def _sample_proc(self) -> None:
        new = {inode: where for inode, where in servers.listening_inodes().items() if inode not in self._seen}
        if not new:
            return  # the common case: one netlink query, nothing else
        self._seen |= new.keys()  # a socket not in the tree now is someone else's: never looked up again
        for pid in _tree(self.roots()):
            for inode in servers.socket_inodes(pid) & new.keys():
                self._record(Finding(self.where, pid, servers.describe_process(pid), *new[inode]))

    def _record(self, finding: Finding) -> None:
        if _is_loopback(finding.address):
            self.loopback[(finding.process[:60], finding.address)] = self.loopback.get(
                (finding.process[:60], finding.address), 0) + 1
        else:
            self.findings.append(finding)

    def _sample_psutil(self) -> None:
        for listener in servers.listening_sockets(list(self.roots())):
            key = (listener.pid, listener.address, listener.port)
            if key not in self._seen:
                self._seen.add(key)
                self._record(Finding(self.where, listener.pid, listener.process, listener.address, listener.port))

    def cost(self) -> str:
        per = self.cpu_s / self.samples * 1e3 if self.samples else 0.0
        return (f"{self.samples} samples, {per:.2f} ms CPU each, "
                f"{per / (self.interval * 1e3) * 100:.2f}% of one core at one sample per {self.interval:g} s")


def _is_loopback(address: str) -> bool:
    import ipaddress

    return ipaddress.ip_address(address).is_loopback


# --- the pytest plugin: every nbval notebook's kernel, cell by cell -------------------------------------

_watch: Watch | None = None
_kernel_pid: int | None = None
_reported = 0


def _kernel_pid_of(item) -> int | None:
    kernel = getattr(item.parent, "kernel", None)
    km = getattr(kernel, "km", None)
    provisioner = getattr(km, "provisioner", None)
    process = getattr(provisioner, "process", None)
    return getattr(process, "pid", None)


def _is_nbval_cell(item) -> bool:
    return item.nodeid.split("::")[0].endswith(".ipynb") and hasattr(item, "cell_num")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item):
    global _watch, _kernel_pid
    if not _is_nbval_cell(item):
        return
    _kernel_pid = _kernel_pid_of(item) or _kernel_pid
    if _watch is None:
        _watch = Watch(lambda: [_kernel_pid] if _kernel_pid else []).start()
    _watch.where = item.nodeid


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    global _reported
    if call.when != "call" or _watch is None or not _is_nbval_cell(item):
        return
    _watch.sample()  # what is listening as the cell ends, besides what the thread saw while it ran
    new = _watch.findings[_reported:]
    _reported = len(_watch.findings)
    wrong = [f for f in new if not f.known]
    if wrong:
        report = outcome.get_result()
        message = "listening beyond loopback (127.0.0.0/8, ::1):\n" + "\n".join("  " + f.line() for f in wrong)
        report.outcome = "failed"
        report.longrepr = f"{report.longrepr}\n{message}" if report.longrepr else message


def pytest_terminal_summary(terminalreporter):
    if _watch is None:
        return
    _watch.stop()
    terminalreporter.section("listening sockets (read from the OS: the kernels and their children)")
    wrong = [f for f in _watch.findings if not f.known]
    known = [f for f in _watch.findings if f.known]
    terminalreporter.write_line(f"beyond loopback: {len(wrong)}; known exceptions: {len(known)}")
    for f in wrong:
        terminalreporter.write_line("FAILED  " + f.line())
    for f in known:
        terminalreporter.write_line(f"KNOWN EXCEPTION (not a pass)  {f.line()}  -- {f.known}")
    for (process, address), count in sorted(_watch.loopback.items()):
        terminalreporter.write_line(f"loopback  {address:9} x{count:<3} {process}")
    terminalreporter.write_line(f"sampler: {_watch.cost()}")


def pytest_sessionfinish(session, exitstatus):
    if _watch is None:
        return
    _watch.stop()
    late = [f for f in _watch.findings[_reported:] if not f.known]
    if late and session.exitstatus == 0:  # seen after the last cell's report: still a failure
        print("\nlistening beyond loopback after the last cell:\n" + "\n".join(f.line() for f in late))
        session.exitstatus = 1
