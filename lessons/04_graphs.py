# %% [markdown]
# # 04 · Static and dynamic graphs
#
# **Time:** 30 min teaching + 15 min exercises
#
# **Prerequisites:** 01 tensors, 02 autodiff (03 same_model helps: the small MLP here is its little sibling)
#
# **Objectives:**
# - Show that TensorFlow and PyTorch both run eagerly by default, Python control flow included.
# - Trace a TensorFlow function into a graph, predict and control its retracing, and read its GraphDef and AutoGraph code.
# - Capture PyTorch graphs with `torch.fx`, `torch.compile` (graph breaks, recompiles and their logs) and `torch.export` (dynamic sizes, `torch.cond`/`torch.while_loop`), and recognise TorchScript and TF1 sessions as legacy.
# - Write a recursive, tree-shaped model eagerly in both, then put it in a graph in both, and say what each makes easy or hard.
# - Measure what graphs buy fairly (interleaved rounds, spread, GFLOP/s) on an overhead-bound and a compute-bound model, and check that graph results equal eager ones.

# %% [markdown]
# ## Setup
#
# All imports, then one call that quiets the logs, seeds everything and prints the versions.
# Both frameworks compute on the CPU: `cu.setup` hides any GPU from TensorFlow, which would
# otherwise place its ops there by itself (with TF32 matmuls) while torch stays on the CPU.
# Then one thread for each framework (explained in the cell), and `torch.compile`'s kernel cache
# in the course's `build/` folder. `course_utils.lessons.graphs` holds three framework-free helpers (a log
# collector, a graph drawing, a tree flattener); `pt_utils.graph_nodes` and
# `tf_utils.graph_nodes` turn each framework's graph into the same plain list of nodes;
# `course_utils.bench` is lesson 12's fair timer.

# %%
import contextlib
import io
import logging
import os
import re
import time
import warnings

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
import torch
from torch import nn

import course_utils as cu
from course_utils import bench, pt_utils, tf_utils
from course_utils.lessons import graphs

cu.setup(seed=0)
# One thread for each framework (cu.setup pinned 2): "Measure what graphs buy" times per-call
# costs, and two 2-thread pools on a shared 2-core machine would time their fight for the cores.
# Results here do not depend on it (lesson 12 measures threads).
torch.set_num_threads(1)
tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)
_ = os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(bench.inductor_cache_dir()))  # read at the first compile

# %% [markdown]
# ## Eager by default, in both
#
# *Eager* means an operation runs when its line runs and hands back a tensor with real numbers
# in it. Both frameworks work this way by default today (TensorFlow since 2.0, 2019; PyTorch
# always has). A Python `if` on a tensor's value therefore just works: Python asks the tensor for
# a `bool`, and the tensor has one. The same NumPy input `x_np` goes to both.
#
# ### PyTorch
#
# The multiplication has happened by the time the next line runs: `y` holds numbers. Then
# `relu_or_negate` takes a branch that depends on the data.

# %%
x_np = np.array([1.0, -2.0, 3.0], dtype=np.float32)
x_pt = torch.tensor(x_np)
y_pt = x_pt * 2
print(y_pt)


def relu_or_negate(x):
    """ReLU if the values sum to a positive number, else flip the sign: data-dependent control flow."""
    if x.sum() > 0:
        return torch.relu(x)
    return -x


relu_or_negate(x_pt), relu_or_negate(-x_pt)

# %% [markdown]
# ### TensorFlow
#
# Same in TensorFlow: `tf.Tensor` objects made outside a `tf.function` are *eager tensors* with
# values, and `bool(...)` of a scalar one works too.

# %%
x_tf = tf.constant(x_np)
y_tf = x_tf * 2
print(y_tf)


def relu_or_negate_tf(x):
    """The same function written with TensorFlow ops."""
    if tf.reduce_sum(x) > 0:
        return tf.nn.relu(x)
    return -x


relu_or_negate_tf(x_tf), relu_or_negate_tf(-x_tf)

# %% [markdown]
# | | PyTorch | TensorFlow |
# |---|---|---|
# | default mode | eager | eager (`tf.executing_eagerly()` is `True`) |
# | Python `if` on a tensor value | works | works (eagerly) |

# %%
print("tf.executing_eagerly():", tf.executing_eagerly())
cu.compare("relu_or_negate", relu_or_negate(x_pt), relu_or_negate_tf(x_tf))

# %% [markdown]
# ## Trace a function with `tf.function`
#
# `tf.function` turns a Python function into a graph the first time it is called: it runs the
# Python code once with symbolic tensors (*tracing*), records every TensorFlow op into a graph,
# and from then on runs only the graph. So Python code runs **at trace time**, and TensorFlow ops
# run **every call**: a Python `print` shows up once per trace, `tf.print` once per call.

# %%
@tf.function
def double(x):
    print("Python print (trace time): x is", x)
    tf.print("tf.print (run time): x is", x)
    return x * 2


double(tf.constant(1.0))
double(tf.constant(2.0))
print("traces:", double.experimental_get_tracing_count())

# %% [markdown]
# ### What triggers a retrace
#
# A graph is reused for calls with the same *input signature*: for a tensor its shape and dtype,
# for a Python value the value itself. A new shape traces again, and so does every new Python
# number (it is baked into the graph as a constant).

# %%
double(tf.constant([1.0, 2.0]))  # new shape: traces
double(3.0)                       # a Python float: traces
double(4.0)                       # another Python float: traces again
print("traces:", double.experimental_get_tracing_count())

# %% [markdown]
# Two ways to keep it to one trace. `input_signature` fixes the signature up front: `None` in a
# shape means "any size", and Python numbers are converted to tensors. `reduce_retracing=True`
# lets TensorFlow generalise the shape after it has seen a second one.

# %%
@tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.float32)])
def total_fixed(x):
    return tf.reduce_sum(x)


@tf.function(reduce_retracing=True)
def total_relaxed(x):
    return tf.reduce_sum(x)


for n in [2, 3, 4, 5, 6]:
    total_fixed(tf.ones(n))
    total_relaxed(tf.ones(n))
print("input_signature traces:", total_fixed.experimental_get_tracing_count())
print("reduce_retracing traces:", total_relaxed.experimental_get_tracing_count())

# %% [markdown]
# ### Exercise 4.1 ★☆☆ (~3 min)
#
# Predict, without running it, how many times `f` traces for these six calls, then set
# `answer` to that number. (`f` is a fresh `tf.function` with one argument.)
#
# ```python
# f(tf.constant(1.0)); f(tf.constant(2.0)); f(1.0); f(2.0); f(tf.constant([1.0, 2.0])); f(tf.constant(3.0))
# ```

