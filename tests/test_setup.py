import os
import random
import subprocess
import sys

import numpy as np
import pytest

import course_utils as cu


def test_setup_prints_one_line_and_seeds(capsys):
    import tensorflow as tf
    import torch

    # Other tests in this process already ran TensorFlow ops, after which TF's thread pool is fixed:
    # threads=None here; the pinning is tested in a fresh process (test_setup_pins_both_...).
    cu.setup(seed=3, threads=None)
    line = capsys.readouterr().out
    assert line.count("\n") == 1
    assert "torch 2.13.0" in line and "tensorflow 2.21.0" in line and "seed 3" in line
    a = (random.random(), np.random.rand(), torch.rand(1).item(), float(tf.random.uniform(())))
    cu.setup(seed=3, threads=None)
    b = (random.random(), np.random.rand(), torch.rand(1).item(), float(tf.random.uniform(())))
    assert a == b
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "2" and os.environ["TF_ENABLE_ONEDNN_OPTS"] == "0"


def test_setup_works_with_no_framework_imported():
    code = "import course_utils as cu, sys; cu.setup(seed=0); assert 'torch' not in sys.modules"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("numpy ") and "seed 0" in out.stdout


@pytest.mark.parametrize("bad", ["0", 1.5, None, True, -1, 2**32])
def test_setup_rejects_a_bad_seed(bad):
    with pytest.raises(cu.CourseError, match="expected a whole number"):
        cu.setup(seed=bad)


