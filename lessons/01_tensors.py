# %% [markdown]
# # 01 · Tensors: NumPy with autodiff and devices
#
# **Time:** 35 min teaching + 15 min exercises
#
# **Prerequisites:** Python and NumPy basics (arrays, `shape`, `dtype`, `axis=`); lesson 00 says
# your machine is ready.
#
# **Objectives:**
#
# - Create tensors in PyTorch and TensorFlow from NumPy and from recipes, and predict their dtypes.
# - Index, reshape, broadcast, reduce, multiply (`@` vs `*`), join and cast in both, translating
#   `dim=` ↔ `axis=`, `keepdim` ↔ `keepdims`, and picking the right standard deviation.
# - Change values in place in PyTorch and through a `tf.Variable` in TensorFlow, and explain why a
#   `tf.Tensor` refuses item assignment.
# - Hand data between NumPy, PyTorch and TensorFlow without copying, tell when memory is shared, and
#   copy before writing.
# - Judge the claim "PyTorch is essentially a GPU-enabled NumPy" from executed evidence.

# %% [markdown]
# ## Setup
#
# All imports, then one call that quiets the frameworks' logs, seeds NumPy, torch and TensorFlow,
# and prints the versions this notebook was run with.

# %%
import inspect

import keras
import numpy as np
import tensorflow as tf
import tensorflow.experimental.numpy as tnp
import torch

import course_utils as cu

cu.setup(seed=0)

# %% [markdown]
# ## Make tensors and know their dtypes
#
# A tensor is an n-dimensional array with a **shape**, a **dtype** and a **device**. Both
# frameworks make one from a NumPy array or from a recipe (`zeros`, a range, random numbers). We
# make the data once in NumPy and hand the same array to both. Watch the dtypes: NumPy's default
# float is `float64`, both frameworks default to `float32` (what neural networks use) — but an
# array that comes *from NumPy* keeps NumPy's dtype.

# %%
X = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=np.float32)
print("NumPy defaults: floats", np.array([1.5]).dtype, "| ints", np.array([1]).dtype,
      "| int / int", (np.array([1]) / 2).dtype)
X.shape, X.dtype

# %% [markdown]
# ### PyTorch
#
# `torch.tensor` copies the NumPy data. Shapes may be separate numbers or a tuple;
# `torch.manual_seed` makes random numbers repeatable. Mixed dtypes are promoted silently, as in
# NumPy: int + float is float, int / int is float, float32 + float64 is float64.

# %%
X_pt = torch.tensor(X)
print(X_pt)
print(torch.zeros(2, 3).shape, torch.arange(0, 1, 0.25))
torch.manual_seed(0)
r_pt = torch.rand(2, 3)
gen_pt = torch.Generator().manual_seed(0)                      # a generator of its own, global seed untouched
print("seed 0, first row:", r_pt[0].numpy().round(4),
      "| torch.Generator().manual_seed(0), same row:", torch.equal(torch.rand(2, 3, generator=gen_pt), r_pt))
print("dtypes: Python floats", torch.tensor([1.5]).dtype, "| Python ints", torch.tensor([1]).dtype,
      "| NumPy float64", torch.tensor(np.array([1.5])).dtype)
a_pt, n_pt = torch.tensor([1.0, 2.0]), torch.tensor([1, 2])
print("float32 + int64 →", (a_pt + n_pt).dtype, "| int64 / int →", (n_pt / 2).dtype,
      "| float32 + float64 →", (a_pt + torch.tensor([1.0], dtype=torch.float64)).dtype)

# %% [markdown]
# ### TensorFlow
#
# `tf.constant` copies the NumPy data too. Shapes are one tuple: `tf.zeros(2, 3)` does not
# complain, it reads the `3` as its second parameter, `dtype`, and dtype number 3 is `int32` —
# two integer zeros instead of a 2×3 matrix. For repeatable random numbers, make a
# `tf.random.Generator` from a seed; `tf.random.set_seed` seeds the global `tf.random.*` ops, as
# `torch.manual_seed` does in PyTorch (the numbers differ between the frameworks).

# %%
X_tf = tf.constant(X)
print(X_tf)
print(tf.zeros((2, 3)).shape, tf.range(0, 1, 0.25).numpy())
print("tf.zeros(2, 3) →", tf.zeros(2, 3))
r_tf = tf.random.Generator.from_seed(0).uniform((2, 3))
tf.random.set_seed(0)
first_draw = tf.random.uniform((3,))
tf.random.set_seed(0)
print("seed 0, first row:", r_tf[0].numpy().round(4),
      "| tf.random.set_seed(0) again, same draw:", bool(tf.reduce_all(tf.random.uniform((3,)) == first_draw)))
print("dtypes: Python floats", tf.constant([1.5]).dtype.name, "| Python ints", tf.constant([1]).dtype.name,
      "| NumPy float64", tf.constant(np.array([1.5])).dtype.name)

# %% [markdown]
# TensorFlow does **not** promote between two tensors. Adding an `int32` tensor to a `float32`
# tensor raises `InvalidArgumentError`:

# %% tags=["raises-exception"]
a_tf, n_tf = tf.constant([1.0, 2.0]), tf.constant([1, 2])
a_tf + n_tf