# %% tags=["solution"]
# Scalar tensor (1), Python 1.0 (2), Python 2.0 (3), a length-2 vector (4); the other two scalar
# tensors reuse the first graph.
answer = 4

# %%
cu.check.tracing_count(answer)

# %% [markdown]
# ### Concrete functions and their GraphDef
#
# Each trace is stored as a *concrete function*: one graph for one signature.
# `get_concrete_function` traces (or finds) it without running it, and `.graph.as_graph_def()`
# is the graph itself, a protocol buffer with one entry per op. Here a dense layer whose weights
# live in `tf.Variable`s. The variables enter as `resource` placeholders and are read by
# `ReadVariableOp` at run time, so the same graph sees a new value after `W_tf.assign(...)`
# (no new trace). Then the graph drawn, inputs at the top.

# %%
rng = np.random.default_rng(0)
W_np = rng.normal(size=(3, 2)).astype(np.float32)
b_np = np.zeros(2, dtype=np.float32)
W_tf, b_tf = tf.Variable(W_np), tf.Variable(b_np)


@tf.function
def dense_tf(x):
    return tf.nn.relu(x @ W_tf + b_tf)


concrete = dense_tf.get_concrete_function(tf.TensorSpec([None, 3], tf.float32))
print("input: ", concrete.structured_input_signature[0])
print("output:", concrete.structured_outputs)
for name, op, inputs in tf_utils.graph_nodes(concrete):
    print(f"{op:<15} {name:<30} <- {', '.join(inputs)}")
x_row = tf.ones((1, 3))
print("before assign:", concrete(x_row).numpy().round(4))
W_tf.assign(2 * W_np)
print("after assign: ", concrete(x_row).numpy().round(4), "| traces:", dense_tf.experimental_get_tracing_count())
fig = graphs.draw_graph(tf_utils.graph_nodes(concrete), title="dense_tf: GraphDef")
plt.show()

# %% [markdown]
# *Figure:* the GraphDef that `tf.function` traced for `dense_tf`, one box per node (op type above
# its name) with arrows from each input to the op that reads it: the placeholder `x` and the two
# variable reads feed `MatMul`, then `AddV2`, `Relu` and the `Identity` that returns the result.
#
# ### AutoGraph: Python control flow becomes graph ops
#
# A Python `while` on a *tensor* condition cannot run at trace time (the value is unknown), so
# AutoGraph rewrites the function's source before tracing: `while`/`if`/`for` on tensors become
# `tf.while_loop`/`tf.cond`, on Python values they stay Python. `tf.autograph.to_code` shows the
# rewrite. The Collatz steps count is a loop whose length depends on the data.

# %%
def collatz_steps(n):
    steps = 0
    while n != 1:
        if n % 2 == 0:
            n = n // 2
        else:
            n = 3 * n + 1
        steps += 1
    return steps


print(tf.autograph.to_code(collatz_steps))

collatz_tf = tf.function(collatz_steps)
loop_graph = collatz_tf.get_concrete_function(tf.TensorSpec([], tf.int32))
print("ops in the graph:", sorted({op for _, op, _ in tf_utils.graph_nodes(loop_graph)}))
print("steps for 27:", int(collatz_tf(tf.constant(27))), "| plain Python:", collatz_steps(27))
python_int_graph = collatz_tf.get_concrete_function(27)
print("traced with the Python int 27:", [op for _, op, _ in tf_utils.graph_nodes(python_int_graph)])

# %% [markdown]
# With a tensor, one `StatelessWhile` op holds the whole loop: the graph does not know how many
# times it will turn. With a Python int, AutoGraph leaves the loop in Python: it runs while
# tracing, and the graph holds only its answer, a constant.
#
# ### Three classic pitfalls
#
# **1. A Python side effect runs once.** Appending to a Python list is Python, so it happens
# while tracing, not on each call.

# %%
calls = []


@tf.function
def add_one(x):
    calls.append("called")  # Python: runs at trace time only
    return x + 1


for value in [1, 2, 3]:
    add_one(tf.constant(value))
print("3 calls, list has", len(calls), "entry")

# %% [markdown]
# **2. A variable created inside a `tf.function`.** A graph cannot create a fresh variable on
# every call; TensorFlow allows it only on the first call and then raises `ValueError` when the
# function is traced again and wants another.

# %% tags=["raises-exception"]
@tf.function
def scale_by_new_variable(x):
    v = tf.Variable(2.0)
    return v * x


scale_by_new_variable(tf.constant(1.0))
scale_by_new_variable(tf.constant([1.0, 2.0]))  # a second trace would create a second variable

# %% [markdown]
# The fix: create the variable once, outside (or in a `tf.Module`/Keras layer that builds it on
# first use), and only *use* it inside.

# %%
v = tf.Variable(2.0)


@tf.function
def scale_by_variable(x):
    return v * x


scale_by_variable(tf.constant(1.0)), scale_by_variable(tf.constant([1.0, 2.0]))

# %% [markdown]
# **3. A Python list appended in a graph loop.** Inside a `tf.range` loop (a `tf.while_loop`),
# each tensor lives in the loop body's graph and cannot escape into a Python list. The error
# message names internal graph ids that change every run, so the cell prints only its first line.
# The fix, in the same cell: a `tf.TensorArray`, the graph's own growable list.

# %%
@tf.function
def squares_list(n):
    out = []
    for i in tf.range(n):
        out.append(i * i)
    return out


try:
    squares_list(tf.constant(4))
except Exception as error:  # the full message holds run-specific graph ids
    print(type(error).__name__ + ":", str(error).splitlines()[0].split(" Use return values")[0])


@tf.function
def squares(n):
    out = tf.TensorArray(tf.int32, size=0, dynamic_size=True)
    for i in tf.range(n):
        out = out.write(i, i * i)
    return out.stack()


print("with a TensorArray:", squares(tf.constant(4)).numpy())

# %% [markdown]
# ### Exercise 4.2 ★★☆ (~5 min)
#
# `row_sums(x, scale)` below is called in a training loop with batches of different sizes (4
# features each) and a Python float `scale` that changes every call; it retraces every time.
# Write a version that traces **once** for any batch size and scale, and returns
# `tf.reduce_sum(x, axis=1) * scale`. Assign the decorated function to `answer`.
#
# ```python
# @tf.function
# def row_sums(x, scale):
#     return tf.reduce_sum(x, axis=1) * scale
# ```

