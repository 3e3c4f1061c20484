"""``setup()``: the one call at the top of every lesson.

Used in: every notebook, in its setup cell, right after the imports.
"""
from __future__ import annotations

import importlib.util
import logging
import os
import platform
import random
import sys
import warnings

import numpy as np

from .base import validate
from .check import core as check_core
from .base.errors import CourseError

# Read by TensorFlow's C++ runtime when it is imported: hide INFO/WARNING lines and the oneDNN
# notice (which ignores the log level). Set for the kernel and inherited by every child process.
QUIET_ENV = {"TF_CPP_MIN_LOG_LEVEL": "2", "TF_ENABLE_ONEDNN_OPTS": "0"}


# PyPI's torch on Linux is the CUDA build (2.13.0+cu130), which pulls ``triton``. Importing triton
# once TensorFlow is loaded is a segmentation fault (triton/knobs.py; FIELD_NOTES, "Environments
# beyond the reference machine"), and torch imports it at the first optimizer step or torch.compile.
# Loaded before TensorFlow, triton works: ``import course_utils`` does that, and the course kernel
# imports course_utils at start (tools/kernel.json, exec_lines), before any lesson cell runs.
TRITON_CRASH = ("torch's CUDA build loads triton, which crashes once TensorFlow is loaded: restart the kernel "
                "and import course_utils before tensorflow (the course kernel of `make lab` does it by itself), "
                "or install torch's CPU build (README).")


def triton_installed() -> bool:
    return importlib.util.find_spec("triton") is not None


def load_triton_before_tensorflow() -> None:
    """Import triton now if it is installed and TensorFlow is not loaded yet (see ``TRITON_CRASH``)."""
    if "triton" in sys.modules or "tensorflow" in sys.modules or not triton_installed():
        return
    import triton  # noqa: F401  (loaded for its side effect: before TensorFlow, it does not crash)


def refuse_triton_after_tensorflow() -> None:
    """One line instead of a segmentation fault later (at the first optimizer step)."""
    if "tensorflow" in sys.modules and "torch" in sys.modules and "triton" not in sys.modules \
            and triton_installed():
        raise CourseError(TRITON_CRASH)


def quiet_environment() -> None:
    """Set ``QUIET_ENV`` in ``os.environ`` (effective for TensorFlow imported afterwards)."""
    os.environ.update(QUIET_ENV)


class _NoCudaRuntimeFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "No CUDA runtime is found" not in record.getMessage()


def _quiet_loggers() -> None:
    if "tensorflow" in sys.modules:
        import tensorflow as tf

        # In a notebook TF's Python logger writes INFO lines to stdout; scripts never show them.
        tf.get_logger().setLevel("ERROR")
        logging.getLogger("absl").setLevel(logging.ERROR)
    if "torch" in sys.modules:
        import torch

        # torch.compile logs a W<date> <pid> line on some graphs; it would change every run.
        torch._logging.set_logs(dynamo=logging.ERROR, inductor=logging.ERROR)
    # Keras warns (UserWarning) when Input shapes are passed to layers; lessons pass them on purpose.
    warnings.filterwarnings("ignore", message=r".*Do not pass an `input_shape`.*")


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator, and torch / TensorFlow if they are imported."""
    random.seed(seed)
    np.random.seed(seed)
    if "torch" in sys.modules:
        from . import pt_utils

        pt_utils.seed(seed)
    if "tensorflow" in sys.modules:
        from . import tf_utils

        tf_utils.seed(seed)


def _short_course_errors() -> None:
    """In IPython, show a ``CourseError`` as its one-line message instead of a traceback."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    ip = get_ipython()
    if ip is None:  # plain Python, not a notebook or IPython shell
        return

    def one_line(shell, etype, value, tb, tb_offset=None):
        # IPython calls this instead of printing the traceback; show the exception line only.
        shell.showtraceback((etype, value, tb), exception_only=True)

    ip.set_custom_exc((CourseError,), one_line)


def _path_prefixes() -> list[tuple[str, str]]:
    """(absolute prefix, short name) pairs, longest first: site-packages, the standard library, the course."""
    import site
    import sysconfig

    from .base.paths import course_root

    paths = sysconfig.get_paths()
    pairs = {paths["purelib"]: "site-packages", paths["platlib"]: "site-packages",
             site.getusersitepackages(): "site-packages", paths["stdlib"]: "python-lib",
             str(course_root()): "."}
    return sorted(((prefix.rstrip("/\\") + os.sep, short + os.sep) for prefix, short in pairs.items() if prefix),
                  key=lambda pair: -len(pair[0]))


