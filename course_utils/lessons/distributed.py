"""Lesson 11's launcher: N worker processes on 127.0.0.1, waited for with a timeout, always cleaned up.

``start_workers`` starts ``python -m <module>`` once per rank, each in its own process group, with
the environment a real launcher would give it: ``RANK``/``WORLD_SIZE``/``MASTER_ADDR``/``MASTER_PORT``
(what ``torchrun`` sets) for PyTorch, ``TF_CONFIG`` (what a cluster manager sets) for TensorFlow, on
ports from ``servers.free_port()``. Each worker's stdout and stderr go to its own log file (TensorFlow
writes dozens of lines at start-up); what it computed comes back as ``rank<R>.npz`` in the run's folder.

``Workers.wait`` returns the results, or raises one ``CourseError`` line naming the worker whose failure
caused the others' (exit code or signal, its last log line; the same worker whatever the machine's load),
after stopping the others: a worker blocked in an all-reduce with a dead partner would otherwise wait for
minutes. While waiting it samples the workers' memory and the sockets they listen on (``listeners``,
read from the operating system: the rendezvous store and gloo on 127.0.0.1 only; TensorFlow's gRPC
servers on every interface, which TensorFlow 2.21 cannot change). Stopping reuses
``servers.Service.stop`` (the process group and every child), ``atexit`` included, and checks the
ports are free again. ``run_workers`` is ``start_workers`` + ``wait``.

Framework-free: nothing here imports torch or TensorFlow (the workers, ``ddp_worker`` and
``tf_worker``, do, in their own processes).

    >>> results = run_workers("course_utils.lessons.ddp_worker", 2, job={"X": X, ...})  # doctest: +SKIP
    >>> sorted(results[0])                                                                   # doctest: +SKIP
    ['fc1.bias', 'fc1.weight', ...]

Used in: 11_distributed (and tests/test_distributed.py).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import psutil

from ..base import servers, validate
from ..base.errors import CourseError
from ..base.paths import course_root, run_scratch

HOST = servers.HOST
FRAMEWORKS = ("torch", "tensorflow")
# Every worker's environment: TensorFlow's C++ logs quiet, no oneDNN notice, one OpenMP thread (also
# silences torchrun's OMP banner). Each worker pins its framework's intra-op pool to 1 thread itself:
# 2 workers share 2 cores. GLOO_SOCKET_IFNAME: gloo's pairs listen on the loopback device, not on the
# address this machine's host name resolves to (a LAN address on most laptops).
WORKER_ENV = {"TF_CPP_MIN_LOG_LEVEL": "2", "TF_ENABLE_ONEDNN_OPTS": "0", "OMP_NUM_THREADS": "1",
              "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "PYTHONUNBUFFERED": "1"}
if servers.loopback_interface():
    WORKER_ENV["GLOO_SOCKET_IFNAME"] = servers.loopback_interface()
RUNS_DIR = "lesson11"  # build/scratch/lesson11/<pid of the launching process>/<name>/ (paths.run_scratch)
FAILURE_GRACE_S = 5.0  # after a worker fails, how long the others get to end on their own (see Workers._failure)


def torch_env(rank: int, world_size: int, port: int) -> dict[str, str]:
    """What ``torchrun`` puts in each worker's environment (single node), for ``init_process_group("gloo")``.

    >>> torch_env(1, 2, 29500)["RANK"], torch_env(1, 2, 29500)["MASTER_ADDR"]
    ('1', '127.0.0.1')
    """
    return {"RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": str(world_size),
            "LOCAL_WORLD_SIZE": str(world_size), "MASTER_ADDR": HOST, "MASTER_PORT": str(port)}


def tf_config(rank: int, ports: list[int]) -> str:
    """The ``TF_CONFIG`` JSON of worker ``rank`` in a cluster of ``len(ports)`` workers on 127.0.0.1.

    >>> tf_config(0, [2222, 2223])
    '{"cluster": {"worker": ["127.0.0.1:2222", "127.0.0.1:2223"]}, "task": {"type": "worker", "index": 0}}'
    """
    return json.dumps({"cluster": {"worker": [f"{HOST}:{p}" for p in ports]},
                       "task": {"type": "worker", "index": rank}})


def memory_of(process: "psutil.Process") -> int:
    """A process's proportional set size (PSS, bytes): shared library pages counted once across processes,
    so that the PSS of several processes adds up to the memory they use together. RSS where PSS is unknown."""
    try:
        return int(process.memory_full_info().pss)
    except (AttributeError, psutil.AccessDenied):
        return int(process.memory_info().rss)


def memory_kind() -> str:
    """What ``memory_of`` measures here: ``"PSS"`` where the OS reports it (Linux), else ``"RSS"``, which
    counts shared library pages once in every process (so several processes' RSS add up to more)."""
    try:
        psutil.Process().memory_full_info().pss
        return "PSS"
    except (AttributeError, psutil.AccessDenied):
        return "RSS"


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


@dataclass
class Workers:
    """Running workers: ``wait()`` for their results, or ``stop()`` them (a ``with`` block stops them too)."""

    name: str
    framework: str
    run_dir: Path
    ports: list[int]
    services: list[servers.Service]
    started: float = field(default_factory=time.monotonic)
    peak_memory: int = 0  # the most memory (bytes, PSS) all workers held at once, sampled while waiting
    listeners: set = field(default_factory=set)  # servers.Listener: where the workers listened, sampled while waiting
    _sampled: float = field(default=0.0, repr=False)
    _logs: list[Any] = field(default_factory=list, repr=False)

    @property
    def world_size(self) -> int:
        return len(self.services)

    @property
    def pids(self) -> list[int]:
        return [s.process.pid for s in self.services]

    def log(self, rank: int) -> str:
        """Everything worker ``rank`` wrote so far (its stdout and stderr)."""
        try:
            return self.services[rank].log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop every worker and its children; idempotent. The ports are free afterwards."""
        for service in self.services:
            service.stop()
        for handle in self._logs:
            handle.close()
        self._logs.clear()
        deadline = time.monotonic() + 5
        while any(servers.port_is_open(p) for p in self.ports) and time.monotonic() < deadline:
            time.sleep(0.05)

    def wait(self, timeout: float = 60.0) -> list[dict[str, np.ndarray]]:
        """Wait for every worker; return each rank's results (``rank<R>.npz`` as a dict of arrays).

        Raises a one-line ``CourseError`` when a worker dies or the timeout passes — after stopping
        all of them.
        """
        timeout = validate.number(timeout, "timeout", "Workers.wait", minimum=0.1)
        deadline = time.monotonic() + timeout
        try:
            while True:
                self._sample()
                codes = [s.process.poll() for s in self.services]
                if any(c not in (None, 0) for c in codes):
                    raise self._failure()
                if all(c == 0 for c in codes):
                    break
                if time.monotonic() > deadline:
                    raise CourseError(f"{self.name}: the workers did not finish within {timeout:.0f} s; all were "
                                      f"stopped. Rank 0: {self.services[0].log_tail()}")
                time.sleep(0.05)
        finally:
            self.stop()
        return [self._result(rank) for rank in range(self.world_size)]

    def _failure(self, grace: float = FAILURE_GRACE_S) -> CourseError:
        """The error for a run in which a worker failed: the worker that caused it, the same on any load.

        When one worker dies, its partners fail too (gloo aborts a process whose peer vanished): which
        exit the launcher sees first depends on the machine's load. So wait (up to ``grace`` seconds)
        for the others to end on their own, then name the most telling failure: a signal other than
        SIGABRT (killed from outside, or a crash), then a non-zero exit code (an exception), then
        SIGABRT (gloo's reaction to a lost peer); the lowest rank among equals.
        """
        end = time.monotonic() + grace
        while any(s.process.poll() is None for s in self.services) and time.monotonic() < end:
            time.sleep(0.05)
        time.sleep(0.2)  # let the last lines reach the logs
        codes = {rank: s.process.poll() for rank, s in enumerate(self.services)}
        failed = [rank for rank, code in codes.items() if code not in (None, 0)]

        def telling(rank: int) -> tuple[int, int]:
            code = codes[rank]
            return (0 if code < 0 and code != -signal.SIGABRT else 1 if code > 0 else 2), rank

        rank = min(failed, key=telling)
        elapsed = time.monotonic() - self.started
        return CourseError(
            f"{self.name}: worker {rank} of {self.world_size} {_describe_exit(codes[rank])} after "
            f"{elapsed:.1f} s; the other workers were stopped. "
            f"{self.services[rank].log_tail()} (log: {self._rel(self.services[rank].log_path)})")

    def _sample(self) -> None:
        """At most every 0.25 s: the workers' memory (keep the peak) and where they listen (read from the OS)."""
        now = time.monotonic()
        if now - self._sampled < 0.25:
            return
        self._sampled = now
        self._sample_memory()
        self.listeners.update(servers.listening_sockets(self.pids))

    def _sample_memory(self) -> None:
        """Add up the workers' memory now; keep the peak."""
        total = 0
        for service in self.services:
            try:
                proc = psutil.Process(service.process.pid)
                total += sum(memory_of(p) for p in [proc, *proc.children(recursive=True)])
            except psutil.Error:
                pass
        self.peak_memory = max(self.peak_memory, total)

    def _result(self, rank: int) -> dict[str, np.ndarray]:
        path = self.run_dir / f"rank{rank}.npz"
        if not path.is_file():
            raise CourseError(f"{self.name}: worker {rank} exited normally but wrote no {path.name}. "
                              f"{self.services[rank].log_tail()}")
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}

    @staticmethod
    def _rel(path: Path) -> str:
        try:
            return str(path.relative_to(course_root()))
        except ValueError:
            return str(path)

    def __enter__(self) -> "Workers":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:  # no pids or ports: they change every run
        alive = sum(s.alive for s in self.services)
        return f"<Workers {self.name}: {self.world_size} {self.framework} workers, {alive} running>"


def start_workers(module: str, world_size: int = 2, *, framework: str = "torch",
                  job: Mapping[str, Any] | None = None, name: str | None = None,
                  args: list[str] | None = None, run_dir: str | os.PathLike | None = None) -> Workers:
    """Start ``python -m module --job <job.npz> --out <run dir>`` once per rank and return at once.

    ``job``: arrays and numbers for the workers, saved once as ``job.npz`` in the run's folder
    (``build/scratch/lesson11/<pid>/<name>/``, this process's own, unless ``run_dir`` says otherwise). ``framework``: ``"torch"`` sets
    torchrun's variables (one ``MASTER_PORT``), ``"tensorflow"`` a ``TF_CONFIG`` with one port per worker.
    """
    where = "start_workers"
    module = validate.text(module, "module", where)
    world_size = validate.integer(world_size, "world_size", where, minimum=1, maximum=16)
    framework = validate.text(framework, "framework", where)
    if framework not in FRAMEWORKS:
        raise CourseError(f"start_workers(framework=...): expected 'torch' or 'tensorflow', found {framework!r}.")
    if job is not None and not isinstance(job, Mapping):
        raise validate.fail(where, "job", "a dict of arrays and numbers", job)
    if args is not None and (isinstance(args, str) or not all(isinstance(a, str) for a in args)):
        raise validate.fail(where, "args", "a list of strings", args)
    name = validate.text(name, "name", where) if name is not None else module.rsplit(".", 1)[-1]
    run_dir = Path(run_dir) if run_dir is not None else run_scratch(RUNS_DIR) / name
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    job_path = run_dir / "job.npz"
    try:
        np.savez(job_path, **{k: np.asarray(v) for k, v in (job or {}).items()})
    except (TypeError, ValueError) as exc:
        raise CourseError(f"start_workers(job=...): could not save it ({exc}); give arrays and numbers.") from None
    if framework == "torch":
        ports = [servers.free_port()]
        envs = [torch_env(rank, world_size, ports[0]) for rank in range(world_size)]
    else:
        ports = [servers.free_port() for _ in range(world_size)]
        envs = [{"TF_CONFIG": tf_config(rank, ports)} for rank in range(world_size)]
    argv = [sys.executable, "-m", module, "--job", str(job_path), "--out", str(run_dir), *(args or [])]
    workers = Workers(name, framework, run_dir, ports, [])
    try:
        for rank, extra in enumerate(envs):
            log_path = run_dir / f"rank{rank}.log"
            log_file = open(log_path, "w")
            workers._logs.append(log_file)
            process = subprocess.Popen(argv, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       env={**os.environ, **WORKER_ENV, **extra}, start_new_session=True)
            # A Service without its own log handle: stop() leaves the log for reading afterwards.
            service = servers.Service(f"{name}-rank{rank}", ports[min(rank, len(ports) - 1)], process, log_path)
            workers.services.append(service)
            servers._running.append(service)  # stopped at exit with every other service (servers.stop_all)
    except OSError as exc:
        workers.stop()
        raise CourseError(f"{name}: could not start worker {len(workers.services)} ({exc.strerror}).") from None
    return workers


def run_workers(module: str, world_size: int = 2, *, framework: str = "torch",
                job: Mapping[str, Any] | None = None, name: str | None = None,
                args: list[str] | None = None, timeout: float = 60.0) -> list[dict[str, np.ndarray]]:
    """``start_workers(...)`` then ``wait(timeout)``: each rank's results, or one ``CourseError`` line."""
    timeout = validate.number(timeout, "timeout", "run_workers", minimum=0.1)
    return start_workers(module, world_size, framework=framework, job=job, name=name, args=args).wait(timeout)


def excerpt(module: str, section: str) -> str:
    """The lines of a worker module's ``# --- <section>`` block, read from its file (nothing is imported).

    >>> print(excerpt("course_utils.lessons.ddp_worker", "all_reduce"))   # doctest: +SKIP
    # --- all_reduce on its own: ...
    """
    import importlib.util

    spec = importlib.util.find_spec(validate.text(module, "module", "excerpt"))
    if spec is None or not spec.origin:
        raise CourseError(f"excerpt(module={module!r}): no such module.")
    block: list[str] = []
    indent = 0
    for line in Path(spec.origin).read_text().splitlines():
        depth = len(line) - len(line.lstrip())
        marker = line.strip().startswith("# --- ")
        if block and (marker or (line.strip() and depth < indent)):
            break  # the next section, or the end of the function
        if not block and marker and line.strip()[6:].startswith(section):
            indent = depth
        if block or indent and marker and line.strip()[6:].startswith(section):
            block.append(line[indent:])
    while block and not block[-1].strip():
        block.pop()
    if not block:
        raise CourseError(f"excerpt: {module} has no '# --- {section}' section.")
    return "\n".join(block)


def leftovers(workers: Workers) -> list[str]:
    """What a run left behind: live worker processes and open ports (empty when clean)."""
    left = [f"process {s.name}" for s in workers.services if s.alive]
    left += [f"port {p}" for p in workers.ports if servers.port_is_open(p)]
    return left

