"""Lesson 09's deployment pieces, framework-free at import: a fresh-process runner, C/C++ builds cached
by source hash, the versioned model folder with its hot swap, the HTTP model service and a bounded
load-test client.

- ``run_fresh(code)`` runs a snippet in a new Python process that never imports the model's class
  (nor ``course_utils``) and returns the JSON it leaves in ``result``: the proof that a saved program
  loads where the model code does not exist.
- ``build(source, ...)`` compiles a C or C++ file once per (source, flags, compiler) hash into
  ``build/cache/09_saving_deploying/bin/``; re-runs reuse the binary. Compiler output is kept in a log,
  never printed, unless the build fails.
- ``ModelStore`` is the TensorFlow Serving idea: ``base/<version>/`` folders; a new version is loaded
  *completely* (and run once) beside the serving one, then a single reference is swapped. A request
  reads that reference once, so it is served entirely by one version: never by a half-loaded one.
  Folders whose name is not a number (``.incoming-3``) are ignored, so a version published by
  copy-then-rename appears all at once.
- ``python -m course_utils.lessons.deploy serve --models DIR --port N`` is the model service
  (FastAPI + uvicorn) on 127.0.0.1, with TF Serving's REST paths: ``GET /v1/models/<name>`` and
  ``POST /v1/models/<name>:predict`` with ``{"instances": [...]}``. It exits when its parent does.
- ``load_test(url, ...)`` sends a bounded stream of requests from a few threads and records latency,
  the version that answered and any error.

Framework imports happen only inside the model loader (``load_version``), in the service process.

Used in: 09_saving_deploying (and tests/test_deploy.py).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from ..base import validate
from ..base.errors import CourseError
from ..base.paths import learner_root, run_scratch

HOST = "127.0.0.1"
SOURCES = Path(__file__).resolve().parent / "deploy_src"
RESULT_MARK = "@@course-result@@"


def cache_dir(*parts: str) -> Path:
    """``build/cache/09_saving_deploying/<parts>`` under the repository root (git-ignored), created.

    >>> cache_dir("bin").relative_to(learner_root()).as_posix()
    'cache/09_saving_deploying/bin'
    """
    for part in parts:
        validate.text(part, "parts", "deploy.cache_dir")
    path = learner_root() / "cache" / "09_saving_deploying" / Path(*parts) if parts else \
        learner_root() / "cache" / "09_saving_deploying"
    path.mkdir(parents=True, exist_ok=True)
    return path


def run_dir() -> Path:
    """This kernel's own, empty working folder for lesson 09 (``paths.run_scratch``): two runs of the
    lesson at once never delete each other's files."""
    return run_scratch("09_saving_deploying", fresh=True)