def short_paths(text: str) -> str:
    """``text`` with this machine's install paths made relative: ``site-packages/torch/_tensor.py``.

    >>> import sysconfig
    >>> short_paths(sysconfig.get_paths()["purelib"] + "/torch/_tensor.py:623")
    'site-packages/torch/_tensor.py:623'
    """
    for prefix, short in _path_prefixes():
        text = text.replace(prefix, short)
    return text


def _short_traceback_paths() -> None:
    """In IPython, show tracebacks with ``short_paths``: a stored notebook must not carry the
    absolute path (user name, Python version, venv) of the machine that ran it."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    ip = get_ipython()
    if ip is None or getattr(ip, "_course_short_paths", False):
        return
    show = ip._showtraceback  # what IPython and ipykernel call with the formatted lines

    def shortened(etype, evalue, stb):
        return show(etype, evalue, [short_paths(line) for line in stb])

    ip._showtraceback = shortened
    ip._course_short_paths = True


# Threads for both frameworks' intra-op pools. A reduction split over N threads sums in another
# order than over M, so its last digits depend on the thread count, which by default is the
# number of cores: pinning it makes a 4-core and a 16-core laptop print the same numbers as this
# one. 2 matches the course's reference machine (2 cores); lesson 12 measures other counts.
LESSON_THREADS = 2


def pin_threads(threads: int) -> None:
    """Give torch's and TensorFlow's intra-op pools ``threads`` threads (each only if imported).

    TensorFlow accepts this only before its first operation; ``setup`` is called right after the
    imports, so it is in time. Called later, it raises a one-line ``CourseError``.
    """
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    if "tensorflow" in sys.modules:
        tf = sys.modules["tensorflow"]
        if tf.config.threading.get_intra_op_parallelism_threads() == threads:
            return
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
        except RuntimeError:
            raise CourseError(
                f"setup(threads={threads}): TensorFlow already ran an operation, so its thread pool is fixed. "
                "Call cu.setup() right after the imports, before any TensorFlow operation (restart the kernel)."
            ) from None


def hide_gpus_from_tensorflow() -> bool:
    """Make TensorFlow compute on the CPU, as torch does unless told; True if a GPU was hidden.

    TensorFlow places every op on a GPU by itself (with TF32 matmuls), torch stays on the CPU: a
    lesson comparing the two would compare a GPU against a CPU. Only before TF's first operation.
    """
    if "tensorflow" not in sys.modules:
        return False
    tf = sys.modules["tensorflow"]
    if not tf.config.list_physical_devices("GPU"):
        return False
    try:
        tf.config.set_visible_devices([], "GPU")
    except RuntimeError:
        raise CourseError(
            "setup(): TensorFlow already ran an operation, so it may be computing on the GPU. "
            "Call cu.setup() right after the imports, before any TensorFlow operation (restart the kernel)."
        ) from None
    return True


def public_version(version: str) -> str:
    """A version without its local build tag (PEP 440): ``"2.13.0+cpu"`` and ``"2.13.0+cu130"`` → ``"2.13.0"``.

    The tag names the build (CPU, CUDA 13.0), which differs per machine; the version is the pin.
    """
    return version.split("+", 1)[0]


def version_line(seed: int | None = None, threads: int | None = None, gpu: bool = False) -> str:
    """One line that holds on every supported machine: pinned versions and the devices the lesson uses.

    No Python version (the course supports 3.10-3.12) and no build tag: ``environment()`` shows those.
    Torch always computes on the CPU unless a lesson moves a tensor; TensorFlow too unless ``gpu=True``.
    """
    where = "version_line"
    seed = validate.integer(seed, "seed", where, minimum=0) if seed is not None else None
    threads = validate.integer(threads, "threads", where, minimum=1) if threads is not None else None
    gpu = validate.flag(gpu, "gpu", where)
    parts = [f"numpy {np.__version__}"]
    devices = []
    if "torch" in sys.modules:
        parts.append(f"torch {public_version(sys.modules['torch'].__version__)}")
        devices.append("torch→cpu")
    if "tensorflow" in sys.modules:
        from . import tf_utils

        parts.append(f"tensorflow {public_version(sys.modules['tensorflow'].__version__)}")
        if "keras" in sys.modules:
            parts.append(f"keras {public_version(sys.modules['keras'].__version__)}")
        devices.append(f"tensorflow→{tf_utils.device_name() if gpu else 'CPU'}")
    line = " | ".join(parts)
    if devices:
        line += " | " + ", ".join(devices)
    if seed is not None:
        line += f" | seed {seed}"
    if threads is not None and devices:   # only a framework's pool is pinned (pin_threads): none imported, none said
        line += f" | {threads} threads"
    return line


def _torch_accelerator() -> str | None:
    """The GPU torch could use here (``"cuda:0 (<name>)"``, ``"mps"``), or None; never warns."""
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the CUDA build without a driver warns "CUDA initialization"
        if torch.cuda.is_available():
            return f"cuda:0 ({torch.cuda.get_device_name(0)})"
        if torch.backends.mps.is_available():
            return "mps"
    return None


def environment_lines() -> list[str]:
    """What differs from machine to machine: Python's exact version, platform, cores, builds, GPUs.

    Lessons print it (``environment()``) in a cell whose output nbval does not compare. It names no
    path and no host: a stored notebook must not carry the machine that ran it.
    """
    lines = [f"python {platform.python_version()} ({platform.python_implementation()}), "
             f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores"]
    if "torch" in sys.modules:
        from .kit.doctor import torch_build

        gpu = _torch_accelerator()
        lines.append(f"torch {sys.modules['torch'].__version__} ({torch_build()}): "
                     + (f"{gpu} found; the lessons compute on the CPU (lesson 06 shows the GPU)" if gpu
                        else "no GPU; every lesson computes on the CPU"))
    if "tensorflow" in sys.modules:
        tf = sys.modules["tensorflow"]
        found = len(tf.config.list_physical_devices("GPU"))
        visible = len(tf.config.get_visible_devices("GPU"))
        lines.append(f"tensorflow {tf.__version__}: {found} GPU(s) found"
                     + (f", {found - visible} hidden by cu.setup() (gpu=True keeps them)" if found > visible else ""))
    return lines


def environment() -> None:
    """Print ``environment_lines()``: this machine's facts, for a cell tagged ``nbval-ignore-output``."""
    print("\n".join(environment_lines()))


