# %% [markdown]
# # 06 · Devices: CPU, GPU and who moves the data
#
# **Time:** 30 min teaching + 15 min exercises
#
# **Prerequisites:** 01 · Tensors (creating tensors, NumPy exchange); a `torch.nn.Linear` and a
# Keras `Dense` layer.
#
# **Objectives:**
# - List the devices each framework sees and read where a tensor and a model's parameters live.
# - Place computation explicitly in PyTorch (`device=`, `.to(device)`) and in TensorFlow (`with tf.device(...)`), and explain what TensorFlow places for you.
# - Diagnose a mixed-device error in PyTorch (a GPU checkpoint on a CPU machine included), recognise the silent move TensorFlow makes instead, and make TensorFlow refuse it.
# - Configure threads, logical CPU devices and GPU memory before the first operation, and read PyTorch's allocator statistics.
# - Write device-agnostic code that runs unchanged on a CPU laptop and on a GPU machine.
#
# This notebook runs on a CPU. On a GPU machine it runs too: the cells marked *GPU-only cell*
# measure the GPU there, and here print one line that starts with `[no GPU]` saying what you would
# see and why. To run it on an NVIDIA GPU, install both frameworks' CUDA builds into the course
# environment as the README's *Using a GPU* section says (PyTorch's CUDA wheel of the pinned
# version *with* its `nvidia-*` libraries, so no `--no-deps`, and `tensorflow[and-cuda]`), then
# check with `make doctor` that both list the GPU.

# %% [markdown]
# ## Setup
#
# All imports, then `cu.setup`. `course_utils.lessons.devices` holds the small framework-free helpers of
# this lesson (the `[no GPU]` line, MiB formatting, running a script in a fresh process).

# %%
import os
import re
import tempfile

import keras
import numpy as np
import tensorflow as tf
import torch
import torch.nn.functional as F

import course_utils as cu
from course_utils.lessons import devices
from course_utils import pt_utils, tf_utils

cu.setup(seed=0, gpu=True)  # this lesson is about devices: let TensorFlow see a GPU if there is one

# %% [markdown]
# ## Configure before the first operation
#
# Some settings are fixed the moment a framework starts its runtime. TensorFlow starts it at the
# first operation (creating a tensor counts); from then on its logical devices, GPU memory
# options and thread pools cannot change. PyTorch fixes its inter-op thread pool at the first
# parallel work. So a lesson, a script or a training job makes all of these settings in one place,
# right after the imports. `cu.setup` above ran no TensorFlow operation: it seeded the generators
# and listed the *physical* devices, and neither starts the runtime.
#
# ### PyTorch
#
# Two thread pools: intra-op (inside one operation, e.g. a matrix product) and inter-op (between
# independent operations). We pin both, so the sums below run in the same order on every core count. A
# second call to `set_num_interop_threads` is refused with a `RuntimeError`, caught here to read
# its message in one line.

# %%
torch.set_num_threads(2)          # intra-op: may change at any time
torch.set_num_interop_threads(1)  # inter-op: once, before any parallel work
print(f"intra-op threads {torch.get_num_threads()}, inter-op threads {torch.get_num_interop_threads()}")
try:
    torch.set_num_interop_threads(2)
except RuntimeError as err:
    print(f"second call: RuntimeError: {err}")

# %% [markdown]
# ### TensorFlow
#
# One cell holds every must-come-first setting: the CPU split into two *logical* devices (to try
# multi-device code without a GPU), the thread pools, and, on a GPU machine, a hard 1 GiB memory
# limit instead of TensorFlow's default of reserving nearly all of the GPU's memory.

# %%
cpus = tf.config.list_physical_devices("CPU")
gpus = tf.config.list_physical_devices("GPU")
tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)
tf.config.threading.set_intra_op_parallelism_threads(2)
tf.config.threading.set_inter_op_parallelism_threads(1)
if gpus:  # the limit is a logical-device setting too: a GPU:0 that can use 1 GiB only
    tf.config.set_logical_device_configuration(gpus[0], [tf.config.LogicalDeviceConfiguration(memory_limit=1024)])
    # keep matrix products in full float32 on GPUs with TF32 units (PyTorch's default), so comparisons hold
    tf.config.experimental.enable_tensor_float_32_execution(False)
print(f"physical devices: {len(cpus)} CPU, {len(gpus)} GPU")

# %% [markdown]
# The first operation starts the runtime. From then on, changing a thread pool (or the logical
# devices, or the memory options) raises `RuntimeError`.

# %% tags=["raises-exception"]
first = tf.constant(1.0)                                  # the first TensorFlow operation
tf.config.threading.set_intra_op_parallelism_threads(1)   # too late

# %% [markdown]
# The fix is to move the setting into the configuration cell and restart the kernel. The values
# set in time stand:

# %%
print(f"intra-op threads {tf.config.threading.get_intra_op_parallelism_threads()}, "
      f"inter-op threads {tf.config.threading.get_inter_op_parallelism_threads()}")

# %% [markdown]
# ## List the devices
#
# Both frameworks answer "what can I compute on?" without moving any data. PyTorch asks per
# backend (CUDA, Apple's MPS) or through `torch.accelerator`, which names whichever accelerator
# this build and machine have; TensorFlow lists physical devices (hardware) and logical devices
# (what operations can be placed on).
#
# ### PyTorch

