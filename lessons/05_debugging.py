# %% [markdown]
# # 05 · Debugging: the same bugs hunted in both frameworks
#
# Two bugs are planted in one small model, identically in PyTorch and in TensorFlow: a shape
# mistake that silently gives a wrong loss, and a NaN that appears after a few training steps.
# We hunt each with the tool that fits — `pdb`, post-mortem, hooks and anomaly detection in
# PyTorch; `pdb`, `tf.print`, `check_numerics` and the tfdbg v2 dump in TensorFlow. Every debugger
# session below really ran: it is scripted, so its transcript is genuine output.
#
# **Time:** 30 min teaching + 15 min exercises
#
# **Prerequisites:** 01 (tensors, broadcasting), 02 (autodiff); a hand-written training loop as in 03.
#
# **Objectives:**
# - Stop inside a model's forward pass with `breakpoint()` and inspect tensors in either framework.
# - Explain what pdb sees inside compiled code (`torch.compile`: a graph break; `tf.function`: one trace with symbolic tensors), and get real values back with `set_stance("force_eager")` or `run_functions_eagerly`/`tf.print`.
# - Locate the op that first produced a NaN with `detect_anomaly`, a dispatch mode and hooks (PyTorch) and with `check_numerics` and a tfdbg v2 dump read back and in TensorBoard's Debugger V2 (TensorFlow).
# - Choose the right tool for a shape bug and for a NaN, in each framework.

# %% [markdown]
# ## Setup
#
# `cu.run_pdb` and `cu.post_mortem` run the standard library's `pdb` from a list of commands and
# print the transcript (see `cu.run_pdb??`). In your own work you type the same commands at the
# prompt; the cell "Run it yourself" below shows how. Both frameworks compute on the CPU:
# `cu.setup` hides any GPU from TensorFlow, which would otherwise run its half there (with TF32
# matmuls) while torch stays on the CPU, and the "same bug in both" comparisons would not hold.

# %%
import json
import linecache
import os
import re
import tempfile
import time
import warnings

import numpy as np
import tensorflow as tf
import keras
import torch
from torch import nn

import course_utils as cu
from course_utils.lessons import dashboards

cu.setup(seed=0)

# %% [markdown]
# The data: the first 512 training digits, flattened, with a binary target "is this a zero?".
# About 9 % of the images are zeros, so a model that always says "no" is 91 % accurate — keep
# that number in mind.

# %%
digits = cu.load_digits(flat=True)
X = digits.X_train[:512]
y = (digits.y_train[:512] == 0).astype(np.float32)
print(X.shape, X.dtype, y.shape, f"share of zeros: {y.mean():.4f}")

# %% [markdown]
# ## The model and its planted shape bug
#
# A 64 → 16 → 1 MLP with a sigmoid output, and binary cross-entropy written by hand:
# $\text{loss} = -\frac1N\sum_i y_i \log p_i + (1-y_i)\log(1-p_i)$.
# The output layer returns `p` with shape `(N, 1)`; the labels `y` have shape `(N,)`. Both
# frameworks broadcast `(N, 1)` against `(N,)` to `(N, N)` without a word — that is bug 1.
# The `debug` flag lets us stop inside `forward`/`call` later. Weights are made once in NumPy.

# %%
rng = np.random.default_rng(0)
W1 = rng.normal(0, 0.3, (64, 16)).astype(np.float32)
b1 = np.zeros(16, np.float32)
W2 = rng.normal(0, 0.3, (16, 1)).astype(np.float32)
b2 = np.zeros(1, np.float32)

# %% [markdown]
# ### PyTorch

# %%
class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(64, 16)
        self.out = nn.Linear(16, 1)
        self.debug = False

    def forward(self, X):
        h = torch.relu(self.hidden(X))
        if self.debug:
            breakpoint()
        p = torch.sigmoid(self.out(h))
        return p


def bce_pt(p, y):
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()


def new_model_pt(model_class=MLP):
    model = model_class()
    with torch.no_grad():
        for param, value in zip(model.parameters(), [W1.T, b1, W2.T, b2]):
            param.copy_(torch.from_numpy(value))
    return model


X_pt, y_pt = torch.from_numpy(X), torch.from_numpy(y)
model_pt = new_model_pt()
loss_pt = bce_pt(model_pt(X_pt), y_pt)
print(f"loss {loss_pt.item():.4f}")

# %% [markdown]
# ### TensorFlow