# %%
# The fix: cast explicitly. Two more rules, measured: true division of int32 gives float64, and a
# NumPy operand is converted to the tensor's dtype (its float64 is dropped).
print("float32 + cast(int32) →", (a_tf + tf.cast(n_tf, tf.float32)).dtype.name,
      "| int32 / int →", (n_tf / 2).dtype.name,
      "| float32 + NumPy float64 →", (a_tf + np.array([1.0, 2.0])).dtype.name)

# %% [markdown]
# ### Compare
#
# | | NumPy | PyTorch | TensorFlow |
# |---|---|---|---|
# | from NumPy (copy) | — | `torch.tensor(X)` | `tf.constant(X)` |
# | shape argument | `zeros((2, 3))` | `zeros(2, 3)` or `zeros((2, 3))` | `zeros((2, 3))` only — `zeros(2, 3)` is wrong *silently* |
# | seeded random | `np.random.default_rng(0)` | `torch.manual_seed(0)` (global), `torch.Generator().manual_seed(0)` | `tf.random.set_seed(0)` (global), `tf.random.Generator.from_seed(0)` |
# | default float / int | `float64` / `int64` | `float32` / `int64` | `float32` / `int32` |
# | from a NumPy `float64` array | — | `float64` | `float64` |
# | int + float tensors | promotes | promotes | `InvalidArgumentError`: cast first |
# | int / int | `float64` | `float32` | `float64` |
#
# The same seed gives *different* numbers in the two frameworks (0.4963... vs 0.3118... above):
# they use different generators. To feed both the same random input, draw it once in NumPy.

# %% [markdown]
# ## Index, reshape and broadcast
#
# NumPy's rules carry over: `[row, col]` indexing with slices and negative indices, boolean masks,
# `reshape` with one `-1`, and **broadcasting** — shapes are aligned from the right, and a
# dimension of size 1 stretches to match. A `(3, 1)` column times a `(4,)` row is a `(3, 4)` table.

# %%
M = np.arange(12, dtype=np.float32).reshape(3, 4)
col = np.array([[10.0], [20.0], [30.0]], dtype=np.float32)  # (3, 1)
row = np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32)  # (4,)
M

# %% [markdown]
# ### PyTorch

# %%
M_pt = torch.tensor(M)
print(M_pt[1, :2], M_pt[:, -1], M_pt[M_pt > 8])
print(M_pt.reshape(2, -1).shape, M_pt.T.shape, M_pt[None].shape)
print(M_pt[[0, 2]])  # a list of row indices, as in NumPy
B_pt = M_pt + torch.tensor(col) * torch.tensor(row)
B_pt.shape

# %% [markdown]
# ### TensorFlow
#
# Slices, negative indices, `None` and boolean masks work in `[]` as well; for a list of row
# indices TensorFlow has `tf.gather`. Not `[]`: TensorFlow reads a list inside `[]` as one index per
# axis, so `M_tf[[0, 2]]` is `M_tf[0, 2]`, the single element 2.0 — silently, like `tf.zeros(2, 3)`.

# %%
M_tf = tf.constant(M)
print(M_tf[1, :2].numpy(), M_tf[:, -1].numpy(), M_tf[M_tf > 8].numpy())
print(tf.reshape(M_tf, (2, -1)).shape, tf.transpose(M_tf).shape, M_tf[None].shape)
print("tf.gather(M_tf, [0, 2]):", tf.gather(M_tf, [0, 2]).numpy().tolist())
print("M_tf[[0, 2]]:          ", M_tf[[0, 2]].numpy(), "= M[0, 2], not rows 0 and 2")
B_tf = M_tf + tf.constant(col) * tf.constant(row)
B_tf.shape

# %% [markdown]
# ### Compare
#
# | | PyTorch | TensorFlow |
# |---|---|---|
# | reshape | `x.reshape(2, -1)`, `x.view(...)` (see *Images*) | `tf.reshape(x, (2, -1))` |
# | transpose | `x.T`, `x.permute(...)` | `tf.transpose(x, perm=...)` |
# | rows by index list | `x[[0, 2]]` | `tf.gather(x, [0, 2])`; `x[[0, 2]]` is the element `x[0, 2]`, silently |
# | broadcasting | NumPy's rules | NumPy's rules |

# %%
cu.compare("broadcast", B_pt, B_tf)

# %% [markdown]
# ### Exercise 1.1 ★☆☆ (~3 min)
#
# In the framework of your choice, build a 3×4 tensor of dtype `float32` that holds 0, 1, ..., 11
# row by row. Start from `torch.arange` or `tf.range`; watch the dtype.

# %% tags=["solution"]
answer = torch.arange(12, dtype=torch.float32).reshape(3, 4)
# TensorFlow: answer = tf.reshape(tf.range(12, dtype=tf.float32), (3, 4))

# %%
cu.check.arange_matrix(answer)

# %% [markdown]
# ## Reduce along an axis
#
# A reduction (sum, mean, max, std) collapses one axis. NumPy names it `axis=`, PyTorch `dim=`
# (it also takes `axis=`), TensorFlow `axis=` in its `reduce_*` functions. The standard deviation
# hides a real difference: **NumPy and TensorFlow divide by N** (population std), **`torch.std`
# divides by N − 1** (unbiased) unless you pass `correction=0`. To keep the reduced axis (size 1,
# ready to broadcast back), torch says `keepdim=True`, TensorFlow and NumPy `keepdims=True`.
#
# ### PyTorch
#
# NumPy's two std first, on the columns of `M`, then torch's.

