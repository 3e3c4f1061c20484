"""course_utils.lessons.extensions (lesson 10) and the doctor's compiler check: caching by source hash,
line counting, and a one-line message instead of a traceback when no C++ compiler is found."""
from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import nbformat
import pytest

from course_utils.kit import doctor
from course_utils.base.errors import CourseError
from course_utils.lessons import extensions

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "10_custom_extensions.ipynb"


def fake_compiler(folder: Path, name: str, body: str) -> Path:
    """A shell script called ``name`` in ``folder`` that stands in for a compiler."""
    path = folder / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_sources_have_the_sections_the_table_reads():
    for name in ("logcosh_torch.cpp", "logcosh_tf.cc"):
        sections = extensions.count_sections(extensions.source(name))
        assert set(sections) == {"headers", "interface", "kernels", "registration"}, name
        assert sum(sections.values()) == extensions.count_lines(extensions.source(name))
    for name in ("logcosh_torch_cuda.cu", "logcosh_tf_gpu.cu.cc"):
        assert {"headers", "kernels", "registration"} <= set(extensions.count_sections(extensions.source(name)))


def test_count_lines_skips_blanks_and_comments():
    assert extensions.count_lines("// c\n\n  int x;  // y\n#include <a>\n") == 2
    assert extensions.count_lines("# c\n\nx = 1  # y\n", "python") == 1
    with pytest.raises(CourseError):
        extensions.count_lines("x", "rust")


def test_source_hash_is_stable_and_sensitive():
    assert extensions.source_hash("a", "b") == extensions.source_hash("a", "b")
    assert extensions.source_hash("a", "b") != extensions.source_hash("ab")
    assert len(extensions.source_hash("a")) == 12


def test_unknown_source_is_one_line():
    with pytest.raises(CourseError, match="no C\\+\\+ source"):
        extensions.source("../paths.py")


def test_show_command_hides_paths_and_hash():
    line = extensions.show_command(["g++", "/x/src/a.cc", "-o", "/x/cache/a-0123456789ab.so", "-I/x/src"],
                                   {"/x/src": "<src>", "/x/cache": "<cache>"})
    assert line == "g++ <src>/a.cc -o <cache>/a.so -I<src>"


def test_no_compiler_on_the_path(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))            # an empty folder: no compiler anywhere
    assert extensions.find_compiler() is None
    message = extensions.no_compiler("the PyTorch C++ op")
    assert message.startswith("[no compiler]") and "\n" not in message and "apt-get install g++" in message
    with pytest.raises(CourseError) as info:
        extensions.build_library("logcosh_tf", ["logcosh_tf.cc"], [])
    assert str(info.value).startswith("[no compiler]") and "\n" not in str(info.value)
    check = doctor.check_compiler()
    assert not check.ok and str(check).startswith("[FAIL] C++ compiler") and "apt-get install g++" in check.fix


def test_a_named_compiler_that_does_not_exist(monkeypatch):
    with pytest.raises(CourseError, match=r"^\[no compiler\]"):
        extensions.build_library("logcosh_tf", ["logcosh_tf.cc"], [], compiler="no-such-compiler-g++")


def test_doctor_fails_a_compiler_that_cannot_compile(monkeypatch, tmp_path):
    fake_compiler(tmp_path, "g++", "echo 'fatal error: broken install' >&2; exit 1")
    monkeypatch.setenv("PATH", str(tmp_path))
    check = doctor.check_compiler()
    assert not check.ok and "cannot compile" in check.detail and "broken install" in check.detail


def test_doctor_compiles_for_real():
    if not extensions.find_compiler():
        pytest.skip("no C++ compiler on this machine")
    assert doctor.check_compiler().ok