# %%
class MLPKeras(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = keras.layers.Dense(16)
        self.out = keras.layers.Dense(1)
        self.debug = False

    def call(self, X):
        h = tf.nn.relu(self.hidden(X))
        if self.debug:
            breakpoint()
        p = tf.sigmoid(self.out(h))
        return p


def bce_tf(p, y):
    return -tf.reduce_mean(y * tf.math.log(p) + (1 - y) * tf.math.log(1 - p))


def new_model_tf(model_class=MLPKeras):
    model = model_class()
    model(X[:1])  # build the weights
    model.set_weights([W1, b1, W2, b2])
    return model


X_tf, y_tf = tf.constant(X), tf.constant(y)
model_tf = new_model_tf()
loss_tf = bce_tf(model_tf(X_tf), y_tf)
print(f"loss {loss_tf.numpy():.4f}")

# %% [markdown]
# Same weights, same data, same (wrong) loss in both: the bug is portable.

# %%
cu.compare("p", model_pt(X_pt).detach(), model_tf(X_tf))
cu.compare("buggy loss", loss_pt.detach(), loss_tf)

# %% [markdown]
# Nothing crashed. Train both for 60 plain SGD steps (the update is written out so the two loops
# are the same algorithm) and look at the accuracy.

# %%
def train_pt(model, loss_fn, lr_at, num_steps):
    """Full-batch SGD; stops at the first non-finite loss (before updating). Returns the losses."""
    losses = []
    for step in range(num_steps):
        loss = loss_fn(model(X_pt), y_pt)
        losses.append(loss.item())
        if not torch.isfinite(loss):
            break
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for param in model.parameters():
                param -= lr_at(step) * param.grad
    return losses


def accuracy_pt(model):
    return ((model(X_pt).squeeze(-1) > 0.5).float() == y_pt).float().mean().item()


losses_pt = train_pt(model_pt, bce_pt, lambda step: 1.0, num_steps=60)
print(f"final loss {losses_pt[-1]:.4f}   accuracy {accuracy_pt(model_pt):.4f}")

# %%
def train_tf(model, loss_fn, lr_at, num_steps):
    """Full-batch SGD; stops at the first non-finite loss (before updating). Returns the losses."""
    losses = []
    for step in range(num_steps):
        with tf.GradientTape() as tape:
            loss = loss_fn(model(X_tf), y_tf)
        losses.append(float(loss))
        if not np.isfinite(float(loss)):
            break
        grads = tape.gradient(loss, model.trainable_variables)
        for var, grad in zip(model.trainable_variables, grads):
            var.assign_sub(lr_at(step) * grad)
    return losses


def accuracy_tf(model):
    return float(tf.reduce_mean(tf.cast(tf.cast(model(X_tf)[:, 0] > 0.5, tf.float32) == y_tf, tf.float32)))


losses_tf = train_tf(model_tf, bce_tf, lambda step: 1.0, num_steps=60)
print(f"final loss {losses_tf[-1]:.4f}   accuracy {accuracy_tf(model_tf):.4f}")
cu.compare("losses", np.array(losses_pt), np.array(losses_tf), atol=1e-4, check_dtype=False)

# %% [markdown]
# 91 % accuracy is exactly the share of non-zeros: both models learned to say "not a zero" to
# everything. The loss looks plausible, so nothing tells you it is wrong. Time for the debugger.
#
# ## Bug 1: stop inside the forward pass with pdb
#
# `breakpoint()` (Python ≥ 3.7) opens `pdb` where it stands; in JupyterLab it opens IPython's
# `ipdb>` prompt under the cell. The commands used here: `p expr` prints, `n` (next) runs one line,
# `s` steps into a call, `r` runs to the return of the current function, `u`/`d` move up and down
# the stack, `l`/`ll` list the code, `c` continues. Below, the same commands are scripted.
#
# ### PyTorch: `breakpoint()` in `forward`
#
# Two sessions: the first stops inside `forward` and finds `p` of shape `(4, 1)`; the second stops
# at the start of the loss and prints what the product inside it becomes.

# %%
def two_sessions(model, X, y, bce, show_p, log):
    """The two scripted pdb sessions: in the model's forward/call, then at the start of the loss."""
    model.debug = True
    p = cu.run_pdb(model, X, commands=["p h.shape", "n", "n", "p p.shape", f"p {show_p}", "continue"])
    model.debug = False
    return p, cu.run_pdb(bce, p, y, stop_at_start=True,
                         commands=["p p.shape, y.shape", f"p (y * {log}(p)).shape", "continue"])


p_pt, loss_pt = two_sessions(new_model_pt(), X_pt[:4], y_pt[:4], bce_pt, "p.squeeze(-1)", "torch.log")

# %% [markdown]
# ### TensorFlow: `breakpoint()` in `call`, eager
#
# In eager mode (TensorFlow 2's default) pdb works exactly the same way and shows real values:
# the same two sessions, with TensorFlow's spelling of the squeeze and the log.

# %%
p_tf, loss_tf = two_sessions(new_model_tf(), X_tf[:4], y_tf[:4], bce_tf, "tf.squeeze(p, -1).numpy().round(4)", "tf.math.log")

# %% [markdown]
# Same session, same answer in both: `(4, 1) * (4,)` became `(4, 4)`. The fix is one squeeze
# (or `keepdims`/`view(-1)`) so that `p` has the labels' shape.

# %%
def bce_fixed_pt(p, y):
    p = p.squeeze(-1)
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()


def bce_fixed_tf(p, y):
    p = tf.squeeze(p, -1)
    return -tf.reduce_mean(y * tf.math.log(p) + (1 - y) * tf.math.log(1 - p))


model_pt, model_tf = new_model_pt(), new_model_tf()
losses_pt = train_pt(model_pt, bce_fixed_pt, lambda step: 1.0, num_steps=60)
losses_tf = train_tf(model_tf, bce_fixed_tf, lambda step: 1.0, num_steps=60)
print(f"PyTorch     final loss {losses_pt[-1]:.4f}   accuracy {accuracy_pt(model_pt):.4f}")
print(f"TensorFlow  final loss {losses_tf[-1]:.4f}   accuracy {accuracy_tf(model_tf):.4f}")
cu.compare("fixed losses", np.array(losses_pt), np.array(losses_tf), atol=1e-4, check_dtype=False)

# %%
# Prevent bug 1 instead of finding it: state the shape a function expects, and a wrong one raises at
# the call. TensorFlow has tf.ensure_shape (also inside a graph) and tf.debugging.assert_shapes;
# in PyTorch a plain assert on .shape does it.
def bce_guarded_pt(p, y):
    assert p.shape == y.shape, f"p {tuple(p.shape)} and y {tuple(y.shape)} differ: squeeze p"
    return bce_pt(p, y)


def bce_guarded_tf(p, y):
    return bce_tf(tf.ensure_shape(p, y.shape), y)


for name, guarded, p_4, y_4 in [("PyTorch", bce_guarded_pt, p_pt, y_pt[:4]), ("TensorFlow", bce_guarded_tf, p_tf, y_tf[:4])]:
    try:
        guarded(p_4, y_4)
        print(f"{name:<10} no error: the guard did not hold")
    except (AssertionError, tf.errors.InvalidArgumentError) as err:
        message = re.search(r"(p \(.*|Shape of tensor .*?expected shape \[.*?\])", str(err)).group(1)
        print(f"{name:<10} {type(err).__name__}: {message}")

# %% [markdown]
# ### Exercise 5.1 ★☆☆ (~4 min)
#
# Four predictions `p_ex` (shape `(4, 1)`, as the model returns them) and their labels `y_ex`
# (shape `(4,)`). Compute the **correct** mean binary cross-entropy as a scalar tensor, in either
# framework, and assign it to `answer`.

# %%
p_ex = np.array([[0.9], [0.2], [0.7], [0.4]], dtype=np.float32)
y_ex = np.array([1.0, 0.0, 0.0, 1.0], dtype=np.float32)

# %% tags=["solution"]
answer = bce_fixed_pt(torch.from_numpy(p_ex), torch.from_numpy(y_ex))

# %%
cu.check.correct_bce(answer)

# %% [markdown]
# ## When the shape bug raises: post-mortem
#
# Some shape bugs do raise — feed the images unflattened, `(N, 8, 8)` instead of `(N, 64)`.
# After an exception in a notebook, `%debug` in the next cell opens the debugger **where it
# failed** (in a script: `python -m pdb script.py`, or `pdb.pm()`). `cu.post_mortem` scripts that
# session: print the exception's first line, then look around at the moment of the crash.
#
# ### PyTorch: post-mortem

# %%
X_images = cu.load_digits().X_train[:4]  # (4, 8, 8): the flatten was forgotten
model_pt, model_tf = new_model_pt(), new_model_tf()
error_pt = cu.post_mortem(model_pt, torch.from_numpy(X_images), commands=["p input.shape", "up 3", "p X.shape", "continue"])

# %% [markdown]
# ### TensorFlow: post-mortem

# %%
error_tf = cu.post_mortem(model_tf, tf.constant(X_images), commands=["p X.shape", "continue"])
print(next(re.sub(r"\x1b\[\d+m", "", line) for line in str(error_tf).splitlines() if "expected axis" in line))  # drop bold codes

# %% [markdown]
# PyTorch stops where the error was raised, inside `nn.Linear.forward` (`input` is its
# argument); `up 3` climbs through `nn.Module`'s call machinery to our `forward`. Keras trims its
# own frames from tracebacks, so the session opens directly in our `call`. Either way `X` of
# shape `(4, 8, 8)` is in hand. The messages differ (torch names the matmul, Keras the layer and
# its expected input; the useful line of Keras' long message is printed last), the method does not.
#
# ## Inside compiled code: pdb meets a graph
#
# The code above runs eagerly, line by line, so pdb always sees real values. Compiled code is
# different in both frameworks, each in its own way.
#
# ### PyTorch: `breakpoint()` under `torch.compile`
#
# Dynamo cannot put `breakpoint()` in a graph, so it **breaks the graph** there: the ops before it
# run as a compiled graph, Python runs the breakpoint, and a second graph takes over after it.
# pdb opens inside dynamo's resume machinery (here a call to `random.getstate`, dynamo saving
# Python's random state); `up` reaches our function. The inputs are there, but `p`, computed
# inside the first graph, **is not defined**: its value never became a Python local. (The
# `eager` backend runs dynamo without generating code, to keep the cell quick; Inductor behaves
# the same way here.)

# %%
@torch.compile(backend="eager")
def loss_compiled(X, y):
    p = model_pt(X)
    breakpoint()
    return bce_fixed_pt(p, y)


model_pt = new_model_pt()
loss = cu.run_pdb(loss_compiled, X_pt[:4], y_pt[:4], commands=["up", "p X.shape", "p p", "continue"])
print(f"loss {loss.item():.4f}")

# %% [markdown]
# The switch that gives pdb real values back is `torch.compiler.set_stance("force_eager")`: every
# `torch.compile`d function then runs as plain Python (the counterpart of TensorFlow's
# `run_functions_eagerly` below), and leaving the `with` block compiles again.

# %%
with torch.compiler.set_stance("force_eager"):
    loss = cu.run_pdb(loss_compiled, X_pt[:4], y_pt[:4], commands=["p p.shape", "p p.squeeze(-1).detach().numpy().round(4)", "continue"])

# %% [markdown]
# ### TensorFlow: `breakpoint()` inside `tf.function`
#
# TensorFlow code wrapped in `tf.function` (as `Keras.fit` does for you) is **traced**: Python runs
# once to build a graph, and later calls run the graph without Python. A breakpoint inside stops
# only during that trace, with symbolic tensors and no values, inside AutoGraph's generated code.

# %%
@tf.function
def loss_graph(X, y):
    p = model_tf(X)
    breakpoint()
    return bce_fixed_tf(p, y)


model_tf = new_model_tf()
loss = cu.run_pdb(loss_graph, X_tf[:4], y_tf[:4], commands=["p p", "continue"])
print(f"loss {float(loss):.4f}")

# %% [markdown]
# `p` is a symbolic `Tensor` with a static shape but no value. Call the function again: the
# graph runs and the breakpoint is not there any more (nothing printed by the debugger).

# %%
loss = cu.run_pdb(loss_graph, X_tf[:4], y_tf[:4], commands=["p p", "continue"])
print(f"loss {float(loss):.4f}   traces: {loss_graph.experimental_get_tracing_count()}")

# %% [markdown]
# Two ways to see real values. `tf.print` is an op in the graph, so it prints on **every** call:

# %%
@tf.function
def loss_graph_printing(X, y):
    p = model_tf(X)
    # 4 decimals: tf.print's default 9 significant digits end in digits that differ between CPUs.
    tf.print("p[:, 0] =", tf.strings.as_string(p[:, 0], precision=4), "shape", tf.shape(p))
    return bce_fixed_tf(p, y)


for _ in range(2):
    loss = loss_graph_printing(X_tf[:4], y_tf[:4])

# %% [markdown]
# Or switch `tf.function` off globally while debugging: `tf.config.run_functions_eagerly(True)`
# runs every `tf.function` as plain Python, and pdb sees values on every call. Switch it back.

# %%
tf.config.run_functions_eagerly(True)
loss = cu.run_pdb(loss_graph, X_tf[:4], y_tf[:4], commands=["p p.numpy()[:, 0].round(4)", "continue"])
tf.config.run_functions_eagerly(False)

# %% [markdown]
# ## Bug 2: a NaN after a few steps
#
# A learning-rate schedule meant to shrink the step by 5 % each time, `0.95 ** step`, was typed as
# `2.0 ** step`. The steps grow and the logits run away. Same weights and schedule in both
# frameworks, PyTorch first:

# %%
def lr_at(step):
    return 1.0 * 2.0 ** step  # BUG: meant 1.0 * 0.95 ** step


model_pt, model_tf = new_model_pt(), new_model_tf()
for name, losses in [("PyTorch", train_pt(model_pt, bce_fixed_pt, lr_at, num_steps=30)),
                     ("TensorFlow", train_tf(model_tf, bce_fixed_tf, lr_at, num_steps=30))]:
    print(f"{name:<10} non-finite loss at step {len(losses) - 1}:", " ".join(f"{loss:.3f}" for loss in losses[-4:]))

# %% [markdown]
# Both loops stopped before the update, so each model now holds the weights that produce the
# bad loss. What is in it? At that step every logit lies far below zero, where float32's sigmoid is
# **exactly 0**: `log p` is `-inf` for every example. A positive example's term is then `-inf`; a
# negative example's term is `0 · log p + 1 · log(1 - p)`, and `0 · (-inf)` is **NaN**. So the NaN
# comes from the negatives, through the multiplication, and the mean of the terms is NaN.

# %%
z_pt = model_pt.out(torch.relu(model_pt.hidden(X_pt))).detach()[:, 0]   # the logits, before the sigmoid
p_pt = torch.sigmoid(z_pt)
terms_pt = y_pt * torch.log(p_pt) + (1 - y_pt) * torch.log(1 - p_pt)       # the loss's terms, before the mean
z_tf = model_tf.out(tf.nn.relu(model_tf.hidden(X_tf)))[:, 0]
p_tf = tf.sigmoid(z_tf)
terms_tf = y_tf * tf.math.log(p_tf) + (1 - y_tf) * tf.math.log(1 - p_tf)
for name, z, p, terms in [("PyTorch", z_pt, p_pt, terms_pt), ("TensorFlow", z_tf, p_tf, terms_tf)]:
    z, p, terms = np.asarray(z), np.asarray(p), np.asarray(terms)
    print(f"{name:<10} logits {z.min():.0f} .. {z.max():.0f} | p == 0: {(p == 0).sum()} of {p.size} | "
          f"terms: {np.isnan(terms[y == 0]).sum()} NaN (of {int((y == 0).sum())} negatives), "
          f"{np.isneginf(terms[y == 1]).sum()} -inf (of {int(y.sum())} positives)")
print("0 · log(0) =", (torch.zeros(()) * torch.log(torch.zeros(()))).item(), "| in TensorFlow:",
      float(tf.zeros(()) * tf.math.log(tf.zeros(()))))

# %% [markdown]
# ## Find the op that made the NaN
#
# Each framework has a switch that checks every op's output and stops at the first bad one.
# PyTorch's `torch.autograd.detect_anomaly()` checks the **backward** pass and names the
# backward function that returned NaN, with the forward line that created it (it warns with the
# whole stack; we keep its first line and the line from our code). TensorFlow's
# `tf.debugging.enable_check_numerics()` checks the output of every op TensorFlow runs, eager or in a
# graph, gradient ops included (here the forward pass already fails). Its PyTorch twin for the
# forward pass is a few lines of `TorchDispatchMode`, below.
#
# ### PyTorch: `detect_anomaly`, and a forward check with a dispatch mode

# %%
with warnings.catch_warnings(record=True) as caught, torch.autograd.detect_anomaly():
    warnings.simplefilter("always")
    loss = bce_fixed_pt(model_pt(X_pt), y_pt)
    try:
        loss.backward()
    except RuntimeError as err:
        print("RuntimeError:", str(err).splitlines()[0])
anomaly = next(str(w.message).splitlines() for w in caught if "Error detected" in str(w.message))
print(anomaly[0])
print(next(line.strip() for line in anomaly if "torch.log" in line))

# %% [markdown]
# Every PyTorch op reaches the ATen operator it dispatches to; a `TorchDispatchMode` is a hook
# on that step, for every op run inside its `with` block. This one looks at each op's output and
# keeps the first that is not finite: the forward-pass check that `enable_check_numerics` is for
# TensorFlow, as a dozen lines you can adapt (raise, log every op, count).

# %%
from torch.utils._python_dispatch import TorchDispatchMode


class FirstNonFinite(TorchDispatchMode):
    """Run every op as usual; remember the first whose float output holds an inf or a NaN."""

    def __init__(self):
        super().__init__()
        self.first = None

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if self.first is None and isinstance(out, torch.Tensor) and out.is_floating_point() \
                and not torch.isfinite(out).all():
            self.first = f"{func} ({int(torch.isneginf(out).sum())} -inf, {int(torch.isnan(out).sum())} NaN of {out.numel()})"
        return out


with FirstNonFinite() as check:
    bce_fixed_pt(model_pt(X_pt), y_pt)
print("first non-finite output:", check.first)

# %% [markdown]
# ### TensorFlow: `check_numerics`

# %%
p = model_tf(X_tf)
try:
    tf.debugging.check_numerics(bce_fixed_tf(p, y_tf), message="loss")
except tf.errors.InvalidArgumentError as err:
    message = err.message.split("}} ")[-1].split(" [Op:")[0]  # drop the op's internal name and tag
    print(f"{type(err).__name__}: {message}")

# %% [markdown]
# `check_numerics` on one tensor says *that* it is bad. `enable_check_numerics()` instruments
# every op and names the first one that made an inf or NaN, with its input and the stack; the
# full message is kilobytes, the `!!!` line is the one to read.

# %%
tf.debugging.enable_check_numerics()
try:
    bce_fixed_tf(model_tf(X_tf), y_tf)
except tf.errors.InvalidArgumentError as err:
    print(next(line.strip() for line in err.message.splitlines() if "!!!" in line))
finally:
    tf.debugging.disable_check_numerics()

# %% [markdown]
# Both point at the log: PyTorch from the backward side (`LogBackward0`), TensorFlow from the
# forward side (`Log` produced an infinity: `-inf`, as the dump below counts).
#
# ## Watch it happen: hooks and the tfdbg v2 dump
#
# Anomaly checks stop at the crash. To see the blow-up coming, record activations during
# training. PyTorch: a **forward hook** on a module runs after each of its forward calls.
# TensorFlow: **tfdbg v2** (`enable_dump_debug_info`) writes a health summary of every op's
# output to a directory, which `DebugDataReader` (or TensorBoard's Debugger V2) reads back.
#
# ### PyTorch: forward hooks

# %%
biggest_logit = []


def record_logits(module, inputs, output):
    biggest_logit.append(output.detach().abs().max().item())


model_pt = new_model_pt()
handle = model_pt.out.register_forward_hook(record_logits)
losses_pt = train_pt(model_pt, bce_fixed_pt, lr_at, num_steps=30)
handle.remove()
print("max |logit| per step:", " ".join(f"{v:.0f}" for v in biggest_logit))

# %% [markdown]
# The logits swing wider and wider as the learning rate doubles, until, at the failing step, all
# of them lie hundreds below zero (the cell after Bug 2's training printed the range), where
# `sigmoid` is exactly 0 and `log` returns `-inf`. The hook is removed afterwards (`handle.remove()`).
#
# ### TensorFlow: tfdbg v2 dump, read back
#
# The dump (megabytes: it stores the source files too) goes to a temporary directory.
# `FULL_HEALTH` records, per op output, `[tensor_id, device, dtype, rank, size, -inf, +inf, nan,
# -finite, zero, +finite]` counts.

# %%
from tensorflow.python.debug.lib.debug_events_reader import DebugDataReader

dump_dir = tempfile.mkdtemp()
tf.debugging.experimental.enable_dump_debug_info(dump_dir, tensor_debug_mode="FULL_HEALTH", circular_buffer_size=-1)
model_tf = new_model_tf()
losses_tf = train_tf(model_tf, bce_fixed_tf, lr_at, num_steps=30)
tf.debugging.experimental.disable_dump_debug_info()

# %%
with DebugDataReader(dump_dir) as reader:
    reader.update()
    executions = reader.executions(digest=False)
    first_bad, health = next((i, np.array(values)) for i, ex in enumerate(executions)
                             for values in ex.debug_tensor_values or [] if values and sum(values[5:8]) > 0)
    bad = executions[first_bad]
    print(f"{len(executions)} eager ops recorded; the first with a NaN/Inf is #{first_bad}: {bad.op_type}")
    print(f"  -inf: {health[5]:.0f}  +inf: {health[6]:.0f}  nan: {health[7]:.0f}  of {health[4]:.0f} values")
    host, frames = reader.read_execution_stack_trace(bad)
    file_name, line_no, func_name = [f for f in frames if "ipykernel_" in f[0]][-1]  # our innermost frame
    # The dump stores source files from disk; a notebook cell lives only in memory (linecache).
    print(f"  created by {func_name}() at {cu.lessons.debugging.scrub(file_name)}:{line_no}: {linecache.getline(file_name, line_no).strip()}")

# %% [markdown]
# **The same dump in TensorBoard's Debugger V2.** `tensorboard --logdir <dump_dir> --host 127.0.0.1`
# serves it, and the **Debugger V2** tab lists the alerts (the first NaN/Inf op highlighted), the
# eager and graph execution timelines and each op's source line. The page reads all of that over
# HTTP from the plugin's data routes; the cell reads the alerts the same way, from a real
# TensorBoard on 127.0.0.1 (lesson 08's `dashboards.start_tensorboard`), stopped when the `with`
# block ends, even after an error. The plugin loads TensorFlow on its first request: the cell takes
# about 15 seconds.

# %%
def debugger_v2(tb, route, run="__default_debugger_run__"):
    return json.loads(tb.get(f"/data/plugin/debugger-v2/{route}?run={run}&begin=0&end=-1", timeout=120))


with dashboards.start_tensorboard(dump_dir) as tb:
    runs = json.loads(tb.get("/data/plugin/debugger-v2/runs", timeout=120))  # the first request loads the plugin
    for _ in range(240):  # the plugin reads the dump in the background: wait until it holds every eager op
        if debugger_v2(tb, "execution/digests")["num_digests"] == len(executions):
            break
        time.sleep(0.25)
    alerts = debugger_v2(tb, "alerts")
print(f"runs: {list(runs)} | alerts: {alerts['num_alerts']} {alerts['alerts_breakdown']}")
first = alerts["alerts"][0]
print(f"first alert: {first['op_type']}, eager op #{first['execution_index']}: {first['num_neg_inf']:.0f} -inf, "
      f"{first['num_pos_inf']:.0f} +inf, {first['num_nan']:.0f} NaN of {first['size']:.0f} values")
print("the op DebugDataReader found first:", first["execution_index"] == first_bad)

# %% [markdown]
# The fix for bug 2 is twofold: the schedule (`0.95 ** step`, as meant), and a loss that cannot produce
# `log(0)`: compute it from the logits with `log σ(z) = -softplus(-z)`, which both frameworks
# offer as one op (`F.binary_cross_entropy_with_logits`, `tf.nn.sigmoid_cross_entropy_with_logits`).

# %%
z = np.array([-120.0, -3.0, 0.0, 4.0, 120.0], dtype=np.float32)
labels = np.array([1.0, 0.0, 1.0, 1.0, 0.0], dtype=np.float32)
naive_pt = bce_fixed_pt(torch.sigmoid(torch.from_numpy(z))[:, None], torch.from_numpy(labels))
stable_pt = nn.functional.binary_cross_entropy_with_logits(torch.from_numpy(z), torch.from_numpy(labels))
naive_tf = bce_fixed_tf(tf.sigmoid(z)[:, None], labels)
stable_tf = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=z))
print(f"naive  PyTorch {naive_pt.item():.4f}   TensorFlow {float(naive_tf):.4f}")
print(f"stable PyTorch {stable_pt.item():.4f}   TensorFlow {float(stable_tf):.4f}")

