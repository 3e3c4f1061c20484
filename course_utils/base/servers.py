"""Servers and workers a lesson starts: on 127.0.0.1 only, waited for, and always stopped.

TensorBoard (lessons 05, 08), Visdom (08), a model service (09) and distributed workers (11) are
real child processes. ``start`` runs one in its own process group, waits until it answers, and
returns a ``Service`` that is a context manager; every service still running when the kernel
exits is stopped too (``atexit``), so a failed cell never leaves a server or a port behind.

    >>> with start(["python", "-m", "http.server", "--bind", "127.0.0.1", "{port}"],
    ...            name="files", ready_path="/") as web:     # doctest: +SKIP
    ...     web.get("/")[:15]
    '<!DOCTYPE HTML>'

Where a process really listens is the operating system's answer, not its configuration:
``listening_sockets(pids)`` reads it (``/proc/net/tcp*`` and each process's open sockets on Linux,
psutil elsewhere), and ``loopback_interface()`` names the loopback device (``lo``, ``lo0`` on macOS).

Used in: 05_debugging, 08_visualization, 09_saving_deploying, 11_distributed.
"""
from __future__ import annotations

import atexit
import ipaddress
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from . import validate
from .errors import CourseError

HOST = "127.0.0.1"
_running: list["Service"] = []


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def port_is_open(port: int, host: str = HOST) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


@dataclass
class Service:
    """A child process serving on ``127.0.0.1:port``; stop it with ``stop()`` or a ``with`` block."""

    name: str
    port: int
    process: subprocess.Popen
    log_path: Path
    _log_file: object = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def get(self, path: str = "/", timeout: float = 10.0) -> str:
        """GET ``url + path`` and return the body as text (a one-line ``CourseError`` if it fails)."""
        try:
            with urllib.request.urlopen(self.url + path, timeout=timeout) as reply:
                return reply.read().decode("utf-8", "replace")
        except (urllib.error.URLError, OSError) as exc:
            raise CourseError(f"{self.name}: GET {path} failed ({exc}). {self.log_tail()}") from None

    def log_tail(self, lines: int = 1) -> str:
        """The last non-empty line(s) the process wrote, for error messages."""
        try:
            text = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        tail = [t for t in text if t.strip()][-lines:]
        return ("Its last output: " + " | ".join(tail)) if tail else "It printed nothing."

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the process and everything it started (its process group); idempotent."""
        import psutil

        try:
            tree = [psutil.Process(self.process.pid)]
            tree += tree[0].children(recursive=True)
        except psutil.NoSuchProcess:
            tree = []
        _signal_group(self.process, signal.SIGTERM)
        _, left = psutil.wait_procs(tree, timeout=timeout)
        for proc in left:  # ignored SIGTERM, or left the group: no survivors either way
            try:
                proc.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(left, timeout=timeout)
        _signal_group(self.process, signal.SIGKILL)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
            self.log_path.unlink(missing_ok=True)
        if self in _running:
            _running.remove(self)

    def __enter__(self) -> "Service":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:  # no pid or port in notebook output: both change every run
        return f"<Service {self.name}: {'running' if self.alive else 'stopped'}>"


def _die_with_parent() -> None:  # pragma: no cover - runs in the child, between fork and exec
    """Linux: the child gets SIGTERM if the kernel that started it dies (even by SIGKILL, when no
    atexit handler runs). Elsewhere nothing: atexit and the ``with`` blocks do the stopping."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def start(command: Sequence[str], name: str, port: int | None = None, ready_path: str | None = "/",
          timeout: float = 60.0, env: dict[str, str] | None = None, cwd: str | os.PathLike | None = None) -> Service:
    """Start ``command`` (``"{port}"`` in it is replaced by the port) and wait until it answers.

    ``ready_path``: an HTTP path that must answer (any status below 500); ``None`` waits only for
    the TCP port to open. ``python`` as the first word means this kernel's own interpreter. The
    output goes to a log file (an unread pipe would fill and hang the server). Raises a one-line
    ``CourseError`` when the process exits or does not answer within ``timeout`` seconds — and then
    it is already stopped.
    """
    validate.text(name, "name", "start")
    if isinstance(command, (str, bytes)) or not all(isinstance(c, str) for c in command) or not command:
        raise CourseError("start(command=...): expected a list of strings such as ['python', '-m', 'http.server'].")
    port = free_port() if port is None else validate.integer(port, "port", "start", minimum=1, maximum=65535)
    argv = [sys.executable if c == "python" and i == 0 else c.replace("{port}", str(port))
            for i, c in enumerate(command)]
    log_path = Path(tempfile.mkstemp(prefix=f"course-{name}-", suffix=".log")[1])
    log_file = open(log_path, "w")
    try:
        process = subprocess.Popen(argv, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env={**os.environ, **(env or {})}, cwd=cwd, start_new_session=True,
                                   preexec_fn=_die_with_parent)
    except OSError as exc:
        log_file.close()
        raise CourseError(f"{name}: could not start {argv[0]!r} ({exc.strerror}). Is it installed in this environment?") from None
    service = Service(name, port, process, log_path, log_file)
    _running.append(service)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not service.alive:
            time.sleep(0.2)  # let the last lines reach the log
            message = f"{name} exited with code {process.returncode} before it answered. {service.log_tail()}"
            service.stop()
            raise CourseError(message)
        if _answers(port, ready_path):
            return service
        time.sleep(0.1)
    message = f"{name} did not answer on {HOST}:{port} within {timeout:.0f} s. {service.log_tail()}"
    service.stop()
    raise CourseError(message)


