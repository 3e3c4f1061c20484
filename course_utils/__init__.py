"""course_utils: the helper package of the PyTorch & TensorFlow side-by-side course.

``import course_utils as cu`` imports neither framework (tests/test_imports.py checks it). The top
level is the learner's API; the rooms below it are ``check/`` (exercise checks), ``lessons/`` (one
lesson's helpers), ``kit/`` (the instructor's tools) and ``base/`` (internals): see README.md here.
"""
from .session import load_triton_before_tensorflow, quiet_cuda_warning

# Before anything else: where torch's CUDA build is installed, triton must load before TensorFlow
# (session.TRITON_CRASH), and its no-GPU warnings are silenced before any lesson cell triggers them.
# With torch's CPU build neither has anything to do.
load_triton_before_tensorflow()
quiet_cuda_warning()

from . import check  # noqa: E402
from .base.arrays import framework_of, to_numpy
from .compare import Comparison, compare
from .data import Digits, load_digits
from .lessons.debugging import post_mortem, run_pdb
from .base.errors import CourseError
from .record import feedback, progress, stuck, unstuck
from .session import environment, setup, version_line

__version__ = "0.1.0"

__all__ = [
    "check", "compare", "Comparison", "CourseError", "Digits", "environment", "feedback", "framework_of",
    "load_digits", "post_mortem", "progress", "run_pdb", "setup", "stuck", "to_numpy", "unstuck", "version_line",
]