# %% tags=["solution"]
@tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32), tf.TensorSpec([], tf.float32)])
def row_sums(x, scale):
    return tf.reduce_sum(x, axis=1) * scale


answer = row_sums

# %%
cu.check.one_trace_row_sums(answer)

# %% [markdown]
# ## Capture PyTorch graphs
#
# PyTorch has three ways to get a graph out of Python code, each for a different job:
#
# - `torch.fx.symbolic_trace` runs `forward` with proxy objects and records the calls: a
#   Python-level graph you can read and rewrite. It cannot follow data-dependent control flow.
# - `torch.compile` (TorchDynamo) reads the Python *bytecode* as it runs, captures the tensor
#   ops into FX graphs, hands them to a backend (by default Inductor, which generates C++ on a
#   CPU), and falls back to Python (a *graph break*) where it cannot capture.
# - `torch.export` captures the *whole* program as one graph of ATen ops, or fails: the format
#   to save and deploy (lesson 09).
#
# The model is the small MLP of lesson 03's kind (64 pixels → 32 → 10), on 8 digits.
#
# ### `torch.fx`: a graph and its generated code

# %%
torch.manual_seed(0)
mlp_pt = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10)).eval()
X = cu.load_digits().X_train[:8].reshape(8, 64)
X_pt = torch.from_numpy(X)
y_hat_pt = mlp_pt(X_pt).detach()
traced = torch.fx.symbolic_trace(mlp_pt)
print(traced.code.strip())
cu.compare("fx vs eager", traced(X_pt).detach(), y_hat_pt)
fig = graphs.draw_graph(pt_utils.graph_nodes(traced), title="mlp_pt: torch.fx graph")
plt.show()

# %% [markdown]
# *Figure:* the graph that `torch.fx` traced from `mlp_pt`, a straight chain from the input through
# `Linear`, `ReLU` and `Linear` to the output, one node per submodule call of the model.
#
# `symbolic_trace` cannot turn `relu_or_negate`'s `if` into graph ops: the proxy has no value.

# %% tags=["raises-exception"]
torch.fx.symbolic_trace(relu_or_negate)

# %% [markdown]
# ### `torch.compile`: what dynamo captures
#
# A `torch.compile` backend is just a function that receives each captured FX graph. This one
# prints what it gets and returns the graph unchanged (no code generation, so it costs almost
# nothing): a window into dynamo.

# %%
captured = []


def show_graphs(gm, example_inputs):
    """A torch.compile backend that records each captured graph and runs it as it is."""
    captured.append(gm)
    shapes = [tuple(t.shape) if hasattr(t, "shape") else "symbolic size" for t in example_inputs]
    print(f"  captured graph #{len(captured)}: {len(gm.graph.nodes)} nodes, inputs {shapes}")
    return gm.forward


def record_graphs(gm, example_inputs):
    """The same backend without the printing: it only records (used to count graphs below)."""
    captured.append(gm)
    return gm.forward


torch.compiler.reset()
relu_or_negate_c = torch.compile(relu_or_negate, backend=show_graphs)
print("first call:")
out = relu_or_negate_c(x_pt)
cu.compare("compiled", out, relu_or_negate(x_pt))

# %% [markdown]
# Two graphs for one function: a **graph break**. Dynamo captured `x.sum() > 0`, could not
# decide the Python `if` without the value, ended graph 1 there, let Python take the branch, and
# captured the branch taken as graph 2. `torch._dynamo.explain` says so: it traces with dynamo but
# generates no code:

# %%
explanation = torch._dynamo.explain(relu_or_negate)(x_pt)
print("graphs:", explanation.graph_count, "| graph breaks:", explanation.graph_break_count)
print("reason:", str(explanation.break_reasons[0].reason).splitlines()[0])

# %% [markdown]
# (`generic_jump` is dynamo's name for a conditional jump in the bytecode, here one that depends on a
# tensor's value.) A break costs a trip back to Python and stops the compiler from optimising across it;
# `torch.compile(..., fullgraph=True)` turns a break into an error. Exercise 4.3 removes it.
#
# **A Python `print` under `torch.compile`** is Python that dynamo cannot put in a graph: it breaks
# the graph there (one graph before it, one after), and Python runs the `print` on **every call**. That is the opposite of
# `tf.function`, where a Python `print` runs once per trace (the `double` cell above) and only
# `tf.print` runs every call.

# %%
torch.compiler.reset()
captured.clear()


def double_pt(x):
    y = x * 2                                  # graph 1 ends at the print
    print("Python print under torch.compile: x has shape", tuple(x.shape))
    return y + 1                               # graph 2


double_pt_c = torch.compile(double_pt, backend=show_graphs)
for value in [1.0, 2.0]:
    double_pt_c(torch.tensor([value]))
print("graphs compiled for 2 calls:", len(captured))
explanation = torch._dynamo.explain(double_pt)(torch.tensor([1.0]))
print("explain: graphs", explanation.graph_count, "| graph breaks:", explanation.graph_break_count,
      "| reason:", str(explanation.break_reasons[0].reason).splitlines()[0])

# %% [markdown]
# **Recompilation on a new shape.** Dynamo guards each graph on what it assumed (shapes, dtypes,
# Python values). A call that fails the guards compiles again; after a second shape, it compiles
# a graph with a *symbolic* size that serves every later size.

# %%
def sin_times_two(x):
    return torch.sin(x) * 2


torch.compiler.reset()
captured.clear()
sin_c = torch.compile(sin_times_two, backend=show_graphs)
for n in [4, 4, 8, 16, 32]:
    print(f"call with {n} values")
    sin_c(torch.ones(n))
print("graphs compiled for 5 calls:", len(captured))
print(captured[-1].code.strip())

# %% [markdown]
# **What each framework tells you.** Neither says a word by default when it breaks a graph or
# compiles again. For a script, `TORCH_LOGS="graph_breaks,recompiles" python train.py` logs each
# graph break with its reason and each recompile with the guard that failed;
# `torch._logging.set_logs(...)` does the same inside a running kernel. After
# `torch._dynamo.config.recompile_limit` compiles of one function (8 by default, 2 here to reach it),
# dynamo stops compiling it and runs it eagerly, with a warning. TensorFlow warns by itself when a
# `tf.function` retraces on most of its recent calls (`cu.setup` quietened TensorFlow's warnings;
# the cell lets them through). `graphs.captured_logs` collects both frameworks' messages so that
# the cell prints them without the date, process id and path each logged line carries.