def _answers(port: int, path: str | None) -> bool:
    if not port_is_open(port):
        return False
    if path is None:
        return True
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}{path}", timeout=2) as reply:
            return reply.status < 500
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except (urllib.error.URLError, OSError):
        return False


@dataclass(frozen=True)
class Listener:
    """One listening TCP socket, as the operating system reports it."""

    pid: int
    process: str   # the process's name and its first arguments
    address: str   # the bound address: "127.0.0.1", "::1", "0.0.0.0", "::", or an interface's address
    port: int

    @property
    def loopback(self) -> bool:
        """True when only this machine can connect (127.0.0.0/8 or ::1; not an IPv4-mapped wildcard)."""
        return ipaddress.ip_address(self.address).is_loopback

    @property
    def scope(self) -> str:
        """Who can connect, in words that hold on every machine: ``"loopback"``, ``"ALL interfaces"``
        (a wildcard: Wi-Fi included) or ``"one interface"``."""
        ip = ipaddress.ip_address(self.address)
        return "loopback" if ip.is_loopback else "ALL interfaces" if ip.is_unspecified else "one interface"

    @property
    def kind(self) -> str:
        """The kind of address, without the port: what a learner needs to know, the same on every machine."""
        ip = ipaddress.ip_address(self.address)
        if ip.is_loopback:
            return f"loopback only ({self.address})"
        if ip.is_unspecified:  # a wildcard: every interface, Wi-Fi included
            return "ALL interfaces, IPv4 and IPv6 ([::])" if ip.version == 6 else "ALL IPv4 interfaces (0.0.0.0)"
        return "one network interface (this machine's address)"


def _hex_address(text: str) -> tuple[str, int]:
    """``/proc/net/tcp*``'s ``0100007F:1F90`` (little-endian words) as ``("127.0.0.1", 8080)``."""
    hex_ip, hex_port = text.split(":")
    raw = bytes.fromhex(hex_ip)
    raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    ip = ipaddress.ip_address(raw)
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return str(ip), int(hex_port, 16)


def listening_inodes() -> dict[int, tuple[str, int]]:
    """Linux: every listening TCP socket in this network namespace, ``{inode: (address, port)}``.

    Asked through netlink (sock_diag, what ``ss`` uses), for listening sockets only: about 0.1 ms.
    Reading ``/proc/net/tcp*`` instead walks every socket bucket, about 5 ms per file: the fallback.
    """
    try:
        return {**_diag_listeners(socket.AF_INET), **_diag_listeners(socket.AF_INET6)}
    except (OSError, AttributeError, struct.error):
        return _proc_listeners()


_SOCK_DIAG_BY_FAMILY, _NLMSG_ERROR, _NLMSG_DONE, _TCP_LISTEN = 20, 2, 3, 10


def _diag_listeners(family: int) -> dict[int, tuple[str, int]]:
    """One sock_diag dump: struct inet_diag_req_v2 asking for TCP sockets in state LISTEN only."""
    request = struct.pack("=BBBBI", family, socket.IPPROTO_TCP, 0, 0, 1 << _TCP_LISTEN) + bytes(48)
    header = struct.pack("=IHHII", 16 + len(request), _SOCK_DIAG_BY_FAMILY, 0x1 | 0x300, 1, 0)  # REQUEST|DUMP
    found: dict[int, tuple[str, int]] = {}
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 4) as nl:  # 4 = NETLINK_SOCK_DIAG
        nl.send(header + request)
        while True:
            data = nl.recv(65536)
            offset = 0
            while offset + 16 <= len(data):
                length, kind = struct.unpack_from("=IH", data, offset)
                if kind == _NLMSG_DONE:
                    return found
                if kind == _NLMSG_ERROR or length < 16:
                    raise OSError("sock_diag refused the request")
                msg = offset + 16  # struct inet_diag_msg: family, state, timer, retrans, sockid, ..., inode
                sport = struct.unpack_from(">H", data, msg + 4)[0]
                raw = data[msg + 8: msg + 8 + (4 if family == socket.AF_INET else 16)]
                ip = ipaddress.ip_address(raw)
                if ip.version == 6 and ip.ipv4_mapped is not None:
                    ip = ip.ipv4_mapped
                found[struct.unpack_from("=I", data, msg + 68)[0]] = (str(ip), sport)
                offset += (length + 3) & ~3


