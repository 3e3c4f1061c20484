import os
import shutil
import subprocess
import sys

from course_utils.kit import doctor
from course_utils.base.paths import course_root


def run_doctor(root):
    env = dict(os.environ, COURSE_ROOT=str(root))
    return subprocess.run([sys.executable, "-m", "course_utils", "doctor"], capture_output=True, text=True, env=env)


def test_all_ok_here():
    out = run_doctor(course_root())
    assert out.returncode == 0, out.stdout
    lines = [l for l in out.stdout.splitlines() if l.startswith("[")]
    assert lines and all(l.startswith("[OK]") for l in lines)
    for name in ("python", "torch", "tensorflow", "import torch", "import tensorflow", "torch devices",
                 "tensorflow devices", "torch with tensorflow", "data/digits.npz", "C++ compiler", "torch.compile", "memory", "disk",
                 "import tensorboard"):
        assert any(l.startswith(f"[OK] {name}:") for l in lines), name


def test_altered_data_names_the_file_and_fails(tmp_path):
    shutil.copytree(course_root() / "data", tmp_path / "data")
    shutil.copy(course_root() / "requirements.txt", tmp_path)
    with open(tmp_path / "data" / "digits.npz", "ab") as f:
        f.write(b"\0")
    out = run_doctor(tmp_path)
    assert out.returncode == 1
    assert "[FAIL] data/digits.npz: data/digits.npz: checksum mismatch" in out.stdout
    assert "fix: run `git checkout -- data/`" in out.stdout
    assert "Traceback" not in out.stdout + out.stderr


def test_wrong_version_and_missing_package_fail_with_fix(tmp_path, monkeypatch):
    (tmp_path / "requirements.txt").write_text("numpy==0.0.1\nno-such-package-xyz==1.0\n")
    monkeypatch.setenv("COURSE_ROOT", str(tmp_path))
    checks = {c.name: c for c in doctor.check_packages()}
    assert not checks["numpy"].ok and "course pins 0.0.1" in checks["numpy"].detail
    assert "pip install numpy==0.0.1" in checks["numpy"].fix
    assert not checks["no-such-package-xyz"].ok and checks["no-such-package-xyz"].detail == "not installed"


def test_crashing_check_becomes_a_fail_line():
    def check_boom():
        raise RuntimeError("boom")
    [result] = doctor.run([check_boom])
    assert not result.ok and result.name == "boom" and "RuntimeError: boom" in result.detail
    assert "fix:" in str(result)


def test_compiler_missing(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    result = doctor.check_compiler()
    assert not result.ok and "apt-get install g++" in result.fix


def _fake(folder, name, body):
    path = folder / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)


def test_placeholder_compiler_shim_fails(monkeypatch, tmp_path):
    # A fresh Mac: g++, c++ and clang++ exist on the PATH but only ask to install the tools.
    for name in ("g++", "c++", "clang++"):
        _fake(tmp_path, name, "echo 'xcrun: error: invalid active developer path (/Library/Developer/"
                              "CommandLineTools), missing xcrun' >&2; exit 1")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CXX", raising=False)
    result = doctor.check_compiler()
    assert not result.ok and "cannot compile" in result.detail and "xcrun" in result.detail
    assert "xcode-select --install" in result.fix


def test_compiler_other_than_torchs_names_cxx(monkeypatch, tmp_path):
    real = shutil.which("g++") or shutil.which("c++") or shutil.which("clang++")
    if not real:
        import pytest
        pytest.skip("no C++ compiler on this machine")
    # torch.compile's g++ is broken, another compiler on the PATH works: say how to point torch at it.
    _fake(tmp_path, "g++", "echo 'g++: fatal error: broken' >&2; exit 1")
    _fake(tmp_path, "c++", f'exec {real} "$@"')
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("CXX", raising=False)
    monkeypatch.setattr(doctor.sys, "platform", "linux")
    result = doctor.check_compiler()
    assert not result.ok and "g++ cannot compile" in result.detail and "but c++ can" in result.detail
    assert "export CXX=c++" in result.fix