# %%
print("np.std:        ", np.std(M, axis=0).round(4))
print("np.std(ddof=1):", np.std(M, axis=0, ddof=1).round(4))
print(M_pt.sum(dim=0), M_pt.mean(dim=1))
print("keepdim=True:", M_pt.sum(dim=1, keepdim=True).shape, "| keepdims=True (accepted too):",
      M_pt.sum(dim=1, keepdims=True).shape)
print(torch.sum(M_pt, axis=0))  # axis= is accepted as another name for dim=
print("torch.std:             ", torch.std(M_pt, dim=0).numpy().round(4))
print("torch.std(correction=0):", torch.std(M_pt, dim=0, correction=0).numpy().round(4))

# %% [markdown]
# ### TensorFlow

# %%
print(tf.reduce_sum(M_tf, axis=0).numpy(), tf.reduce_mean(M_tf, axis=1).numpy())
print("tf.math.reduce_std:", tf.math.reduce_std(M_tf, axis=0).numpy().round(4))
print("keepdims=True:", tf.reduce_sum(M_tf, axis=1, keepdims=True).shape)
try:
    tf.reduce_sum(M_tf, axis=1, keepdim=True)
except TypeError as exc:  # torch's spelling is not accepted
    print("keepdim=True:", type(exc).__name__, "—", str(exc).split(":")[0])

# %% [markdown]
# ### Compare
#
# | | NumPy | PyTorch | TensorFlow |
# |---|---|---|---|
# | keyword | `axis=` | `dim=` (or `axis=`) | `axis=` |
# | sum / mean | `x.sum(axis=0)` | `x.sum(dim=0)` | `tf.reduce_sum(x, axis=0)` |
# | keep the axis | `keepdims=True` | `keepdim=True` (`keepdims` accepted) | `keepdims=True` only (`keepdim`: `TypeError`) |
# | default std | population (÷N): 3.266 | **unbiased (÷N−1): 4.0** | population (÷N): 3.266 |
#
# With `correction=0` the frameworks agree:

# %%
cu.compare("std ÷N", torch.std(M_pt, dim=0, correction=0), tf.math.reduce_std(M_tf, axis=0))

# %% [markdown]
# ### Exercise 1.2 ★★☆ (~5 min)
#
# Standardize each **column** of `X` below: subtract the column's mean and divide by the column's
# population standard deviation (the one `np.std` computes). Use PyTorch or TensorFlow, not NumPy,
# and let broadcasting do the work. The result has `X`'s shape.

# %%
X = np.array([[1.0, 2.0], [3.0, 6.0], [5.0, 10.0], [7.0, 22.0]], dtype=np.float32)

# %% tags=["solution"]
X_pt = torch.tensor(X)
answer = (X_pt - X_pt.mean(dim=0)) / X_pt.std(dim=0, correction=0)
# TensorFlow: (X_tf - tf.reduce_mean(X_tf, axis=0)) / tf.math.reduce_std(X_tf, axis=0)

# %%
cu.check.standardize_columns(answer)

# %% [markdown]
# ## Multiply, join and cast
#
# Three operations every later lesson uses. `*` multiplies element by element (with broadcasting);
# `@` (`matmul`) is the matrix product. Joining: `cat`/`concat` glue tensors along an existing axis,
# `stack` makes a new one. Casting: torch's `.to(dtype)` (or `.float()`, `.long()`), TensorFlow's
# `tf.cast`; float → int drops the fraction (toward zero) in both. One number out of a tensor:
# torch's `.item()` gives a Python number, TensorFlow's `.numpy()` a NumPy scalar.
#
# ### PyTorch
#
# `@` takes a vector (1-D) on either side, as in NumPy: a (2, 3) matrix times a (3,) vector is (2,).

# %%
A = M[:2, :3]  # (2, 3): [[0, 1, 2], [4, 5, 6]]
v = np.array([1.0, 0.0, -1.0], dtype=np.float32)  # (3,)
A_pt, v_pt = torch.tensor(A), torch.tensor(v)
Av_pt = A_pt @ v_pt
print("A @ v:", Av_pt.tolist(), "| A * v:", tuple((A_pt * v_pt).shape), "| A @ A.T:", tuple(torch.matmul(A_pt, A_pt.T).shape))
print("cat:", tuple(torch.cat([A_pt, A_pt]).shape), "| cat(dim=1):", tuple(torch.cat([A_pt, A_pt], dim=1).shape),
      "| stack:", tuple(torch.stack([A_pt, A_pt]).shape))
print("to(int64):", torch.tensor([1.7, -1.7]).to(torch.int64).tolist(), "| .float():", torch.tensor([1, 2]).float().dtype,
      "| .to(float64):", A_pt.to(torch.float64).dtype)
total_pt = A_pt.sum()
print(".item():", total_pt.item(), type(total_pt.item()).__name__)

# %% [markdown]
# ### TensorFlow
#
# `@` is `tf.matmul`, and it wants **both operands of rank ≥ 2**: a matrix times a vector raises
# `InvalidArgumentError` (why lesson 02 computes $Xw$ with `tf.linalg.matvec`).

# %% tags=["raises-exception"]
A_tf, v_tf = tf.constant(A), tf.constant(v)
A_tf @ v_tf

# %%
# The fix: tf.linalg.matvec, or make v a (3, 1) column and take the column back out.
Av_tf = tf.linalg.matvec(A_tf, v_tf)
print("matvec:", Av_tf.numpy().tolist(), "| A @ v[:, None]:", tuple((A_tf @ v_tf[:, None]).shape),
      "| A * v:", tuple((A_tf * v_tf).shape))
