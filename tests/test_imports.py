"""`import course_utils` must not import a deep-learning framework (STYLE.md)."""
from run_support import fresh_python


def test_import_course_utils_imports_no_framework():
    code = ("import sys, course_utils; "
            "print(sorted(m for m in ('torch', 'tensorflow', 'keras', 'jax') if m in sys.modules))")
    assert fresh_python(code).strip() == "[]"


def test_compare_and_checks_work_without_frameworks_imported():
    code = ("import sys, numpy as np, course_utils as cu; "
            "cu.compare('x', np.ones(3, np.float32), np.ones(3, np.float32)); "
            "cu.check.conv_kernel(np.arange(72, dtype=np.float32).reshape(4, 2, 3, 3).transpose(2, 3, 1, 0)); "
            "assert 'torch' not in sys.modules and 'tensorflow' not in sys.modules")
    out = fresh_python(code)
    assert "allclose=True" in out and "correct" in out
