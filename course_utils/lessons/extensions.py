"""Framework-free helpers for 10_custom_extensions: find the C++ compiler, build a shared library with
it into a cache keyed by the sources' hash, and count the lines of code a source needs.

Nothing here imports torch or TensorFlow; the C++ sources of the lesson live next to this file in
``ext_src/``. Builds go to ``build/cache/`` (git-ignored), never to the system temp folder.

Used in: 10_custom_extensions.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..base.errors import CourseError
from ..base.paths import learner_root

#: The lesson's C++ sources: the shared maths (logcosh.h) and one wrapper per framework.
SOURCE_DIR = Path(__file__).resolve().parent / "ext_src"

#: Compilers tried in order when none is named.
COMPILERS = ("g++", "c++", "clang++")

#: What to install when no compiler is found (the doctor's fix says the same).
INSTALL_HINT = "Linux: sudo apt-get install g++; macOS: xcode-select --install"


def cache_dir(*parts: str) -> Path:
    """``build/cache/<parts>`` under the course root, created if missing (git-ignored: ``build/``).

    >>> cache_dir("tf_ops").relative_to(learner_root()).as_posix()
    'cache/tf_ops'

    Used in: 10_custom_extensions.
    """
    for part in parts:
        if not isinstance(part, str) or not part or "/" in part or part in (".", ".."):
            raise CourseError(f"cache_dir(*parts): each part must be a plain folder name, found {part!r}.")
    folder = learner_root().joinpath("cache", *parts)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def torch_extensions_dir() -> Path:
    """``build/cache/torch_extensions/py3XY-torch<version>/``: ``TORCH_EXTENSIONS_DIR`` for this Python and
    torch build. An extension built by one does not load in another, and two environments sharing one
    folder would rebuild over each other's files.

    Used in: 10_custom_extensions.
    """
    import torch

    return cache_dir("torch_extensions", f"py{sys.version_info[0]}{sys.version_info[1]}-torch{torch.__version__}")


def clear_stale_build_lock(build_dir: Path, max_age_s: float = 300.0) -> bool:
    """Remove ``build_dir/lock`` when it is older than ``max_age_s``: torch's ``load_inline`` waits forever
    on the lock of a build that was killed (a kernel interrupted mid-build). The lesson's op builds in
    well under that time, so an older lock has no build behind it. Returns whether one was removed.

    Used in: 10_custom_extensions.
    """
    lock = Path(build_dir) / "lock"
    try:
        if time.time() - lock.stat().st_mtime > max_age_s:
            lock.unlink()
            return True
    except FileNotFoundError:
        pass
    return False


def source(name: str) -> str:
    """The text of one of the lesson's C++ sources, e.g. ``source("logcosh_tf.cc")``.

    Used in: 10_custom_extensions.
    """
    path = SOURCE_DIR / str(name)
    if not isinstance(name, str) or path.parent != SOURCE_DIR or not path.is_file():
        known = ", ".join(sorted(p.name for p in SOURCE_DIR.iterdir() if p.is_file()))
        raise CourseError(f"source(name): no C++ source {name!r}; the lesson has: {known}.")
    return path.read_text()


def source_hash(*texts: str) -> str:
    """12 hex digits of the SHA-256 of ``texts`` (sources, flags): the cache key of a build.

    >>> source_hash("int x;") == source_hash("int x;") != source_hash("int y;")
    True

    Used in: 10_custom_extensions.
    """
    if not texts or not all(isinstance(t, str) for t in texts):
        raise CourseError("source_hash(*texts): pass one or more strings (the sources and the build flags).")
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:12]


def find_compiler(names: tuple[str, ...] | list[str] = COMPILERS) -> str | None:
    """The first C++ compiler of ``names`` on the PATH, or None.

    Used in: 10_custom_extensions.
    """
    if isinstance(names, str) or not all(isinstance(n, str) and n for n in names):
        raise CourseError("find_compiler(names): pass a list of compiler names, e.g. ['g++', 'clang++'].")
    return next((name for name in names if shutil.which(name)), None)


def no_compiler(what: str) -> str:
    """The one line a lesson prints instead of a traceback when no C++ compiler is found.

    >>> no_compiler("the PyTorch C++ op")
    '[no compiler] the PyTorch C++ op needs a C++ compiler (g++, c++ or clang++), none is on the PATH — install one (Linux: sudo apt-get install g++; macOS: xcode-select --install), then restart the kernel.'

    Used in: 10_custom_extensions.
    """
    what = " ".join(str(what).split())
    if not what:
        raise CourseError("no_compiler(what): say what needed the compiler.")
    return (f"[no compiler] {what} needs a C++ compiler ({', '.join(COMPILERS[:-1])} or {COMPILERS[-1]}), "
            f"none is on the PATH — install one ({INSTALL_HINT}), then restart the kernel.")


def count_lines(text: str, language: str = "c++") -> int:
    """Lines of code in ``text``: not blank, not only a comment (``//`` in C++, ``#`` in Python).

    >>> count_lines("// a comment\\n\\nint x = 1;  // code\\n")
    1
    >>> count_lines("# comment\\nx = 1\\n", "python")
    1

    Used in: 10_custom_extensions (the boilerplate table).
    """
    if not isinstance(text, str):
        raise CourseError(f"count_lines(text): expected the source as a string, found {type(text).__name__}.")
    marks = {"c++": ("//",), "python": ("#",)}
    if language not in marks:
        raise CourseError(f"count_lines(language): expected 'c++' or 'python', found {language!r}.")
    code = [line.strip() for line in text.splitlines()]
    return sum(1 for line in code if line and not line.startswith(marks[language]))


@dataclass(frozen=True)
class Build:
    """A shared library built (or found in the cache) by ``build_library``."""

    path: Path          # the .so in build/cache/<folder>/
    command: list[str]  # the compiler's argument list, as run
    seconds: float      # this call: the compile, or the cache look-up
    cached: bool        # True when the cache already held it
    first_seconds: float | None  # the compile time recorded when it was first built (None: unknown)


def build_library(name: str, sources: list[str], flags: list[str], folder: str = "so",
                  compiler: str | None = None, timeout: float = 600.0) -> Build:
    """Compile ``sources`` (files in ``ext_src/``) into ``build/cache/<folder>/<name>-<hash>.so``.

    The hash covers every file in ``ext_src/`` (so an edited header rebuilds too), the flags and the
    compiler's name: a second call with the same inputs finds the library and compiles nothing.
    Compiler output (warnings) is kept out of the notebook; a failed compile raises ``CourseError``
    with its first error line. With no compiler it raises ``CourseError`` with the ``no_compiler`` line.

    >>> build_library("logcosh_tf", ["logcosh_tf.cc"], flags)        # doctest: +SKIP
    Build(path=.../build/cache/so/logcosh_tf-3f2a....so, command=['g++', ...], seconds=0.0, cached=True, ...)

    Used in: 10_custom_extensions (the TensorFlow op).
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise CourseError(f"build_library(name): expected a plain name such as 'logcosh_tf', found {name!r}.")
    if isinstance(sources, str) or not sources or not all(isinstance(s, str) for s in sources):
        raise CourseError("build_library(sources): pass a list of file names in ext_src/, e.g. ['logcosh_tf.cc'].")
    if isinstance(flags, str) or not all(isinstance(f, str) for f in flags):
        raise CourseError("build_library(flags): pass the compiler flags as a list of strings.")
    texts = [source(s) for s in sources]  # raises for an unknown source
    compiler = compiler if compiler is not None else find_compiler()
    if not compiler or not shutil.which(compiler):
        raise CourseError(no_compiler(f"building {name}"))
    every_file = [p.name + "\n" + p.read_text() for p in sorted(SOURCE_DIR.iterdir()) if p.is_file()]
    key = source_hash(*texts, *every_file, *flags, compiler)
    out_dir = cache_dir(folder)
    target = out_dir / f"{name}-{key}.so"
    def command_for(output: Path) -> list[str]:
        return [compiler, *[str(SOURCE_DIR / s) for s in sources], "-o", str(output), "-I", str(SOURCE_DIR), *flags]

    command = command_for(target)
    start = time.perf_counter()
    if target.is_file():
        first = first_build_time(target.name, folder=folder)
        return Build(target, command, time.perf_counter() - start, True, first)
    partial = target.with_suffix(".so.partial")
    try:
        done = subprocess.run(command_for(partial), capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise CourseError(f"building {name}: the compiler ran for over {timeout:.0f} s and was stopped.") from None
    if done.returncode != 0:
        errors = [line for line in done.stderr.splitlines() if "error" in line] or done.stderr.splitlines()[-1:]
        raise CourseError(f"building {name} failed: {errors[0].strip() if errors else 'no message'}")
    partial.replace(target)  # only a complete library ever carries the final name
    seconds = time.perf_counter() - start
    return Build(target, command, seconds, False, first_build_time(target.name, seconds, folder))


def first_build_time(key: str, seconds: float | None = None, folder: str = "so") -> float | None:
    """The first (cold) build time of ``key``, kept in ``build/cache/<folder>/build_times.json``.

    Pass ``seconds`` right after a build that really compiled: the first value stored is kept (later
    calls do not overwrite it). Returns the stored time, or None when none was ever stored.

    Used in: 10_custom_extensions (the PyTorch op, which ``load_inline`` builds).
    """
    if not isinstance(key, str) or not key:
        raise CourseError(f"first_build_time(key): expected a non-empty name, found {key!r}.")
    if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, (int, float))
                                or not seconds >= 0):
        raise CourseError(f"first_build_time(seconds): expected a time in seconds >= 0 or None, found {seconds!r}.")
    times = cache_dir(folder) / "build_times.json"
    recorded = json.loads(times.read_text()) if times.is_file() else {}
    if seconds is not None and key not in recorded:
        recorded[key] = round(float(seconds), 2)
        times.write_text(json.dumps(recorded, indent=1, sort_keys=True))
    return float(recorded[key]) if key in recorded else None