# %%
torch.compiler.reset()
torch._dynamo.config.recompile_limit = 2
torch._logging.set_logs(graph_breaks=True, recompiles=True)  # what TORCH_LOGS="graph_breaks,recompiles" does
relu_or_negate_c = torch.compile(relu_or_negate, backend="eager")
sin_c = torch.compile(sin_times_two, backend="eager")
with graphs.captured_logs("torch._dynamo") as messages_pt:
    relu_or_negate_c(x_pt)                                              # a graph break
    for dtype in [torch.float32, torch.float64, torch.float16, torch.bfloat16]:
        sin_c(x_pt.to(dtype))                                          # a new dtype fails a guard
torch._logging.set_logs(dynamo=logging.ERROR)                          # back to cu.setup's quiet
torch._dynamo.config.recompile_limit = 8
for message in messages_pt:
    lines = message.splitlines()
    detail = next((line for line in lines[1:] if "Reason" in line or "mismatch" in line), "")
    print("torch |", lines[0], "|", re.sub(r"\d+/\d+: ", "", detail).strip(" -"))  # N/M: frame ids


@tf.function
def scale(x, k):
    return x * k


with graphs.captured_logs("tensorflow", level=logging.WARNING) as messages_tf:
    for k in range(6):
        scale(tf.constant(1.0), float(k))                               # a new Python float: a new trace
print("tf    |", re.sub(r" at 0x[0-9a-f]+", "", messages_tf[0]).split(". ")[0])

# %% [markdown]
# ### Exercise 4.3 ★★☆ (~5 min)
#
# Write `relu_or_negate_fixed(x)`, which returns the same values as `relu_or_negate` for any
# tensor but compiles to **one** graph with no break. Assign the function to `answer`.
# (Hint: compute both branches and choose with a tensor op.)

# %% tags=["solution"]
def relu_or_negate_fixed(x):
    return torch.where(x.sum() > 0, torch.relu(x), -x)


answer = relu_or_negate_fixed

# %%
cu.check.no_graph_break(answer)

# %% [markdown]
# ### `torch.export`: the whole program as one graph
#
# `torch.export.export` needs example inputs and gives an `ExportedProgram`: ATen-level ops,
# parameters lifted to explicit inputs, and a signature saying which input is which. It runs
# without the model's source code, but not without Python: `.module()` runs it in PyTorch's
# interpreter, and `torch.export.save`/`load` keep it in a `.pt2` file that Python loads. To run
# with no Python at all it is compiled ahead of time, with AOTInductor into a shared library that
# a C++ program loads, or lowered to ExecuTorch for phones; lesson 09 builds the AOTInductor
# package and runs it from C++.

# %%
exported = torch.export.export(mlp_pt, (X_pt,))
print(exported.graph_module.code.strip())
for spec in exported.graph_signature.input_specs:
    print(f"{spec.arg.name:<12} {spec.kind.name:<12} {spec.target or ''}")
cu.compare("export vs eager", exported.module()(X_pt).detach(), y_hat_pt)

# %% [markdown]
# The example batch had 8 rows, and `export` assumed every batch will: the program carries a guard
# `input.size()[0] == 8`, and a batch of 4 fails it. `dynamic_shapes` names the sizes that may
# change: `Dim("batch")` for dimension 0 of `input` (`nn.Linear`'s argument name), and the program
# then serves any batch size.

# %%
try:
    exported.module()(X_pt[:4])
except AssertionError as error:
    print(f"batch 4 on the batch-8 program: {type(error).__name__}: {str(error).splitlines()[0]}")
batch = torch.export.Dim("batch")
exported_dyn = torch.export.export(mlp_pt, (X_pt,), dynamic_shapes={"input": {0: batch}})
for n in (4, 8, 1):
    cu.compare(f"dynamic batch {n}", exported_dyn.module()(X_pt[:n]).detach(), y_hat_pt[:n])

# %% [markdown]
# Where `torch.compile` would break the graph, `export` fails instead: the cell's first line tries
# `relu_or_negate`. The fix is control flow written as operators that carry their branches or their
# body inside the graph: `torch.cond`, PyTorch's counterpart of `tf.cond`, and `torch.while_loop`,
# the counterpart of `tf.while_loop`. The Collatz loop of the AutoGraph section, whose length
# depends on the value of `n`, exports as one `while_loop` node that serves every `n`.

# %%
class ReluOrNegate(nn.Module):
    def forward(self, x):
        return relu_or_negate(x)


class ReluOrNegateCond(nn.Module):
    def forward(self, x):
        return torch.cond(x.sum() > 0, torch.relu, torch.neg, (x,))