def test_windows_advice_points_to_wsl2(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert "WSL2" in doctor.check_compiler().fix


def test_test_only_tools_never_fail(tmp_path, monkeypatch):
    (tmp_path / "requirements.txt").write_text("pytest==0.0.1\nplaywright==0.0.1\nnbval==9.9\nhypothesis==1.0\n"
                                               "numpy==0.0.1\n")
    monkeypatch.setenv("COURSE_ROOT", str(tmp_path))
    checks = {c.name: c for c in doctor.check_packages()}
    assert all(checks[n].ok and "only the course's tests" in checks[n].detail
               for n in ("pytest", "playwright", "nbval", "hypothesis"))
    assert not checks["numpy"].ok      # a lesson's package still fails


def test_hub_only_packages_never_fail_a_learner(tmp_path, monkeypatch):
    """Review 00-2: the hub's pins are the instructor's; a learner without them gets an OK line, a lesson's still FAILs."""
    (tmp_path / "requirements.txt").write_text("jupyterhub==0.0.1\njupyterhub-nativeauthenticator==0.0.1\n"
                                               "jupyterhub-idle-culler==0.0.1\nnumpy==0.0.1\n")
    monkeypatch.setenv("COURSE_ROOT", str(tmp_path))
    checks = {c.name: c for c in doctor.check_packages()}
    assert all(checks[n].ok and "only the workshop hub" in checks[n].detail for n in doctor.INSTRUCTOR_ONLY)
    assert not checks["numpy"].ok


def test_listed_device_that_cannot_run_an_op_fails(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i: "Fake GPU")
    result = doctor.check_torch_devices()          # the CPU build cannot run on cuda:0
    assert not result.ok and "cuda:0 (Fake GPU) is listed but cannot run an op" in result.detail
    assert "CUDA_VISIBLE_DEVICES" in result.fix


def test_devices_report_the_build_and_run_an_op():
    result = doctor.check_torch_devices()
    assert result.ok and "an op ran on each" in result.detail and "build" in result.detail
    assert doctor.check_tf_devices().ok


def test_kernel_start_lines_are_the_installed_course_kernels(tmp_path):
    """The check runs what the lessons' kernel runs first; the installed kernel is tools/kernel.json."""
    assert doctor.kernel_start_lines(course_root() / "tools" / "kernel.json") == ["import course_utils"]
    assert doctor.kernel_start_lines() == ["import course_utils"]
    assert doctor.kernel_start_lines(tmp_path / "absent.json") == []


def test_torch_with_tensorflow_runs_a_step_here():
    check = doctor.check_torch_with_tensorflow()
    assert check.ok, check


def test_torch_with_tensorflow_reports_a_crash_in_one_line(monkeypatch):
    """What the CUDA build does when triton loads after TensorFlow (a segfault), simulated."""
    monkeypatch.setattr(doctor, "LESSON_IMPORTS", "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)")
    check = doctor.check_torch_with_tensorflow()
    assert not check.ok and "killed by signal 11" in check.detail
    assert "make lab" in check.fix and "download.pytorch.org/whl/cpu" in check.fix


def test_torch_compile_that_cannot_build_fails_with_the_fix_and_is_tried_again(monkeypatch):
    """Review 00-1: the doctor builds one real torch.compile kernel. A build that fails (here a stand-in that
    fails as a Mac without libomp does) is a FAIL naming the error, and is not remembered: fixed, it is tried
    again. A success is kept for the process (lesson 00 asks twice)."""
    monkeypatch.setattr(doctor, "_torch_compile_built", [])
    monkeypatch.setattr(doctor, "TORCH_COMPILE_SMOKE",
                        "import sys\nsys.stderr.write(\"fatal error: 'omp.h' file not found\\n\")\nsys.exit(1)")
    failed = doctor.check_torch_compile()
    assert not failed.ok and "omp.h" in failed.detail and "brew install libomp" in failed.fix
    monkeypatch.setattr(doctor, "TORCH_COMPILE_SMOKE", "print(1.8415)")
    assert doctor.check_torch_compile().ok
    monkeypatch.setattr(doctor, "TORCH_COMPILE_SMOKE", "raise SystemExit(1)")
    assert doctor.check_torch_compile().ok                      # the success above, kept


def test_torch_compile_that_hangs_fails(monkeypatch):
    monkeypatch.setattr(doctor, "_torch_compile_built", [])
    monkeypatch.setattr(doctor, "TORCH_COMPILE_SMOKE", "import time\ntime.sleep(30)")
    result = doctor.check_torch_compile(timeout=2)
    assert not result.ok and "no answer within 2 s" in result.detail
