# %% [markdown]
# # 00 · Is this machine ready?
#
# The first ten minutes of the workshop: run this notebook top to bottom. Every check prints
# `[OK]` or `[FAIL]`; a `[FAIL]` line is followed by the fix. When everything is `[OK]`, your
# machine can run every lesson of the course.
#
# **Time:** 10 min teaching + 0 min exercises (this lesson has none: the exercises start in 01)
#
# **Prerequisites:** the course installed with `make lab` (or the conda environment); nothing else.
#
# **Objectives:**
# - Check that Python and every pinned package are at the course's versions.
# - Confirm that PyTorch and TensorFlow import and list the devices each one sees.
# - Verify that the course data is present and intact, and know how to restore it.
# - Try the C++ compiler (a real test build), free memory and disk that later lessons need.
#
# The same checks run in a terminal with `make doctor` (or `python -m course_utils doctor`):
# instructors can ask learners to run it before the workshop.

# %% [markdown]
# ## Setup
#
# `course_utils` is the course's helper package. Importing it imports neither framework; its
# `setup()` call quiets the frameworks' start-up logs, seeds the random generators and prints one
# line: the pinned versions and the devices the lesson computes on, the same on every machine.
# What differs from machine to machine (Python's exact version, torch's build, a GPU) is printed by
# `cu.environment()`. The doctor module holds the checks this notebook runs.

# %%
import course_utils as cu
from course_utils import data
from course_utils.kit import doctor
from course_utils.base import paths

cu.setup(seed=0)

# %% tags=["nbval-ignore-output"]
# Not compared with the stored notebook (tag nbval-ignore-output): these facts differ from laptop
# to laptop, and every one of them is fine when the checks below say OK.
cu.environment()

# %% [markdown]
# ## Python and the pinned packages
#
# The course pins every package to one exact version (in `requirements.txt`, mirrored in
# `environment.yml`), so that every notebook prints here exactly what it printed when it was
# stored. A version mismatch is the most common cause of a cell printing something different.
#
# **If a line says FAIL:** run `make lab` again from the course folder (it reinstalls what
# changed), or `pip install <package>==<version>` in the course environment, then restart the
# kernel (*Kernel → Restart*). Four pins serve only the course's own tests (`make test`) and three
# only the instructor's workshop hub (`make hub`), never a lesson: a missing or different version of
# those is reported, but never as a FAIL.

# %% tags=["nbval-ignore-output"]
# Not compared: the exact Python version differs between laptops (3.10, 3.11 and 3.12 all work).
doctor.show([doctor.check_python])

# %%
print("test-only tools, never a FAIL:", ", ".join(sorted(doctor.TEST_ONLY)))
print("hub-only tools, never a FAIL:", ", ".join(sorted(doctor.INSTRUCTOR_ONLY)))
doctor.show([doctor.check_packages])

# %% [markdown]
# ## The two frameworks
#
# Importing a framework can fail even when the package is installed (a missing system library,
# a CPU too old for the wheel). Importing TensorFlow takes a few seconds; that is normal.
#
# **If an import fails:** reinstall that framework with the command shown, restart the kernel
# and run this notebook again.

# %%
doctor.show([lambda: doctor.check_import("torch"), lambda: doctor.check_import("tensorflow"),
             lambda: doctor.check_import("tensorboard")])

# %% [markdown]
# Every lesson imports both frameworks into one kernel. With PyPI's torch on Linux (the CUDA build,
# which brings `triton`), loading `triton` after TensorFlow crashes the process; the course kernel
# avoids it by importing `course_utils` at start, which loads `triton` first. The doctor checks the
# combination the way a lesson meets it: in a fresh process, the lesson's imports, then one
# optimizer step (the first step is what loads `triton`).
#
# **If it says FAIL:** start Jupyter with `make lab` (its kernel does the import above), or install
# torch's CPU build with the command shown.

# %%
doctor.show([doctor.check_torch_with_tensorflow])

# %% [markdown]
# ## Devices
#
# Each framework lists the devices it can compute on, and the doctor **runs one small op on each
# listed device** (a sum of four ones): a GPU whose driver is broken is listed but fails there. On a laptop without an NVIDIA GPU both see
# only the CPU — and that is fine: **every lesson of this course runs on the CPU**, in about a
# minute per notebook. With a GPU, lesson 06 shows what changes.
#
# ### PyTorch
#
# PyTorch reports CUDA GPUs through `torch.cuda` and Apple-silicon GPUs through `torch.backends.mps`.
# The line also says which build of torch is installed (`torch.version.cuda` is `None` in a CPU build).

# %% tags=["nbval-ignore-output"]
# Not compared: the devices and torch's build (CPU or CUDA) differ from machine to machine.
doctor.show([doctor.check_torch_devices])

# %% [markdown]
# ### TensorFlow
#
# TensorFlow lists physical devices by type (`CPU`, `GPU`).

# %% tags=["nbval-ignore-output"]
# Not compared: the devices differ from machine to machine.
doctor.show([doctor.check_tf_devices])

# %% [markdown]
# **No GPU?** Nothing to do. **Which torch do you have?** The torch line above says it. On Linux,
# `make lab` installs PyTorch's CPU build from PyTorch's own index when it can reach it, and otherwise
# PyPI's wheel, which on Linux is the CUDA build (several GB more; it runs on the CPU just as well).
# On macOS PyPI's wheel is the CPU build, with Apple's GPU as `mps`. TensorFlow is the standard wheel
# (CPU on macOS; on Linux it uses an NVIDIA GPU only with its CUDA libraries). **A GPU that is not
# listed?** The README's *Using a GPU* section installs the CUDA builds.