# %%
print(f"CUDA available: {torch.cuda.is_available()} ({torch.cuda.device_count()} device(s))")
print(f"MPS available:  {torch.backends.mps.is_available()}")
# check_available=True: the accelerator usable here; without it torch's CUDA build names cuda even with no GPU
print(f"accelerator:    {torch.accelerator.current_accelerator(check_available=True)}")

# %% [markdown]
# ### TensorFlow

# %%
for device in tf.config.list_physical_devices():
    print("physical:", device.name, device.device_type)
for device in tf.config.list_logical_devices():
    print("logical: ", device.name, device.device_type)

# %% [markdown]
# One device string per framework, for device-agnostic code: the mirrored helpers
# `pt_utils.default_device()` and `tf_utils.default_device()` both return a plain string that the
# framework's own API accepts (`device=...` / `with tf.device(...)`). Read them with
# `pt_utils.default_device??`: three lines each.

# %%
device_pt, device_tf = pt_utils.default_device(), tf_utils.default_device()
print(f"PyTorch default device: {device_pt!r}   TensorFlow default device: {device_tf!r}")

# %% [markdown]
# Naming a device that is not there is the classic mistake of code written on a GPU machine. On a
# PyTorch build without CUDA (the CPU build), asking for `cuda` raises
# `AssertionError: Torch not compiled with CUDA enabled`; on the CUDA build on a machine without an
# NVIDIA GPU, `RuntimeError: Found no NVIDIA driver on your system`.

# %% tags=["raises-exception", "nbval-ignore-output"]
# Not compared: the error depends on torch's build (see above); on a GPU machine there is none.
torch.ones(2, device="cuda")

# %% [markdown]
# The fix: name the device through the one `device_pt` variable, never literally.

# %%
torch.ones(2, device=device_pt)

# %% [markdown]
# ## Where a tensor lives
#
# Every tensor has a device, and so does every parameter of a model. PyTorch prints a short name
# (`cpu`, `cuda:0`); TensorFlow a full name (`/job:localhost/replica:0/task:0/device:CPU:0`),
# which `tf_utils.device_of` shortens to `/CPU:0`. The inputs and weights are made once, in NumPy
# (`X`, `W`, `b`, at the top of the PyTorch cell), and both frameworks start from them.
#
# ### PyTorch
#
# `torch.from_numpy` shares memory with the NumPy array, so it lives on the CPU. A new module's
# parameters are on the CPU too. `device=` at creation puts a tensor anywhere else; `meta` is a
# device that exists in every build: it stores shapes, no values (handy to build a huge model
# without its memory; the placement examples below use it because every build has it).

# %%
X = np.arange(12, dtype=np.float32).reshape(4, 3) / 4
W = np.array([[1.0, -1.0], [0.5, 2.0], [-2.0, 0.0]], dtype=np.float32)     # (in, out)
b = np.array([0.1, -0.2], dtype=np.float32)
X_pt = torch.from_numpy(X)
model_pt = torch.nn.Linear(3, 2)
with torch.no_grad():
    model_pt.weight.copy_(torch.from_numpy(W.T))   # torch stores (out, in)
    model_pt.bias.copy_(torch.from_numpy(b))
print(f"X_pt on {X_pt.device}, model_pt.weight on {model_pt.weight.device}")
print(f"created on meta: {torch.ones(2, 3, device='meta').device}")

# %% [markdown]
# ### TensorFlow
#
# A tensor created with no instruction lands on the default device (`GPU:0` where there is one);
# `with tf.device(...)` puts it elsewhere, here on the second logical CPU.

# %%
X_tf = tf.constant(X)
model_tf = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
model_tf.layers[0].set_weights([W, b])              # Keras stores (in, out)
print(f"X_tf on {X_tf.device}")
print(f"model_tf kernel on {tf_utils.device_of(model_tf)}")
with tf.device("/CPU:1"):
    X_cpu1 = tf.constant(X)
print(f"created under tf.device('/CPU:1'): {tf_utils.device_of(X_cpu1)}")
cu.compare("X", X_pt, X_tf)  # the same data on both sides

# %% [markdown]
# | | PyTorch | TensorFlow |
# |---|---|---|
# | a tensor's device | `x.device` → `cpu` | `x.device` → `/job:localhost/replica:0/task:0/device:CPU:0` |
# | a model's device | `next(model.parameters()).device` | `model.weights[0].value.device` |
# | create elsewhere | `torch.ones(..., device=...)` | `with tf.device(...): tf.ones(...)` |
#
# ## Placement: who decides
#
# In PyTorch an operation runs where its inputs are, and nothing moves unless you move it. In
# TensorFlow the runtime places each operation: on `GPU:0` when there is one (and the operation
# has a GPU kernel), else on the CPU; `with tf.device(...)` asks for a device, and *soft
# placement* falls back to another one when the request cannot be met.
#
# ### PyTorch
#
# `tensor.to(device)` returns a tensor on that device and leaves the original where it was; when
# the tensor is already there, it returns the very same object (no copy). A default device, like
# TensorFlow's: `with torch.device(...)` (or `torch.set_default_device`) makes every tensor created
# inside land there.

# %%
t = torch.ones(3)
moved = t.to("meta")
print(f"t on {t.device}, moved on {moved.device}, t.to('cpu') is t: {t.to('cpu') is t}")
with torch.device("meta"):
    inside = torch.ones(2)
print(f"created inside `with torch.device('meta')`: {inside.device}, after it: {torch.ones(2).device}")

# %% [markdown]
# ### TensorFlow
#
# Ask for `GPU:0`. Where there is no GPU, soft placement quietly runs the operation on the CPU.

# %%
with tf.device("/GPU:0"):
    y_tf = X_tf * 2
