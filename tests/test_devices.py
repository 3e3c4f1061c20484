"""06_devices helpers: the mirrored device helpers and the framework-free GPU-only messages."""
import re

import pytest
import tensorflow as tf
import torch

from course_utils import CourseError, pt_utils, tf_utils
from course_utils.lessons import devices
from run_support import fresh_python


# ---- default_device / device_of: mirrors ------------------------------------------------------

def test_default_device_returns_a_string_each_framework_accepts():
    pt, tf_ = pt_utils.default_device(), tf_utils.default_device()
    assert isinstance(pt, str) and isinstance(tf_, str)
    assert torch.ones(2, device=pt).device.type == torch.device(pt).type
    with tf.device(tf_):
        x = tf.ones(2)
    assert x.device.endswith(tf_.lstrip("/"))


def test_default_device_on_this_machine():
    """Without CUDA/MPS (the CI box, a learner's laptop) both helpers fall back to the CPU."""
    if torch.cuda.is_available() or torch.backends.mps.is_available():
        assert pt_utils.default_device() in ("cuda:0", "mps")
    else:
        assert pt_utils.default_device() == "cpu"
    if tf.config.list_physical_devices("GPU"):
        assert tf_utils.default_device() == "/GPU:0"
    else:
        assert tf_utils.default_device() == "/CPU:0"


def test_default_device_prefers_the_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert pt_utils.default_device() == "cuda:0"
    monkeypatch.setattr(tf.config, "list_physical_devices",
                        lambda kind=None: ["fake GPU"] if kind == "GPU" else [])
    assert tf_utils.default_device() == "/GPU:0"


def test_tf_default_device_does_not_start_the_runtime():
    """Safe before logical-device configuration: only physical devices are listed."""
    code = ("import tensorflow as tf; from course_utils import tf_utils; tf_utils.default_device(); "
            "cpu = tf.config.list_physical_devices('CPU')[0]; "
            "tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2); "
            "print(len(tf.config.list_logical_devices('CPU')))")
    assert fresh_python(code).strip() == "2"


def test_device_of_mirrors():
    import keras
    assert pt_utils.device_of(torch.ones(2)) == "cpu"
    assert pt_utils.device_of(torch.nn.Linear(2, 2).to("meta")) == "meta"
    assert pt_utils.device_of(torch.nn.ReLU()) == "(no parameters)"
    assert tf_utils.device_of(tf.ones(2)) == "/CPU:0"
    assert tf_utils.device_of(tf.Variable(1.0)) == "/CPU:0"
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    assert tf_utils.device_of(model) == "/CPU:0"
    assert tf_utils.device_of(keras.Sequential([keras.layers.Dense(2)])) == "(no parameters)"
    for helper in (pt_utils.device_of, tf_utils.device_of):
        with pytest.raises(TypeError, match="device_of: expected"):
            helper([1, 2])


# ---- the GPU-only messages (what each GPU-only cell of 06_devices prints on a CPU) -----------

def test_no_gpu_message_is_one_clear_line():
    line = devices.no_gpu("torch.cuda.memory_reserved()", "it returns 0 here.\n")
    assert line == "[no GPU] torch.cuda.memory_reserved() needs a GPU — here: it returns 0 here."
    assert line.startswith(devices.NO_GPU) and "\n" not in line


@pytest.mark.parametrize("what, instead", [("", "x"), ("x", "  ")])
def test_no_gpu_rejects_empty_parts(what, instead):
    with pytest.raises(CourseError):
        devices.no_gpu(what, instead)


def test_the_lesson_prints_the_no_gpu_line_in_every_gpu_only_cell():
    """Each GPU-only cell of the lesson goes through devices.no_gpu on a machine without a GPU."""
    from pathlib import Path
    text = (Path(__file__).resolve().parents[1] / "lessons" / "06_devices.py").read_text()
    gpu_only_cells = re.findall(r"^# %%\n(# GPU-only cell:.*?)(?=^# %%|\Z)", text, flags=re.M | re.S)
    assert len(gpu_only_cells) == 7
    for cell in gpu_only_cells:
        assert "devices.no_gpu(" in cell, cell[:200]


def test_mib():
    assert devices.mib(0) == "0.0 MiB"
    assert devices.mib(3 * 2**20) == "3.0 MiB"
    with pytest.raises(CourseError):
        devices.mib(-1)


# ---- run_fresh ---------------------------------------------------------------------------------

def test_run_fresh_runs_in_parallel_and_returns_stdout_lines():
    out = devices.run_fresh({"a": "print('a1'); print(); print('a2')",
                             "b": "import sys; print('b', file=sys.stderr); print('b1')"})
    assert out == {"a": ["a1", "a2"], "b": ["b1"]}


def test_run_fresh_reports_a_failing_script():
    with pytest.raises(CourseError, match=r"script 'bad' failed .*ZeroDivisionError"):
        devices.run_fresh({"bad": "1 / 0"})


def test_run_fresh_env_adds_variables():
    out = devices.run_fresh({"e": "import os; print(os.environ['COURSE_TEST_VAR'])"},
                            env={"COURSE_TEST_VAR": "yes"})
    assert out == {"e": ["yes"]}


def test_the_stored_cpu_outputs_of_gpu_only_cells_say_no_gpu():
    """The committed notebook was executed on a CPU: each GPU-only cell stored its [no GPU] line, once."""
    from pathlib import Path

    import nbformat
    nb = nbformat.read(Path(__file__).resolve().parents[1] / "notebooks" / "06_devices.ipynb", as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith("# GPU-only cell:")]
    assert len(cells) == 7
    for cell in cells:
        text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        assert text.count(devices.NO_GPU) == 1, cell.source.splitlines()[0]
        assert not any(o.output_type == "error" for o in cell.outputs)


def test_as_saved_on_makes_a_gpu_checkpoint(tmp_path):
    torch = pytest.importorskip("torch")
    lin = torch.nn.Linear(3, 2)
    path = tmp_path / "lin.pt"
    torch.save(lin.state_dict(), path)
    gpu_path = devices.as_saved_on(path)
    assert gpu_path.name == "lin.cuda_0.pt" and path.exists()
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="map_location"):
            torch.load(gpu_path, weights_only=True)
    restored = torch.load(gpu_path, map_location="cpu", weights_only=True)
    assert torch.equal(restored["weight"], lin.weight.detach()) and restored["bias"].device.type == "cpu"


@pytest.mark.parametrize("make, device, words", [
    (lambda d: d / "missing.pt", "cuda:0", "torch.save"),
    (lambda d: (d / "plain.txt").write_text("hi") and d / "plain.txt", "cuda:0", "zip"),
    (lambda d: d, "cuda:0", "torch.save"),
    (lambda d: (d / "x.pt").write_text("x") and d / "x.pt", "CUDA 0", "device string"),
])
def test_as_saved_on_bad_inputs(tmp_path, make, device, words):
    with pytest.raises(CourseError, match=words):
        devices.as_saved_on(make(tmp_path), device)
