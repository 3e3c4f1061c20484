# %% [markdown]
# # 09 · Saving and deploying, loaded where the model code is not
#
# **Time:** 40 min teaching + 15 min exercises
#
# **Prerequisites:** 03 · The same model (the MLP and CNN, `port_weights`), 04 · Graphs (`torch.export`, `tf.function`)
#
# **Objectives:**
# - Save and resume training in both frameworks (weights *and* optimizer state), and load checkpoints without running a pickle.
# - Export whole programs (`torch.export` `.pt2`, SavedModel) and load them in a process that has no model code, from Python and from C/C++.
# - Convert both models to ONNX and the Keras model to LiteRT (float and int8), and measure what each costs in size and accuracy.
# - Serve both models over HTTP on 127.0.0.1 and swap a model version under load with no failed request.
# - Settle four claims about saving and deployment from the cells that ran.

# %% [markdown]
# ## Setup
#
# All imports, then `cu.setup`. `course_utils.lessons.deploy` holds the plumbing that would distract:
# a runner for fresh Python processes, a cached C/C++ build, the versioned model folder with its hot
# swap, the model service and a load-test client. The files of a run go to its own empty folder
# (`WORK`, from `course_utils.base.paths.run_scratch`, git-ignored); compiled programs are cached in
# `build/cache/09_saving_deploying/` (see "Beyond Python").

# %%
import json
import logging
import os
import shutil
import sys
import warnings
import zipfile

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
import torch
from torch import nn

import course_utils as cu
from course_utils import pt_utils, tf_utils
from course_utils.base import servers
from course_utils.lessons import deploy

cu.setup(seed=0)
WORK = deploy.run_dir()      # this kernel's own empty folder: a second run of the lesson never shares it
logging.getLogger("torch.onnx").setLevel(logging.ERROR)   # onnx exporter progress lines
logging.getLogger("tf2onnx").setLevel(logging.ERROR)

# %% [markdown]
# The model to deploy: the lesson-03 CNN, trained 3 epochs in PyTorch and ported to Keras, so both
# frameworks hold *the same* model and every export below can be compared with one reference.

# %%
data = cu.load_digits()
images_pt, images_tf = pt_utils.add_channel_axis(data.X_test), tf_utils.add_channel_axis(data.X_test)   # NCHW, NHWC
rng = np.random.default_rng(0)
orders = [rng.permutation(len(data.X_train)) for _ in range(5)]


def train_cnn(model, epochs):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    for order in epochs:
        pt_utils.train_epoch(model, pt_utils.add_channel_axis(data.X_train[order]), data.y_train[order],
                             nn.CrossEntropyLoss(), optimizer)
    return model.eval()


cnn_pt = train_cnn(pt_utils.build_cnn(), orders[:3])
cnn_tf = tf_utils.build_cnn()
tf_utils.port_weights(cnn_pt, cnn_tf)
logits_ref = pt_utils.predict(cnn_pt, images_pt)            # the reference every copy must reproduce
print(f"test accuracy: PyTorch {pt_utils.evaluate(cnn_pt, images_pt, data.y_test):.4f} | "
      f"Keras {tf_utils.evaluate(cnn_tf, images_tf, data.y_test):.4f}")
cu.compare("cnn logits", logits_ref, tf_utils.predict(cnn_tf, images_tf))

# %% [markdown]
# ## Checkpoints: weights and optimizer state
#
# A checkpoint is what training needs to go on: the weights, and the optimizer's own state (here
# SGD's momentum buffers). PyTorch keeps both in plain dicts of tensors (`state_dict()`) that you
# save yourself; Keras saves the model, its configuration and its compiled optimizer in one `.keras`
# file, and TensorFlow's `tf.train.Checkpoint` saves any set of variables. The test of a checkpoint:
# the resumed run takes exactly the same next step as the one that never stopped.
#
# ### PyTorch: `state_dict` + `torch.save`, loaded with `weights_only=True`

# %%
X_small, y_small = data.X_train[:320].reshape(-1, 64), data.y_train[:320]
X_next, y_next = data.X_train[320:352].reshape(-1, 64), data.y_train[320:352]
torch.manual_seed(0)
mlp_pt = pt_utils.build_mlp()
optimizer_pt = torch.optim.SGD(mlp_pt.parameters(), lr=0.1, momentum=0.9)
pt_utils.train_epoch(mlp_pt, X_small, y_small, nn.CrossEntropyLoss(), optimizer_pt)   # 10 steps
torch.save({"model": mlp_pt.state_dict(), "optimizer": optimizer_pt.state_dict(), "epoch": 1}, WORK / "mlp.pt")

checkpoint = torch.load(WORK / "mlp.pt", weights_only=True)
resumed_pt = pt_utils.build_mlp()
resumed_pt.load_state_dict(checkpoint["model"])
resumed_opt_pt = torch.optim.SGD(resumed_pt.parameters(), lr=0.1, momentum=0.9)
resumed_opt_pt.load_state_dict(checkpoint["optimizer"])
sorted(checkpoint), list(checkpoint["optimizer"]["state"][0])

# %% [markdown]
# One more step for the run that never stopped, one for the resumed run, and one for a run that
# restored only the weights (a fresh optimizer, momentum lost):

# %%
weights_only_pt = pt_utils.build_mlp()
weights_only_pt.load_state_dict(checkpoint["model"])
runs = {"never stopped": (mlp_pt, optimizer_pt), "resumed": (resumed_pt, resumed_opt_pt),
        "weights only": (weights_only_pt, torch.optim.SGD(weights_only_pt.parameters(), lr=0.1, momentum=0.9))}
for name, (model, optimizer) in runs.items():
    pt_utils.train_epoch(model, X_next, y_next, nn.CrossEntropyLoss(), optimizer)
cu.compare("resumed", resumed_pt.fc1.weight, mlp_pt.fc1.weight, atol=0.0)
cu.compare("weights only", weights_only_pt.fc1.weight, mlp_pt.fc1.weight, atol=0.0)

# %% [markdown]
# ### TensorFlow: `model.save("*.keras")`, `save_weights`, `tf.train.Checkpoint`
#
# A compiled Keras model saves its optimizer's variables inside the `.keras` file;
# `save_weights` keeps the weights only; `tf.train.Checkpoint` saves whatever objects you name, and
# `read` restores them into new objects. Its restore is *deferred*: the optimizer's momentum slots do
# not exist until its first step, so they are filled when they are created. Hence
# `assert_existing_objects_matched()` (what exists now was restored) and not `assert_consumed()`
# (which fails here, naming the momentum slots, until that step).