def _proc_listeners() -> dict[int, tuple[str, int]]:
    found: dict[int, tuple[str, int]] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == "0A":  # 0A = TCP_LISTEN
                found[int(fields[9])] = _hex_address(fields[1])
    return found


def socket_inodes(pid: int) -> set[int]:
    """Linux: the inodes of the sockets process ``pid`` holds open (empty if it is gone or not ours)."""
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(int(target[8:-1]))
    except OSError:
        pass
    return inodes


def describe_process(pid: int) -> str:
    """``name arg1 arg2 ...`` (short) for messages; ``pid N`` when it is gone."""
    import psutil

    try:
        cmd = psutil.Process(pid).cmdline()
    except psutil.Error:
        return f"pid {pid}"
    return " ".join([Path(cmd[0]).name, *cmd[1:4]])[:120] if cmd else f"pid {pid}"


def listening_sockets(pids: Iterable[int], include_children: bool = True) -> list[Listener]:
    """The TCP sockets that processes ``pids`` (and their descendants) listen on, read from the OS.

    >>> [l.kind for l in listening_sockets([os.getpid()])]        # doctest: +SKIP
    ['loopback only (127.0.0.1)', ...]
    """
    import psutil

    tree: dict[int, None] = {}
    for pid in pids:
        try:
            proc = psutil.Process(int(pid))
            family = [proc, *proc.children(recursive=True)] if include_children else [proc]
        except psutil.Error:
            continue
        tree.update((p.pid, None) for p in family)
    found: list[Listener] = []
    if sys.platform.startswith("linux"):
        table = listening_inodes()
        for pid in tree:
            for inode in socket_inodes(pid) & table.keys():
                found.append(Listener(pid, describe_process(pid), *table[inode]))
    else:  # macOS and others: psutil asks the kernel per process
        for pid in tree:
            try:
                conns = psutil.Process(pid).net_connections(kind="tcp")
            except psutil.Error:
                continue
            found += [Listener(pid, describe_process(pid), c.laddr.ip.split("%")[0], c.laddr.port)
                      for c in conns if c.status == psutil.CONN_LISTEN]
    return sorted(set(found), key=lambda l: (l.pid, l.port, l.address))


def loopback_interface() -> str | None:
    """The name of the network interface that carries 127.0.0.1 (``lo`` on Linux, ``lo0`` on macOS)."""
    import psutil

    for name, addresses in psutil.net_if_addrs().items():
        if any(a.family == socket.AF_INET and a.address == HOST for a in addresses):
            return name
    return None


def running() -> list[Service]:
    """The services started by this process that have not been stopped yet."""
    return [s for s in _running if s.alive]


def stop_all() -> int:
    """Stop every service this process started; returns how many were still running."""
    alive = running()
    for service in list(_running):
        service.stop()
    return len(alive)


atexit.register(stop_all)


def run_job(module: str, job: Path, out: Path, who: str, env: dict[str, str], timeout: float) -> None:
    """Run ``python -m module --job JOB --out OUT`` to completion (a one-shot worker, no port).

    A worker that runs past ``timeout`` is stopped; one that fails or writes no ``out`` raises a
    one-line ``CourseError`` naming ``who`` and the worker's last line of output.
    Used in: 13_claims_checked, 14_sequences_attention (Keras on the torch backend, in its own process).
    """
    from .paths import course_root

    try:
        done = subprocess.run([sys.executable, "-m", module, "--job", str(job), "--out", str(out)],
                              cwd=course_root(), env=env, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise CourseError(f"{who}: the worker process ran longer than {timeout:.0f} s and was stopped.") from None
    if done.returncode != 0 or not out.exists():
        tail = [t for t in (done.stderr or done.stdout).splitlines() if t.strip()][-1:] or ["no output"]
        raise CourseError(f"{who}: the worker process failed (exit {done.returncode}): {tail[0][:300]}")