# %%
cu.compare("stable loss", stable_pt, stable_tf)

# %% [markdown]
# Both halves of the fix together, end to end, for the same 30 steps that failed before: the
# schedule `0.95 ** step`, and the loss from the logits. The models' last layer gives logits
# once `forward`/`call` leave out the sigmoid (`MLPLogits`, `MLPLogitsKeras`); a logit above 0 is
# the prediction "a zero".

# %%
class MLPLogits(MLP):
    def forward(self, X):
        return self.out(torch.relu(self.hidden(X)))


class MLPLogitsKeras(MLPKeras):
    def call(self, X):
        return self.out(tf.nn.relu(self.hidden(X)))


def lr_fixed(step):
    return 1.0 * 0.95 ** step


def bce_logits_pt(z, y):
    return nn.functional.binary_cross_entropy_with_logits(z.squeeze(-1), y)


def bce_logits_tf(z, y):
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=tf.squeeze(z, -1)))


model_pt, model_tf = new_model_pt(MLPLogits), new_model_tf(MLPLogitsKeras)
losses_pt = train_pt(model_pt, bce_logits_pt, lr_fixed, num_steps=30)
losses_tf = train_tf(model_tf, bce_logits_tf, lr_fixed, num_steps=30)
for name, losses, logits in [("PyTorch", losses_pt, model_pt(X_pt).detach().numpy()[:, 0]),
                             ("TensorFlow", losses_tf, model_tf(X_tf).numpy()[:, 0])]:
    print(f"{name:<10} {len(losses)} steps, all finite: {bool(np.isfinite(losses).all())} | "
          f"loss {losses[0]:.4f} → {losses[-1]:.4f} | accuracy {((logits > 0) == (y == 1)).mean():.4f}")
