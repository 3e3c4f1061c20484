"""Lesson 09's deployment helpers (course_utils/lessons/deploy.py): the fresh-process runner, the cached
build, atomic publishing, the hot-swapping store, and the model service — which listens on 127.0.0.1 only
and never outlives the process that started it, even when that process fails or is killed."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import psutil
import pytest

from course_utils.base import servers
from course_utils.base.errors import CourseError
from course_utils.lessons import deploy

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "09_saving_deploying.ipynb"


# --- run_fresh ---------------------------------------------------------------------------------------

def test_run_fresh_returns_the_result_and_the_proofs(tmp_path):
    result = deploy.run_fresh("import math\nresult['pi'] = round(math.pi, 3)", cwd=tmp_path)
    assert result == {"pi": 3.142, "course_utils imported": False, "classes in __main__": []}


def test_run_fresh_reports_what_the_snippet_imported_or_defined(tmp_path):
    result = deploy.run_fresh("import course_utils\nclass MLP: pass", cwd=tmp_path)
    assert result["course_utils imported"] is True and result["classes in __main__"] == ["MLP"]


def test_run_fresh_failure_is_one_line(tmp_path):
    with pytest.raises(CourseError) as info:
        deploy.run_fresh("raise ValueError('no model here')", cwd=tmp_path)
    assert "ValueError: no model here" in str(info.value) and "\n" not in str(info.value)


# --- build -------------------------------------------------------------------------------------------

def test_run_fresh_together_runs_at_once_in_order(tmp_path):
    start = time.monotonic()
    first, second = deploy.run_fresh_together("import time\ntime.sleep(2)\nresult['n'] = 1",
                                              "import time\ntime.sleep(2)\nresult['n'] = 2", cwd=tmp_path)
    assert (first["n"], second["n"]) == (1, 2)
    assert time.monotonic() - start < 3.9 + 4      # two 2 s sleeps that overlap; generous for start-ups on a busy box
    with pytest.raises(CourseError, match="at least one"):
        deploy.run_fresh_together()


def test_key_lines_numbers_the_matching_lines_and_counts_the_file(tmp_path):
    source = tmp_path / "m.c"
    source.write_text("int main() {\n  load(x);\n  run(x);\n  return 0;\n}\n")
    assert deploy.key_lines(source, "load(", "run(") == "m.c (5 lines):\n    2  load(x);\n    3  run(x);"
    for name, needle in [("torch_run.cpp", "AOTIModelPackageLoader loader"), ("tf_run.c", "TF_SessionRun(")]:
        assert needle in deploy.key_lines(deploy.SOURCES / name, needle)   # the lines the lesson prints exist
    with pytest.raises(CourseError, match="does not exist"):
        deploy.key_lines(tmp_path / "missing.c", "x")


def test_build_compiles_once_then_uses_the_cache(tmp_path):
    source = tmp_path / f"hello_{os.getpid()}_{time.time_ns()}.c"
    source.write_text('#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n')
    first = deploy.build(source, ["-O0"])
    second = deploy.build(source, ["-O0"])
    try:
        assert not first.cached and second.cached and first.path == second.path
        assert deploy.run_binary(second) == "hi"
        assert first.path.is_relative_to(ROOT / "build" / "cache")
    finally:
        first.path.unlink(missing_ok=True)
        first.path.with_suffix(".log").unlink(missing_ok=True)


def test_build_failure_quotes_the_error(tmp_path):
    source = tmp_path / f"broken_{time.time_ns()}.c"
    source.write_text("int main(void) { return undeclared; }\n")
    try:
        with pytest.raises(CourseError, match="did not compile: .*undeclared"):
            deploy.build(source, [])
    finally:
        for log in deploy.cache_dir("bin").glob(f"{source.stem}-*"):
            log.unlink()


def test_shared_library_is_spelled_for_this_platform(tmp_path):
    name = "libdemo.2.dylib" if sys.platform == "darwin" else "libdemo.so.2"
    (tmp_path / name).touch()
    assert deploy.shared_library(tmp_path, "demo", 2) == tmp_path / name
    with pytest.raises(CourseError, match="libother") as info:
        deploy.shared_library(tmp_path, "other", 2)
    assert "\n" not in str(info.value)


# --- versioned folders --------------------------------------------------------------------------------

def test_publish_is_all_or_nothing(tmp_path):
    src, base = tmp_path / "src", tmp_path / "base"
    src.mkdir()
    (src / "weights.bin").write_bytes(b"x" * 1000)
    assert deploy.publish(src, base, 1) == base / "1"
    assert deploy.versions(base) == [1] and (base / "1" / "weights.bin").stat().st_size == 1000
    (src / "broken").symlink_to(tmp_path / "missing")          # the copy fails half-way
    with pytest.raises(Exception):
        deploy.publish(src, base, 2)
    assert deploy.versions(base) == [1] and sorted(p.name for p in base.iterdir()) == ["1"]
    with pytest.raises(CourseError, match="exists already"):
        deploy.publish(src, base, 1)


def test_store_swaps_to_a_complete_newer_version_and_survives_a_broken_one(tmp_path):
    def loader(path):
        if (path / "broken").exists():
            raise RuntimeError("half a model")
        return {"m": lambda x, v=int(path.name): v}

    for v in (1, 2):
        (tmp_path / str(v)).mkdir()
    (tmp_path / ".incoming-9").mkdir()                          # not a version: ignored
    store = deploy.ModelStore(tmp_path, loader)
    assert store.poll() and store.current.version == 2
    assert not store.poll()                                     # nothing newer
    (tmp_path / "3").mkdir()
    (tmp_path / "3" / "broken").touch()
    assert not store.poll() and store.current.version == 2     # the old version keeps serving
    assert store.failures and store.failures[0].startswith("3: RuntimeError")


# --- the service --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    torch = pytest.importorskip("torch")
    base = tmp_path_factory.mktemp("models")
    (base / "1").mkdir()
    model = torch.nn.Linear(3, 2)
    program = torch.export.export(model, (torch.zeros(2, 3),),
                                  dynamic_shapes={"input": {0: torch.export.Dim("batch", min=1, max=64)}})
    torch.export.save(program, base / "1" / "model.pt2")
    return base


def command(base):
    return ["python", "-m", "course_utils.lessons.deploy", "serve", "--models", str(base), "--port", "{port}"]


def listening(pid):
    procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    return {(c.laddr.ip, c.laddr.port) for p in procs for c in p.net_connections(kind="inet")
            if c.status == psutil.CONN_LISTEN}


def test_service_listens_on_loopback_only_and_answers(model_dir):
    with servers.start(command(model_dir), name="test-model-service", ready_path="/health", timeout=120) as service:
        sockets = listening(service.process.pid)
        assert ("127.0.0.1", service.port) in sockets
        assert all(ip == "127.0.0.1" for ip, _ in sockets), sockets
        answer = deploy.post_json(f"{service.url}/v1/models/cnn_torch:predict", {"instances": [[1.0, 2.0, 3.0]]})
        assert answer["model_version"] == "1" and len(answer["predictions"][0]) == 2
        replies = deploy.load_test(service.url, {"cnn_torch": [[0.0, 0.0, 0.0]]}, n=20, threads=2)
        assert len(replies) == 20 and all(r.error is None and r.version == "1" for r in replies)
        pid = service.process.pid
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert not servers.port_is_open(service.port)


def test_service_without_a_loadable_version_says_why(tmp_path):
    with pytest.raises(CourseError, match="no version could be loaded"):
        servers.start(command(tmp_path), name="test-empty-service", ready_path="/health", timeout=60)


PARENT = """
import json, sys
from course_utils.base import servers
service = servers.start({command!r}, name="orphan-test", ready_path="/health", timeout=120)
print(json.dumps({{"pid": service.process.pid, "port": service.port}}), flush=True)
{ending}
"""


def gone(pid, port, within=10.0):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        alive = psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        if not alive and not servers.port_is_open(port):
            return True
        time.sleep(0.2)
    return False


@pytest.mark.parametrize("ending", ["raise RuntimeError('a cell failed')",   # a failing script: atexit stops it
                                    "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"])  # no atexit at all
def test_nothing_outlives_its_parent(model_dir, ending):
    code = PARENT.format(command=[sys.executable if c == "python" else c for c in command(model_dir)], ending=ending)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    started = json.loads(done.stdout.strip().splitlines()[0])
    assert gone(started["pid"], started["port"]), f"the service outlived its parent ({ending})"


def test_the_notebook_stops_its_service():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "servers.start(" in code and "service.stop()" in code
    outputs = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "running services: [] | port open: False" in outputs
    assert "0 errors | versions served: ['1', '2']" in outputs