def test_setup_pins_both_frameworks_threads_before_the_first_op():
    """In a fresh process (TF's thread pool is fixed at its first op): 1 thread by default, 2 after setup."""
    code = ("import torch, tensorflow as tf, course_utils as cu; "
            "assert torch.get_num_threads() == 1; cu.setup(seed=0); "
            "print(torch.get_num_threads(), tf.config.threading.get_intra_op_parallelism_threads()); "
            "tf.ones(1); cu.setup(seed=0); "  # running setup again after an op: same count, accepted
            "import course_utils.session as s\n"
            "try:\n    s.pin_threads(1)\nexcept cu.CourseError as e:\n    print('refused:', e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "OMP_NUM_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert out.returncode == 0, out.stderr[-1500:]
    lines = out.stdout.splitlines()
    assert "2 2" in lines and lines[0].endswith("| 2 threads")
    refused = [l for l in lines if l.startswith("refused:")]
    assert refused and "before any TensorFlow operation" in refused[0]


def test_setup_hides_a_gpu_from_tensorflow_unless_asked(monkeypatch, capsys):
    """TF would put every op on a GPU by itself (TF32 on); a comparison lesson keeps both on the CPU."""
    import types

    from course_utils import session

    hidden = []
    config = types.SimpleNamespace(
        list_physical_devices=lambda kind: ["GPU:0"] if kind == "GPU" else ["CPU:0"],
        set_visible_devices=lambda devices, kind: hidden.append((devices, kind)))
    monkeypatch.setitem(sys.modules, "tensorflow", types.SimpleNamespace(config=config))
    assert session.hide_gpus_from_tensorflow() is True and hidden == [([], "GPU")]

    def too_late(devices, kind):
        raise RuntimeError("Visible devices cannot be modified after being initialized")

    config.set_visible_devices = too_late
    with pytest.raises(cu.CourseError, match="before any TensorFlow operation"):
        session.hide_gpus_from_tensorflow()
    config.list_physical_devices = lambda kind: []
    assert session.hide_gpus_from_tensorflow() is False  # a CPU-only machine: nothing to hide


def test_setup_line_holds_on_every_machine(monkeypatch):
    """No Python version, no build tag (+cpu / +cu130), devices named, not detected: the stored line
    must be what a Python 3.12 laptop with torch's CUDA build prints too."""
    import torch

    from course_utils import session

    monkeypatch.setattr(torch, "__version__", "2.13.0+cu130")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    line = session.version_line(seed=0, threads=2)
    assert "torch 2.13.0 |" in line and "+cu130" not in line and "torch→cpu" in line
    assert "python" not in line and platform_version() not in line
    assert session.public_version("2.13.0+cpu") == "2.13.0" == session.public_version("2.13.0")


def test_the_thread_count_is_said_only_where_a_framework_was_pinned(monkeypatch):
    """Review 00-3: with no framework imported nothing is pinned, so the line names no thread count."""
    from course_utils import session

    for name in ("torch", "tensorflow"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    assert session.version_line(seed=0, threads=2) == f"numpy {np.__version__} | seed 0"


def platform_version():
    import platform

    return platform.python_version()


def test_environment_names_this_machine_but_no_path_or_host():
    import socket

    import torch  # noqa: F401  (environment() reports only imported frameworks)

    lines = cu.session.environment_lines()
    text = "\n".join(lines)
    assert platform_version() in text and torch.__version__ in text
    assert socket.gethostname() not in text and "/" not in text.replace("GPU(s)", "")


def test_torch_cuda_build_without_gpu_warns_nothing_after_setup():
    """The CUDA build on a machine without a driver warns "CUDA initialization" at its first device
    query; after setup nothing reaches stderr. Simulated: the warning is raised as torch raises it."""
    code = ("import warnings, torch, course_utils as cu; cu.setup(seed=0, threads=None)\n"
            "warnings.warn('CUDA initialization: Found no NVIDIA driver on your system.', UserWarning)\n"
            "warnings.warn('another warning', UserWarning)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-1500:]
    assert "CUDA initialization" not in out.stderr and "another warning" in out.stderr


def test_setup_chooses_every_backends_device(monkeypatch, capsys):
    import torch  # noqa: F401  (the line names the devices of the imported frameworks)

    monkeypatch.setenv("KERAS_TORCH_DEVICE", "mps")  # as if a Mac user had set it; restored afterwards
    cu.setup(seed=0, threads=None)
    assert os.environ["KERAS_TORCH_DEVICE"] == "cpu"
    assert "torch→cpu" in capsys.readouterr().out


def test_setup_sets_seaborns_colorblind_palette(capsys):
    import matplotlib
    import seaborn as sns

    from course_utils import session

    cu.setup(seed=0, threads=None)
    cycle = [c for c in matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]]
    assert cycle == list(session.COLORBLIND_CYCLE) == sns.color_palette("colorblind").as_hex()
    assert sns.color_palette().as_hex() == cycle  # seaborn's default hue colours follow the cycle


def fake_triton(tmp_path):
    (tmp_path / "triton").mkdir()
    (tmp_path / "triton" / "__init__.py").write_text("")
    return {**os.environ, "PYTHONPATH": str(tmp_path)}


def test_import_course_utils_loads_triton_before_tensorflow(tmp_path):
    """torch's CUDA build pulls triton, which crashes when it loads after TensorFlow: course_utils
    (imported at kernel start, tools/kernel.json) loads it first; after TensorFlow it must not."""
    env = fake_triton(tmp_path)
    first = "import sys, course_utils; print('triton' in sys.modules)"
    late = "import sys; sys.modules['tensorflow'] = sys; import course_utils; print('triton' in sys.modules)"
    for code, loaded in ((first, "True"), (late, "False")):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
        assert out.returncode == 0 and out.stdout.strip() == loaded, (code, out.stderr[-800:])


def test_setup_refuses_triton_after_tensorflow_in_one_line(monkeypatch):
    from course_utils import session

    monkeypatch.setattr(session, "triton_installed", lambda: True)
    monkeypatch.delitem(sys.modules, "triton", raising=False)
    import tensorflow  # noqa: F401
    import torch  # noqa: F401

    with pytest.raises(cu.CourseError, match="import course_utils before tensorflow"):
        cu.setup(seed=0, threads=None)


def test_tracebacks_name_no_absolute_path_after_setup():
    """An intentional error in a lesson stores its traceback: paths relative to site-packages and
    the course, so no notebook carries this machine's venv (user name, Python version)."""
    code = ("from IPython.core.interactiveshell import InteractiveShell\n"
            "ip = InteractiveShell.instance()\n"
            "ip.run_cell('import torch, course_utils as cu; cu.setup(seed=0, threads=None)')\n"
            "ip.run_cell('torch.ones(2, requires_grad=True).sum().backward(); torch.ones(2).backward()')\n"
            "ip.run_cell('exec(compile(\"1/0\", cu.session.__file__, \"exec\"))')\n")  # a frame in a course file
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
    text = out.stdout + out.stderr
    assert "RuntimeError" in text and "site-packages/torch/" in text, text[-2000:]
    assert "ZeroDivisionError" in text and "course_utils/session.py" in text, text[-2000:]
    assert sys.prefix not in text and str(cu.base.paths.course_root()) not in text, text[-2000:]


def test_setup_drops_the_cuda_builds_no_cuda_runtime_warning():
    """torch's CUDA build without CUDA logs it at each C++ build (torch.compile, extensions); others pass."""
    import logging

    import torch  # noqa: F401

    cu.setup(seed=0, threads=None)
    logger = logging.getLogger("torch.utils.cpp_extension")
    seen = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())
    logger.addHandler(handler)
    try:
        logger.warning("No CUDA runtime is found, using CUDA_HOME='/usr/local'")
        logger.warning("another cpp_extension warning")
    finally:
        logger.removeHandler(handler)
    assert seen == ["another cpp_extension warning"]