print("concat(axis=0):", tuple(tf.concat([A_tf, A_tf], axis=0).shape),
      "| concat(axis=1):", tuple(tf.concat([A_tf, A_tf], axis=1).shape), "| stack:", tuple(tf.stack([A_tf, A_tf]).shape))
print("cast(int64):", tf.cast(tf.constant([1.7, -1.7]), tf.int64).numpy().tolist(),
      "| cast(float64):", tf.cast(A_tf, tf.float64).dtype.name)
total_tf = tf.reduce_sum(A_tf)
print(".numpy():", total_tf.numpy(), type(total_tf.numpy()).__name__, "| float():", float(total_tf))

# %% [markdown]
# ### Compare
#
# | | PyTorch | TensorFlow |
# |---|---|---|
# | matrix product | `A @ B`, `torch.matmul`; a 1-D side is a vector | `A @ B`, `tf.matmul`: rank ≥ 2 only; `tf.linalg.matvec(A, v)` |
# | elementwise | `A * B` | `A * B` |
# | join on an axis / a new axis | `torch.cat(xs, dim=0)` / `torch.stack(xs)` | `tf.concat(xs, axis=0)` / `tf.stack(xs)` |
# | cast | `x.to(torch.int64)`, `x.float()`, `x.long()` | `tf.cast(x, tf.int64)` |
# | one number out | `x.item()` → Python `float` | `x.numpy()` → NumPy `float32`; `float(x)` in both |

# %%
cu.compare("A @ v", Av_pt, Av_tf)

# %% [markdown]
# ## Change values: in place, or through a Variable
#
# A PyTorch tensor is **mutable**: you can assign to items, call in-place methods (their names end
# in `_`), and a slice is a **view** that shares memory with the tensor it came from; `clone()`
# makes an independent copy. A TensorFlow `tf.Tensor` is **immutable**; state that changes lives
# in a `tf.Variable`, changed with `assign`, `assign_add` and `assign_sub`.
#
# ### PyTorch

# %%
W_pt = torch.zeros(2, 3)
first_row = W_pt[0]  # a view: no copy
first_row.add_(1.0)  # in place: note the trailing underscore
W_pt[1, 2] = 5.0  # item assignment
print("view shares memory:", first_row.untyped_storage().data_ptr() == W_pt.untyped_storage().data_ptr())
copy = W_pt[0].clone()
copy.add_(100.0)  # changes the clone only
W_pt

# %% [markdown]
# ### TensorFlow
#
# The same item assignment on a `tf.Tensor` fails: the next cell raises `TypeError` (the tensor
# "does not support item assignment").

# %% tags=["raises-exception"]
W_tf = tf.zeros((2, 3))
W_tf[1, 2] = 5.0

# %%
# The fix: keep values that change in a tf.Variable and assign into it (slices have .assign too).
V_tf = tf.Variable(tf.zeros((2, 3)))
V_tf[0].assign(V_tf[0] + 1.0)
V_tf[1, 2].assign(5.0)
# For a *new* tensor with one entry changed, tensor_scatter_nd_update leaves W_tf alone.
W2_tf = tf.tensor_scatter_nd_update(W_tf, indices=[[1, 2]], updates=[5.0])
print("W2_tf:", W2_tf.numpy().tolist(), "| W_tf:", W_tf.numpy().tolist())
V_tf

# %% [markdown]
# ### Compare
#
# | | PyTorch | TensorFlow |
# |---|---|---|
# | item assignment | `x[1, 2] = 5.0` | only on a `tf.Variable`: `v[1, 2].assign(5.0)` |
# | in place | `x.add_(1)`, `x.mul_(2)`, ... | `v.assign_add(1)`, `v.assign_sub(1)` |
# | slices | views that share memory | immutable tensors |
# | a changed copy | `x.clone()`, then edit | `tf.tensor_scatter_nd_update(x, ...)` |

# %%
cu.compare("after edits", W_pt, V_tf)

# %% [markdown]
# ## Share memory: NumPy and DLPack
#
# Copying a large array costs time and memory. `torch.from_numpy` **shares** the NumPy array's
# memory, so a write on either side is seen on the other. TensorFlow copies on the way in
# (`tf.constant`, `tf.convert_to_tensor`); on the way out, `.numpy()` returned a writable copy on
# these versions, `np.asarray(tensor)` a read-only view. Between the two frameworks,
# [DLPack](https://dmlc.github.io/dlpack/latest/) lets one read the other's memory without a copy.
# The rule that goes with sharing: **read through an alias, never write through one** — copy first
# (`.clone()` in torch, `tf.constant(x.numpy())` in TensorFlow; `tf.identity` may hand back the same
# buffer, as the first cell shows).
#
# ### PyTorch: `from_numpy` and `to_dlpack`

# %%
a = np.zeros(3, dtype=np.float32)
a_pt = torch.from_numpy(a)  # shares a's memory
a[0] = 1.0  # a write on the NumPy side...
a_pt[1] = 2.0  # ...and one on the torch side
print("NumPy sees:", a, "| torch sees:", a_pt.numpy())
print("a_pt.numpy() shares:", np.shares_memory(a, a_pt.numpy()),
      "| torch.tensor(a) shares:", np.shares_memory(a, torch.tensor(a).numpy()))