print(f"asked for /GPU:0, ran on {tf_utils.device_of(y_tf)}")

# %% [markdown]
# With soft placement off, the same request fails on a machine without a GPU:
# `InvalidArgumentError: Could not satisfy device specification`.

# %% tags=["raises-exception"]
tf.config.set_soft_device_placement(False)
with tf.device("/GPU:0"):
    y_tf = X_tf * 2

# %% [markdown]
# The fix: ask for a device that exists (the default-device string), and turn soft placement
# back on.

# %%
tf.config.set_soft_device_placement(True)
with tf.device(device_tf):
    y_tf = X_tf * 2
print(f"asked for {device_tf}, ran on {tf_utils.device_of(y_tf)}")

# %% [markdown]
# ### Exercise 6.1 ★☆☆ (~4 min)
#
# Write device-agnostic code: in either framework, put `X` and `W` on that framework's default
# device (`device_pt` or `device_tf`), compute `X @ W` there, and assign the result — still a
# tensor on that device, not NumPy — to `answer`.

# %% tags=["solution"]
answer = torch.from_numpy(X).to(device_pt) @ torch.from_numpy(W).to(device_pt)

# %%
cu.check.device_matmul(answer)

# %% [markdown]
# ### Exercise 6.2 ★★☆ (~3 min)
#
# Run `t = torch.ones(3)`, `lin = torch.nn.Linear(3, 1)`, then `t.to("meta")` and
# `lin.to("meta")` (results not assigned). Where do `t` and `lin`'s weight live now? Assign a tuple
# of the two device types, e.g. `("cpu", "cpu")`, to `answer`.

# %% tags=["solution"]
t = torch.ones(3)
lin = torch.nn.Linear(3, 1)
t.to("meta")
lin.to("meta")
answer = (t.device.type, lin.weight.device.type)

# %%
cu.check.to_is_not_in_place(answer)

# %% [markdown]
# ## Mixed devices
#
# A model on one device and a batch on another: PyTorch refuses, TensorFlow moves the data.
#
# ### PyTorch
#
# On a GPU machine the classic mistake is a model on `cuda:0` and a batch left on the CPU; the
# GPU-only cell below makes it and prints the `RuntimeError`. A CPU-only machine has one device,
# so nothing can be mixed there, and the device error a laptop user really meets is a checkpoint
# saved on a GPU: `torch.save` stores each tensor's device, and `torch.load` puts it back there.
# We have no GPU to save one, so `devices.as_saved_on` rewrites the device tags of a CPU
# checkpoint (`'cpu'` → `'cuda:0'`, the tensor bytes are the same; read it with
# `devices.as_saved_on??`). Loading it raises.

# %%
# GPU-only cell: a model on cuda:0 called with a batch on the CPU; on a CPU the [no GPU] line.
if torch.cuda.is_available():
    model_gpu = torch.nn.Linear(3, 2).to("cuda:0")
    try:
        model_gpu(X_pt)
    except RuntimeError as err:
        print(f"model on {pt_utils.device_of(model_gpu)}, batch on {X_pt.device}: RuntimeError: {str(err).splitlines()[0]}")
else:
    print(devices.no_gpu("Calling a model on cuda:0 with a batch on the CPU",
                         "there is one device, so nothing can be mixed; on a GPU it raises RuntimeError "
                         "(Expected all tensors to be on the same device ...)"))

# %% tags=["raises-exception"]
checkpoint_dir = tempfile.mkdtemp()
torch.save(model_pt.state_dict(), os.path.join(checkpoint_dir, "linear.pt"))
gpu_checkpoint = devices.as_saved_on(os.path.join(checkpoint_dir, "linear.pt"), "cuda:0")
state = torch.load(gpu_checkpoint, weights_only=True)

# %% [markdown]
# The fix is the one the message names: `map_location=` puts every tensor on a device that exists
# here (`device_pt`), and the weights load as they were.

# %%
state = torch.load(gpu_checkpoint, map_location=device_pt, weights_only=True)
print({name: str(tensor.device) for name, tensor in state.items()},
      "| same weights:", all(torch.equal(state[k], v) for k, v in model_pt.state_dict().items()))
y_pt = model_pt(X_pt.to(pt_utils.device_of(model_pt)))   # a batch goes where the model is: device-agnostic

# %% [markdown]
# ### TensorFlow
#
# The weights are on `/CPU:0`, the batch `X_cpu1` on `/CPU:1`. No error: the matrix product runs
# on the default device, and TensorFlow moves the batch there first; under
# `with tf.device("/CPU:1")` it runs on `/CPU:1` and moves the weights instead. Between two
# logical CPUs a "move" copies nothing (the next cell shows the same memory); between host and
# GPU it is a real copy over the bus, on every call, which the GPU-only cell after it times.

# %%
y_tf = model_tf(X_cpu1)
with tf.device("/CPU:1"):
    y_tf_cpu1 = model_tf(X_cpu1)
print(f"weights on {tf_utils.device_of(model_tf)}, batch on {tf_utils.device_of(X_cpu1)}")
print(f"default placement: output on {tf_utils.device_of(y_tf)}; under /CPU:1: output on {tf_utils.device_of(y_tf_cpu1)}")
cu.compare("outputs", y_pt, y_tf)

# %% [markdown]
# What does the move between logical CPUs do with the data? A 64 MiB tensor made on `/CPU:0` and
# moved to `/CPU:1`: both devices use the host's one allocator, and the moved tensor's memory is
# the original's. And TensorFlow can refuse, like PyTorch: the *explicit* device policy
# (`tf.config.experimental.set_device_policy("explicit")`, the default is `"silent"`) raises
# instead of moving an input to another device.