# Seaborn's "colorblind" palette (Wong-style, distinguishable with deuteranopia and protanopia):
# matplotlib's default cycle puts red beside green. Seaborn takes its default hue colours from this
# cycle too, so one setting covers both libraries. tests/test_setup.py compares it with seaborn's.
COLORBLIND_CYCLE = ("#0173b2", "#de8f05", "#029e73", "#d55e00", "#cc78bc",
                    "#ca9161", "#fbafe4", "#949494", "#ece133", "#56b4e9")


def colorblind_palette() -> None:
    """Make ``COLORBLIND_CYCLE`` matplotlib's (and so seaborn's) default colour cycle."""
    try:
        import matplotlib
        from cycler import cycler
    except ImportError:  # a lesson without plots needs no palette
        return
    matplotlib.rcParams["axes.prop_cycle"] = cycler(color=list(COLORBLIND_CYCLE))


# Keras 3 on the torch backend picks "mps" or "cuda" by itself at import (keras/src/backend/torch/
# core.py); the course computes on the CPU, so child processes that run Keras-on-torch inherit this.
CPU_ENV = {"KERAS_TORCH_DEVICE": "cpu"}


def quiet_cuda_warning() -> None:
    """Silence what torch's CUDA build writes on a machine without CUDA, and only that: the
    "CUDA initialization" UserWarning at the first device query, and torch.utils.cpp_extension's
    "No CUDA runtime is found" log line at every C++ build (torch.compile, lesson 10's extensions).
    The lessons compute and build for the CPU. Called by ``import course_utils`` (the course kernel
    imports it at start, before any lesson cell) and by ``setup``; needs no torch import."""
    warnings.filterwarnings("ignore", message=r"CUDA initialization", category=UserWarning)
    cpp_logger = logging.getLogger("torch.utils.cpp_extension")
    if not any(isinstance(f, _NoCudaRuntimeFilter) for f in cpp_logger.filters):
        cpp_logger.addFilter(_NoCudaRuntimeFilter())