class CollatzSteps(nn.Module):
    """collatz_steps with torch.while_loop: the loop's length depends on the value of n."""

    def forward(self, n):
        def keep_going(n, steps):
            return n != 1

        def step(n, steps):
            return torch.where(n % 2 == 0, n // 2, 3 * n + 1), steps + 1

        return torch.while_loop(keep_going, step, (n, torch.zeros_like(n)))[1]


try:
    # export also writes its partial graph to stderr; keep the cell to the error's first line
    with contextlib.redirect_stderr(io.StringIO()):
        torch.export.export(ReluOrNegate(), (x_pt,))
except Exception as error:
    print(type(error).__name__ + ":", str(error).splitlines()[0])
exported_cond = torch.export.export(ReluOrNegateCond(), (x_pt,))
print("with torch.cond:", [op for _, op, _ in pt_utils.graph_nodes(exported_cond)])
for x in (x_pt, -x_pt):
    cu.compare("torch.cond", exported_cond.module()(x), relu_or_negate(x))
exported_loop = torch.export.export(CollatzSteps(), (torch.tensor(27),))
print("with torch.while_loop:", [op for _, op, _ in pt_utils.graph_nodes(exported_loop)])
print("steps for 27, 7, 1:", [int(exported_loop.module()(torch.tensor(n))) for n in (27, 7, 1)],
      "| plain Python:", [collatz_steps(n) for n in (27, 7, 1)])

# %% [markdown]
# ### Legacy graph formats, in both
#
# `torch.jit.script`/`torch.jit.trace` were PyTorch's first graph formats (2018). They still
# run in 2.13, and warn that they are deprecated in favour of `torch.compile` and
# `torch.export`; the warning is caught here and its text printed. TensorFlow's legacy is
# TensorFlow 1's: a `tf.Graph` built op by op with placeholders and run in a `Session`. It still
# runs in 2.21 under `tf.compat.v1` (lesson 05 wraps one in the TF1 debugger), without a warning, and
# `tf.function` replaced it.

# %%
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    scripted = torch.jit.script(mlp_pt)
print(f"{caught[0].category.__name__}: {caught[0].message}")
cu.compare("TorchScript", scripted(X_pt).detach(), y_hat_pt)
with tf.Graph().as_default():                      # TF1: build first, run later
    x_ph = tf.compat.v1.placeholder(tf.float32, shape=[None, 3])
    y_ph = tf.nn.relu(x_ph * 2)
    with tf.compat.v1.Session() as sess:
        print("TF1 Session.run:", sess.run(y_ph, feed_dict={x_ph: [x_np]}))

# %% [markdown]
# ## Dynamic models: a recursive tree network
#
# A tree-structured network encodes a binary tree (a parsed sentence, a formula) bottom-up: a
# leaf is an embedding row, and an inner node combines its two children,
# `h = tanh(W [h_left; h_right] + b)`. Every input has a different shape of computation, which
# is the case the claim "dynamic graphs make recursive models simpler" is about. Trees are
# nested Python pairs with word ids at the leaves; the weights are made once in NumPy.

# %%
D, V = 4, 6
emb_np = rng.normal(size=(V, D)).astype(np.float32)
W_cell_np = (0.5 * rng.normal(size=(D, 2 * D))).astype(np.float32)
b_cell_np = np.zeros(D, dtype=np.float32)
trees = [((1, 2), (3, (4, 5))), (0, (1, (2, 3))), ((1, 2), (3, (4, 0))), (5, 1)]

# %% [markdown]
# ### PyTorch, eager
#
# Recursion in plain Python: the code follows the tree.

# %%
emb_pt, W_cell_pt, b_cell_pt = (torch.from_numpy(a) for a in (emb_np, W_cell_np, b_cell_np))


def encode_pt(tree):
    if isinstance(tree, int):
        return emb_pt[tree]
    left, right = tree
    return torch.tanh(W_cell_pt @ torch.cat([encode_pt(left), encode_pt(right)]) + b_cell_pt)


roots_pt = torch.stack([encode_pt(t) for t in trees])
roots_pt.shape

# %% [markdown]
# ### TensorFlow, eager
#
# The same recursion, the same simplicity: eager TensorFlow is just as dynamic.

# %%
emb_tf, W_cell_tf, b_cell_tf = (tf.constant(a) for a in (emb_np, W_cell_np, b_cell_np))


def encode_tf(tree):
    if isinstance(tree, int):
        return emb_tf[tree]
    left, right = tree
    return tf.tanh(tf.linalg.matvec(W_cell_tf, tf.concat([encode_tf(left), encode_tf(right)], 0)) + b_cell_tf)


roots_tf = tf.stack([encode_tf(t) for t in trees])
cu.compare("tree roots", roots_pt, roots_tf)

# %% [markdown]
# ### TensorFlow, the whole tree in `tf.function`
#
# Wrapping the recursion works, but the tree is a Python value: tracing unrolls the recursion
# into a graph for *that* tree, and every new tree traces again.

# %%
encode_tf_graph = tf.function(encode_tf)
roots = tf.stack([encode_tf_graph(t) for t in trees])
print("trees:", len(trees), "| traces:", encode_tf_graph.experimental_get_tracing_count())
cu.compare("tf.function", roots, roots_tf)

# %% [markdown]
# ### PyTorch, the whole tree in `torch.compile`
#
# Dynamo does the same: it unrolls the recursion for the tree it sees and guards on the tree,
# so each new tree compiles again (with the recording backend, to count).

# %%
torch.compiler.reset()
captured.clear()
encode_pt_c = torch.compile(encode_pt, backend=record_graphs)
roots = torch.stack([encode_pt_c(t) for t in trees])
print("trees:", len(trees), "| graphs compiled:", len(captured))
cu.compare("torch.compile", roots, roots_pt)

# %% [markdown]
# ### TensorFlow, one graph for every tree
#
# To get one graph, the tree must become *tensors*: `graphs.flatten_tree` lists the leaves and,
# children before parents, the pair each inner node combines. A `tf.range` loop (AutoGraph →
# `tf.while_loop`) fills a `TensorArray` of node states. It works, and it is clearly more code.

# %%
leaves, children = graphs.flatten_tree(trees[0])
print("leaves:", leaves, "| children:", children)


@tf.function(input_signature=[tf.TensorSpec([None], tf.int32), tf.TensorSpec([None, 2], tf.int32)])
def encode_flat_tf(leaves, children):
    n_leaves, n_inner = tf.shape(leaves)[0], tf.shape(children)[0]
    states = tf.TensorArray(tf.float32, size=n_leaves + n_inner, element_shape=[D], clear_after_read=False)
    for i in tf.range(n_leaves):
        states = states.write(i, tf.gather(emb_tf, leaves[i]))
    for j in tf.range(n_inner):
        h = tf.concat([states.read(children[j, 0]), states.read(children[j, 1])], 0)
        states = states.write(n_leaves + j, tf.tanh(tf.linalg.matvec(W_cell_tf, h) + b_cell_tf))
    return states.read(n_leaves + n_inner - 1)


roots = tf.stack([encode_flat_tf(*graphs.flatten_tree(t)) for t in trees])
print("trees:", len(trees), "| traces:", encode_flat_tf.experimental_get_tracing_count())
cu.compare("one TF graph", roots, roots_tf)

# %% [markdown]
# ### PyTorch, one graph for every tree: two ways
#
# The usual PyTorch idiom is the other way round: keep the tree walk in Python and compile only
# the part that is the same for every node, the cell. One graph, reused at every node of every tree.

# %%
torch.compiler.reset()
captured.clear()


@torch.compile(backend=record_graphs)
def cell_pt(h_left, h_right):
    return torch.tanh(W_cell_pt @ torch.cat([h_left, h_right]) + b_cell_pt)


def encode_cell_pt(tree):
    if isinstance(tree, int):
        return emb_pt[tree]
    return cell_pt(encode_cell_pt(tree[0]), encode_cell_pt(tree[1]))


roots = torch.stack([encode_cell_pt(t) for t in trees])
print("trees:", len(trees), "| graphs compiled:", len(captured))
cu.compare("compiled cell", roots, roots_pt)

# %% [markdown]
# The other way is TensorFlow's: the flat lists as tensors and a `torch.while_loop` over the inner
# nodes, exported with both list lengths dynamic. The loop body must be functional (it returns the
# new `states` rather than writing into them) and picks rows with `index_select`, because indexing
# with a tensor-valued position inside the loop would be data-dependent. One program, every tree.

# %%
class FlatTreeEncoder(nn.Module):
    def forward(self, leaves, children):
        n_leaves = leaves.shape[0]
        states = torch.cat([emb_pt[leaves], torch.zeros(children.shape[0], D)])

        def more_nodes(j, states):
            return j < children.shape[0]

        def combine(j, states):
            pair = children.index_select(0, j.reshape(1)).reshape(2)
            h = torch.tanh(W_cell_pt @ states.index_select(0, pair).reshape(-1) + b_cell_pt)
            return j + 1, states.index_copy(0, (n_leaves + j).reshape(1), h[None])

        return torch.while_loop(more_nodes, combine, (torch.tensor(0), states))[1][-1]


def flat_tensors(tree):
    leaves, children = graphs.flatten_tree(tree)
    return torch.tensor(leaves), torch.tensor(children).reshape(-1, 2)


flat_program = torch.export.export(FlatTreeEncoder(), flat_tensors(trees[0]), dynamic_shapes={
    "leaves": {0: torch.export.Dim("n_leaves")}, "children": {0: torch.export.Dim("n_inner")}})
roots = torch.stack([flat_program.module()(*flat_tensors(t)) for t in trees])
print("trees:", len(trees), "| programs exported: 1 | while_loop in it:",
      "while_loop" in [op for _, op, _ in pt_utils.graph_nodes(flat_program)])
cu.compare("one exported program", roots, roots_pt)

# %% [markdown]
# | | PyTorch | TensorFlow |
# |---|---|---|
# | eager recursion | plain Python | plain Python (just as simple) |
# | whole tree in a graph | recompiles per tree | retraces per tree |
# | one graph for all trees | compile the cell and walk in Python, or flatten + `torch.while_loop` | flatten to tensors + `tf.while_loop`/`TensorArray` |
# | one whole-model graph to save | the flat version, exported (`torch.while_loop`, dynamic sizes) | the flat version, as a concrete function |
#
# The simplicity comes from **eager execution**, which both have. The cost of a whole-model graph
# is the same rewrite in both: the tree becomes tensors and the recursion a tensor loop. PyTorch
# also offers the cheaper middle way of compiling only the regular piece and keeping the walk in Python.
#
# ## Measure what graphs buy
#
# Inference on two MLPs with the same NumPy weights in both frameworks: a small one (64 → 32 → 10,
# batch 32) and a larger one (64 → 512 → 512 → 10, batch 512). Six ways to run each: eager
# PyTorch; `torch.compile` (Inductor); eager TensorFlow twice, as plain TensorFlow ops
# (`tf.nn.relu(x @ W + b)` on constants) and as the Keras model's `model(x)`, which adds Keras'
# own per-call work; then `tf.function` and `tf.function(jit_compile=True)` (XLA) around the Keras
# call. The first call (trace / compile) is timed on its own. Then `bench.interleaved` (lesson
# 12's timer) warms every candidate up, runs 5 rounds in which the candidates take turns, calls
# both frameworks' `synchronize` before reading the clock (a no-op on a CPU, needed on a GPU), and
# reports each candidate's best round (the minimum: load only adds time) and its median. Beside
# each time, GFLOP/s: the model's multiply-adds (2·batch·in·out per layer) divided by the best time. Both frameworks run on one CPU
# thread; TensorFlow's oneDNN rewrites are off (`TF_ENABLE_ONEDNN_OPTS=0`, set by `cu.setup`: with
# them on, TensorFlow prints a start-up notice that no log level hides and its last digits move), so
# the TensorFlow rows measure its default kernels, not oneDNN's fused ones.
#
# Inductor keeps its compiled kernels in `build/cache/inductor/` (set in Setup). The first run on a
# fresh machine compiles them with gcc (many seconds on a 2-core laptop); later runs read them
# back. The column "first call" shows which case you got.

# %%
def mlp_weights(sizes, seed):
    """[(W, b)] per layer in NumPy, W of shape (in, out)."""
    gen = np.random.default_rng(seed)
    return [((gen.normal(size=(m, n)) / np.sqrt(m)).astype(np.float32), np.zeros(n, np.float32))
            for m, n in zip(sizes, sizes[1:])]


def make_mlp_pt(weights):
    layers = []
    for W, b in weights:
        linear = nn.Linear(*W.shape)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W.T))
            linear.bias.copy_(torch.from_numpy(b))
        layers += [linear, nn.ReLU()]
    return nn.Sequential(*layers[:-1]).eval()


