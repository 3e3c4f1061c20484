"""Inside a portability run: did every switch of the variant reach the course kernel's libraries?

The `other-python` variant's kernel reports its Python version, venv and torch build; the `busy`
variant's kernel measures the CPU each background burner gets while it runs.

Collected only by the portability runs (`make test-notebooks` runs the `narrow` variant, `make
test-portable` all of them: tools/portability.py). A real course kernel is started with the run's
environment, exactly as nbval starts one, and reports what its libraries really use: torch's ATen
capability, oneDNN's ISA (torch and TensorFlow), MKL's CNR mode, OpenBLAS's core, NumPy's SIMD
targets, the visible CPUs and the thread counts before and after `cu.setup`. Each is compared with
what the variant asked for, and with this CPU's own choice, and printed as a table. A switch that
cannot take effect on this CPU (it asks for more than the CPU has) is reported as such, by name.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import portability  # noqa: E402

VARIANT = os.environ.get("COURSE_PORTABILITY_VARIANT")
pytestmark = pytest.mark.skipif(VARIANT is None, reason="runs inside tools/portability.py (make test-portable)")

# Runs in the kernel. Libraries that print what they chose only at fd level (oneDNN, MKL verbose)
# are asked in a child process of the kernel, which inherits the kernel's environment unchanged.
PROBE = r'''
import ctypes, glob, json, os, subprocess, sys
import numpy as np, numpy._core._multiarray_umath as npm
import torch
import tensorflow as tf
import course_utils as cu

def child(code, **extra):
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **extra})
    return out.stdout + out.stderr

def isa(text):
    return next((l.split("isa:", 1)[1].strip() for l in text.splitlines() if "cpu,isa:" in l), "not reported")

r = {"cpus": len(os.sched_getaffinity(0)), "torch_threads_default": torch.get_num_threads()}
r["aten"] = torch.backends.cpu.get_cpu_capability()
r["numpy_simd_on"] = sorted(k for k in npm.__cpu_dispatch__ if npm.__cpu_features__.get(k))
lib = glob.glob(os.path.join(os.path.dirname(np.__file__), "..", "numpy.libs", "*openblas*"))
if lib:
    f = ctypes.CDLL(lib[0]).scipy_openblas_get_corename64_; f.restype = ctypes.c_char_p
    r["openblas"] = f().decode()
r["onednn_torch"] = isa(child("import torch; torch.nn.functional.conv2d(torch.ones(8,16,32,32), torch.ones(32,16,3,3))", ONEDNN_VERBOSE="1"))
r["onednn_tf"] = isa(child("import tensorflow as tf; tf.matmul(tf.ones((256,256)), tf.ones((256,256)))", ONEDNN_VERBOSE="1"))
mkl = child("import torch; torch.mm(torch.ones(64,64), torch.ones(64,64))", MKL_VERBOSE="1")
r["mkl_cnr"] = next((w.split(":", 1)[1] for w in mkl.split() if w.startswith("CNR:")), "not reported")
r["python"] = "%d.%d.%d" % sys.version_info[:3]
r["prefix"] = sys.prefix
r["torch"], r["torch_cuda"] = torch.__version__, torch.version.cuda
burners = [int(p) for p in os.environ.get("COURSE_BUSY_BURNER_PIDS", "").split()]
if burners:  # the busy variant: how much CPU each burner got over 3 s, seen from the kernel
    import time, psutil
    procs = [psutil.Process(p) for p in burners]
    before, t0 = [sum(p.cpu_times()[:2]) for p in procs], time.monotonic()
    time.sleep(3)
    r["burner_cores"] = [(sum(p.cpu_times()[:2]) - b) / (time.monotonic() - t0) for p, b in zip(procs, before)]
    r["load1"] = os.getloadavg()[0]
cu.setup(seed=0)
r["torch_threads_after_setup"] = torch.get_num_threads()
r["tf_threads_after_setup"] = tf.config.threading.get_intra_op_parallelism_threads()
print("PROBE" + json.dumps(r))
'''


def run_in_kernel(code: str, env: dict[str, str]) -> dict:
    from jupyter_client.manager import start_new_kernel

    old = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        km, kc = start_new_kernel(kernel_name="python3")
    finally:
        os.environ.clear()
        os.environ.update(old)
    lines: list[str] = []
    try:
        def hook(msg):
            if msg["msg_type"] == "stream":
                lines.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                lines.append("ERROR " + msg["content"]["ename"] + ": " + msg["content"]["evalue"])
        kc.execute_interactive(code, output_hook=hook, timeout=240)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    text = "".join(lines)
    found = [l for l in text.splitlines() if l.startswith("PROBE")]
    assert found, f"the probe printed no result: {text[-500:]}"
    return json.loads(found[0][len("PROBE"):])


@pytest.fixture(scope="module")
def probes() -> tuple[dict, dict]:
    """(what the variant's kernel uses, what a kernel uses on this CPU with no switches)."""
    switched = run_in_kernel(PROBE, dict(os.environ))
    native_env = {k: v for k, v in os.environ.items()
                  if k not in portability.variant_env(VARIANT) and k not in portability.VARIANTS[VARIANT]["env"]}
    native_env.pop("NPY_DISABLE_CPU_FEATURES", None)
    native = run_in_kernel(PROBE, native_env)  # taskset's affinity is inherited: the same CPU set
    return switched, native


EXPECT = {
    # switch: (probe key, how the library reports the requested value)
    "ATEN_CPU_CAPABILITY": ("aten", lambda v: v.upper()),
    "ONEDNN_MAX_CPU_ISA": ("onednn_tf", {"SSE41": "Intel SSE4.1", "AVX2": "Intel AVX2"}.get),
    "MKL_CBWR": ("mkl_cnr", str),
    "OPENBLAS_CORETYPE": ("openblas", {"Prescott": "Katmai", "Haswell": "Haswell"}.get),  # OpenBLAS maps Prescott to its SSE kernels
}


def report(lines: list[str], capsys) -> None:
    """Shown in the test run's output even when the test passes, and kept in build/."""
    text = "\n".join(lines)
    with capsys.disabled():
        print("\n" + text, flush=True)
    out = Path(__file__).resolve().parents[1] / "build" / f"portability.{VARIANT}.txt"
    out.parent.mkdir(exist_ok=True)
    with out.open("a") as f:
        f.write(text + "\n")


def test_every_switch_reached_the_kernel(probes, capsys):
    switched, native = probes
    env = portability.variant_env(VARIANT)
    rows, missed, cannot = [f"portability variant {VARIANT!r}: switch | asked | kernel uses | this CPU's own"], [], []
    for switch, (key, reported_as) in EXPECT.items():
        if switch not in env:
            continue
        want = reported_as(env[switch])
        got, own = switched.get(key, "n/a"), native.get(key, "n/a")
        rows.append(f"  {switch:<22} {env[switch]:<11} {got:<16} {own}")
        if switch == "MKL_CBWR" and got == "AUTO" and want not in ("AUTO", "COMPATIBLE"):
            # Measured on an AMD EPYC: MKL takes only COMPATIBLE/AUTO there; ISA branches need an Intel CPU.
            cannot.append(f"{switch}={env[switch]}: MKL chose AUTO (it honours ISA branches on Intel CPUs only)")
        elif got != want and got == own:
            # The library ignored a request for more than this CPU has: the variant is this CPU here.
            cannot.append(f"{switch}={env[switch]}: this CPU's own choice is {own!r}")
        elif got != want:
            missed.append(f"{switch}={env[switch]}: the kernel uses {got!r}, expected {want!r}")
    if "ONEDNN_MAX_CPU_ISA" in env:
        rows.append(f"  {'  (oneDNN in torch)':<22} {env['ONEDNN_MAX_CPU_ISA']:<11} {switched['onednn_torch']:<16} {native['onednn_torch']}")
        if switched["onednn_torch"] != switched["onednn_tf"]:
            missed.append(f"oneDNN: torch uses {switched['onednn_torch']!r}, TensorFlow {switched['onednn_tf']!r}")
    if "NPY_DISABLE_CPU_FEATURES" in env:
        off = env["NPY_DISABLE_CPU_FEATURES"].split()
        still_on = sorted(set(off) & set(switched["numpy_simd_on"]))
        rows.append(f"  {'NPY_DISABLE_CPU_FEATURES':<22} {' '.join(off):<11} on: {switched['numpy_simd_on']}  own: {native['numpy_simd_on']}")
        if still_on:
            missed.append(f"NumPy still dispatches to {still_on}")
    report(rows, capsys)
    assert not missed, "; ".join(missed)
    # A switch that asks for more than this CPU has cannot change anything: say so, do not pass it silently.
    if cannot:
        pytest.xfail("cannot take effect on this CPU: " + "; ".join(cannot))


def test_thread_counts_are_pinned_by_setup(probes, capsys):
    switched, native = probes
    spec = portability.VARIANTS[VARIANT]
    report([f"threads: visible CPUs {switched['cpus']} (own {native['cpus']}), torch default "
            f"{switched['torch_threads_default']} (own {native['torch_threads_default']}), after cu.setup: "
            f"torch {switched['torch_threads_after_setup']}, TensorFlow {switched['tf_threads_after_setup']}"], capsys)
    if spec["cpus"] is not None:
        assert switched["cpus"] == len(spec["cpus"].split(","))
    if "OMP_NUM_THREADS" in spec["env"] or spec["cpus"] is not None:
        assert switched["torch_threads_default"] == 1, "the variant did not change torch's default thread count"
    from course_utils.session import LESSON_THREADS

    assert switched["torch_threads_after_setup"] == LESSON_THREADS
    assert switched["tf_threads_after_setup"] == LESSON_THREADS


def test_the_kernel_runs_the_other_python(probes, capsys):
    if not portability.VARIANTS[VARIANT].get("other_python"):
        pytest.skip("the other-python variant's check")
    switched, _ = probes
    own = portability.course_python_minor()
    report([f"other-python: the kernel runs Python {switched['python']} from {switched['prefix']} "
            f"(.venv has 3.{own}); torch {switched['torch']}, CUDA {switched['torch_cuda']}"], capsys)
    assert switched["python"].startswith(os.environ["COURSE_OTHER_PYTHON"] + "."), "the kernel is not the other Python"
    assert not switched["python"].startswith(f"3.{own}."), "the kernel runs .venv's Python"
    assert Path(switched["prefix"]).resolve() == Path(os.environ["VIRTUAL_ENV"]).resolve(), "the kernel is not in the second venv"
    if sys.platform == "linux" and os.uname().machine == "x86_64":
        # What a plain `pip install torch` gives on Linux; the course's own .venv has the CPU build.
        assert switched["torch_cuda"] is not None, f"torch {switched['torch']} is not PyPI's CUDA build"


def test_every_core_is_busy_during_the_run(probes, capsys):
    if not portability.VARIANTS[VARIANT].get("busy"):
        pytest.skip("the busy variant's check")
    switched, _ = probes
    cores = switched["burner_cores"]
    report([f"busy: {len(cores)} burners for {switched['cpus']} visible CPUs, each using "
            f"{', '.join(f'{c:.2f}' for c in cores)} of a core over 3 s, seen from the kernel; "
            f"load average {switched['load1']:.1f}"], capsys)
    assert len(cores) == switched["cpus"], "not one burner per visible core"
    # A running burner takes a real share of a core even on a crowded machine; a stopped one takes none.
    assert min(cores) > 0.05, "a burner was not running"