cu.compare("fixed-schedule losses", np.array(losses_pt), np.array(losses_tf), atol=1e-4, check_dtype=False)

# %% [markdown]
# ### Exercise 5.2 ★★☆ (~5 min)
#
# The logits `z` and `labels` above make the naive loss infinite. Compute the mean binary
# cross-entropy of `z` against `labels` so that it is **finite and exact** (clamping `p` to
# `[1e-7, 1 - 1e-7]` hides the inf but changes the value). Either framework; assign the scalar to
# `answer`.

# %% tags=["solution"]
answer = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=z))

# %%
cu.check.stable_bce(answer)

# %% [markdown]
# ## The TF1 debugger that older articles mean
#
# Articles that say "TensorFlow needs a special debugger, tfdbg" describe TensorFlow 1: graphs
# ran inside a `Session`, where pdb could not see values, and tfdbg was a terminal UI wrapped
# around the session. It still ships, for graph-mode code only:

# %%
from tensorflow.python.debug.wrappers.local_cli_wrapper import LocalCLIDebugWrapperSession

with tf.Graph().as_default():
    a = tf.compat.v1.placeholder(tf.float32, shape=[3])
    log_a = tf.math.log(a)
    with tf.compat.v1.Session() as sess:
        debug_sess = LocalCLIDebugWrapperSession(sess, dump_root=tempfile.mkdtemp(),
                                                 config_file_path=os.path.join(tempfile.mkdtemp(), "tfdbg.rc"))
        print(type(debug_sess).__name__, "wraps a", type(sess).__name__)
        print("plain session run:", sess.run(log_a, feed_dict={a: [1.0, 0.0, -1.0]}))