# %%
keras.utils.set_random_seed(0)
mlp_tf = tf_utils.build_mlp()
mlp_tf.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1, momentum=0.9),
               loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
loss_fn_tf = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
tf_utils.train_epoch(mlp_tf, X_small, y_small, loss_fn_tf, mlp_tf.optimizer)   # 10 steps
mlp_tf.save(WORK / "mlp.keras")
mlp_tf.save_weights(WORK / "mlp.weights.h5")
tf.train.Checkpoint(model=mlp_tf, optimizer=mlp_tf.optimizer).write(str(WORK / "mlp_ckpt"))

resumed_tf = keras.models.load_model(WORK / "mlp.keras")       # architecture + weights + optimizer
weights_only_tf = tf_utils.build_mlp()
weights_only_tf.load_weights(WORK / "mlp.weights.h5")
restored_ckpt, restored_opt = tf_utils.build_mlp(), keras.optimizers.SGD(learning_rate=0.1, momentum=0.9)
status = tf.train.Checkpoint(model=restored_ckpt, optimizer=restored_opt).read(str(WORK / "mlp_ckpt"))
status.assert_existing_objects_matched()                       # the slots come with the first step
for model, optimizer in [(mlp_tf, mlp_tf.optimizer), (resumed_tf, resumed_tf.optimizer), (restored_ckpt, restored_opt),
                         (weights_only_tf, keras.optimizers.SGD(learning_rate=0.1, momentum=0.9))]:
    tf_utils.train_epoch(model, X_next, y_next, loss_fn_tf, optimizer)
cu.compare("resumed", resumed_tf.get_layer("fc1").kernel, mlp_tf.get_layer("fc1").kernel, atol=0.0)
cu.compare("tf.train.Checkpoint resumed", restored_ckpt.get_layer("fc1").kernel, mlp_tf.get_layer("fc1").kernel, atol=0.0)
cu.compare("weights only", weights_only_tf.get_layer("fc1").kernel, mlp_tf.get_layer("fc1").kernel, atol=0.0)

# %% [markdown]
# What is inside each file. Both `.pt` and `.keras` are zip archives; torch's holds `data.pkl`, a
# **pickle** that describes the dict and points at the raw tensor files next to it.

# %%
for path in ["mlp.pt", "mlp.keras"]:
    print(f"{path:10}", sorted(name.split("/", 1)[-1] for name in zipfile.ZipFile(WORK / path).namelist()))
print("tf.train.Checkpoint:", sorted(p.name for p in WORK.glob("mlp_ckpt*")))

# %% [markdown]
# | | PyTorch | TensorFlow / Keras |
# |---|---|---|
# | weights | `model.state_dict()` → `torch.save` | `model.save_weights("*.weights.h5")` |
# | weights + optimizer | your dict: `{"model": ..., "optimizer": ...}` | `model.save("*.keras")` (compiled), `tf.train.Checkpoint` |
# | architecture | not saved: the class must exist to load | in `.keras` (`config.json`): rebuilt by `load_model` |
# | resume equals never stopped | exact (above) | exact (above), from `.keras` and from `tf.train.Checkpoint` |
#
# ## Safe loading: a pickle can run code
#
# Unpickling calls whatever callables the file names: a checkpoint from a stranger can run code on
# your machine as it loads. That is why `torch.load` defaults to `weights_only=True` (tensors, dicts,
# lists and numbers only) and Keras' `load_model` to `safe_mode=True`. Both are safe on current
# versions, but both have had bypasses, fixed since (CVE-2025-32434: code execution through
# `weights_only=True` before torch 2.6; CVE-2025-1550: a `.keras` config with `safe_mode=True` before
# Keras 3.9): keep the libraries updated, and for files from strangers prefer safetensors (below).
#
# ### PyTorch: `weights_only=True` refuses a payload
#
# `Payload` pickles itself as "call `print(...)`". `torch.save` writes it; `torch.load` with
# `weights_only=True` refuses to call anything it was not told about, so the next cell fails
# with `UnpicklingError`, and nothing is printed by the payload.

# %%
class Payload:
    def __reduce__(self):
        return (print, ("this ran while the checkpoint was loading",))


torch.save({"model": mlp_pt.state_dict(), "extra": Payload()}, WORK / "suspicious.pt")

# %% tags=["raises-exception"]
torch.load(WORK / "suspicious.pt", weights_only=True)

# %% [markdown]
# ### TensorFlow: `safe_mode=True` refuses a lambda
#
# A Keras `Lambda` layer stores its Python function as bytecode in the `.keras` file. Loading it
# would run that code, so `load_model` refuses unless told `safe_mode=False`:

# %%
with_lambda = keras.Sequential([keras.Input((3,)), keras.layers.Lambda(lambda x: x * 2.0)])
with_lambda.save(WORK / "lambda.keras")

# %% tags=["raises-exception"]
keras.models.load_model(WORK / "lambda.keras")

# %% [markdown]
# ## safetensors: tensors and nothing else, for both
#
# The fix for both: a format that *cannot* hold code. A safetensors file is a JSON header (names,
# dtypes, shapes, offsets) and raw bytes; loading it never executes anything, and the same file
# opens in NumPy, torch or TensorFlow.
#
# ### PyTorch

# %%
from safetensors.torch import load_file as load_torch, save_file as save_torch

save_torch(mlp_pt.state_dict(), WORK / "mlp_pt.safetensors")
restored_pt = pt_utils.build_mlp()
restored_pt.load_state_dict(load_torch(WORK / "mlp_pt.safetensors"))
cu.compare("fc2.weight", restored_pt.fc2.weight, mlp_pt.fc2.weight, atol=0.0)

# %% [markdown]
# ### TensorFlow
#
# Keras variables carry unique paths (`fc1/kernel`), which become the tensor names.

# %%
from safetensors.numpy import load_file as load_numpy, save_file as save_numpy

save_numpy({w.path: np.asarray(w) for w in mlp_tf.weights}, WORK / "mlp_tf.safetensors")
restored_tf = tf_utils.build_mlp()
tensors = load_numpy(WORK / "mlp_tf.safetensors")
for w in restored_tf.weights:
    w.assign(tensors[w.path])
print(sorted(tensors))
cu.compare("fc2/kernel", restored_tf.get_layer("fc2").kernel, mlp_tf.get_layer("fc2").kernel, atol=0.0)

# %% [markdown]
# ### Exercise 9.1 ★★☆ (~6 min)
#
# A run of a tiny model (`Linear(4, 3)` / `Dense(3)`, SGD with `lr=0.5`, `momentum=0.9`) was stopped
# after one step; its checkpoint is below, in both formats. Resume it: rebuild the model and the
# optimizer, restore **both**, take **one** step on `(X_resume, y_resume)` with cross-entropy, and
# set `answer` to the weight after that step (torch `weight` (3, 4) or Keras `kernel` (4, 3)).