def quiet_env(**extra: str) -> dict[str, str]:
    """This process's environment with TensorFlow's C++ logs off, for child processes."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0"}
    env.update(extra)
    return env


# --- a fresh Python process ----------------------------------------------------------------------

_PRELUDE = """\
import json, sys
result = {}
"""
_EPILOGUE = """
result["course_utils imported"] = any(m == "course_utils" or m.startswith("course_utils.") for m in sys.modules)
result["classes in __main__"] = sorted(k for k, v in list(globals().items()) if isinstance(v, type) and v.__module__ == "__main__")
print(%r + json.dumps(result))
""" % RESULT_MARK


def run_fresh(code: str, cwd: str | os.PathLike | None = None, timeout: float = 180.0) -> dict[str, Any]:
    """Run ``code`` in a new Python (this interpreter, ``-I``: no user site, no cwd on the path) and
    return the dict it filled in ``result`` (JSON-able values only).

    Two entries are added after the code ran, to prove what the process did not have:
    ``"course_utils imported"`` (False unless the snippet imported it) and ``"classes in __main__"``
    (the classes the snippet defined: none, when it only loads a saved program).

    >>> run_fresh("result['answer'] = 6 * 7")["answer"]
    42
    """
    code = validate.text(code, "code", "deploy.run_fresh")
    timeout = validate.number(timeout, "timeout", "deploy.run_fresh", minimum=1.0)
    cwd = Path(cwd) if cwd is not None else cache_dir()
    if not cwd.is_dir():
        raise CourseError(f"deploy.run_fresh: cwd {cwd} is not a folder.")
    program = _PRELUDE + textwrap.dedent(code) + _EPILOGUE
    try:
        done = subprocess.run([sys.executable, "-I", "-c", program], cwd=cwd, env=quiet_env(),
                              capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise CourseError(f"deploy.run_fresh: the snippet ran longer than {timeout:.0f} s.") from None
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT_MARK)]
    if done.returncode != 0 or not lines:
        tail = [t for t in (done.stderr or done.stdout).strip().splitlines() if t.strip()][-1:] or ["no output"]
        raise CourseError(f"deploy.run_fresh: the snippet failed (exit {done.returncode}): {tail[0][:300]}")
    return json.loads(lines[-1][len(RESULT_MARK):])


def run_fresh_together(*codes: str, cwd: str | os.PathLike | None = None, timeout: float = 180.0
                       ) -> list[dict[str, Any]]:
    """``run_fresh`` for several snippets at once, each in its own new Python, started together (their
    start-ups overlap instead of adding up); the results in the order of ``codes``."""
    from concurrent.futures import ThreadPoolExecutor

    if not codes:
        raise CourseError("deploy.run_fresh_together: give at least one snippet of code.")
    with ThreadPoolExecutor(len(codes)) as pool:
        futures = [pool.submit(run_fresh, code, cwd, timeout) for code in codes]
        return [future.result() for future in futures]


def key_lines(source: str | os.PathLike, *needles: str) -> str:
    """The lines of ``source`` that contain any of ``needles``, numbered, after a header with the file's
    line count: the few lines of a C/C++ loader that do the work, without the boilerplate around them.

    >>> print(key_lines(SOURCES / "torch_run.cpp", "AOTIModelPackageLoader loader"))  # doctest: +SKIP
    torch_run.cpp (54 lines):
      42  torch::inductor::AOTIModelPackageLoader loader(argv[2]);
    """
    source = Path(validate.path(source, "source", "deploy.key_lines"))
    if not source.is_file():
        raise CourseError(f"deploy.key_lines: {source} does not exist.")
    lines = source.read_text().splitlines()
    shown = [f"  {i:>3}  {line.strip()}" for i, line in enumerate(lines, 1) if any(n in line for n in needles)]
    return "\n".join([f"{source.name} ({len(lines)} lines):", *shown])


def aoti_package(program: Any) -> tuple[Path | None, str]:
    """Compile a ``torch.export`` program with AOTInductor into a ``.pt2`` package, cached under a hash of
    its weights, its graph, the torch version, the platform and the CPU's instruction set.

    Returns ``(path, "from the cache" | "compiled")``, or ``(None, reason)`` when this machine cannot
    compile it (no C++ compiler, no OpenMP on macOS, ...): the caller skips what needs it instead of
    stopping "Run All".
    """
    import torch

    capability = torch.backends.cpu.get_cpu_capability()
    digest = hashlib.sha256()
    for tensor in program.state_dict.values():
        digest.update(tensor.detach().contiguous().numpy().tobytes())
    digest.update(f"{program.graph_module.code} {torch.__version__} {sys.platform} {capability}".encode())
    package = cache_dir("aoti") / f"cnn-{digest.hexdigest()[:16]}.pt2"
    if package.exists():
        return package, "from the cache"
    os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(cache_dir("inductor", capability)))
    partial = package.with_name(package.stem + f".partial-{os.getpid()}.pt2")
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            built = torch._inductor.aoti_compile_and_package(program, package_path=str(partial))
    except Exception as exc:  # no compiler, no OpenMP, ...: one line, not pages
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        return None, f"AOTInductor could not compile here ({type(exc).__name__}: {first})"
    os.replace(built, package)  # the package appears complete or not at all
    return package, "compiled"


# --- C/C++ builds, cached by hash ------------------------------------------------------------------

@dataclass(frozen=True)
class Build:
    """A compiled program: where it is, whether this call compiled it, and how long that took."""

    path: Path
    cached: bool
    seconds: float

    def __repr__(self) -> str:  # no path, no time: both vary
        return f"<Build {self.path.name}: {'from the cache' if self.cached else 'compiled'}>"


def compiler(language: str = "c++") -> str:
    """The first compiler found on PATH for ``"c++"`` (g++, c++, clang++) or ``"c"`` (gcc, cc, clang)."""
    names = {"c++": ("g++", "c++", "clang++"), "c": ("gcc", "cc", "clang")}
    if language not in names:
        raise CourseError(f"deploy.compiler: language must be 'c' or 'c++', not {language!r}.")
    for name in names[language]:
        found = shutil.which(name)
        if found:
            return found
    raise CourseError(f"deploy.compiler: no {language} compiler on PATH (Linux: apt-get install g++; "
                      "macOS: xcode-select --install); lesson 00 checks for one.")


def build(source: str | os.PathLike, flags: Sequence[str], name: str | None = None,
          language: str | None = None) -> Build:
    """Compile ``source`` with ``flags`` into ``build/cache/09_saving_deploying/bin/<name>-<hash>``,
    unless that binary exists already (the hash covers the source, the flags and the compiler).

    Warnings go to a ``.log`` beside the binary; a failed build raises a ``CourseError`` quoting the
    first error line.
    """
    source = Path(validate.path(source, "source", "deploy.build"))
    if not source.is_file():
        raise CourseError(f"deploy.build: {source} does not exist.")
    flags = validate.strings(list(flags) if isinstance(flags, (list, tuple)) else flags, "flags", "deploy.build")
    language = language or ("c" if source.suffix == ".c" else "c++")
    cc = compiler(language)
    digest = hashlib.sha256()
    for part in (source.read_bytes(), "\0".join(flags).encode(), cc.encode()):
        digest.update(part)
    out_dir = cache_dir("bin")
    binary = out_dir / f"{name or source.stem}-{digest.hexdigest()[:12]}"
    if binary.exists():
        return Build(binary, True, 0.0)
    start = time.perf_counter()
    partial = binary.with_name(binary.name + f".partial-{os.getpid()}")
    command = [cc, str(source), "-o", str(partial), *flags]
    done = subprocess.run(command, capture_output=True, text=True)
    log = binary.with_suffix(".log")
    log.write_text(" ".join(command) + "\n" + done.stdout + done.stderr)
    if done.returncode != 0 or not partial.exists():
        errors = [t for t in done.stderr.splitlines() if "error" in t] or done.stderr.strip().splitlines()[-1:]
        raise CourseError(f"deploy.build: {source.name} did not compile: {(errors or ['?'])[0][:300]} (full log: {log})")
    os.replace(partial, binary)  # the binary appears complete or not at all
    return Build(binary, False, time.perf_counter() - start)


def shared_library(folder: str | os.PathLike, name: str, major: int) -> Path:
    """The path of ``lib<name>`` version ``major`` in ``folder``, spelled as this platform spells it:
    ``libtensorflow_cc.so.2`` on Linux, ``libtensorflow_cc.2.dylib`` on macOS. A one-line ``CourseError``
    when it is not there (e.g. a wheel that ships no C library).

    >>> shared_library(Path("/opt/tf"), "tensorflow_cc", 2).name  # doctest: +SKIP
    'libtensorflow_cc.so.2'
    """
    folder = Path(validate.path(folder, "folder", "deploy.shared_library"))
    name = validate.text(name, "name", "deploy.shared_library")
    major = validate.integer(major, "major", "deploy.shared_library", minimum=0)
    file = f"lib{name}.{major}.dylib" if sys.platform == "darwin" else f"lib{name}.so.{major}"
    if not (folder / file).exists():
        raise CourseError(f"deploy.shared_library: {file} is not in {folder}; this lesson's C/C++ builds "
                          "need the Linux or macOS wheels, which ship it.")
    return folder / file


def run_binary(binary: Build | str | os.PathLike, *args: str, timeout: float = 120.0) -> str:
    """Run a compiled program; return its stdout. Its stderr (TF's C++ logs) is kept out of the notebook,
    except in the ``CourseError`` raised when it fails."""
    path = binary.path if isinstance(binary, Build) else Path(validate.path(binary, "binary", "deploy.run_binary"))
    args = validate.strings(list(args), "args", "deploy.run_binary")
    done = subprocess.run([str(path), *args], capture_output=True, text=True, env=quiet_env(), timeout=timeout,
                          stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        tail = [t for t in done.stderr.strip().splitlines() if t.strip()][-1:] or ["no output"]
        raise CourseError(f"deploy.run_binary: {path.name} failed (exit {done.returncode}): {tail[0][:300]}")
    return done.stdout.strip()


# --- versioned model folders and the hot swap --------------------------------------------------------

def versions(base: str | os.PathLike) -> list[int]:
    """The version folders under ``base`` (names that are whole numbers), ascending; others are ignored.

    >>> import tempfile; d = Path(tempfile.mkdtemp()); _ = [(d / n).mkdir() for n in ("1", "10", ".incoming-3")]
    >>> versions(d)
    [1, 10]
    """
    base = Path(validate.path(base, "base", "deploy.versions"))
    if not base.is_dir():
        return []
    return sorted(int(p.name) for p in base.iterdir() if p.is_dir() and p.name.isdigit())


def publish(src: str | os.PathLike, base: str | os.PathLike, version: int) -> Path:
    """Make ``src`` appear as ``base/<version>`` all at once: copy into ``base/.incoming-<version>``,
    then one ``os.rename`` (atomic on one file system). A copy that fails leaves no version folder.

    Returns the new folder. Raises ``CourseError`` if that version exists already.
    """
    src = Path(validate.path(src, "src", "deploy.publish"))
    base = Path(validate.path(base, "base", "deploy.publish"))
    version = validate.integer(version, "version", "deploy.publish", minimum=1)
    final = base / str(version)
    if final.exists():
        raise CourseError(f"deploy.publish: {final} exists already; versions are never overwritten, publish {version + 1}.")
    base.mkdir(parents=True, exist_ok=True)
    incoming = base / f".incoming-{version}"
    shutil.rmtree(incoming, ignore_errors=True)
    try:
        shutil.copytree(src, incoming)
        os.rename(incoming, final)
    finally:
        shutil.rmtree(incoming, ignore_errors=True)
    return final


@dataclass(frozen=True)
class Loaded:
    """One fully loaded version: its number and its models (name -> predict(instances) -> list)."""

    version: int
    models: dict[str, Callable[[Any], Any]]


@dataclass
class ModelStore:
    """Serves the highest version under ``base``; ``poll()`` loads a newer one beside it, then swaps.

    ``loader(path) -> {name: predict}`` must return only when the models are ready (loaded and run
    once). ``current`` is replaced in a single assignment, so a request that read it keeps a complete
    version until it finishes.
    """

    base: Path
    loader: Callable[[Path], dict[str, Callable[[Any], Any]]]
    current: Loaded | None = None
    history: list[tuple[int, float]] = field(default_factory=list)   # (version, time.time() it went live)
    failures: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def poll(self) -> bool:
        """Load and swap in the newest version if it is newer than the one serving; True if it swapped."""
        with self._lock:  # one load at a time; requests never take this lock
            found = versions(self.base)
            if not found or (self.current is not None and found[-1] <= self.current.version):
                return False
            newest = found[-1]
            if any(v == newest for v, _ in self.history) or newest in {int(f.split(":")[0]) for f in self.failures}:
                return False
            try:
                models = self.loader(self.base / str(newest))
            except Exception as exc:  # a broken version is reported, and the old one keeps serving
                self.failures.append(f"{newest}: {type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}")
                return False
            self.current = Loaded(newest, models)   # the swap: one reference
            self.history.append((newest, time.time()))
            return True

    def watch(self, every: float = 0.2, stop: threading.Event | None = None) -> threading.Thread:
        """Poll every ``every`` seconds in a daemon thread (until ``stop`` is set)."""
        stop = stop or threading.Event()

        def loop() -> None:
            while not stop.is_set():
                self.poll()
                stop.wait(every)

        thread = threading.Thread(target=loop, name="model-store-watch", daemon=True)
        thread.start()
        return thread


def load_version(path: Path) -> dict[str, Callable[[Any], Any]]:
    """The lesson's loader: ``model.pt2`` (``torch.export``) → ``"cnn_torch"`` (NCHW input),
    the SavedModel in the same folder → ``"cnn_tf"`` (NHWC input). Runs in the service process only."""
    import numpy as np

    models: dict[str, Callable[[Any], Any]] = {}
    if (path / "model.pt2").exists():
        import torch

        module = torch.export.load(str(path / "model.pt2")).module()

        def predict_torch(instances: Any) -> list:
            with torch.no_grad():
                return module(torch.as_tensor(np.asarray(instances, dtype=np.float32))).numpy().tolist()

        models["cnn_torch"] = predict_torch
    if (path / "saved_model.pb").exists():
        import tensorflow as tf

        loaded = tf.saved_model.load(str(path))   # keep the object: its variables die with it

        def predict_tf(instances: Any) -> list:
            return loaded.serve(tf.constant(np.asarray(instances, dtype=np.float32))).numpy().tolist()

        models["cnn_tf"] = predict_tf
    if not models:
        raise CourseError(f"load_version: {path} holds neither model.pt2 nor saved_model.pb.")
    warmup = path / "warmup.json"  # {name: instances}: one call each before the version goes live
    if warmup.exists():
        for name, instances in json.loads(warmup.read_text()).items():
            models[name](instances)
    return models


def create_app(store: ModelStore) -> Any:
    """The FastAPI app over a ``ModelStore``, with TensorFlow Serving's REST paths."""
    from fastapi import Body, FastAPI, HTTPException

    app = FastAPI(title="course model service")

    @app.get("/health")
    def health() -> dict:
        current = store.current
        return {"ready": current is not None, "version": current.version if current else None}

    @app.get("/v1/models/{name}")
    def status(name: str) -> dict:
        current = store.current
        if current is None or name not in current.models:
            raise HTTPException(404, f"no model {name!r}")
        return {"model_version_status": [{"version": str(current.version), "state": "AVAILABLE"}],
                "history": [v for v, _ in store.history], "failures": store.failures}

    @app.post("/v1/models/{name}:predict")
    def predict(name: str, body: dict = Body(...)) -> dict:   # a plain def: FastAPI runs it in its thread pool
        current = store.current          # read once: this request is served by this version only
        if current is None or name not in current.models:
            raise HTTPException(404, f"no model {name!r}")
        predictions = current.models[name](body["instances"])
        return {"predictions": predictions, "model_version": str(current.version)}

    return app


def _exit_with_parent(parent: int) -> None:
    """Stop this service when the process that started it is gone (a killed kernel leaves no server)."""
    def loop() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=loop, name="exit-with-parent", daemon=True).start()