def make_mlp_tf(weights):
    model = keras.Sequential([keras.Input((weights[0][0].shape[0],))]
                             + [keras.layers.Dense(W.shape[1], activation="relu") for W, _ in weights[:-1]]
                             + [keras.layers.Dense(weights[-1][0].shape[1])])
    for layer, (W, b) in zip(model.layers, weights):
        layer.set_weights([W, b])
    return model


def make_mlp_raw_tf(weights):
    """The same MLP as plain TensorFlow ops on constants: no Keras layer in the call."""
    params = [(tf.constant(W), tf.constant(b)) for W, b in weights]

    def forward(x):
        for W, b in params[:-1]:
            x = tf.nn.relu(x @ W + b)
        W, b = params[-1]
        return x @ W + b
    return forward


setups = {"small": ([64, 32, 10], 32), "larger": ([64, 512, 512, 10], 512)}
models = {}
for name, (sizes, batch_size) in setups.items():
    weights = mlp_weights(sizes, seed=1)
    X_bench = np.random.default_rng(2).random((batch_size, 64), dtype=np.float32)
    flops = sum(bench.matmul_flops(batch_size, n, m) for m, n in zip(sizes, sizes[1:]))
    models[name] = (make_mlp_pt(weights), make_mlp_tf(weights), make_mlp_raw_tf(weights), X_bench, flops)
    model_pt, model_tf, raw_tf, _, _ = models[name]
    with torch.no_grad():
        cu.compare(f"{name} eager", model_pt(torch.from_numpy(X_bench)), model_tf(X_bench))
    cu.compare(f"{name} raw ops", model_tf(X_bench), raw_tf(tf.constant(X_bench)), atol=1e-5)
    print(f"{name}: {flops / 1e6:.2f} MFLOP per call")