# %%
with tf.device("/CPU:0"):
    big_cpu0 = tf.zeros((16 * 2**20,))                          # 64 MiB of float32
with tf.device("/CPU:1"):
    big_cpu1 = tf.identity(big_cpu0)                            # moved to /CPU:1
# np.asarray gives a view of a CPU tensor's buffer (.numpy() would give a copy, freed at once, whose
# address the allocator reuses: such a test prints True for any two tensors). The views are held,
# and a different tensor is the control that must print False.
view_cpu0, view_cpu1 = np.asarray(big_cpu0), np.asarray(big_cpu1)
view_other = np.asarray(tf.ones_like(big_cpu0))               # another 64 MiB tensor on /CPU:0
same_moved = view_cpu1.ctypes.data == view_cpu0.ctypes.data
same_other = view_other.ctypes.data == view_cpu0.ctypes.data
print(f"moved to {tf_utils.device_of(big_cpu1)}; same memory as on /CPU:0: {same_moved} "
      f"| control, a different tensor: {same_other}")
assert same_moved and not same_other
del view_cpu0, view_cpu1, view_other
tf.config.experimental.set_device_policy("explicit")
try:
    model_tf(X_cpu1)                                          # weights on /CPU:0, batch on /CPU:1
except tf.errors.InvalidArgumentError as err:
    reason = next(line for line in err.message.splitlines() if "conflicting devices" in line)  # Keras wraps it
    reason = re.sub(r"\x1b\[\d+m", "", reason).split(" (operation running")[0]                 # drop bold codes
    print("explicit policy:", type(err).__name__ + ":", reason.replace("/job:localhost/replica:0/task:0/device:", "/"))
finally:
    tf.config.experimental.set_device_policy("silent")