# %%
from course_utils.check import lesson09

X_resume, y_resume = lesson09.RESUME_X, lesson09.RESUME_Y
resume_pt = lesson09.make_resume_checkpoint_pt(WORK / "resume.pt")        # a torch.save'd dict
resume_tf = lesson09.make_resume_checkpoint_tf(WORK / "resume.keras")     # a compiled .keras file
resume_pt.name, resume_tf.name

# %% tags=["solution"]
checkpoint = torch.load(resume_pt, weights_only=True)
tiny = nn.Linear(4, 3)
tiny.load_state_dict(checkpoint["model"])
tiny_opt = torch.optim.SGD(tiny.parameters(), lr=0.5, momentum=0.9)
tiny_opt.load_state_dict(checkpoint["optimizer"])
tiny_opt.zero_grad()
nn.CrossEntropyLoss()(tiny(torch.from_numpy(X_resume)), torch.from_numpy(y_resume)).backward()
tiny_opt.step()
answer = tiny.weight.detach()

# %%
cu.check.resume_step(answer)

# %% [markdown]
# ## Whole programs without the model code
#
# A checkpoint needs the class that made it. To run a model where its code does not exist (a server,
# a phone, C++), save the *program*: the graph of operations and the weights.
#
# ### PyTorch: `torch.export` → `.pt2`, and TorchScript (legacy)
#
# `torch.export` captures `forward` as an `ExportedProgram` of ATen operations (by default non-strict:
# it runs your Python with fake tensors; `strict=True` traces with TorchDynamo instead). By default every
# shape is fixed to the example's; `dynamic_shapes` leaves the batch free. The `.pt2` it saves needs
# no model class, but it does need Python and torch to load (`torch.export.load`): an `ExportedProgram`
# is run by torch's Python interpreter of ATen ops. To run it *without* Python it must be compiled
# first, by AOTInductor into a shared library for one platform (run from C++ below) or by
# ExecuTorch into a `.pte` for phones and microcontrollers.

# %%
batch = torch.export.Dim("batch", min=1, max=4096)
program = torch.export.export(cnn_pt, (torch.from_numpy(images_pt[:2]),), dynamic_shapes={"x": {0: batch}})
torch.export.save(program, WORK / "cnn.pt2")
sorted({str(node.target) for node in program.graph.nodes if node.op == "call_function"})

# %% [markdown]
# TorchScript (`torch.jit.trace`/`script`) was PyTorch's first whole-program format, loadable from
# C++ with `torch::jit::load` (below). It still works in 2.13, but every `torch.jit` entry point now
# warns that it is deprecated; new code uses `torch.export`. The warning, caught and shown:

# %%
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    scripted = torch.jit.trace(cnn_pt, torch.from_numpy(images_pt[:2]))
    scripted.save(str(WORK / "cnn_torchscript.pt"))
print(next(f"{w.category.__name__}: {w.message}" for w in caught if str(w.message).startswith("`torch.jit.trace`")))
np.save(WORK / "images_nchw.npy", images_pt)
np.save(WORK / "images_nhwc.npy", images_tf)

# %% [markdown]
# ### TensorFlow: SavedModel with `model.export`
#
# `model.export` writes a SavedModel: the traced graph (`saved_model.pb`), the variables, and a
# *signature*, the named entry point `serving_default` that TensorFlow Serving calls. (For a
# `tf.Module` that is not Keras, `tf.saved_model.save` does the same.) Naming the input makes the
# signature readable. The cell reads the signature back with the library behind the command line's
# `saved_model_cli show --dir cnn_savedmodel --tag_set serve --signature_def serving_default`
# (the same facts, without starting a second Python); Keras 3 itself reloads a SavedModel only as a
# layer, `keras.layers.TFSMLayer` (`load_model` refuses one).

# %%
from tensorflow.python.tools import saved_model_utils

signature = [tf.TensorSpec((None, 8, 8, 1), tf.float32, name="images")]
cnn_tf.export(WORK / "cnn_savedmodel", verbose=False, input_signature=signature)
print(sorted(p.name for p in (WORK / "cnn_savedmodel").iterdir()))
serving = saved_model_utils.get_meta_graph_def(str(WORK / "cnn_savedmodel"), "serve").signature_def["serving_default"]
for kind, tensors in [("input", serving.inputs), ("output", serving.outputs)]:
    for key, info in tensors.items():
        shape = tuple(d.size for d in info.tensor_shape.dim)
        print(f"{kind} {key!r}: {tf.dtypes.as_dtype(info.dtype).name} {shape}, graph tensor {info.name}")
print("method:", serving.method_name)

# %% [markdown]
# ### Load both in processes that never saw the model code
#
# `deploy.run_fresh` starts a new Python that imports only the framework, runs the snippet and
# returns its `result` dict, plus two proofs: whether `course_utils` (where the classes live) was
# imported, and which classes the process defined. `run_fresh_together` starts the two at once.

# %%
loaded_pt, loaded_tf = deploy.run_fresh_together("""
    import numpy as np, torch
    x = torch.from_numpy(np.load("images_nchw.npy", allow_pickle=False))
    np.save("out_export.npy", torch.export.load("cnn.pt2").module()(x).detach().numpy())
    np.save("out_torchscript.npy", torch.jit.load("cnn_torchscript.pt")(x).detach().numpy())
    result["loaded"] = ["cnn.pt2", "cnn_torchscript.pt"]
""", """
    import numpy as np, tensorflow as tf
    x = tf.constant(np.load("images_nhwc.npy", allow_pickle=False))
    loaded = tf.saved_model.load("cnn_savedmodel")
    np.save("out_savedmodel.npy", loaded.signatures["serving_default"](images=x)["output_0"].numpy())
    result["loaded"] = ["cnn_savedmodel"]
""", cwd=WORK)
loaded_pt, loaded_tf

# %%
for name in ["export", "torchscript", "savedmodel"]:
    cu.compare(name, np.load(WORK / f"out_{name}.npy", allow_pickle=False), logits_ref)

# %% [markdown]
# ### Exercise 9.2 ★★☆ (~6 min)
#
# The two programs below were exported with a batch of 32 written in: torch's traced without
# `dynamic_shapes`, TensorFlow's with a signature of shape `(32, 64)`. Both refuse a batch of 5 (run
# the cells: torch's error names the guard, TensorFlow's the signature it has). Export `mlp_ex_pt` (or
# its Keras twin `mlp_ex_tf`) again so that the **loaded** program accepts any batch from 1 to 64, and
# set `answer` to what you loaded back: `torch.export.load(...)` (or its `.module()`) or
# `tf.saved_model.load(...)`.

