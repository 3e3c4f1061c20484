"""Each rule in tests/nbval_sanitize.cfg hides only what truly varies; a real change still fails.

Two layers:
1. every rule, applied as nbval applies it, maps its varying examples to one text, and leaves a
   meaningful change next to them visible (a rule added without examples here fails the test);
2. real strict nbval runs on a small notebook: a stored `cu.compare` line holds when the noise
   moves as it does between CPUs (1e-7 → 3e-7, or 0), and fails when the difference grows to 1e-3
   or `allclose=True` turns `False` — the print rule of course_utils/compare.py at work.
"""
from __future__ import annotations

import configparser
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CFG = ROOT / "tests" / "nbval_sanitize.cfg"


def rules() -> dict[str, tuple[str, str]]:
    parser = configparser.ConfigParser()
    parser.read(CFG)
    return {name: (parser[name]["regex"], parser[name]["replace"]) for name in parser.sections()}


def sanitize(text: str) -> str:
    for regex, replace in rules().values():
        text = re.sub(regex, replace, text)
    return text


# rule: (texts that must become equal, pairs that must stay different after sanitizing)
EXAMPLES = {
    "ipykernel_path": (
        ["File /tmp/ipykernel_1234/2881905.py:3, in f", "File /tmp/ipykernel_98/11.py:3, in f"],
        [("File /tmp/ipykernel_1/2.py:3, in f", "File /tmp/ipykernel_1/2.py:4, in f"),
         ("/tmp/ipykernel_1/2.py: ZeroDivisionError", "/tmp/ipykernel_1/2.py: ValueError")],
    ),
    "free_space": (
        ["[OK] disk: 12.3 GiB free", "[OK] disk: 80.0 GiB free"],
        [("[OK] disk: 12.3 GiB free", "[FAIL] disk: 0.4 GiB free"),
         ("memory: 12.3 GiB free of 16 GiB", "memory: 12.3 GiB free of 8 GiB")],
    ),
    "tmpdir": (
        ["wrote /tmp/tmpa1b2c3/model.pt2", "wrote /tmp/tmpzz_9-x/model.pt2"],
        [("wrote /tmp/tmpa1/model.pt2", "wrote /tmp/tmpa1/model.onnx"),
         ("/tmp/tmpa1: 3 files", "/tmp/tmpa1: 4 files")],
    ),
    "address": (
        ["<function f at 0x7f3a2b1c0d90>", "<function f at 0x7fab12cd34ef>"],
        [("<function f at 0x7f3a2b1c0d90>", "<function g at 0x7f3a2b1c0d90>"),
         ("id 0x7f3a2b1c0d90 allclose=True", "id 0x7f3a2b1c0d90 allclose=False")],
    ),
}


def test_every_rule_has_examples():
    missing = set(rules()) - set(EXAMPLES)
    assert not missing, f"add examples for the new sanitize rule(s) {sorted(missing)} to EXAMPLES"


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_rule_hides_only_what_varies(name):
    regex, replace = rules()[name]
    same, different = EXAMPLES[name]
    assert len({re.sub(regex, replace, t) for t in same}) == 1, f"{name}: its varying examples still differ"
    assert all(re.search(regex, t) for t in same)
    for a, b in different:
        assert sanitize(a) != sanitize(b), f"{name} hides a real change: {a!r} vs {b!r}"


def test_the_compare_line_carries_no_noise_digits():
    """No rule is needed for compare: it prints a bound, so the line is one text on every CPU."""
    import numpy as np

    import course_utils as cu

    base = np.linspace(-1, 1, 12, dtype=np.float32)
    lines = {str(cu.compare("logits", base, base + eps, quiet=True)) for eps in (0.0, 1.2e-7, 6.2e-6)}
    assert len(lines) == 1
    grown = str(cu.compare("logits", base, base + 1e-3, quiet=True))
    assert "allclose=False" in grown and "0.001" in grown


# --- strict nbval, for real ------------------------------------------------------------------------

CELL = """\
import os
import numpy as np
import course_utils as cu
x = np.linspace(-1, 1, 12).astype(np.float32)
noise = np.float32(float(os.environ["COURSE_TEST_NOISE"]))
cu.compare("logits", x, x + noise)
"""


@pytest.fixture(scope="module")
def stored_notebook(tmp_path_factory) -> Path:
    """A notebook executed once (noise 1e-7), as `make regen` would store it."""
    from nbclient import NotebookClient

    path = tmp_path_factory.mktemp("sanitize") / "compare.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(CELL)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    os.environ["COURSE_TEST_NOISE"] = "1e-7"
    try:
        NotebookClient(nb, kernel_name="python3", timeout=120).execute()
    finally:
        del os.environ["COURSE_TEST_NOISE"]
    nbformat.write(nb, path)
    assert "allclose=True" in nb.cells[0].outputs[0]["text"]
    return path


def strict_nbval(path: Path, noise: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval", str(path),
         "--nbval-sanitize-with", str(CFG), "--rootdir", str(path.parent)],
        capture_output=True, text=True, env={**os.environ, "COURSE_TEST_NOISE": noise}, cwd=path.parent)


@pytest.mark.parametrize("noise", ["0", "3e-7", "6.2e-6"])
def test_noise_that_moves_between_cpus_still_passes(stored_notebook, noise):
    run = strict_nbval(stored_notebook, noise)
    assert run.returncode == 0, run.stdout[-2000:]


@pytest.mark.parametrize("noise", ["1e-3", "2e-5"])
def test_a_real_change_still_fails(stored_notebook, noise):
    """A difference grown to 1e-3, or just past the tolerance (allclose turns False), fails strict nbval."""
    run = strict_nbval(stored_notebook, noise)
    assert run.returncode != 0 and "allclose=False" in run.stdout, run.stdout[-2000:]