# %%
# GPU-only cell: times TensorFlow's silent host→GPU copy; on a CPU it prints the [no GPU] line.
if gpus:
    import time

    def median_ms(fn, repeats=20):
        fn().numpy()                                  # warm-up; .numpy() waits for the GPU
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn().numpy()
            times.append(time.perf_counter() - start)
        return 1e3 * sorted(times)[repeats // 2]

    big = np.random.default_rng(0).random((4096, 4096), dtype=np.float32)
    with tf.device("/CPU:0"):
        big_host = tf.constant(big)
    with tf.device("/GPU:0"):
        big_gpu = tf.constant(big)
        w_gpu = tf.constant(big[:, :64])
        copy_ms = median_ms(lambda: tf.reduce_sum(big_host @ w_gpu))
        resident_ms = median_ms(lambda: tf.reduce_sum(big_gpu @ w_gpu))
    print(f"input copied from the host: {copy_ms:.2f} ms; input already on the GPU: {resident_ms:.2f} ms")
else:
    print(devices.no_gpu("Timing the host→GPU copy",
                         "both logical CPUs share host memory (the cell above), so there is no copy to time"))

# %% [markdown]
# ## Placement logs
#
# ### PyTorch
#
# PyTorch has no placement log because it places nothing by itself: printing `.device` is the log.

# %%
for name, param in model_pt.named_parameters():
    print(f"{name:<8} {param.device}")
print(f"{'output':<8} {y_pt.device}")

# %% [markdown]
# ### TensorFlow
#
# `tf.debugging.set_log_device_placement(True)` logs the device of every operation, with three
# catches: it works only if called before the first operation (later it is silently ignored), it
# cannot be switched off, and its lines are printed by TensorFlow's C++ runtime to the process's
# own stderr, which a notebook shows only if its kernel forwards that stream (this course's does not). So we run it in two fresh Python processes and read what they print: once
# before the first operation, once after. `MatMul: (MatMul): .../device:CPU:0` is the line to look
# for: the operation and where it ran. In everyday work `y.device` on the result tells the same,
# at any time.

# %%
LOG_FIRST = """
import tensorflow as tf
tf.debugging.set_log_device_placement(True)   # before the first operation
x = tf.constant([[1.0, 2.0]])
y = tf.matmul(x, x, transpose_b=True)
"""
LOG_LATE = """
import tensorflow as tf
x = tf.constant([[1.0, 2.0]])                 # the first operation starts the runtime
tf.debugging.set_log_device_placement(True)   # too late: ignored, without a warning
y = tf.matmul(x, x, transpose_b=True)
"""
logs = devices.run_fresh({"set before the first operation": LOG_FIRST, "set after it": LOG_LATE})
for when, lines in logs.items():
    print(f"--- {when}: {len(lines)} line(s)")
    for line in lines:
        print(line)

# %% [markdown]
# ## Memory
#
# On a GPU, memory is the scarce resource, and the two frameworks manage it differently.
# TensorFlow's allocator reserves nearly all of a GPU's memory when its runtime starts, so a
# second process (or PyTorch in the same one) finds the GPU full. That is still the default, and
# three switches change it, all before the first operation: `tf.config.experimental.set_memory_growth(gpu, True)`
# (take memory as needed), the environment variable `TF_FORCE_GPU_ALLOW_GROWTH=true` (the same,
# without touching the code), or a logical device with `memory_limit=` (a hard cap, set in the
# configuration cell above). PyTorch's caching allocator takes memory when tensors are created and keeps freed
# blocks for reuse: `memory_allocated` counts what tensors use, `memory_reserved` what the cache
# holds, `empty_cache()` hands the cached blocks back to the driver.
#
# ### PyTorch
#
# The cell allocates 64 MiB on the default device and reads the CUDA allocator's counters. On a
# GPU the second line is the point: after `del`, *allocated* drops but *reserved* does not; the
# cache keeps the block for the next tensor. After `empty_cache()` *reserved* keeps the blocks
# that live tensors still use (here the small model moved to the GPU above: a 2 MiB small-pool
# block). `torch.cuda.memory_summary()` prints the allocator's full table, and
# `torch.cuda.memory._record_memory_history()` with `_dump_snapshot` records every allocation for
# the memory viewer at pytorch.org/memory_viz. On Apple's GPU the counters are
# `torch.mps.current_allocated_memory()` and `driver_allocated_memory()`.

# %%
# GPU-only cell: reads torch.cuda's allocator counters; on a CPU they stay 0 and it says why.
def cuda_memory():
    return (f"allocated {devices.mib(torch.cuda.memory_allocated())}, "
            f"reserved {devices.mib(torch.cuda.memory_reserved())}")

block = torch.empty(64 * 2**20 // 4, device=device_pt)          # 64 MiB of float32
print(f"after allocating 64 MiB: {cuda_memory()}")
del block
print(f"after del:               {cuda_memory()}")
torch.cuda.empty_cache()
print(f"after empty_cache():     {cuda_memory()}")
print(f"peak allocated:          {devices.mib(torch.cuda.max_memory_allocated())}")
if device_pt == "mps":  # Apple's GPU has its own counters (and TensorFlow needs the tensorflow-metal plug-in there)
    print(f"mps: allocated {devices.mib(torch.mps.current_allocated_memory())}, "
          f"driver {devices.mib(torch.mps.driver_allocated_memory())}")
if not torch.cuda.is_available():
    print(devices.no_gpu("Measuring torch.cuda's caching allocator",
                         f"the block went to {device_pt!r}, which the CUDA allocator does not track, so its counters read 0"))

# %% [markdown]
# ### TensorFlow
#
# TensorFlow reports its allocator per device with `get_memory_info`, and enforces the limit set
# in the configuration cell. The second cell asks how much of the GPU a *fresh* TensorFlow
# process takes, by default and with memory growth: each needs its own process (the setting must
# precede the first operation), and PyTorch asks the driver how much memory is free before and
# after.

# %%
# GPU-only cell: TensorFlow's allocator on GPU:0 under the 1 GiB limit; on a CPU the [no GPU] line.
if gpus:
    with tf.device("/GPU:0"):
        block = tf.zeros((64 * 2**20 // 4,))              # 64 MiB of float32
    info = tf.config.experimental.get_memory_info("GPU:0")
    print(f"TensorFlow GPU:0 after 64 MiB: current {devices.mib(info['current'])}, peak {devices.mib(info['peak'])}")
    del block
    try:
        with tf.device("/GPU:0"):
            too_big = tf.zeros((2 * 2**30 // 4,))         # 2 GiB, over the 1 GiB limit
        print("a 2 GiB tensor fit: the limit did not hold")
    except tf.errors.ResourceExhaustedError:
        print("a 2 GiB tensor: ResourceExhaustedError, the 1 GiB limit holds")
else:
    try:
        tf.config.experimental.get_memory_info("GPU:0")
    except ValueError as err:  # asking anyway shows it
        print(devices.no_gpu("tf.config.experimental.get_memory_info('GPU:0')",
                             f"TensorFlow has no GPU allocator to report on (ValueError: {err})"))

# %%
# GPU-only cell: TensorFlow's default grab of GPU memory vs memory growth; on a CPU the [no GPU] line.
GRAB = """
import tensorflow as tf, torch
free_before, total = torch.cuda.mem_get_info()      # the driver's view of the whole GPU
{growth}
tf.zeros(1)                                          # first operation: the allocator starts
free_after, _ = torch.cuda.mem_get_info()
print(f"{{(free_before - free_after) / total:.0%}} of {{total / 2**30:.0f}} GiB")
"""
GROWTH = "tf.config.experimental.set_memory_growth(tf.config.list_physical_devices('GPU')[0], True)"
if gpus and torch.cuda.is_available():
    for name, growth, env in [("default", "", {}), ("memory growth", GROWTH, {}),
                              ("TF_FORCE_GPU_ALLOW_GROWTH=true", "", {"TF_FORCE_GPU_ALLOW_GROWTH": "true"})]:
        taken = devices.run_fresh({name: GRAB.format(growth=growth)}, env=env)[name][-1]   # one after the other
        print(f"TensorFlow ({name}) took {taken}")
else:
    print(devices.no_gpu("Measuring TensorFlow's share of GPU memory",
                         "TensorFlow's CPU allocator takes host memory as tensors need it, like NumPy"))

# %% [markdown]
# | | PyTorch | TensorFlow |
# |---|---|---|
# | default on a GPU | takes memory as tensors need it, caches freed blocks | reserves nearly all GPU memory at start |
# | limit it | `torch.cuda.set_per_process_memory_fraction` | logical device with `memory_limit=`, or `set_memory_growth` |
# | read usage | `memory_allocated`, `memory_reserved`, `max_memory_allocated` | `tf.config.experimental.get_memory_info` |
# | give back | `torch.cuda.empty_cache()` | (not while the process runs) |

# %% [markdown]
# ## CUDA basics every GPU user meets
#
# Four things change as soon as the device is an NVIDIA GPU, in both frameworks. **Asynchronous
# launch**: an operation on the GPU returns as soon as it is queued, so a timer must synchronise
# (`torch.cuda.synchronize()`, `tf_utils.synchronize()`; lesson 12's `bench` does it). **Pinned
# memory**: a host→GPU copy from page-locked memory (`tensor.pin_memory()`, `DataLoader(pin_memory=True)`)
# can run in the background with `.to("cuda", non_blocking=True)`. **The allocator's settings**:
# `PYTORCH_ALLOC_CONF` (the device-generic name torch 2.13 documents; `PYTORCH_CUDA_ALLOC_CONF` is
# its older alias, still read, and the one most scripts set), e.g. `expandable_segments:True`
# against fragmentation, or `backend:cudaMallocAsync`, read when CUDA starts. **Which GPUs a process sees**: the
# environment variable `CUDA_VISIBLE_DEVICES` (both frameworks, set before they start), or TensorFlow's
# `tf.config.set_visible_devices` before its first operation (what `cu.setup` does in the other
# lessons, so that TensorFlow computes on the CPU like PyTorch). The GPU-only cells measure them.
#
# ### PyTorch

# %%
# GPU-only cell: asynchronous launch, pinned copies, PYTORCH_CUDA_ALLOC_CONF, CUDA_VISIBLE_DEVICES; on a CPU the [no GPU] line.
if torch.cuda.is_available():
    import time

    a = torch.randn(4096, 4096, device="cuda")
    torch.cuda.synchronize()
    start = time.perf_counter()
    product = a @ a
    queued = time.perf_counter() - start
    torch.cuda.synchronize()
    print(f"a @ a returned after {queued * 1e3:.2f} ms; the GPU finished it after {(time.perf_counter() - start) * 1e3:.2f} ms")
    pageable = torch.randn(16 * 2**20)                      # 64 MiB of float32 in ordinary host memory
    for name, host in [("pageable", pageable), ("pinned", pageable.pin_memory())]:
        torch.cuda.synchronize()
        start = time.perf_counter()
        on_gpu = host.to("cuda", non_blocking=True)
        queued = time.perf_counter() - start
        torch.cuda.synchronize()
        print(f"{name:<8} .to('cuda', non_blocking=True) returned after {queued * 1e3:.2f} ms, "
              f"copied after {(time.perf_counter() - start) * 1e3:.2f} ms")
    BACKEND = "import torch; torch.zeros(1, device='cuda'); print(torch.cuda.get_allocator_backend())"
    for env in [{}, {"PYTORCH_CUDA_ALLOC_CONF": "backend:cudaMallocAsync"}]:
        print(f"allocator with {env or 'no PYTORCH_CUDA_ALLOC_CONF'}:", devices.run_fresh({"a": BACKEND}, env=env)["a"][-1])
    COUNT = "import torch; print(torch.cuda.device_count())"
    print("GPUs torch sees:", devices.run_fresh({"a": COUNT})["a"][-1],
          "| with CUDA_VISIBLE_DEVICES='':", devices.run_fresh({"a": COUNT}, env={"CUDA_VISIBLE_DEVICES": ""})["a"][-1])
else:
    print(devices.no_gpu("Timing an asynchronous CUDA launch and pinned-memory copies, reading the allocator's settings",
                         "a CPU operation has finished when it returns, so there is nothing to synchronise "
                         "and no page-locked copy to time"))

# %% [markdown]
# ### TensorFlow
#
# The same launch is asynchronous in TensorFlow (eager GPU ops queue too); `set_visible_devices`
# must come before the first operation, so a fresh process shows it.

# %%
# GPU-only cell: TensorFlow's asynchronous launch and its visible GPUs; on a CPU the [no GPU] line.
VISIBLE = """
import tensorflow as tf
gpus = tf.config.list_physical_devices("GPU")
tf.config.set_visible_devices([], "GPU")               # before the first operation
print(f"{len(gpus)} physical GPU(s), {len(tf.config.list_logical_devices('GPU'))} visible to TensorFlow")
"""
if gpus:
    import time

    with tf.device("/GPU:0"):
        a = tf.random.normal((4096, 4096))
        tf_utils.synchronize()
        start = time.perf_counter()
        product = a @ a
        queued = time.perf_counter() - start
        tf_utils.synchronize()
    print(f"a @ a returned after {queued * 1e3:.2f} ms; the GPU finished it after {(time.perf_counter() - start) * 1e3:.2f} ms")
    print("set_visible_devices([], 'GPU'):", devices.run_fresh({"a": VISIBLE})["a"][-1])
else:
    print(devices.no_gpu("Timing TensorFlow's asynchronous GPU launch and hiding GPUs with set_visible_devices",
                         f"TensorFlow lists {len(gpus)} GPU, so there is nothing to launch on or to hide"))

# %% [markdown]
# ## CPU threads and logical devices
#
# Without a GPU, two things are still worth controlling: how many threads an operation uses, and,
# in TensorFlow, how many devices your code sees.
#
# ### PyTorch
#
# PyTorch's intra-op thread count can change at any time, for one measurement, say, and back.
# PyTorch has one CPU device; to try multi-device code on a CPU it uses several processes (lesson
# 11), not logical devices.

# %%
torch.set_num_threads(1)
one_thread = torch.get_num_threads()
torch.set_num_threads(2)
print(f"threads: set to {one_thread}, then back to {torch.get_num_threads()}")

# %% [markdown]
# ### TensorFlow
#
# The two logical CPUs from the configuration cell behave like two devices: a distribution
# strategy mirrors a variable on both, as it would on two GPUs.

# %%
strategy = tf.distribute.MirroredStrategy(["/CPU:0", "/CPU:1"])
with strategy.scope():
    v = tf.Variable(1.0)
print(f"replicas: {strategy.num_replicas_in_sync}; {type(v).__name__} copies on "
      f"{[tf_utils.device_of(copy) for copy in v.values]}")

# %% [markdown]
# ### Exercise 6.3 ★★☆ (~5 min)
#
# Split a computation over the two logical CPUs by hand. Compute rows 0-1 of `X @ W` on `/CPU:0`
# and rows 2-3 on `/CPU:1` (make each half's inputs and multiply them under its own `tf.device`), and assign the list of the two
# result tensors, `[part_0, part_1]`, to `answer`.

# %% tags=["solution"]
parts = []
for i in range(2):
    with tf.device(f"/CPU:{i}"):
        parts.append(tf.constant(X[2 * i:2 * i + 2]) @ tf.constant(W))
answer = parts

# %%
cu.check.split_over_logical_cpus(answer)

# %% [markdown]
# ## Device-agnostic code
#
# One `device` variable at the top, and code that never names a device again: the same cells
# then run on a laptop and on a GPU machine. One training step of a linear classifier on the
# digits, with the same starting weights in both frameworks.

# %%
data = cu.load_digits()
X_batch = data.X_train[:64].reshape(64, -1)            # (64, 64) float32
y_batch = data.y_train[:64]
W0 = np.random.default_rng(0).normal(0, 0.1, (64, 10)).astype(np.float32)
lr = 0.5

# %% [markdown]
# ### PyTorch
#
# Move the model once, and every batch as it arrives.

# %%
device = pt_utils.default_device()
model = torch.nn.Linear(64, 10, bias=False).to(device)
with torch.no_grad():
    model.weight.copy_(torch.from_numpy(W0.T))
optimizer = torch.optim.SGD(model.parameters(), lr=lr)
X_dev, y_dev = torch.from_numpy(X_batch).to(device), torch.from_numpy(y_batch).to(device)

loss = F.cross_entropy(model(X_dev), y_dev)
optimizer.zero_grad()
loss.backward()
optimizer.step()
loss_pt = loss.item()
loss_after_pt = F.cross_entropy(model(X_dev), y_dev).item()
print(f"on {device}: loss {loss_pt:.4f} → {loss_after_pt:.4f} after one step")

# %% [markdown]
# ### TensorFlow
#
# Nothing to move: TensorFlow would put all of this on the default device by itself. The
# `with tf.device(device)` block only makes the choice visible (and overridable) in one place.

# %%
device = tf_utils.default_device()
with tf.device(device):
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(10, use_bias=False)])
    model.layers[0].set_weights([W0])
    optimizer = keras.optimizers.SGD(learning_rate=lr)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    with tf.GradientTape() as tape:
        loss = loss_fn(y_batch, model(X_batch))
    optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_weights), model.trainable_weights))
    loss_tf = float(loss)
    loss_after_tf = float(loss_fn(y_batch, model(X_batch)))
print(f"on {device}: loss {loss_tf:.4f} → {loss_after_tf:.4f} after one step")

# %%
cu.compare("losses", np.array([loss_pt, loss_after_pt], np.float32), np.array([loss_tf, loss_after_tf], np.float32))

# %% [markdown]
# ## Summary
#
# - **List devices and read placement:** `torch.cuda.is_available()`, `torch.backends.mps`,
#   `torch.accelerator` and `x.device` in PyTorch; `tf.config.list_physical_devices()` /
#   `list_logical_devices()` and `x.device` (a long name) in TensorFlow.
# - **Place computation:** PyTorch runs an operation where its inputs are; you choose with
#   `device=`, `.to(device)` (which returns a new tensor but moves a module in place) or
#   `with torch.device(...)`. TensorFlow's runtime places every operation (GPU first), and
#   `with tf.device(...)` overrides it; soft placement falls back silently.
# - **Mixed devices:** PyTorch raises `RuntimeError` when a model and a batch are on different
#   devices (fix: move one to the other), and `torch.load` of a GPU checkpoint on a CPU-only
#   machine raises until `map_location=` names a device that exists. TensorFlow moves the input to
#   where the operation runs, without a word: between logical CPUs without copying (the same
#   memory), between host and GPU with a copy on every call (the GPU-only timing cell). Its
#   explicit device policy makes it refuse instead, as PyTorch does.
# - **CUDA basics:** GPU work is queued asynchronously (synchronise before reading a clock); pinned
#   memory lets `.to("cuda", non_blocking=True)` copy in the background; `PYTORCH_ALLOC_CONF` (alias
#   `PYTORCH_CUDA_ALLOC_CONF`) tunes PyTorch's allocator; `CUDA_VISIBLE_DEVICES` and `tf.config.set_visible_devices` choose the
#   GPUs a process sees.
# - **Configure first:** TensorFlow's threads, logical devices and GPU memory options only before
#   its first operation (then `RuntimeError`), the placement log likewise (then silently ignored);
#   PyTorch's inter-op threads once. PyTorch reports its caching allocator with
#   `memory_allocated`/`memory_reserved`/`max_memory_allocated`; TensorFlow with `get_memory_info`.
# - **Device-agnostic code:** one `device` string (`pt_utils.default_device()` /
#   `tf_utils.default_device()`), the model moved once, each batch moved as it arrives.
#
# ## PyTorch vs TensorFlow
#
# | concept | PyTorch | TensorFlow | gotcha |
# |---|---|---|---|
# | list devices | `torch.cuda.is_available()`, `torch.accelerator.current_accelerator()` | `tf.config.list_physical_devices()` | listing *physical* devices does not start TF's runtime; the first operation does |
# | a tensor's device | `x.device` → `cpu` | `x.device` → `/job:localhost/.../device:CPU:0` | a Keras weight: `w.value.device` |
# | place | `device=`, `.to(device)`, `with torch.device(...)` | automatic, or `with tf.device(...)` | `t.to(d)` returns a copy; `model.to(d)` moves in place |
# | mixed devices | `RuntimeError` | a silent move (no copy between logical CPUs; a copy to/from a GPU) | `set_device_policy("explicit")` makes TF raise too |
# | checkpoint from a GPU on a CPU machine | `torch.load` raises | SavedModel/Keras files load anywhere | `torch.load(..., map_location=device)` |
# | asynchronous GPU work | `torch.cuda.synchronize()` before a clock | `tf_utils.synchronize()` (`sync_devices`) | a timer without it measures the launch |
# | which GPUs a process sees | `CUDA_VISIBLE_DEVICES` | `CUDA_VISIBLE_DEVICES` or `tf.config.set_visible_devices` | set before the framework starts / before the first op |
# | impossible request | error | soft placement: another device, silently | `set_soft_device_placement(False)` to see it |
# | placement log | print `.device` | `set_log_device_placement(True)` | before the first op only; C++ output, not in notebooks |
# | GPU memory | caching allocator, `memory_reserved`, `empty_cache`; `PYTORCH_ALLOC_CONF` (alias `PYTORCH_CUDA_ALLOC_CONF`) | grabs nearly all; `set_memory_growth`, `TF_FORCE_GPU_ALLOW_GROWTH`, `memory_limit` | TF settings before the first op |
# | threads | `set_num_threads` any time; interop once | `tf.config.threading.*` before the first op | `RuntimeError` when late |
# | several CPU devices | no (use processes) | `set_logical_device_configuration` | before the first op |
#
# ## Claims settled
#
# | claim | verdict | evidence |
# |---|---|---|
# | TensorFlow moves to the GPU automatically; PyTorch needs explicit placement | **partly** | True of the defaults: TensorFlow's runtime placed every operation by itself and moved a batch between devices without a word (*Mixed devices*, TensorFlow), while PyTorch refuses to mix devices (*Mixed devices*, PyTorch: the GPU-only cell and the GPU checkpoint's `RuntimeError`). But TensorFlow's automatic moving is a policy, not a law: `set_device_policy("explicit")` makes it refuse the same cross-device input with `InvalidArgumentError` (the cell on logical CPUs); PyTorch has a default device too (`with torch.device(...)`, *Placement*); and TensorFlow's automatic choice falls back silently (*Placement*, `asked for /GPU:0, ran on /CPU:0` here). |
# | TensorFlow gives no control over GPU memory / takes all of it | **partly** | "Takes all of it" is still the default: TensorFlow reserves nearly all of a GPU's memory when it starts. "No control" is false: a hard `memory_limit` (the configuration cell), `set_memory_growth`, and `TF_FORCE_GPU_ALLOW_GROWTH=true` change it, all before the first operation (*Configure*, the `RuntimeError`). *Memory*'s GPU-only cells measure the 1 GiB limit raising `ResourceExhaustedError` and TensorFlow's share of the GPU with each switch; this CPU-only run prints their `[no GPU]` lines, so here the evidence is that the configuration cell ran, not a measurement. |
# | PyTorch will not run without CUDA | **false** | This whole notebook ran PyTorch on a CPU (*List the devices*: `CUDA available: False`), including a training step (*Device-agnostic code*). Only asking a CPU-only build for `cuda` fails, and loading a GPU checkpoint without `map_location=`. |
#
# ## Further reading
#
# - PyTorch: [CUDA semantics](https://pytorch.org/docs/stable/notes/cuda.html) (the caching
#   allocator, `memory_reserved`, `empty_cache`, `PYTORCH_CUDA_ALLOC_CONF`, asynchronous execution,
#   pinned memory), [`torch.accelerator`](https://pytorch.org/docs/stable/accelerator.html),
#   [`torch.load`'s `map_location`](https://pytorch.org/docs/stable/generated/torch.load.html),
#   [the meta device](https://pytorch.org/docs/stable/meta.html).
# - TensorFlow: [Use a GPU](https://www.tensorflow.org/guide/gpu) (placement logs, memory growth,
#   logical devices, `TF_FORCE_GPU_ALLOW_GROWTH`), [`tf.config`](https://www.tensorflow.org/api_docs/python/tf/config),
#   [`set_device_policy`](https://www.tensorflow.org/api_docs/python/tf/config/experimental/set_device_policy).
# - Lesson 11 · Distributed uses the logical CPUs with `MirroredStrategy`; lesson 12 · Performance
#   measures threads and memory.

# %% [markdown]
# ## One minute, optional: how was this lesson?
#
# If you like, replace `clarity=None` below with how clear this lesson was (1 = lost, 5 = clear), add one sentence as `comment`, and run the cell. Only those two things are kept, in your own folder (`build/record/` on a laptop, your folder on the hub), next to your checks' verdicts that the instructor's board reads; `cu.progress()` shows your record and `cu.progress(recording=False)` turns recording off.

# %%
cu.feedback("06", clarity=None, comment="")