# %% tags=["nbval-ignore-output"]
# Timings depend on the machine and its load, so this cell's output is not compared. The asserts
# check what holds on any machine: every graph gives the eager result; every TensorFlow way of
# running does more GFLOP/s on the larger model than on the small one (the small one is
# overhead-bound), and so does the fastest row overall. Eager PyTorch is lean enough that on a CPU
# with 128-bit kernels and one thread its small model came close to the larger one's GFLOP/s, so it
# is not asserted row by row. All in the best round: load only ever slows a round down, so the
# minimum is the statistic for overhead. A
# row whose slowest round took over 3x its best says "noisy run: rerun" instead of a median. The
# last line reads how tf.function compares with the eager Keras call it wraps.
def sync():
    pt_utils.synchronize()
    tf_utils.synchronize()


results = {}
with torch.no_grad():
    for name, (model_pt, model_tf, raw_tf, X_bench, flops) in models.items():
        x_pt, x_tf = torch.from_numpy(X_bench), tf.constant(X_bench)
        y_eager = model_pt(x_pt).numpy()
        compiled_pt = torch.compile(model_pt)
        graph_tf = tf.function(lambda x: model_tf(x, training=False))
        xla_tf = tf.function(lambda x: model_tf(x, training=False), jit_compile=True)
        calls = {
            "torch eager": lambda: model_pt(x_pt),
            "torch.compile": lambda: compiled_pt(x_pt),
            "tf raw ops, eager": lambda: raw_tf(x_tf),
            "tf Keras call, eager": lambda: model_tf(x_tf, training=False),
            "tf.function": lambda: graph_tf(x_tf),
            "tf.function+XLA": lambda: xla_tf(x_tf),
        }
        first = {}
        for how, call in calls.items():
            start = time.perf_counter()
            out = call()
            sync()
            first[how] = time.perf_counter() - start                      # trace / compile + one call
            agree = cu.compare(f"{name} {how}", out, y_eager, atol=1e-4, quiet=True)
            assert agree, f"{name} {how}: the graph's result differs from eager"
        results[name] = (bench.interleaved(calls, rounds=5, sync=sync), first, flops)
print(bench.thread_line())
for name, (timed, first, flops) in results.items():
    for how, t in timed.timings.items():
        spread = "noisy run: rerun" if t.high > 3 * t.low else f"median {t.median * 1e6:7.0f} µs"
        print(f"{name:<7} {how:<21} first call {first[how]:5.2f} s   best {t.low * 1e6:7.0f} µs   {spread:<17}"
              f"   {bench.gflops(flops, t.low):6.2f} GFLOP/s")
best = {how: [bench.gflops(flops, timed[how].low) for timed, _, flops in results.values()] for how in calls}
for how in [how for how in calls if how.startswith("tf")]:     # TensorFlow's per-call cost: overhead-bound
    assert best[how][1] > best[how][0], f"{how}: the larger model should run at more GFLOP/s than the small one"
assert max(small for small, _ in best.values()) < max(larger for _, larger in best.values()), \
    "the fastest way to run the larger model should reach more GFLOP/s than any way to run the small one"
small = results["small"][0]
gain = small["tf Keras call, eager"].low / small["tf.function"].low
print(f"small model, best rounds: tf.function is {gain:.1f}x as fast as the eager Keras call it wraps"
      + ("" if gain > 1 else " (slower: a busy machine, see below; rerun when it is quiet)"))