# torch → TF: TF's from_dlpack takes a DLPack capsule, which to_dlpack makes.
t_pt = torch.arange(4, dtype=torch.float32)
t_tf = tf.experimental.dlpack.from_dlpack(torch.utils.dlpack.to_dlpack(t_pt))
same_buffer, own_copy = tf.identity(t_tf), tf.constant(t_tf.numpy())   # both taken BEFORE the write
t_pt[0] = 100.0  # DON'T: a write through the alias, into memory TF treats as immutable (undefined behaviour)
print("TF sees torch's write:", t_tf.numpy(), "| tf.identity taken before:", same_buffer.numpy(),
      "| tf.constant(t_tf.numpy()) taken before:", own_copy.numpy())
# Taking memory OUT of autograd needs a detach: .numpy() refuses a tensor that requires grad.
w_grad = torch.ones(2, requires_grad=True)
try:
    w_grad.numpy()
except RuntimeError as err:
    print("numpy() of a tensor that requires grad: RuntimeError:", str(err).split(".")[0],
          "| .detach().cpu().numpy():", w_grad.detach().cpu().numpy(), "| .numpy(force=True):", w_grad.numpy(force=True))

# %% [markdown]
# ### TensorFlow: `convert_to_tensor`, `np.asarray` and `torch.from_dlpack`
#
# Sharing works the other way too, and there a write is **undefined behaviour**: TensorFlow assumes
# its tensors never change, and may hand out one cached tensor for equal constants
# (`convert_to_eager_tensor` in `tensorflow/python/framework/constant_op.py`: it "could return cached
# copies of created constants"). Below, one torch write through an alias of `tf.constant(7.25)`
# also changes a `tf.constant(7.25)` created *afterwards*, anywhere in the process (the value 7.25 is
# used nowhere else in this lesson). Don't do this; the last lines show the copy that makes it safe.

# %%
b = np.zeros(3, dtype=np.float32)
b_tf = tf.convert_to_tensor(b)  # a copy
b[0] = 1.0
print("NumPy sees:", b, "| TF sees:", b_tf.numpy())
b_copy, b_view = b_tf.numpy(), np.asarray(b_tf)
b_copy[2] = 9.0
print(".numpy() writable:", b_copy.flags.writeable, "| TF after writing into it:", b_tf.numpy(),
      "| np.asarray writable:", b_view.flags.writeable)
s_tf = tf.constant(7.25)
s_pt = torch.from_dlpack(s_tf)  # TF → torch, no copy: an alias of TF's buffer
s_pt.fill_(-1.0)  # DON'T: a write through the alias
print("s_tf:", s_tf.numpy(), "| a new tf.constant(7.25):", tf.constant(7.25).numpy(),
      "| tf.constant(7.25, tf.float32):", tf.constant(7.25, tf.float32).numpy())
# The safe way: take your own copy, then write.
safe_pt = torch.from_dlpack(tf.constant([1.0, 2.0, 3.0])).clone()
safe_pt[0] = -1.0
print("after clone(), the write stays in torch:", safe_pt.tolist(), "| TF:", tf.constant([1.0, 2.0, 3.0]).numpy())

# %% [markdown]
# ### Compare
#
# | | PyTorch | TensorFlow |
# |---|---|---|
# | NumPy → tensor, shared | `torch.from_numpy(a)` | — (copies) |
# | NumPy → tensor, copy | `torch.tensor(a)` | `tf.constant(a)`, `tf.convert_to_tensor(a)` |
# | tensor → NumPy | `x.numpy()` (shared; `x.detach().cpu().numpy()` or `x.numpy(force=True)` if it requires grad or is on a GPU) | `x.numpy()` (a copy here), `np.asarray(x)` (read-only view) |
# | from the other framework | `torch.from_dlpack(x_tf)` (shared) | `tf.experimental.dlpack.from_dlpack(torch.utils.dlpack.to_dlpack(x_pt))` (shared) |
# | write into shared memory | `.clone()` first | never: undefined (the cached `tf.constant(7.25)` above); copy with `tf.constant(x.numpy())`, not `tf.identity` |
#
# A shared buffer compared with itself proves nothing, so this section has no compare line; what it
# shows is which writes cross over (the prints above).

# %% [markdown]
# ## Images need a channel axis
#
# Image layers expect a **channel** axis, and the frameworks disagree on where: PyTorch's
# `Conv2d` takes `NCHW` (batch, channels, height, width), Keras' `Conv2D` takes `NHWC` by default
# (`keras.config.image_data_format()` is `"channels_last"`).
# The course's handwritten digits are 8×8 grey images without a channel axis. Moving an axis is a
# `permute` / `transpose`; adding one is `unsqueeze` / `expand_dims` (or indexing with `None`).
# Below, a batch of two 4×4 colour images arrives in `NHWC`, as image files decode.

# %%
digits = cu.load_digits()
print(digits.X_train.shape, digits.X_train.dtype, "labels:", digits.y_train[:8])
for line in digits.X_train[0]:  # the first digit, drawn in characters
    print("".join(" .:#"[int(p * 3.99)] for p in line))
rgb = np.random.default_rng(0).random((2, 4, 4, 3), dtype=np.float32)  # NHWC

# %% [markdown]
# ### PyTorch

# %%
rgb_pt = torch.from_numpy(rgb).permute(0, 3, 1, 2)  # NHWC → NCHW, a view
print(rgb_pt.shape, "contiguous:", rgb_pt.is_contiguous())
# view() never copies, so it needs memory laid out row by row ("contiguous"); reshape() copies when it must.
try:
    rgb_pt.view(2, -1)