def count_sections(text: str) -> dict[str, int]:
    """Lines of C++ code per section of a source; a section starts at a ``// [name]`` comment line.

    Lines before the first marker count under ``"(top)"``, and only if there are any.

    >>> count_sections("// [interface]\\nint f();\\n// [kernels]\\nint f() {\\n  return 1;\\n}\\n")
    {'interface': 1, 'kernels': 3}

    Used in: 10_custom_extensions (the boilerplate table).
    """
    if not isinstance(text, str):
        raise CourseError(f"count_sections(text): expected the source as a string, found {type(text).__name__}.")
    counts: dict[str, int] = {}
    section = "(top)"
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("// [") and stripped.endswith("]"):
            section = stripped[4:-1]
            counts.setdefault(section, 0)
        elif count_lines(stripped):
            counts[section] = counts.get(section, 0) + 1
    return counts


def show_command(command: list[str], labels: dict[str, str]) -> str:
    """``command`` as one line to print: each path in ``labels`` replaced by its label, the cache hash
    dropped from library names, so the line is the same on every machine.

    >>> show_command(["g++", "/opt/x/a.cc", "-o", "/c/a-0123456789ab.so"], {"/opt/x": "<src>", "/c": "<cache>"})
    'g++ <src>/a.cc -o <cache>/a.so'

    Used in: 10_custom_extensions.
    """
    if isinstance(command, str) or not all(isinstance(arg, str) for arg in command):
        raise CourseError("show_command(command): pass the command as a list of strings.")
    if not isinstance(labels, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items()):
        raise CourseError("show_command(labels): pass a dict {path: label}.")
    import re

    line = " ".join(command)
    for path in sorted(labels, key=len, reverse=True):  # the longest first: a folder inside another
        line = line.replace(path, labels[path])
    return re.sub(r"-[0-9a-f]{12}\.so\b", ".so", line)