# %% [markdown]
# ## The course data
#
# The data ships with the course in `data/`, so no lesson downloads anything. Each file is checked
# against the SHA-256 checksum in `data/MANIFEST` every time a lesson loads it.

# %%
doctor.show([doctor.check_data])

# %% [markdown]
# What a damaged file looks like: here we copy the data to a temporary folder, flip one byte of the
# copy, and check it. The course names the file and says how to restore it; nothing is loaded.

# %%
import shutil
import tempfile
from pathlib import Path

scratch = Path(tempfile.mkdtemp()) / "data"
shutil.copytree(paths.data_dir(), scratch)
damaged = bytearray((scratch / "digits.npz").read_bytes())
damaged[1000] ^= 0xFF
(scratch / "digits.npz").write_bytes(bytes(damaged))
for name, problem in data.verify_all(scratch):
    print(problem or f"{name}: OK")

# %% [markdown]
# **If the real data fails its check:** run `git checkout -- data/` in the course folder (or
# download the course again), then re-run this section.

# %% [markdown]
# ## Compiler, memory and disk
#
# `torch.compile` (lessons 04 and 12) and the C++ extensions of lesson 10 compile code, so they need
# a C++ compiler. Finding one on the PATH proves nothing (a fresh Mac has placeholder `g++`, `c++`
# and `clang++` commands that only offer to install the tools), so the doctor **compiles and links a
# small C++ program** with the compiler `torch.compile` calls: `$CXX`, else `g++` (`clang++` on
# macOS). A notebook kernel needs up to about 2.5 GB of memory; checkpoints, logs and
# compile caches need some disk.

# %% tags=["nbval-ignore-output"]
# Not compared: the compiler (g++ on Linux, clang++ on macOS), free memory and disk differ per machine.
doctor.show([doctor.check_compiler, doctor.check_memory, doctor.check_disk])

# %% [markdown]
# A program that links proves the compiler works, not that `torch.compile` does: Inductor's
# kernels also need OpenMP's `omp.h` and torch's own headers (on macOS, OpenMP is the classic
# failure). So the next cell compiles one real function, `x.sin() + 1`, with `torch.compile`, in a
# fresh process with an empty kernel cache of its own, so that C++ is really generated and built.

# %% tags=["nbval-ignore-output"]
# Not compared: the seconds differ per machine. The assert checks the outcome: the compiled function ran.
print(doctor.TORCH_COMPILE_SMOKE)
smoke = doctor.check_torch_compile()      # `make doctor` runs it too
print(smoke)
assert smoke.ok, "torch.compile cannot build kernels here: see the fix above"

# %% [markdown]
# **No compiler?** Linux: `sudo apt-get install g++`; macOS: `xcode-select --install`. **Windows:**
# the course supports Linux and macOS; on Windows run it inside WSL2 (`wsl --install` gives Ubuntu),
# then follow the Linux steps there. Every lesson except the `torch.compile` cells and lesson 10
# works without a compiler.

# %% [markdown]
# ## Everything at once
#
# All the checks again in one go (what `make doctor` runs in a terminal), with any FAIL named; the torch.compile
# build above is not repeated once it succeeded. The assert makes this cell fail loudly if anything above failed.

# %%
results = doctor.run()
failed = [r for r in results if not r.ok]
# How many checks there are depends on the environment (one per installed pin), so only the FAILs are printed.
print(f"{len(failed)} FAIL" + (": " + ", ".join(r.name for r in failed) if failed else ": every check OK"))
assert not failed, "fix the FAIL lines above before the workshop"

# %% [markdown]
# ## The helpers you will meet in every lesson
#
# No exercise here yet; two helpers to recognise. `cu.compare` prints one line saying whether two
# arrays — from NumPy, PyTorch or TensorFlow — hold the same numbers. (This lesson imports the
# frameworks only here, after the checks above, so that a broken install is reported rather than
# stopping the notebook in its first cell; from lesson 01 on, all imports sit in the setup cell.)

# %%
import numpy as np
import tensorflow as tf
import torch

x = np.linspace(0, 1, 5, dtype=np.float32)
cu.compare("x squared", torch.tensor(x) ** 2, tf.constant(x) ** 2)

# %% [markdown]
# And exercises are checked by `cu.check.<name>(answer)`, which says *correct*, *not quite* (and
# why), or *not attempted yet*. Here is how an unanswered exercise looks:

# %%
answer = ...
cu.check.arange_matrix(answer)

# %% [markdown]
# ## Summary
#
# - **Python and packages:** the doctor compares every installed package with the pinned version.
# - **Frameworks and devices:** both import; one op runs on every device each lists — the CPU is
#   enough — and the torch line names the installed build.
# - **Data:** `data/` is verified against its checksums; `git checkout -- data/` restores it.
# - **Compiler, memory, disk:** a test program is compiled and linked (not just looked for), and
#   `torch.compile` builds one real kernel from scratch; memory
#   and disk are measured; each FAIL prints its fix. Test-only tools never fail the check.
#
# When the last report says `0 FAIL`, go on to **01 · Tensors**.

# %% [markdown]
# ## One minute, optional: how was this lesson?
#
# If you like, replace `clarity=None` below with how clear this lesson was (1 = lost, 5 = clear), add one sentence as `comment`, and run the cell. Only those two things are kept, in your own folder (`build/record/` on a laptop, your folder on the hub), next to your checks' verdicts that the instructor's board reads; `cu.progress()` shows your record and `cu.progress(recording=False)` turns recording off.

# %%
cu.feedback("00", clarity=None, comment="")