except RuntimeError as exc:  # the permuted view is not contiguous
    print("view(2, -1):", type(exc).__name__, "—", str(exc)[:40] + "...")
print("reshape copied:", rgb_pt.reshape(2, -1).data_ptr() != rgb_pt.data_ptr(),
      "| contiguous().view(2, -1):", tuple(rgb_pt.contiguous().view(2, -1).shape),
      "| view of a contiguous tensor shares:", M_pt.view(-1).data_ptr() == M_pt.data_ptr())
print("Conv2d(3 → 8 channels) output:", torch.nn.Conv2d(3, 8, kernel_size=3)(rgb_pt).shape)
print(torch.tensor([1.0, 2.0]).unsqueeze(0).shape, torch.tensor([1.0, 2.0])[:, None].shape)

# %% [markdown]
# ### TensorFlow

# %%
rgb_tf = tf.constant(rgb)  # already NHWC, as Keras wants it
print(tf.transpose(rgb_tf, perm=(0, 3, 1, 2)).shape, keras.config.image_data_format())
print("Conv2D(8 channels) output:", keras.layers.Conv2D(8, kernel_size=3)(rgb_tf).shape)
print(tf.expand_dims(tf.constant([1.0, 2.0]), 0).shape, tf.constant([1.0, 2.0])[:, None].shape)

# %% [markdown]
# ### Compare
#
# | | PyTorch | TensorFlow |
# |---|---|---|
# | image layout | `NCHW` | `NHWC` |
# | move axes | `x.permute(0, 3, 1, 2)` (a view) | `tf.transpose(x, perm=(0, 3, 1, 2))` |
# | flatten after that | `x.reshape(2, -1)` (copies if needed); `x.view` only when contiguous | `tf.reshape(x, (2, -1))` |
# | add an axis | `x.unsqueeze(1)`, `x[:, None]` | `tf.expand_dims(x, -1)`, `x[..., None]` |

# %%
cu.compare("NCHW", rgb_pt, tf.transpose(rgb_tf, perm=(0, 3, 1, 2)))

# %% [markdown]
# ### Exercise 1.3 ★★☆ (~5 min)
#
# Take the first 5 training digits (`digits.X_train`) as a `float32` tensor with a channel axis,
# in the layout **your framework's** image layers expect: `NCHW` for PyTorch, `NHWC` for
# TensorFlow. The check looks at which framework your tensor comes from.

# %% tags=["solution"]
answer = torch.from_numpy(digits.X_train[:5]).unsqueeze(1)
# TensorFlow: answer = tf.expand_dims(tf.constant(digits.X_train[:5]), -1)

# %%
cu.check.channel_axis(answer)

# %% [markdown]
# ## Gradients and devices: what NumPy lacks
#
# Two things make a tensor more than an array. It can record how it was computed and give you
# **gradients** (lesson 02 goes deep), and it lives on a **device** (lesson 06). Take
# $f(x) = \sum_i (x_i^2 + 3x_i)$, whose gradient is $2x + 3$; NumPy can only compute it by hand.
#
# ### PyTorch

# %%
x = np.array([1.0, 2.0, 3.0], dtype=np.float32)
print("by hand, 2x + 3:", 2 * x + 3)
x_pt = torch.tensor(x, requires_grad=True)
y_pt = (x_pt**2 + 3 * x_pt).sum()
y_pt.backward()
x_pt.grad

# %% [markdown]
# ### TensorFlow

# %%
x_tf = tf.Variable(x)
with tf.GradientTape() as tape:
    y_tf = tf.reduce_sum(x_tf**2 + 3 * x_tf)
grad_tf = tape.gradient(y_tf, x_tf)
grad_tf.numpy()

# %% [markdown]
# ### Compare
#
# | | PyTorch | TensorFlow |
# |---|---|---|
# | track gradients | `requires_grad=True` | a `tf.Variable` inside a `tf.GradientTape` |
# | get them | `y.backward()`, then `x.grad` | `tape.gradient(y, x)` |
#
# Both give the hand-computed `[5, 7, 9]`. Every tensor also knows its device (the cell after the
# check): PyTorch creates tensors on the CPU unless told otherwise; TensorFlow names its device in
# full. Where each framework puts tensors when a GPU is present is lesson 06's subject.

# %%
cu.compare("grad", x_pt.grad, grad_tf)
# CPU:0 on every machine: cu.setup hides any GPU from TensorFlow (lesson 06 shows placement on one).
print("torch:", x_pt.device, "| tf:", x_tf.device)
assert x_pt.device.type == "cpu"  # torch's default device, GPU or not
assert x_tf.device.endswith("CPU:0")

# %% [markdown]
# ## Is PyTorch a GPU-enabled NumPy?
#
# Two measurements, comparing like with like: NumPy, PyTorch, TensorFlow's own API (`tf.*`), and
# TensorFlow's NumPy API (`tf.experimental.numpy`, imported as `tnp`), which is a separate, NumPy-style
# namespace. First: how many of NumPy's functions exist under the same name. The list is not picked
# by hand: it is every public function in NumPy's top-level namespace (`dir(numpy)` on the pinned
# NumPy, classes and modules left out).

# %%
NUMPY_NAMES = sorted(n for n in dir(np) if not n.startswith("_") and callable(getattr(np, n))
                     and not inspect.isclass(getattr(np, n)))