# %%
mlp_ex_pt = lesson09.exercise_mlp_pt()
mlp_ex_tf = tf_utils.build_mlp()
_ = tf_utils.port_weights(mlp_ex_pt, mlp_ex_tf)
fixed = torch.export.export(mlp_ex_pt, (torch.zeros(32, 64),))
mlp_ex_tf.export(WORK / "mlp_fixed_tf", verbose=False, input_signature=[tf.TensorSpec((32, 64), tf.float32)])
fixed_tf = tf.saved_model.load(str(WORK / "mlp_fixed_tf"))

# %% tags=["raises-exception"]
fixed.module()(torch.zeros(5, 64))

# %% tags=["raises-exception"]
fixed_tf.serve(tf.zeros((5, 64)))

# %% tags=["solution"]
exported = torch.export.export(mlp_ex_pt, (torch.zeros(32, 64),),
                               dynamic_shapes={"x": {0: torch.export.Dim("batch", min=1, max=64)}})
torch.export.save(exported, WORK / "mlp_any_batch.pt2")
answer = torch.export.load(WORK / "mlp_any_batch.pt2")

# %%
cu.check.any_batch_export(answer)

# %% [markdown]
# ## Beyond Python: C and C++
#
# The same two models, loaded by small C/C++ programs linked against the libraries that ship
# *inside the pip wheels*, with the compiler lesson 00 checks for:
#
# | | PyTorch | TensorFlow |
# |---|---|---|
# | library | libtorch: `torch/lib`, headers in `torch/include` | `libtensorflow_cc.so.2`, headers in `tensorflow/include` |
# | what C++ loads | an **AOTInductor** package: the exported program compiled to a `.so`, in a `.pt2` | the **SavedModel**, through the C API (`TF_LoadSessionFromSavedModel`) |
# | what C++ loads, legacy | a **TorchScript** file, through `torch::jit::load` | — |
# | source | `deploy_src/torch_run.cpp` | `deploy_src/tf_run.c` |
#
# Both programs read the test images from a raw float32 file, write the logits back the same way,
# and report whether a Python library is mapped into their process (they read `/proc/self/maps`;
# elsewhere they say "unknown"). Builds are cached: `deploy.build` compiles once per hash of (source, flags, compiler) into
# `build/cache/09_saving_deploying/bin/`; `deploy.aoti_package` compiles the exported program (tens
# of seconds on 2 cores) and caches it under a hash of the weights, the graph, the torch version and
# the CPU's instruction set. A fresh clone compiles everything once (see the timing note at the end);
# a machine that cannot compile (no C++ compiler, no OpenMP on macOS) skips these cells with the reason.
# Each cell prints the few lines of its program that load and run the model, with the program's length.
#
# ### PyTorch: AOTInductor package and TorchScript, with libtorch

# %%
from torch.utils import cpp_extension

print(deploy.key_lines(deploy.SOURCES / "torch_run.cpp", "AOTIModelPackageLoader loader", "loader.run",
                       "torch::jit::load", "module.forward"))
package, how = deploy.aoti_package(program)   # the exported program compiled to a shared library (slow, once)
flags_pt = ([f"-I{p}" for p in cpp_extension.include_paths()] + [f"-L{p}" for p in cpp_extension.library_paths()]
            + [f"-Wl,-rpath,{p}" for p in cpp_extension.library_paths()]
            + ["-std=c++20", "-O1", f"-D_GLIBCXX_USE_CXX11_ABI={int(torch._C._GLIBCXX_USE_CXX11_ABI)}",
               "-ltorch", "-ltorch_cpu", "-lc10"])
try:
    torch_run = deploy.build(deploy.SOURCES / "torch_run.cpp", flags_pt)
except cu.CourseError as exc:                 # no C++ compiler here: say why, skip the C++ runs
    torch_run, package, how = None, None, str(exc)
if package is None:
    print("skipped the AOTInductor run:", how)
images_pt.astype("<f4").tofile(WORK / "images_nchw.f32")
for mode, saved in [("aoti", package), ("torchscript", WORK / "cnn_torchscript.pt")]:
    if torch_run is None or saved is None:
        continue
    print(deploy.run_binary(torch_run, mode, str(saved), str(WORK / "images_nchw.f32"), *map(str, images_pt.shape),
                            str(WORK / f"out_cpp_{mode}.f32")))
    cu.compare(f"C++ {mode}", np.fromfile(WORK / f"out_cpp_{mode}.f32", "<f4").reshape(-1, 10), logits_ref)

# %% [markdown]
# ### TensorFlow: the C API on the SavedModel
#
# The C program needs the graph's tensor names for the signature's input and output: the
# `graph tensor` names the signature showed above (`serving`). The TF C API needs more ceremony per
# step (a status, a graph, session options, tensors made and deleted by hand) than libtorch's C++.

# %%
print(deploy.key_lines(deploy.SOURCES / "tf_run.c", "TF_LoadSessionFromSavedModel", "find(graph, argv[2])",
                       "TF_NewTensor(TF_FLOAT", "TF_SessionRun("))
input_name, output_name = serving.inputs["images"].name, serving.outputs["output_0"].name
lib = tf.sysconfig.get_lib()                 # libtensorflow_cc.so.2 on Linux, libtensorflow_cc.2.dylib on macOS
try:
    flags_tf = [f"-I{tf.sysconfig.get_include()}", "-O1", str(deploy.shared_library(lib, "tensorflow_cc", 2)),
                str(deploy.shared_library(lib, "tensorflow_framework", 2)), f"-Wl,-rpath,{lib}"]
    tf_run = deploy.build(deploy.SOURCES / "tf_run.c", flags_tf)
except cu.CourseError as exc:                 # no C compiler, or a wheel without the C library: say why, skip
    tf_run = None
    print("skipped the C run:", exc)
images_tf.astype("<f4").tofile(WORK / "images_nhwc.f32")
if tf_run is not None:
    print(deploy.run_binary(tf_run, str(WORK / "cnn_savedmodel"), input_name, output_name,
                            str(WORK / "images_nhwc.f32"), *map(str, images_tf.shape), str(WORK / "out_cpp_tf.f32")))
    cu.compare("C TF API", np.fromfile(WORK / "out_cpp_tf.f32", "<f4").reshape(-1, 10), logits_ref)