def setup(seed: int = 0, threads: int | None = LESSON_THREADS, gpu: bool = False) -> None:
    """Prepare a lesson: quiet logs, pin threads, seed everything, print one line of versions and devices.

    Call it once, right after importing the frameworks. Where torch's CUDA build (with triton) and
    TensorFlow are both loaded but triton was not loaded first, it refuses with one line
    (``TRITON_CRASH``) instead of letting the first optimizer step crash the kernel. Its side
    effects, all of them:

    1. sets ``TF_CPP_MIN_LOG_LEVEL=2`` and ``TF_ENABLE_ONEDNN_OPTS=0`` in ``os.environ`` (TensorFlow
       reads them when imported, so ``make lab`` and ``make test`` also set them for the kernel;
       child processes inherit them);
    2. ignores torch's "CUDA initialization" UserWarning and drops torch.utils.cpp_extension's
       "No CUDA runtime is found" line (``quiet_cuda_warning``: what the CUDA build writes on a
       machine without a GPU; ``import course_utils`` does it too);
    3. unless ``gpu=True``: sets ``KERAS_TORCH_DEVICE=cpu`` in ``os.environ`` (Keras on the torch
       backend, lesson 13's worker, would otherwise pick mps/cuda by itself);
    4. if TensorFlow is imported: its Python logger and absl's log only errors;
    5. if torch is imported: ``torch.compile``'s dynamo/inductor loggers log only errors;
    6. ignores Keras' "Do not pass an `input_shape`" warning;
    7. inside IPython, shows a ``CourseError`` as one line rather than a traceback, and every
       traceback with paths relative to site-packages, the standard library or the course
       (``short_paths``), so that no stored notebook names the machine that ran it;
    8. pins the intra-op thread pools of the imported frameworks to ``threads`` (default
       ``LESSON_THREADS`` = 2; ``None`` leaves each framework's default, one thread per core):
       the last digits of a large sum depend on how many threads share it, so a lesson prints the
       same on every laptop only with a fixed count (``pin_threads``);
    9. unless ``gpu=True``: hides any GPU from TensorFlow (``tf.config.set_visible_devices([],
       "GPU")``), so both frameworks compute on the CPU, the same device and precision (lesson 06,
       about devices, passes ``gpu=True``); torch never moves to a GPU by itself;
    10. seeds ``random``, NumPy, torch (``torch.manual_seed``) and TensorFlow/Keras
        (``keras.utils.set_random_seed``) — each framework only if it is imported;
    11. makes seaborn's colour-blind-safe palette matplotlib's default colour cycle
        (``COLORBLIND_CYCLE``; seaborn's default hue colours follow it);
    12. inside IPython, registers two event hooks (``pre_run_cell``/``post_run_cell``, once per
        kernel; ``check.core.track_answers``) that note whether each cell raised and whether it
        rebound ``answer``, so that an exercise check never grades a stale answer: after a failing
        answer cell it says "fix the error above first", and it refuses an ``answer`` that another
        exercise's check already graded (plain Python tracks nothing and grades every answer);
    13. prints the version line (``version_line()`` returns it as a string): only what holds on
        every supported machine. This machine's Python, builds and GPUs: ``environment()``.

    >>> setup(seed=0)          # doctest: +SKIP
    numpy 2.4.6 | torch 2.13.0 | tensorflow 2.21.0 | keras 3.15.1 | torch→cpu, tensorflow→CPU | seed 0 | 2 threads
    """
    # NumPy and TensorFlow accept seeds in [0, 2**32 - 1].
    seed = validate.integer(seed, "seed", "setup", minimum=0, maximum=2**32 - 1)
    if threads is not None:
        threads = validate.integer(threads, "threads", "setup", minimum=1, maximum=1024)
    gpu = validate.flag(gpu, "gpu", "setup")
    refuse_triton_after_tensorflow()
    quiet_environment()
    quiet_cuda_warning()
    if not gpu:
        os.environ.update(CPU_ENV)
    _quiet_loggers()
    _short_course_errors()
    _short_traceback_paths()
    if threads is not None:
        pin_threads(threads)
    if not gpu:
        hide_gpus_from_tensorflow()
    seed_everything(seed)
    colorblind_palette()
    check_core.track_answers()
    print(version_line(seed, threads, gpu))