print(f"NumPy {np.__version__}: {len(NUMPY_NAMES)} public functions")
for name, lib in [("torch", torch), ("tf", tf), ("tnp", tnp)]:
    found = [n for n in NUMPY_NAMES if hasattr(lib, n)]
    print(f"{name:<6} {len(found):>3}/{len(NUMPY_NAMES)} ({len(found) / len(NUMPY_NAMES):.0%})")

# %% [markdown]
# Second: a shared name does not promise a shared answer. The same questions, asked of each library
# in its own API, with what each answered (or the exception it raised):

# %%
ints, floats = [1, 2, 3, 4], [1.0, 2.0, 3.0, 4.0]
questions = {  # NumPy, PyTorch, tf.*, tnp
    "default float dtype": (lambda: np.array(floats).dtype, lambda: torch.tensor(floats).dtype,
                            lambda: tf.constant(floats).dtype.name, lambda: tnp.array(floats).dtype.name),
    "mean of ints [1, 2, 3, 4]": (lambda: np.mean(ints), lambda: torch.mean(torch.tensor(ints)),
                                  lambda: tf.reduce_mean(ints), lambda: tnp.mean(ints)),
    "std of [1., 2., 3., 4.]": (lambda: f"{np.std(floats):.4f}", lambda: f"{torch.std(torch.tensor(floats)):.4f}",
                                lambda: f"{float(tf.math.reduce_std(floats)):.4f}", lambda: f"{float(tnp.std(floats)):.4f}"),
    "repeat [1, 2] twice": (lambda: np.repeat(ints[:2], 2).tolist(), lambda: torch.tensor(ints[:2]).repeat(2).tolist(),
                            lambda: tf.repeat(ints[:2], 2).numpy().tolist(), lambda: tnp.repeat(ints[:2], 2).numpy().tolist()),
    "np.mean(tensor)": (lambda: np.mean(np.array(floats)), lambda: np.mean(torch.tensor(floats)),
                        lambda: np.mean(tf.constant(floats)), lambda: np.mean(tnp.array(floats))),
}


def answer_of(make):
    """What make() returned, as short text, or the name of the exception it raised."""
    try:
        value = make()
        value = value.numpy() if isinstance(value, tf.Tensor) else value
        return str(value.item() if hasattr(value, "item") and getattr(value, "ndim", None) == 0 else value)
    except Exception as exc:  # measuring which calls fail is the point here
        return type(exc).__name__


print(f"{'question':<27} {'NumPy':<13} {'PyTorch':<15} {'tf.*':<13} tnp")
for question, makes in questions.items():
    np_out, pt_out, tf_out, tnp_out = (answer_of(make) for make in makes)
    print(f"{question:<27} {np_out:<13} {pt_out:<15} {tf_out:<13} {tnp_out}")

# %% [markdown]
# `tnp` changes the picture for TensorFlow, not for PyTorch: TensorFlow's own API shares few of
# NumPy's names and answers differently (float32, the truncated mean of ints), while its NumPy API
# covers about as many names as torch does and gives NumPy's answers in every row above (float64
# by default, the mean 2.5, `repeat`). PyTorch's answers differ from NumPy's in all five rows, `tf.*`'s
# in two. (`tnp.experimental_enable_numpy_behavior()` goes further and gives `tf.Tensor` NumPy's
# methods and promotion rules, process-wide; this lesson leaves it off.)

