import os
import shutil
import subprocess
import sys

from course_utils import doctor
from course_utils.paths import course_root


def run_doctor(root):
    env = dict(os.environ, COURSE_ROOT=str(root))
    return subprocess.run([sys.executable, "-m", "course_utils", "doctor"], capture_output=True, text=True, env=env)


def test_all_ok_here():
    out = run_doctor(course_root())
    assert out.returncode == 0, out.stdout
    lines = [l for l in out.stdout.splitlines() if l.startswith("[")]
    assert lines and all(l.startswith("[OK]") for l in lines)
    for name in ("python", "torch", "tensorflow", "import torch", "import tensorflow", "torch devices",
                 "tensorflow devices", "data/digits.npz", "C++ compiler", "memory", "disk", "import tensorboard"):
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