# %% [markdown]
# Its terminal UI (the `tfdbg>` prompt over a `Session.run`) is history, not shown here: TensorFlow 2
# code needs none of it. Eager code takes pdb, graph code takes `run_functions_eagerly`, `tf.print`
# and the v2 dump with its Debugger V2 shown above.
#
# ## Which tool for which bug
#
# | bug | PyTorch | TensorFlow |
# |---|---|---|
# | wrong shape, no error | `breakpoint()` in `forward`, `p x.shape` | `breakpoint()` in `call` (eager), `p x.shape` |
# | shape error raised | `%debug` / `cu.post_mortem` | `%debug` / `cu.post_mortem` |
# | bug inside a compiled/traced function | `torch.compiler.set_stance("force_eager")` (a breakpoint under `torch.compile` is a graph break) | `tf.config.run_functions_eagerly(True)`, or `tf.print` |
# | NaN/inf: which op? | `torch.autograd.detect_anomaly()` (backward), a `TorchDispatchMode` (forward) | `tf.debugging.enable_check_numerics()` (every op, gradient ops included) |
# | NaN/inf: which value, when? | forward hooks on modules | tfdbg v2 `enable_dump_debug_info` + `DebugDataReader` / TensorBoard Debugger V2 |
# | one tensor's health | `torch.isfinite(x).all()` | `tf.debugging.check_numerics(x, "x")` |
# | prevent a shape bug | `assert p.shape == y.shape` | `tf.ensure_shape(p, shape)`, `tf.debugging.assert_shapes` |
# | a bug inside `model.fit` | (you write the loop: `breakpoint()` in it) | `model.compile(..., run_eagerly=True)`, then pdb in `call` |
# | Keras trimmed the traceback | — | `keras.config.disable_traceback_filtering()` shows every frame |
# | a GPU error reported at a later line | `CUDA_LAUNCH_BLOCKING=1` (kernels run one at a time, errors at their line) | the same variable for TensorFlow's CUDA kernels |
#
# **Run it yourself.** In JupyterLab, put `breakpoint()` in the code and run the cell: an `ipdb>`
# prompt opens under it; type `p h.shape`, `n`, `c`. After an exception, run `%debug` in a new
# cell. JupyterLab's **visual debugger** (the bug icon in the notebook toolbar; this course's
# kernel enables it) does the same with clickable breakpoints in the cell gutter and a variables
# panel — convenient for eager code in both frameworks; the values it shows are the ones pdb shows.