# %% [markdown]
# ## Summary
#
# - **Create:** `torch.tensor` / `tf.constant` copy a NumPy array; both default to `float32` but
#   keep NumPy's `float64`; the default int is `int64` in PyTorch, `int32` in TensorFlow. Pass
#   shapes to TF as one tuple (`tf.zeros(2, 3)` silently makes int zeros). Same seed, different
#   numbers across frameworks: draw shared random inputs in NumPy.
# - **Index, reshape, broadcast, reduce:** NumPy's rules hold in both, with two silent traps in TF
#   (`x[[0, 2]]` is one element: use `tf.gather`). PyTorch says `dim=`/`keepdim=`, TensorFlow
#   `axis=`/`keepdims=` with `reduce_*`. `torch.std` is unbiased by default, `tf.math.reduce_std` and
#   `np.std` are not: pass `correction=0`. `view` needs a contiguous tensor, `reshape` copies if it must.
# - **Multiply, join, cast:** `@` vs `*` in both; TF's `matmul` wants rank ≥ 2 (`tf.linalg.matvec`);
#   `torch.cat`/`stack` vs `tf.concat`/`stack`; `.to`/`.float()` vs `tf.cast` (TF does not promote
#   int + float); `.item()` vs `.numpy()`.
# - **Change values:** PyTorch mutates in place (`x[i] = ...`, `add_`) and slices are views;
#   a `tf.Tensor` raises `TypeError` on item assignment — use a `tf.Variable` and `assign`, or
#   `tf.tensor_scatter_nd_update` for a changed copy.
# - **Share memory:** `torch.from_numpy` shares with NumPy; TF copies in, and `np.asarray(x_tf)` is
#   a read-only view. DLPack shares between the frameworks both ways; a write through an alias of a
#   TF tensor is undefined (it changed a later, unrelated `tf.constant(7.25)`): `.clone()` first.
# - **The claim:** PyTorch is NumPy-*like*, plus autodiff and devices, with its own defaults —
#   partly true; TensorFlow's `tnp` is closer to NumPy's answers than either framework's own API.
#
# ## PyTorch vs TensorFlow
#
# | concept | PyTorch | TensorFlow | gotcha |
# |---|---|---|---|
# | from NumPy | `torch.tensor(a)` (copy), `torch.from_numpy(a)` (shared) | `tf.constant(a)` (copy) | `float64` arrays stay `float64` in both |
# | default int | `int64` | `int32` | `tf.reduce_mean` of ints truncates (2, not 2.5) |
# | shapes | `zeros(2, 3)` or `zeros((2, 3))` | `zeros((2, 3))` | `tf.zeros(2, 3)` is int32 with shape (2,) |
# | rows by index list | `x[[0, 2]]` | `tf.gather(x, [0, 2])` | TF's `x[[0, 2]]` is the element `x[0, 2]` |
# | mixed dtypes | promotes | `InvalidArgumentError` | `tf.cast` first; torch casts with `.to(dtype)` |
# | reduce | `x.sum(dim=0, keepdim=True)` | `tf.reduce_sum(x, axis=0, keepdims=True)` | `torch.std` ÷(N−1), `tf.math.reduce_std` ÷N |
# | matrix × vector | `A @ v` | `tf.linalg.matvec(A, v)` | TF's `@` needs rank ≥ 2 on both sides |
# | join | `torch.cat` / `torch.stack` | `tf.concat` / `tf.stack` | |
# | one number out | `x.item()` (Python float) | `x.numpy()` (NumPy scalar) | `float(x)` works in both |
# | change values | `x[i] = v`, `x.add_(1)` | `tf.Variable`, `v.assign(...)` | torch slices are views |
# | flatten a permuted tensor | `reshape` (copies), `contiguous().view` | `tf.reshape` | `view` raises on a non-contiguous tensor |
# | to NumPy | `x.numpy()` (shared) | `x.numpy()` (a copy here), `np.asarray(x)` (read-only view) | a torch write shows in the array |
# | between frameworks | `torch.from_dlpack(x_tf)` | `tf.experimental.dlpack.from_dlpack(capsule)` | shared memory: copy before any write |
# | images | `Conv2d` takes `NCHW` | `Conv2D` takes `NHWC` | `permute` / `tf.transpose`; a torch permute is a non-contiguous view |
# | gradients | `requires_grad=True`, `.backward()`, `.grad` | `tf.Variable`, `tf.GradientTape` | lesson 02 |
# | device | `x.device`: `cpu` unless you move it | `x.device`: a full name, `/job:.../device:CPU:0` | placement with a GPU: lesson 06 |
#
# ## Claims settled
#
# | claim | verdict | evidence |
# |---|---|---|
# | PyTorch is essentially a GPU-enabled NumPy | **partly** | Of NumPy's 390 public functions, 211 exist under the same name in torch (TensorFlow's own API: 73; its NumPy API `tnp`: 198), and indexing, broadcasting, views and silent promotion carry over (*Is PyTorch a GPU-enabled NumPy?*, *Index, reshape and broadcast*, the `PyTorch` cell of *Make tensors and know their dtypes*). But PyTorch's answer differed from NumPy's in all five questions of the four-library table — `float32`, the mean of ints is a `RuntimeError`, the unbiased std, `repeat` means NumPy's `tile`, `np.mean(tensor)` raises `TypeError` — and it adds autodiff and devices (*Gradients and devices*). Not a drop-in NumPy; a NumPy-like library with more. TensorFlow's `tnp` is the closer NumPy (NumPy's answer in all five). |
# | A `tf.Tensor` cannot change (this lesson's own) | **true** | no item assignment (the `TypeError` cell in *Change values*) and no in-place op in TF's API. A write from torch through a DLPack alias does reach TF's memory, but that is undefined behaviour, not mutability: it also changed a `tf.constant(7.25)` created later, through TF's constant cache (the `TensorFlow` cell of *Share memory*). Copy before writing. |
# | `torch.std` and `tf.math.reduce_std` compute the same thing (this lesson's own) | **false** by default | 4.0 vs 3.266 for the columns of `M` in *Reduce along an axis*; equal with `correction=0` (the `std ÷N` check). |
#
# ## Further reading
#
# - PyTorch: [Tensors tutorial](https://pytorch.org/tutorials/beginner/basics/tensorqs_tutorial.html),
#   [type promotion](https://pytorch.org/docs/stable/tensor_attributes.html#type-promotion-doc),
#   [tensor views](https://pytorch.org/docs/stable/tensor_view.html).
# - TensorFlow: [Introduction to tensors](https://www.tensorflow.org/guide/tensor),
#   [Introduction to Variables](https://www.tensorflow.org/guide/variable),
#   [NumPy API on TensorFlow](https://www.tensorflow.org/guide/tf_numpy).
# - [NumPy broadcasting](https://numpy.org/doc/stable/user/basics.broadcasting.html) and the
#   [array API's data interchange (DLPack)](https://data-apis.org/array-api/latest/design_topics/data_interchange.html).

# %% [markdown]
# ## One minute, optional: how was this lesson?
#
# If you like, replace `clarity=None` below with how clear this lesson was (1 = lost, 5 = clear), add one sentence as `comment`, and run the cell. Only those two things are kept, in your own folder (`build/record/` on a laptop, your folder on the hub), next to your checks' verdicts that the instructor's board reads; `cu.progress()` shows your record and `cu.progress(recording=False)` turns recording off.

# %%
cu.feedback("01", clarity=None, comment="")