def serve(models: str | os.PathLike, port: int, poll: float = 0.2) -> None:
    """Run the service on 127.0.0.1:``port`` until stopped (blocks). Loads the newest version first."""
    import uvicorn

    store = ModelStore(Path(models), load_version)
    if not store.poll():
        print(f"model service: no version could be loaded from {models}: {store.failures or 'no version folder'}",
              file=sys.stderr, flush=True)
        raise SystemExit(1)
    store.watch(poll)
    uvicorn.run(create_app(store), host=HOST, port=port, log_level="warning", access_log=False)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m course_utils.lessons.deploy")
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="serve base/<version>/ folders on 127.0.0.1")
    s.add_argument("--models", required=True)
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--poll", type=float, default=0.2)
    args = parser.parse_args(argv)
    _exit_with_parent(os.getppid())
    serve(args.models, args.port, args.poll)


# --- the bounded client ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Reply:
    """One request of a load test: when it started (s after the test began), how long it took, who answered."""

    index: int
    model: str
    started: float
    seconds: float
    version: str | None
    predictions: Any
    error: str | None


def _plain(value: Any) -> Any:
    """NumPy arrays (and anything with ``tolist``) as nested lists, for JSON."""
    return value.tolist() if hasattr(value, "tolist") else value


def post_json(url: str, body: Any, timeout: float = 10.0) -> Any:
    """POST ``body`` (an object, or JSON bytes already encoded) and return the decoded JSON reply."""
    data = body if isinstance(body, bytes) else json.dumps(_plain(body)).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as reply:
        return json.loads(reply.read())