# %% [markdown]
# ### Exercise 5.3 ★★☆ (~6 min)
#
# The model below (`suspect_pt`, and its twin `suspect_tf`, with the same weights) returns NaN
# for some inputs in `X_suspect`. With the tool of your choice (a forward hook, or calling the
# layers one by one), find the **first layer whose output is not finite** and assign its name
# (a string, e.g. `"block1"`) to `answer`.

# %%
class Block3(nn.Module):
    def forward(self, x):
        return x / x.sum(dim=1, keepdim=True)


class Block3Keras(keras.layers.Layer):
    def call(self, x):
        return x / tf.reduce_sum(x, axis=1, keepdims=True)


X_suspect = np.concatenate([X[:7], np.zeros((1, 64), np.float32)])  # the last image is blank
Ws = rng.normal(0, 0.3, (64, 8)).astype(np.float32), np.full(8, -0.1, np.float32)
Wh = rng.normal(0, 0.3, (8, 1)).astype(np.float32), np.zeros(1, np.float32)

suspect_pt = nn.Sequential()
for name, layer in [("block1", nn.Linear(64, 8)), ("block2", nn.ReLU()), ("block3", Block3()), ("block4", nn.Linear(8, 1))]:
    suspect_pt.add_module(name, layer)
with torch.no_grad():
    for param, value in zip(suspect_pt.parameters(), [Ws[0].T, Ws[1], Wh[0].T, Wh[1]]):
        param.copy_(torch.from_numpy(value))