# %% [markdown]
# All three ran with no Python in the process, and equal to Python. Note what the AOTInductor
# package is: machine code for this platform and CPU (its cache key holds both), to be rebuilt for
# another one, like any compiled program; the SavedModel and TorchScript files are portable graphs
# that a runtime interprets. Java (not run here) has TensorFlow's Java bindings and, for PyTorch,
# ExecuTorch's Android bindings or ONNX Runtime's Java API.
#
# ## Exchange: ONNX from both, run with ONNX Runtime
#
# ONNX is a framework-neutral graph format; ONNX Runtime runs it on servers, phones and browsers.
#
# ### PyTorch: `torch.onnx.export`

# %%
import onnx
import onnxruntime as ort

with warnings.catch_warnings():
    warnings.simplefilter("ignore")   # a FutureWarning from the exporter's internals
    torch.onnx.export(cnn_pt, (torch.from_numpy(images_pt[:2]),), WORK / "cnn_pt.onnx", dynamo=True, external_data=False,
                      dynamic_shapes={"x": {0: torch.export.Dim("batch")}}, verbose=False)
exported_onnx = onnx.load(WORK / "cnn_pt.onnx")
print("source paths recorded:", any("pt_utils.py" in p.value for n in exported_onnx.graph.node for p in n.metadata_props))
for node in exported_onnx.graph.node:       # each node's debug record: the stack trace, with your file paths
    del node.metadata_props[:]
onnx.save(exported_onnx, WORK / "cnn_pt.onnx")
session_pt = ort.InferenceSession(WORK / "cnn_pt.onnx", providers=["CPUExecutionProvider"])
cu.compare("ORT (torch)", session_pt.run(None, {"x": images_pt})[0], logits_ref)

# %% [markdown]
# ### TensorFlow: `tf2onnx.convert.from_keras`
#
# (Keras 3's `model.export(path, format="onnx")` works on these pins too.)

# %%
import tf2onnx

tf2onnx.convert.from_keras(cnn_tf, input_signature=signature, opset=17, output_path=str(WORK / "cnn_tf.onnx"))
session_tf = ort.InferenceSession(WORK / "cnn_tf.onnx", providers=["CPUExecutionProvider"])
cu.compare("ORT (TF)", session_tf.run(None, {"images": images_tf})[0], logits_ref)

# %% [markdown]
# Two things about torch's file: `external_data=False` keeps the weights inside it (by default they
# go to a `cnn_pt.onnx.data` file beside it, which must travel with it), and each node carries a
# debug record with the Python stack trace that made it, **absolute paths of your files included**;
# the cell above removed those records before the file leaves the machine.
#
# The two files, side by side: the same five layers become different graphs. torch's exporter
# lowers flatten + dense to `Reshape` + `Gemm`; tf2onnx keeps Keras' NHWC semantics around an
# NCHW `Conv` with `Transpose`s and computes the flatten shape at run time.

# %%
for name in ["cnn_pt.onnx", "cnn_tf.onnx"]:
    graph = onnx.load(WORK / name)
    opsets = {o.domain or "ai.onnx": o.version for o in graph.opset_import}
    print(f"{name}: opset {opsets['ai.onnx']}, {len(graph.graph.node)} nodes:", " ".join(n.op_type for n in graph.graph.node))

# %% [markdown]
# ## Mobile and embedded: LiteRT and int8
#
# LiteRT (TensorFlow Lite's new name) runs a flat-buffer model with a small interpreter; the
# `ai-edge-litert` package has it without TensorFlow. Post-training **int8** quantisation stores
# weights and activations as 8-bit integers, calibrated on a few hundred training images.
#
# ### TensorFlow: the converter, float and int8
#
# The converter below starts from the SavedModel. Keras 3 has the same in one call,
# `cnn_tf.export(path, format="litert")`, which also takes `optimizations` and
# `representative_dataset` for int8; the converter shows what that call sets.

# %%
calibration = [data.X_train[i:i + 1, :, :, None] for i in range(200)]   # NHWC, one image at a time


def to_litert(int8):
    converter = tf.lite.TFLiteConverter.from_saved_model(str(WORK / "cnn_savedmodel"))
    if int8:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([x] for x in calibration)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]   # int8 kernels only
    return converter.convert()


litert_float, litert_int8 = to_litert(int8=False), to_litert(int8=True)
_ = (WORK / "cnn_float.tflite").write_bytes(litert_float), (WORK / "cnn_int8.tflite").write_bytes(litert_int8)

# %% [markdown]
# Run both with LiteRT's interpreter (no TensorFlow needed; built without the default XNNPACK
# delegate, whose start-up line would land in the output). The float model reproduces the
# reference; the int8 model's logits are compared with it below, next to the ONNX Runtime int8 model.

# %%
from ai_edge_litert.interpreter import Interpreter, OpResolverType