def test_build_library_caches_by_hash_and_reports_errors(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_ROOT", str(tmp_path))     # the cache goes to tmp_path/build/cache
    # A stand-in compiler: writes the file named after -o, and counts its runs.
    ok = fake_compiler(tmp_path, "fakecc", f'echo run >> {tmp_path}/runs; while [ "$1" != "-o" ]; do shift; done; '
                                          'echo lib > "$2"')
    first = extensions.build_library("logcosh_tf", ["logcosh_tf.cc"], ["-O2"], compiler=str(ok))
    again = extensions.build_library("logcosh_tf", ["logcosh_tf.cc"], ["-O2"], compiler=str(ok))
    other = extensions.build_library("logcosh_tf", ["logcosh_tf.cc"], ["-O1"], compiler=str(ok))
    assert not first.cached and again.cached and not other.cached
    assert first.path == again.path != other.path and first.path.is_file()
    assert first.path.is_relative_to(tmp_path / "build" / "cache" / "so")
    assert again.first_seconds == first.first_seconds is not None
    assert (tmp_path / "runs").read_text().count("run") == 2
    bad = fake_compiler(tmp_path, "badcc", "echo 'x.cc:1: warning: w' >&2; echo 'x.cc:2: error: boom' >&2; exit 1")
    with pytest.raises(CourseError, match="failed: x.cc:2: error: boom$"):
        extensions.build_library("logcosh_tf", ["logcosh_tf.cc"], ["-O3"], compiler=str(bad))
    assert not list((tmp_path / "build" / "cache" / "so").glob("*.partial"))


def test_first_build_time_keeps_the_first_value(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_ROOT", str(tmp_path))
    assert extensions.first_build_time("op") is None
    assert extensions.first_build_time("op", 12.345) == 12.35
    assert extensions.first_build_time("op", 0.1) == 12.35
    with pytest.raises(CourseError):
        extensions.first_build_time("op", -1.0)


def test_cache_dir_is_under_build(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_ROOT", str(tmp_path))
    assert extensions.cache_dir("torch_extensions") == tmp_path / "build" / "cache" / "torch_extensions"
    with pytest.raises(CourseError):
        extensions.cache_dir("../escape")


def test_build_cells_are_guarded_by_the_compiler():
    """Every code cell that needs a built op runs only when the compiler (or the op) is there, so a
    machine without a compiler sees the one-line message and the rest of the lesson still runs."""
    needs_build = ("build_op_pt(", "build_op_tf(", "logcosh_cpp_pt(", "logcosh_cpp_tf(", "build_tf.", "seconds_pt")
    guards = ("if compiler:", "if compiler and ", "if logcosh_cpp_pt is not None", "if logcosh_cpp_tf is not None")
    for i, cell in enumerate(nbformat.read(NOTEBOOK, as_version=4).cells):
        if cell.cell_type != "code":
            continue
        lines, in_def = [], False       # the code outside function definitions (their bodies run later)
        for line in cell.source.splitlines():
            in_def = line.startswith("def ") or (in_def and (line.startswith((" ", ")")) or not line.strip()))
            if not in_def and not line.lstrip().startswith("#"):
                lines.append(line)
        uses = [n for n, line in enumerate(lines) if any(word in line for word in needs_build)]
        if uses:
            guard = next((n for n, line in enumerate(lines) if line.startswith(guards)), None)
            assert guard is not None and guard < uses[0], f"cell {i} uses a built op without a guard"


@pytest.mark.skipif(not os.environ.get("COURSE_SLOW_TESTS") and os.environ.get("CI") != "true",
                    reason="runs the whole lesson without a compiler (~1 min): set COURSE_SLOW_TESTS=1")
def test_lesson_without_a_compiler_prints_one_line_and_finishes(tmp_path):
    """The lesson, run top to bottom with no compiler on the PATH: no error, the [no compiler] lines."""
    import subprocess

    code = ("import nbformat, nbclient, sys; nb = nbformat.read(sys.argv[1], as_version=4); "
            "nbclient.NotebookClient(nb, timeout=600, kernel_name='python3', "
            "resources={'metadata': {'path': sys.argv[2]}}).execute(); nbformat.write(nb, sys.argv[3])")
    out = tmp_path / "out.ipynb"
    env = {**os.environ, "PATH": str(tmp_path)}           # no g++, c++, clang++, ninja
    done = subprocess.run([sys.executable, "-c", code, str(NOTEBOOK), str(NOTEBOOK.parent), str(out)],
                          env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    cells = nbformat.read(out, as_version=4).cells
    texts = ["".join(o.get("text", "") for o in c.outputs) for c in cells if c.cell_type == "code"]
    assert not any(o.output_type == "error" for c in cells if c.cell_type == "code" for o in c.outputs)
    no_compiler = [line for text in texts for line in text.splitlines() if line.startswith("[no compiler]")]
    assert len(no_compiler) >= 2 and all("install" in line for line in no_compiler)


def test_torch_extensions_dir_is_per_python_and_torch_build(monkeypatch, tmp_path):
    import sys

    import torch

    monkeypatch.setenv("COURSE_ROOT", str(tmp_path))
    folder = extensions.torch_extensions_dir()
    assert folder.parent == tmp_path / "build" / "cache" / "torch_extensions"
    assert folder.name == f"py{sys.version_info[0]}{sys.version_info[1]}-torch{torch.__version__}"


def test_a_stale_build_lock_is_removed_and_a_fresh_one_kept(tmp_path):
    import os
    import time

    lock = tmp_path / "lock"
    lock.write_text("")
    assert not extensions.clear_stale_build_lock(tmp_path) and lock.exists()   # a build may be running
    old = time.time() - 3600
    os.utime(lock, (old, old))
    assert extensions.clear_stale_build_lock(tmp_path) and not lock.exists()
    assert not extensions.clear_stale_build_lock(tmp_path)                      # nothing left to remove


def test_ninja_commands_fill_in_the_variables(tmp_path):
    """The PyTorch build line the lesson prints is read back from load_inline's build.ninja, not typed."""
    ninja = tmp_path / "build.ninja"
    ninja.write_text("ninja_required_version = 1.3\ncxx = c++\ncflags = -I/x -O2\npost_cflags = \n"
                     "ldflags = -shared -L/t/lib -lc10\n\nrule compile\n  command = $cxx -MMD -MF $out.d $cflags"
                     " -c $in -o $out $post_cflags\n  depfile = $out.d\n\nrule link\n  command = $cxx $in $ldflags"
                     " -o $out\n\nbuild main.o: compile /src/main.cpp\n\nbuild op.so: link main.o\n\ndefault op.so\n")
    assert extensions.ninja_commands(ninja) == ["c++ -MMD -MF main.o.d -I/x -O2 -c /src/main.cpp -o main.o",
                                                "c++ main.o -shared -L/t/lib -lc10 -o op.so"]
    with pytest.raises(CourseError, match="build the extension first"):
        extensions.ninja_commands(tmp_path / "missing.ninja")