def ninja_commands(build_ninja: str | Path) -> list[str]:
    """The commands a ``build.ninja`` file runs, with its variables filled in: one line per ``build``
    statement, in the file's order. ``load_inline`` writes such a file into
    ``TORCH_EXTENSIONS_DIR/<name>/``; this reads back the compiler calls it generated.

    >>> import tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "build.ninja")
    >>> _ = open(f, "w").write("cxx = c++\\ncflags = -O2\\nrule compile\\n  command = $cxx $cflags -c $in -o $out\\n"
    ...                        "build main.o: compile main.cpp\\n")
    >>> ninja_commands(f)
    ['c++ -O2 -c main.cpp -o main.o']

    Used in: 10_custom_extensions (the PyTorch build command, as load_inline wrote it).
    """
    import re

    path = Path(build_ninja)
    if not path.is_file():
        raise CourseError(f"ninja_commands(build_ninja): no file {str(path)!r}; build the extension first.")
    variables: dict[str, str] = {}
    rules: dict[str, str] = {}
    builds: list[tuple[str, str, str]] = []
    rule = None
    for line in path.read_text().splitlines():
        if line.startswith("  ") and rule is not None:
            key, _, value = line.strip().partition(" = ")
            if key == "command":
                rules[rule] = value
            continue
        rule = None
        if line.startswith("rule "):
            rule = line.split()[1]
        elif line.startswith("build "):
            outputs, _, rest = line[len("build "):].partition(": ")
            name, _, inputs = rest.partition(" ")
            builds.append((outputs.strip(), name, inputs.strip()))
        elif " = " in line:
            key, _, value = line.partition(" = ")
            variables[key.strip()] = value.strip()

    def expand(command: str, out: str, inputs: str) -> str:
        names = {**variables, "in": inputs, "out": out}
        filled = re.sub(r"\$(\w+)", lambda m: names.get(m.group(1), ""), command)
        return " ".join(filled.split())

    return [expand(rules[name], out, inputs) for out, name, inputs in builds if name in rules]


def put_ninja_on_path() -> bool:
    """Make sure ``ninja`` (which ``torch.utils.cpp_extension`` runs) is on the PATH; True if it is.

    A kernel's PATH often lacks the virtual environment's ``bin/``, where the ``ninja`` pip package
    puts it; this adds that folder (and only that) when ninja is not found otherwise.

    Used in: 10_custom_extensions.
    """
    import os
    import sys

    if shutil.which("ninja"):
        return True
    for folder in (os.path.dirname(sys.executable), getattr(_ninja_module(), "BIN_DIR", None)):
        if folder and os.path.isfile(os.path.join(folder, "ninja")):
            os.environ["PATH"] = folder + os.pathsep + os.environ.get("PATH", "")
            return True
    return False


def _ninja_module():
    try:
        import ninja  # the pip package: its BIN_DIR holds the executable
    except ImportError:
        return None
    return ninja