def load_test(url: str, instances: dict[str, Any], n: int = 300, threads: int = 4,
              at: int | None = None, action: Callable[[], Any] | None = None,
              until: Callable[[list[Reply]], bool] | None = None, max_requests: int = 5000) -> list[Reply]:
    """Send requests to ``url/v1/models/<model>:predict`` from ``threads`` threads, cycling over the
    models named in ``instances`` (``{model: the instances to send it}``).

    Bounded: ``n`` requests, or, with ``until``, as many as it takes for ``until(replies)`` to hold
    (checked as replies arrive), never more than ``max_requests``. ``action`` (e.g. publishing a new
    version) runs once, in the client, when request number ``at`` is about to be sent. Errors are
    recorded, not raised. Returns the replies sorted by start time.
    """
    url = validate.text(url, "url", "deploy.load_test").rstrip("/")
    if not isinstance(instances, dict) or not instances or not all(isinstance(k, str) for k in instances):
        raise CourseError("deploy.load_test: instances must be a dict {model name: instances}, "
                          "e.g. {'cnn_torch': X.tolist()}.")
    models = list(instances)
    bodies = {m: json.dumps({"instances": _plain(v)}).encode() for m, v in instances.items()}
    n = validate.integer(n, "n", "deploy.load_test", minimum=1)
    threads = validate.integer(threads, "threads", "deploy.load_test", minimum=1, maximum=64)
    max_requests = validate.integer(max_requests, "max_requests", "deploy.load_test", minimum=1)
    if action is not None and at is None:
        raise CourseError("deploy.load_test: action needs at=<request number>.")
    replies: list[Reply] = []
    lock = threading.Lock()
    counter = iter(range(max_requests))
    done = threading.Event()
    t0 = time.perf_counter()

    def next_index() -> int | None:
        with lock:
            if done.is_set():
                return None
            i = next(counter, None)
            if i is None or (until is None and i >= n):
                return None
            if action is not None and i == at:
                action()
            return i

    def worker() -> None:
        while (i := next_index()) is not None:
            model = models[i % len(models)]
            start = time.perf_counter()
            version = predictions = error = None
            try:
                answer = post_json(f"{url}/v1/models/{model}:predict", bodies[model])
                version, predictions = answer.get("model_version"), answer.get("predictions")
            except (urllib.error.URLError, OSError, ValueError) as exc:
                error = f"{type(exc).__name__}: {exc}"
            reply = Reply(i, model, start - t0, time.perf_counter() - start, version, predictions, error)
            with lock:
                replies.append(reply)
                if until is not None and until(replies):
                    done.set()

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return sorted(replies, key=lambda r: r.started)


if __name__ == "__main__":
    main()