suspect_tf = keras.Sequential([keras.Input((64,)), keras.layers.Dense(8, name="block1"), keras.layers.ReLU(name="block2"),
                               Block3Keras(name="block3"), keras.layers.Dense(1, name="block4")])
suspect_tf.set_weights([*Ws, *Wh])
print(suspect_pt(torch.from_numpy(X_suspect))[:, 0].detach().numpy().round(3))
print(suspect_tf(X_suspect)[:, 0].numpy().round(3))

# %% tags=["solution"]
x = torch.from_numpy(X_suspect)
for name, layer in suspect_pt.named_children():
    x = layer(x)
    if not torch.isfinite(x).all():
        answer = name
        break

# %%
cu.check.first_bad_layer(answer)

# %% [markdown]
# ## Summary
#
# - **Stop inside a forward pass:** `breakpoint()` in `forward` or `call` opens pdb with real
#   tensors in both frameworks; `p x.shape` found the `(N, 1) * (N,) → (N, N)` broadcast that gave
#   91 % accuracy by predicting "no" everywhere. After an exception, post-mortem (`%debug`) opens
#   at the failing line in both.
# - **pdb inside compiled code:** under `torch.compile`, `breakpoint()` is a graph break: pdb opens
#   in dynamo's resume code, `up` reaches the function, and values computed inside the graph are
#   not defined; `torch.compiler.set_stance("force_eager")` gives pdb real values back. Inside
#   `tf.function` pdb stops once, at trace time, in AutoGraph's generated code, with symbolic
#   tensors; later calls run the graph without Python. `tf.print` prints on every call, and
#   `tf.config.run_functions_eagerly(True)` gives pdb real values back.
# - **Find the first NaN:** the logits had run far below zero, so `sigmoid` gave exactly 0,
#   `log p = -inf`, and `0 · (-inf)` made NaN for every negative example. `detect_anomaly` named
#   `LogBackward0` and our `torch.log` line; a `TorchDispatchMode` and `enable_check_numerics`
#   named the forward `log`; a forward hook showed the logits growing step by step; the tfdbg v2
#   dump, read back with `DebugDataReader` and by TensorBoard's Debugger V2 over HTTP, gave the
#   same first op with an inf and the source line that created it. The fixed schedule with the
#   loss from the logits trains with finite losses in both.
# - **Choose the tool:** pdb for shape bugs in either framework (eagerly in TensorFlow);
#   anomaly/check-numerics to name the op; hooks or the tfdbg dump to watch values over time.
#
# ## PyTorch vs TensorFlow
#
# | concept | PyTorch | TensorFlow | gotcha |
# |---|---|---|---|
# | breakpoint in the model | `breakpoint()` in `forward` | `breakpoint()` in `call` (eager) | inside `tf.function` it stops once, at trace time, with symbolic tensors |
# | post-mortem | `%debug`, `pdb.pm()` | `%debug`, `pdb.pm()` | opens in the innermost Python frame: torch's own `linear.py` (`up` to reach yours); Keras trims its frames |
# | breakpoint in compiled code | a graph break: pdb opens in dynamo's resume code | stops once, at trace time | under `torch.compile` values made inside the graph are undefined in pdb |
# | print from compiled code | `print` (runs every call: a graph break) | `tf.print` | Python `print` in a `tf.function` runs only while tracing |
# | compiled code with real values | `torch.compiler.set_stance("force_eager")` | `tf.config.run_functions_eagerly(True)` | switch it back: both are global |
# | first NaN | `torch.autograd.detect_anomaly()` (backward); a `TorchDispatchMode` (forward) | `tf.debugging.enable_check_numerics()` (every op, gradient ops included) | all of them slow everything down |
# | watch activations | `register_forward_hook` | tfdbg v2 dump (`DebugDataReader`, TensorBoard Debugger V2) / layer-by-layer calls | remove hooks (`handle.remove()`); dumps are MBs: use a temp dir |
# | stable loss | `binary_cross_entropy_with_logits` | `sigmoid_cross_entropy_with_logits` | clamping `p` hides the NaN but changes the loss |
#
# ## Claims settled
#
# | claim | verdict | evidence |
# |---|---|---|
# | TensorFlow needs a special debugger (tfdbg); PyTorch works with pdb | **outdated** | In TensorFlow 2, eager code takes pdb exactly like PyTorch (section "Bug 1", the eager `call` session and the post-mortem). Compiled code hides values from pdb in *both* (section "Inside compiled code": a graph break under `torch.compile`, one symbolic trace in `tf.function`), and each has a switch that brings them back (`set_stance("force_eager")`, `run_functions_eagerly`). The TF1 CLI tfdbg is what the claim meant, history now (section "The TF1 debugger"); tfdbg v2 and its Debugger V2 still help for NaN hunting, as hooks, `detect_anomaly` and a dispatch mode do in PyTorch. |
#
# ## Further reading
#
# - Python docs: [`pdb` — The Python Debugger](https://docs.python.org/3/library/pdb.html) and [PEP 553 `breakpoint()`](https://peps.python.org/pep-0553/).
# - PyTorch: [`torch.autograd.detect_anomaly`](https://pytorch.org/docs/stable/autograd.html#anomaly-detection), [module hooks](https://pytorch.org/docs/stable/generated/torch.nn.Module.html#torch.nn.Module.register_forward_hook), [`torch.compiler.set_stance`](https://pytorch.org/docs/stable/generated/torch.compiler.set_stance.html) and [torch.compile troubleshooting](https://pytorch.org/docs/stable/torch.compiler_troubleshooting.html), [`TorchDispatchMode`](https://pytorch.org/docs/stable/notes/extending.html#extending-all-torch-api-with-modes).
# - TensorFlow: [Debugging TensorFlow 2 numerical issues with Debugger V2](https://www.tensorflow.org/tensorboard/debugger_v2), [`tf.debugging.enable_check_numerics`](https://www.tensorflow.org/api_docs/python/tf/debugging/enable_check_numerics), [`tf.config.run_functions_eagerly`](https://www.tensorflow.org/api_docs/python/tf/config/run_functions_eagerly).
# - JupyterLab: [the visual debugger](https://jupyterlab.readthedocs.io/en/stable/user/debugger.html).

# %% [markdown]
# ## One minute, optional: how was this lesson?
#
# If you like, replace `clarity=None` below with how clear this lesson was (1 = lost, 5 = clear), add one sentence as `comment`, and run the cell. Only those two things are kept, in your own folder (`build/record/` on a laptop, your folder on the hub), next to your checks' verdicts that the instructor's board reads; `cu.progress()` shows your record and `cu.progress(recording=False)` turns recording off.

# %%
cu.feedback("05", clarity=None, comment="")
