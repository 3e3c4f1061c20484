"""course_utils: the helper package of the PyTorch & TensorFlow side-by-side course.

``import course_utils as cu`` imports neither framework (tests/test_imports.py checks it):
framework-free helpers live here; ``course_utils.pt_utils`` and ``course_utils.tf_utils`` hold the
mirrored framework helpers and are imported only when a lesson asks for them.
"""
from .session import load_triton_before_tensorflow, quiet_cuda_warning

# Before anything else: where torch's CUDA build is installed, triton must load before TensorFlow
# (session.TRITON_CRASH), and its no-GPU warnings are silenced before any lesson cell triggers them.
# With torch's CPU build neither has anything to do.
load_triton_before_tensorflow()
quiet_cuda_warning()

from . import check  # noqa: E402
from .arrays import framework_of, to_numpy
from .compare import Comparison, compare
from .data import Digits, load_digits
from .debugging import post_mortem, run_pdb
from .errors import CourseError
from .session import environment, setup, version_line

__version__ = "0.1.0"

__all__ = [
    "check", "compare", "Comparison", "CourseError", "Digits", "environment", "framework_of",
    "load_digits", "post_mortem", "run_pdb", "setup", "to_numpy", "version_line",
]