def run_litert(model_bytes, X):
    interpreter = Interpreter(model_content=model_bytes,
                              experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    interpreter.resize_tensor_input(inp["index"], X.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(inp["index"], X)
    interpreter.invoke()
    return interpreter.get_tensor(out["index"])


logits_float, logits_int8 = run_litert(litert_float, images_tf), run_litert(litert_int8, images_tf)
cu.compare("LiteRT float", logits_float, logits_ref)
print("LiteRT int8 logits:", logits_int8.shape, logits_int8.dtype)

# %% [markdown]
# ### PyTorch: what installs on these pins
#
# PyTorch's own mobile runtime is **ExecuTorch** (`.pte` files); `litert-torch` converts torch to
# LiteRT. Neither is in this environment: when this lesson was written, `litert-torch` 0.10.0
# wanted ~2 GB more (jax, transformers, torchao) and older pins of pydantic and typing_extensions, and
# `executorch` 1.5.1 resolved against torch 2.13 but with 27 more packages (coremltools,
# scikit-learn, torchao, hydra, ...). The route that does work here: the ONNX file from above,
# int8-quantised by ONNX Runtime (which also ships as ONNX Runtime Mobile), calibrated on the same images.

# %%
import importlib.util

from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

print({name: importlib.util.find_spec(name) is not None for name in ["executorch", "litert_torch"]})


class Calibration(CalibrationDataReader):
    def __init__(self):
        self.batches = iter([{"x": x.transpose(0, 3, 1, 2)} for x in calibration])   # NHWC → NCHW

    def get_next(self):
        return next(self.batches, None)


root = logging.getLogger()
level, root.level = root.level, logging.ERROR    # "consider pre-processing" advice, logged on the root logger
try:
    quantize_static(WORK / "cnn_pt.onnx", WORK / "cnn_pt_int8.onnx", Calibration(), quant_format=QuantFormat.QDQ,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)
finally:
    root.level = level
session_int8 = ort.InferenceSession(WORK / "cnn_pt_int8.onnx", providers=["CPUExecutionProvider"])
logits_ort_int8 = session_int8.run(None, {"x": images_pt})[0]
print("ONNX Runtime int8 logits:", logits_ort_int8.shape, logits_ort_int8.dtype)

# %% [markdown]
# What int8 stored, and what it cost. Inside the int8 files the weights are `int8` (1 byte instead
# of 4) and the biases `int32`; `float32` is left only where the model meets its caller (LiteRT) or
# in the scales (ONNX). The table gives each file's size, read from the files written above, and
# how many of the 359 test predictions each copy shares with the float model. The float copies make
# exactly the reference's predictions (asserted). An int8 copy can flip a prediction whose top two
# logits are close, and which ones flip depends on the runtime's integer kernels (they differ between
# CPUs), so the compared table states the bounds that are asserted; the next cell shows this
# machine's counts. Two lessons in it: the model has 810 parameters (3.2 kB as float32), so its
# files are mostly format overhead and int8 saves little (ONNX's QDQ format even adds a
# quantize/dequantize pair around every tensor; a model whose weights dominate its file shrinks
# towards a quarter); and two int8 toolchains on the same model need not be equally faithful (on
# one AMD Zen 3 machine ONNX Runtime's int8 copy flipped 12 of the 359 predictions and LiteRT's none,
# with the same accuracy by chance; the next cell shows this machine's counts), so compare a
# quantised model with its float model prediction by prediction, not by accuracy alone.

# %%
from collections import Counter

print("LiteRT int8 tensors:", dict(Counter(t["dtype"].__name__ for t in Interpreter(
    model_content=litert_int8, experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES).get_tensor_details())))
print("ONNX int8 initializers:", dict(Counter(onnx.helper.tensor_dtype_to_np_dtype(t.data_type).name
                                              for t in onnx.load(WORK / "cnn_pt_int8.onnx").graph.initializer)))
predictions_ref = np.argmax(logits_ref, axis=1)
accuracy_ref = np.mean(predictions_ref == data.y_test)
copies = {("LiteRT (from Keras)", "float32", "cnn_float.tflite"): logits_float,
          ("LiteRT (from Keras)", "int8", "cnn_int8.tflite"): logits_int8,
          ("ONNX Runtime (from torch)", "float32", "cnn_pt.onnx"): session_pt.run(None, {"x": images_pt})[0],
          ("ONNX Runtime (from torch)", "int8", "cnn_pt_int8.onnx"): logits_ort_int8}


def row(runtime, weights, file, logits):
    agree = np.mean(np.argmax(logits, axis=1) == predictions_ref)
    accuracy = np.mean(np.argmax(logits, axis=1) == data.y_test)
    if weights == "float32":
        assert agree == 1.0, "a float copy changed a prediction"
        shared, acc = "all 359", f"{accuracy:.4f}"
    else:
        assert agree >= 0.9 and abs(accuracy - accuracy_ref) < 0.03, (agree, accuracy)
        shared, acc = ">= 90% (next cell)", f"within 0.03 of {accuracy_ref:.4f}"
    return runtime, weights, f"{(WORK / file).stat().st_size / 1000:.1f} kB", shared, acc


table = pd.DataFrame([row(*key, logits) for key, logits in copies.items()],
                     columns=["runtime", "weights", "file", "predictions = float model's", "test accuracy"])
print(table.to_string(index=False))

# %% tags=["nbval-ignore-output"]
# Which predictions int8 flips depends on the CPU's integer kernels: this output is not compared; the
# asserts above hold on every machine. The logits' scale and the top-1 margin put max|diff| in proportion.
top2 = np.sort(logits_ref, axis=1)[:, -2:]
print(f"float logits up to |{np.abs(logits_ref).max():.1f}|, median gap between the top two {np.median(top2[:, 1] - top2[:, 0]):.1f}")
for (runtime, weights, file), logits in copies.items():
    if weights == "int8":
        flipped = int(np.sum(np.argmax(logits, axis=1) != predictions_ref))
        print(f"{runtime:26} int8: {359 - flipped}/359 predictions as float ({flipped} flipped), "
              f"max|diff| {np.abs(logits - logits_ref).max():.2f}, accuracy {np.mean(np.argmax(logits, axis=1) == data.y_test):.4f}")

# %% [markdown]
# ## Serving, with a hot swap under load
#
# TensorFlow Serving consumes SavedModels only (tag set `serve`; its REST `:predict` calls the
# `serving_default` signature unless the request names another), laid out as a *base path* with one
# folder per version (`cnn/1/`, `cnn/2/`). It polls that path; with the default policy it serves
# the highest version, loads a new one *beside* the old and unloads the old only once the new is
# ready, so for a while both are in memory. A folder it finds must be complete: write elsewhere,
# then move it in. Its binary
# (`tensorflow_model_server`) comes from Docker images or Google's apt repository, neither reachable
# here, and is not on PyPI:

# %%
print("tensorflow_model_server on PATH:", shutil.which("tensorflow_model_server") is not None)

# %% [markdown]
# So the lesson runs the same idea in a small FastAPI service (`deploy.ModelStore`; the same REST
# paths, plus a `model_version` field in each reply): each version folder holds the SavedModel *and*
# the torch `.pt2` (so the service needs Python and both frameworks); a watcher loads a new version
# completely, runs it once, then swaps one reference; every request reads that reference once, so
# one request is served by one version from start to end. A version is published by copying into a
# hidden folder and renaming it (one atomic step), so the watcher never sees half a folder.
# Version 1 is the model above; version 2 trains two more epochs from it. Then the cell starts the
# service (`servers.start` waits until it answers and stops it at exit, whatever happens) and asks it
# what it serves.

# %%
def stage(version, model_pt, model_tf):
    folder = WORK / "staging" / str(version)
    model_tf.export(folder, verbose=False, input_signature=signature)      # the SavedModel files
    example = (torch.from_numpy(images_pt[:2]),)
    torch.export.save(torch.export.export(model_pt, example, dynamic_shapes={"x": {0: batch}}), folder / "model.pt2")
    warmup = {"cnn_torch": images_pt[:1].tolist(), "cnn_tf": images_tf[:1].tolist()}
    (folder / "warmup.json").write_text(json.dumps(warmup))
    return folder


cnn_pt_v2 = pt_utils.build_cnn()
cnn_pt_v2.load_state_dict(cnn_pt.state_dict())
cnn_pt_v2 = train_cnn(cnn_pt_v2, orders[3:5])
cnn_tf_v2 = tf_utils.build_cnn()
_ = tf_utils.port_weights(cnn_pt_v2, cnn_tf_v2)
BASE = WORK / "models" / "cnn"
deploy.publish(stage(1, cnn_pt, cnn_tf), BASE, 1)
staged_v2 = stage(2, cnn_pt_v2, cnn_tf_v2)
print(sorted(p.name for p in (BASE / "1").iterdir()))
service = servers.start(["python", "-m", "course_utils.lessons.deploy", "serve", "--models", str(BASE),
                         "--port", "{port}"], name="model-service", ready_path="/health", timeout=120)
print(service, json.loads(service.get("/v1/models/cnn_tf"))["model_version_status"])

# %% [markdown]
# The load test: 4 client threads send the same 8 test images, alternating between the torch and
# the TF model. At request 60 the client publishes version 2; it stops after version 2 has answered
# 100 times (at most 3,000 requests). Every reply is then checked against the logits its version
# must give, computed here in the notebook.

# %%
sent = {"cnn_torch": images_pt[:8], "cnn_tf": images_tf[:8]}
expected = {("cnn_torch", "1"): logits_ref[:8], ("cnn_tf", "1"): logits_ref[:8],
            ("cnn_torch", "2"): pt_utils.predict(cnn_pt_v2, images_pt[:8]),
            ("cnn_tf", "2"): tf_utils.predict(cnn_tf_v2, images_tf[:8])}


def publish_v2():
    deploy.publish(staged_v2, BASE, 2)


def version_2_answered_100_times(replies):
    return sum(r.version == "2" for r in replies) >= 100


replies = deploy.load_test(service.url, sent, threads=4, at=60, action=publish_v2,
                           until=version_2_answered_100_times, max_requests=3000)
served = pd.DataFrame([r.__dict__ for r in replies]).drop(columns="predictions")
served["matches its version"] = [r.error is None and bool(np.allclose(r.predictions, expected[r.model, r.version], atol=1e-5))
                                 for r in replies]
print(f"{served.error.notna().sum()} errors | versions served: {sorted(served.version.dropna().unique())} | "
      f"every reply equals its version's logits: {served['matches its version'].all()}")
print("version 1 and 2 disagree on these images:", not np.allclose(expected["cnn_torch", "1"], expected["cnn_torch", "2"]))

# %% [markdown]
# The swap is one-way: no request sent after version 2 first answered got version 1 (a request
# reads the store's reference once, and the reference only moves forward). Together with "every reply
# equals its version's logits" above, this is the evidence that no request met a half-loaded model:
# one would have failed, or answered with logits of neither version.

# %%
first_v2 = served.index[served.version == "2"][0]
print("every version-1 request started before version 2 first answered:",
      bool(served.started[served.version == "1"].max() < served.started[first_v2] + served.seconds[first_v2]))

# %% tags=["nbval-ignore-output"]
# Latencies vary with the machine and its load: this output is not compared. The asserts state what must
# hold on every run: no errors, both versions served, and each phase answered.
served["phase"] = np.select([served["index"] < 60, served.index < first_v2], ["before", "during"], "after")
assert served.error.isna().all() and served["matches its version"].all()
assert set(served.phase) == {"before", "during", "after"}, set(served.phase)
summary = served.groupby("phase", sort=False).agg(requests=("seconds", "size"),
                                                  median_ms=("seconds", lambda s: 1e3 * s.median()),
                                                  p95_ms=("seconds", lambda s: 1e3 * s.quantile(0.95)),
                                                  versions=("version", lambda v: sorted(set(v))))
summary.round(1)

# %% [markdown]
# During the swap the service loads version 2 (TensorFlow and torch) in a thread of the same process,
# so requests share the CPU with the loading (the table's latencies are this machine's, not compared);
# no request takes the loader's lock, none failed. The service reports its history; then it is stopped,
# and nothing is left listening (the same happens at kernel exit, and the service also exits by
# itself if the kernel is killed):

# %%
print(json.loads(service.get("/v1/models/cnn_torch")))
service.stop()
print(service, "| running services:", servers.running(), "| port open:", servers.port_is_open(service.port))

# %% [markdown]
# ### Exercise 9.3 ★☆☆ (~3 min)
#
# Which of these loads can run **Python** code hidden in the file (any function it names)? Set
# `answer` to the set of letters of those unsafe ones (e.g. `answer = {"a", "b"}`).
#
# - a. `torch.load(path, weights_only=True)`
# - b. `pickle.load(open(path, "rb"))`
# - c. `safetensors.torch.load_file(path)`
# - d. `keras.models.load_model(path, safe_mode=False)`
# - e. `tf.saved_model.load(path)` (it restores variables; calling it runs the graph's TensorFlow ops)
# - f. `np.load(path, allow_pickle=True)`
# - g. `onnxruntime.InferenceSession(path)`

# %% tags=["solution"]
answer = {"b", "d", "f"}

# %%
cu.check.unsafe_loads(answer)

# %% [markdown]
# "Runs no Python from the file" is not "harmless": a SavedModel (or any graph) is a program, and
# TensorFlow ops can read and write files (`tf.io.read_file`, `tf.io.write_file`); TensorFlow's
# security guide says to run untrusted models in a sandbox. The formats above only rule out
# *Python* code at load time.

# %% [markdown]
# ## Summary
#
# - **Checkpoints:** `state_dict` + optimizer state with `torch.save`, and `.keras` (compiled) or
#   `tf.train.Checkpoint` in TensorFlow, resumed to exactly the step the uninterrupted run took;
#   restoring the weights alone gave a different step. `weights_only=True` refused a pickled payload,
#   `safe_mode=True` a lambda; safetensors holds tensors only, for both.
# - **Programs without code:** `torch.export` `.pt2`, TorchScript and the SavedModel each loaded in a
#   fresh Python process with no model class and reproduced the reference logits; the SavedModel's
#   signature (what `saved_model_cli` shows) is the entry point TensorFlow Serving calls. A `.pt2` ExportedProgram still needs Python.
# - **Beyond Python:** C++ with libtorch ran the AOTInductor package (the exported program compiled
#   for this machine) and the TorchScript file (deprecated), C with TensorFlow's C API ran the
#   SavedModel; all built from the pip wheels, no Python library in their processes, equal to Python.
# - **Exchange and mobile:** ONNX from both ran in ONNX Runtime (different graphs, same logits); the
#   Keras model converted to LiteRT float and int8; the torch model reached int8 through ONNX Runtime.
#   Both int8 copies kept at least 90% of the float model's predictions (asserted; the per-machine
#   counts show how many each flipped); LiteRT's int8 file was smaller than its float one, ONNX's was not.
# - **Serving:** one service served both models and swapped version 1 → 2 under load with 0 errors
#   and every reply equal to its version's logits.

# %% [markdown]
# ## PyTorch vs TensorFlow
#
# | concept | PyTorch | TensorFlow / Keras | gotcha |
# |---|---|---|---|
# | weights | `state_dict()`, `torch.save`/`torch.load(weights_only=True)` | `save_weights`/`load_weights` | torch's file is a pickle inside a zip |
# | resume training | save the optimizer's `state_dict` too | `.keras` of a compiled model, `tf.train.Checkpoint` | weights alone change the next step; a Checkpoint restores optimizer slots late (`assert_existing_objects_matched`, not `assert_consumed`) |
# | architecture | the class (code) | `config.json` in `.keras` | `load_model` needs custom classes registered |
# | safe loading | `weights_only=True` (default) | `safe_mode=True` (default) | never turn them off for files you did not make; both have had bypasses (keep them updated); a graph can still touch files |
# | tensors only | safetensors | safetensors (name by `w.path`) | |
# | whole program | `torch.export` → `.pt2` (TorchScript: legacy) | SavedModel (`model.export`, `tf.saved_model.save`) | torch fixes the batch unless `dynamic_shapes`; TF fixes it if the signature does; Keras 3 reloads a SavedModel only as `keras.layers.TFSMLayer` |
# | C/C++ | libtorch + AOTInductor package (`torch::jit::load` for TorchScript) | C API `TF_LoadSessionFromSavedModel` | both ship in the pip wheels; an AOTInductor package is compiled for one platform |
# | exchange | `torch.onnx.export(dynamo=True)` | `tf2onnx`, `model.export(format="onnx")` | different op graphs, same outputs |
# | mobile | ExecuTorch / litert-torch (not on these pins); ONNX Runtime | LiteRT converter + int8, or `model.export(path, format="litert")` | compare a converted model with the float one, prediction by prediction |
# | serving | TorchServe (archived), any HTTP server | TensorFlow Serving (versioned folders) | NVIDIA Triton serves SavedModel, TorchScript/`.pt2` and ONNX side by side from versioned folders; load fully, then swap one reference |
#
# ## Claims settled
#
# | claim | verdict | evidence |
# |---|---|---|
# | Only TensorFlow can save the whole graph for C++/Java use; PyTorch saves weights | **outdated** | `state_dict` is weights only, but `torch.export` `.pt2`, TorchScript and ONNX saved the whole program; each loaded in a process without the class (§Whole programs), and the AOTInductor package and the TorchScript file ran from C++ with libtorch, no Python in the process, equal to Python (§Beyond Python), just as the SavedModel did through TensorFlow's C API. Java was not run here. |
# | PyTorch also uses static graphs / TorchScript lets models run without Python | **partly** | PyTorch does save static graphs: `torch.export`'s graph of ATen ops (§Whole programs). TorchScript does run without Python (the C++ program loaded it, §Beyond Python), but every `torch.jit` call now warns it is deprecated (§Whole programs). Its successor, the `.pt2` ExportedProgram, needs Python to load; without Python it runs once compiled by AOTInductor (for one platform, §Beyond Python) or ExecuTorch. |
# | TensorFlow models cannot be hot-swapped without interrupting service | **false** | The service swapped version 1 → 2 of both models under load with 0 errors, every reply equal to its version and no version-1 reply after version 2 answered (§Serving). Loading the new version beside the old is also TensorFlow Serving's default (not run here: its binary is not on PyPI), and nothing in the method is TensorFlow-specific; the price is memory for two versions during the swap. The claim likely inverts TF Serving's selling point (versions swapped without downtime), or means a plain Python process that reloads a model by restarting. |
# | TensorFlow is better for mobile and embedded deployment | **partly** | On these pins TensorFlow's route is built in: the converter in the TF wheel made LiteRT float and int8 models; the int8 file was smaller and kept at least 90% of the float model's predictions (§Mobile). PyTorch's own routes (ExecuTorch, litert-torch) need packages this environment does not carry, so they were not run; the torch model reached int8 through ONNX Runtime, which also kept at least 90% (its QDQ file was not smaller). An easier route on these pins, not an ability only one framework has. |
#
# **Timing:** most of this lesson's time is process start-ups (each new Python imports a framework),
# so it starts as few as it can: the signature is read in-process rather than by `saved_model_cli`,
# and the two fresh loaders start together. With warm caches the previous version took 26 s on the
# course's 2-core box when it was quiet; this one starts one Python fewer. Under load it stretches
# (this version: 258-264 s wall at load 15-21, with about 44 s of CPU time in all its processes). A fresh
# clone also compiles, once, the AOTInductor package and the two C/C++ loaders. The caches live in
# `build/cache/09_saving_deploying/` (and torch's inductor cache) and are keyed by what they depend
# on, so a changed model, torch version, CPU instruction set or source file rebuilds only what changed.
#
# ## Further reading
#
# - PyTorch: [Saving and loading models](https://pytorch.org/tutorials/beginner/saving_loading_models.html),
#   [`torch.export`](https://pytorch.org/docs/stable/export.html),
#   [AOTInductor](https://pytorch.org/docs/stable/torch.compiler_aot_inductor.html),
#   [`torch.onnx`](https://pytorch.org/docs/stable/onnx.html), [ExecuTorch](https://pytorch.org/executorch/).
# - TensorFlow: [SavedModel](https://www.tensorflow.org/guide/saved_model),
#   [TF Serving REST API](https://www.tensorflow.org/tfx/serving/api_rest),
#   [the C API](https://www.tensorflow.org/install/lang_c), [LiteRT](https://ai.google.dev/edge/litert),
#   [post-training quantisation](https://ai.google.dev/edge/litert/models/post_training_quantization).
# - [safetensors](https://huggingface.co/docs/safetensors), [ONNX Runtime](https://onnxruntime.ai/docs/),
#   [tf2onnx](https://github.com/onnx/tensorflow-onnx).

# %% [markdown]
# ## One minute, optional: how was this lesson?
#
# If you like, replace `clarity=None` below with how clear this lesson was (1 = lost, 5 = clear), add one sentence as `comment`, and run the cell. Only those two things are kept, in your own folder (`build/record/` on a laptop, your folder on the hub), next to your checks' verdicts that the instructor's board reads; `cu.progress()` shows your record and `cu.progress(recording=False)` turns recording off.

# %%
cu.feedback("09", clarity=None, comment="")