# %% [markdown]
# How to read it. The ratios between rows depend on the CPU, the library builds and the load (run
# the cell twice, or on another machine, and they move), so read what the columns say, not this
# machine's numbers:
#
# - **Compile time is real.** The first `torch.compile` with Inductor takes seconds (generating C++
#   and building it with gcc, or reading it back from the cache); a `tf.function` traces in a
#   fraction of a second, and XLA adds a fraction more.
# - **GFLOP/s says what bounds a row.** The small model does a fraction of a MFLOP per call: every
#   row runs far below what the CPU's matrix unit can do (lesson 12 measures that peak), so the
#   time is overhead, Python and per-op dispatch. A graph can only win by removing overhead, and
#   how much there is to remove differs: eager PyTorch is already lean, eager TensorFlow costs
#   more per op, and the Keras call more again (compare its row with the raw-ops row). That is
#   why, on a quiet machine, `tf.function` around the Keras call beats the eager Keras call on the
#   small model (the last line prints the factor). On a heavily loaded one it can lose: the graph
#   hands its ops to TensorFlow's inter-op thread, and each call may wait for that thread to get a
#   core, which eager code (run on the calling thread) does not; the last line then says so.
# - **The larger model is compute-bound**: its rows run at many GFLOP/s, and the time is the
#   matrix products. A graph there wins only if it runs different kernels than eager code
#   (TensorFlow's graph optimiser fuses a matmul with its bias add and ReLU; XLA generates its own
#   code), so whether `tf.function` or XLA beats eager on it is a property of your machine and
#   build, to be measured there, not a rule.
# - Graph results equal eager ones within 1e-4 (the asserts), not always bit for bit: compiled
#   kernels may add in a different order.
#
# Fair benchmarking in depth, training throughput and threads are lesson 12's subject.
#
# ## Summary
#
# - **Eager by default, in both.** An op runs when its line runs, and a Python `if` on a tensor
#   works in PyTorch and in TensorFlow alike (`relu_or_negate`, `tf.executing_eagerly()`).
# - **TensorFlow graphs** come from `tf.function`: Python runs once per trace, TF ops every call;
#   new shapes and new Python values retrace (and TensorFlow warns when it happens too often),
#   `input_signature`/`reduce_retracing` stop it; a concrete function's GraphDef lists its ops;
#   AutoGraph rewrites `while`/`if` on tensors into graph control flow (one `StatelessWhile` op for
#   the Collatz loop); side effects, variables and Python lists need care inside.
# - **PyTorch graphs** come from `torch.fx` (readable, no data-dependent flow), `torch.compile`
#   (captures what it can, breaks the graph where it cannot, a `print` included, which then runs
#   every call; recompiles on new shapes and dtypes up to `recompile_limit`; `TORCH_LOGS` says why)
#   and `torch.export` (one whole ATen graph or an error; fixed sizes unless `dynamic_shapes`;
#   `torch.cond`/`torch.while_loop` for data-dependent control flow; it still needs Python to run,
#   AOTInductor removes that). TorchScript is deprecated, as TF1's `Session` is legacy.
# - **Recursive models** are equally simple eagerly in both; in a graph, both re-trace per tree
#   unless you restructure: one whole-model graph takes flattening the tree into tensor loops in
#   both (`tf.while_loop`, `torch.while_loop`); PyTorch can also compile just the cell.
# - **What graphs buy** depends on what bounds the work: GFLOP/s far below the machine's rate means
#   overhead, which a graph can remove; a compute-bound model gains only where the graph runs other
#   kernels. Compile time is paid first, and results match eager within float tolerance.
#
# ## PyTorch vs TensorFlow
#
# | concept | PyTorch | TensorFlow | gotcha |
# |---|---|---|---|
# | default mode | eager | eager | "TF is static" is a TF 1.x memory |
# | make a graph | `torch.compile(f)` | `@tf.function` | both trace on the first call |
# | Python `print` in a graph function | a graph break: runs every call | runs once per trace | `tf.print` runs every call |
# | new input shape | recompile, then a dynamic-size graph | retrace (or `input_signature`/`reduce_retracing`) | Python numbers are part of TF's signature |
# | why did it recompile? | `TORCH_LOGS="graph_breaks,recompiles"`; eager after `recompile_limit` | a retracing warning after most recent calls retraced | both silent by default about single retraces |
# | data-dependent `if` | graph break (fix: `torch.where`, or `torch.cond` to export) | AutoGraph → `tf.cond` | `fx.symbolic_trace` cannot do it at all |
# | loop on a tensor value (Collatz) | `torch.while_loop` (export: one `while_loop` node) | AutoGraph → `StatelessWhile` op | Python lists inside need `TensorArray` / a functional body |
# | loop over a Python structure (the tree) | unrolled; recompiles per tree | unrolled; retraces per tree | one graph for all trees takes a rewrite in both |
# | inspect the graph | `gm.code`, `torch._dynamo.explain` | `get_concrete_function().graph.as_graph_def()`, `tf.autograph.to_code` | print code and node lists: some reprs hold run-specific ids |
# | whole-program graph | `torch.export` (`ExportedProgram`) | a concrete function (saved as SavedModel in lesson 09) | export fixes the example's batch size unless `dynamic_shapes=` |
# | run it without Python | AOTInductor `.so` or ExecuTorch (lesson 09) | the SavedModel from C++/TF Serving (lesson 09) | an `ExportedProgram` itself needs Python and torch |
# | legacy graph format | TorchScript (deprecated, warns) | TF1 `tf.Graph` + `Session` under `tf.compat.v1` (runs, no warning) | start new code on `torch.compile`/`torch.export` and `tf.function` |
# | compiler | Inductor (C++ on a CPU) | XLA (`jit_compile=True`) | compile time counts: seconds for Inductor |
# | compile options (not run here) | `mode="reduce-overhead"` (CUDA graphs), `"max-autotune"`; `torch.compiler.disable` keeps one function eager; `torch._dynamo.mark_dynamic(x, 0)` skips the first recompile | `reduce_retracing=True`, an `input_signature` with `None` sizes; `tf.config.run_functions_eagerly(True)` | modes pay off on a GPU; on a CPU the default mode is the one to measure |
# | a training step in a graph | `torch.compile` of the step (forward, backward and optimizer) | `@tf.function` around tape + `apply_gradients` (lesson 03's loop) | the first step pays the compile |
#
# ## Claims settled
#
# | claim | verdict | evidence |
# |---|---|---|
# | "TensorFlow uses static graphs; PyTorch dynamic graphs" | **outdated** | Both are eager by default (*Eager by default, in both*: `tf.executing_eagerly()` is `True`, a Python `if` works in both). Both build graphs on request: `tf.function` (*Trace a function*) and `torch.compile`/`torch.export` (*Capture PyTorch graphs*); TF1's static `Session` graphs still run, as legacy (*Legacy graph formats*). |
# | "PyTorch also uses static graphs / TorchScript lets models run without Python" | **partly** | PyTorch does capture static graphs: `torch.fx`, dynamo's graphs, and `torch.export`'s whole-program graph, with dynamic batch sizes and `torch.cond`/`torch.while_loop` control flow (*Capture PyTorch graphs*). TorchScript still runs but is deprecated (its warning in *Legacy graph formats*). An `ExportedProgram` runs without the model's code but still in Python; running without Python takes AOTInductor or ExecuTorch, and lesson 09 runs an AOTInductor package from C++. |
# | "Dynamic graphs make variable-size and recursive models simpler" | **true, but not a PyTorch-only point** | The recursive tree network is a few lines of plain Python in eager PyTorch *and* eager TensorFlow (*Dynamic models*). Put in a graph, both re-trace per tree; one whole-model graph for all trees takes the same tensor rewrite in both (`encode_flat_tf` with `tf.while_loop`, `FlatTreeEncoder` with `torch.while_loop`, exported once); PyTorch can instead compile only the cell (`cell_pt`). |
#
# ## Further reading
#
# - TensorFlow guide: [Better performance with tf.function](https://www.tensorflow.org/guide/function) and [Introduction to graphs and tf.function](https://www.tensorflow.org/guide/intro_to_graphs).
# - TensorFlow: [AutoGraph reference](https://github.com/tensorflow/tensorflow/blob/master/tensorflow/python/autograph/g3doc/reference/index.md).
# - PyTorch: [Introduction to torch.compile](https://pytorch.org/tutorials/intermediate/torch_compile_tutorial.html), [torch.compile troubleshooting](https://pytorch.org/docs/stable/torch.compiler_troubleshooting.html) (`TORCH_LOGS`, recompiles), and the [graph-break reference](https://meta-pytorch.github.io/compile-graph-break-site/) that dynamo's own messages link to.
# - PyTorch: [torch.export](https://pytorch.org/docs/stable/export.html) (dynamic shapes, `torch.cond`, `torch.while_loop`), [AOTInductor](https://pytorch.org/docs/stable/torch.compiler_aot_inductor.html) and [torch.fx](https://pytorch.org/docs/stable/fx.html).
# - Looks, Herreshoff, Hutchins, Norvig (2017), *Deep Learning with Dynamic Computation Graphs* (TensorFlow Fold): the tree-batching problem this lesson's tree network touches.

# %% [markdown]
# ## One minute, optional: how was this lesson?
#
# If you like, replace `clarity=None` below with how clear this lesson was (1 = lost, 5 = clear), add one sentence as `comment`, and run the cell. Only those two things are kept, in your own folder (`build/record/` on a laptop, your folder on the hub), next to your checks' verdicts that the instructor's board reads; `cu.progress()` shows your record and `cu.progress(recording=False)` turns recording off.

# %%
cu.feedback("04", clarity=None, comment="")
