# %% [markdown]
# # 02 · Automatic differentiation
#
# **Time:** 40 min teaching + 15 min exercises
#
# **Prerequisites:** 01 · Tensors (creating tensors, dtypes, `tf.Variable`); the chain rule from calculus.
#
# **Objectives:**
# - Compute the same gradient with PyTorch's `autograd` and TensorFlow's `GradientTape`, and show that they agree.
# - Tell which tensors get gradients (leaf tensors with `requires_grad`, watched tensors) and spot the silent `None` in both.
# - Reset gradients between steps, accumulate them on purpose, update weights by hand, and use one recording twice.
# - Take second derivatives, Hessians and Jacobians (of vector outputs, per sample) in both frameworks.
# - Stop a gradient (`detach`, `tf.stop_gradient`) and replace one with your own (`autograd.Function`, `tf.custom_gradient`).

# %% [markdown]
# ## Setup
#
# All imports (including the exercises' inputs), then one call that quiets the logs, seeds
# everything and prints the versions. Below it, the lesson's inputs, made once in NumPy and fed to
# both frameworks: five points `x_np` (and five zeros) for functions of one variable, and a tiny
# regression problem (`X_np`, `y_np`, weights `w_np`) for training steps.

# %%
import warnings

import numpy as np
import tensorflow as tf
import keras
import torch

import course_utils as cu
from course_utils.check.lesson02 import MICRO_W, MICRO_X, MICRO_Y, ROUND_T, ROUND_X, TANH_X

cu.setup(seed=0)

x_np = np.array([-2.0, -0.5, 0.0, 1.0, 2.5], dtype=np.float32)
zeros_np = np.zeros(5, dtype=np.float32)
rng = np.random.default_rng(0)
X_np = rng.standard_normal((8, 3)).astype(np.float32)
y_np = rng.standard_normal(8).astype(np.float32)
w_np = np.array([0.5, -1.0, 2.0], dtype=np.float32)
x_np, X_np.shape, y_np.shape, w_np.shape

# %% [markdown]
# ## Take a gradient
#
# The function is $f(x) = \sum_i x_i^2 \sin x_i$, so $\partial f / \partial x_i = 2x_i \sin x_i + x_i^2 \cos x_i$.
# Both frameworks record the operations while they run ("define by run") and then walk the record
# backwards with the chain rule. At the end we also check both against that formula, in NumPy.
#
# ### PyTorch
#
# A tensor created with `requires_grad=True` is a *leaf*: torch records every operation on it, and
# the result knows the last one (`grad_fn`). `backward()` fills `x.grad`.

# %%
def f_pt(x):
    return (x**2 * torch.sin(x)).sum()


x_pt = torch.tensor(x_np, requires_grad=True)
out_pt = f_pt(x_pt)
print(f"f(x) = {out_pt.item():.4f}   grad_fn = {out_pt.grad_fn.name()}")
out_pt.backward()
x_pt.grad


# %% [markdown]
# ### TensorFlow
#
# A `tf.Variable` is watched automatically by a `tf.GradientTape` that is open while the function
# runs. `tape.gradient(y, x)` *returns* the gradient; nothing is stored on the variable.

# %%
def f_tf(x):
    return tf.reduce_sum(x**2 * tf.sin(x))


x_tf = tf.Variable(x_np)
with tf.GradientTape() as tape:
    out_tf = f_tf(x_tf)
print(f"f(x) = {out_tf.numpy():.4f}")
grad_tf = tape.gradient(out_tf, x_tf)
grad_tf.numpy().round(4)

# %% [markdown]
# | | PyTorch | TensorFlow |
# |---|---|---|
# | what is recorded | every op on a tensor with `requires_grad=True` | ops inside `with tf.GradientTape()` on watched tensors |
# | start the backward pass | `y.backward()` | `tape.gradient(y, x)` |
# | where the gradient goes | stored in `x.grad` | returned |

# %%
cu.compare("df/dx", x_pt.grad, grad_tf)
cu.compare("vs by hand", x_pt.grad, 2 * x_np * np.sin(x_np) + x_np**2 * np.cos(x_np))


# %% [markdown]
# ## Control flow is plain Python
#
# Because the record is made while the code runs, a function may branch and loop on the *values*
# of its tensors, and the gradient follows the path actually taken. Here $g$ doubles $x$ until its
# sum of squares exceeds 100, so $g(x) = 2^k \sum x$ with $k$ decided at run time (here $k = 2$):
# the gradient is $2^k = 4$ everywhere. (Inside `tf.function` the same loop would become a graph
# loop: lesson 04.)
#
# ### PyTorch

# %%
def g_pt(x):
    while (x**2).sum() < 100:
        x = 2 * x
    return x.sum()


x_pt = torch.tensor(x_np, requires_grad=True)
g_pt(x_pt).backward()
x_pt.grad


# %% [markdown]
# ### TensorFlow

# %%
def g_tf(x):
    while tf.reduce_sum(x**2) < 100:
        x = 2 * x
    return tf.reduce_sum(x)


x_tf = tf.Variable(x_np)
with tf.GradientTape() as tape:
    out_tf = g_tf(x_tf)
dg_tf = tape.gradient(out_tf, x_tf)
dg_tf.numpy()

# %%
cu.compare("dg/dx", x_pt.grad, dg_tf)

# %% [markdown]
# ## Choose what to differentiate
#
# Only some tensors get gradients. In PyTorch: floating-point tensors with `requires_grad=True`;
# those you create yourself are *leaves* and receive `.grad`. In TensorFlow: trainable
# `tf.Variable`s are watched automatically; a `tf.constant` only after `tape.watch(c)`. The two
# frameworks fail very differently when you forget.
#
# ### PyTorch
#
# A tensor made without `requires_grad` has no record, so `backward()` stops with an error:

# %% tags=["raises-exception"]
x_plain = torch.tensor(x_np)
(x_plain**2).sum().backward()

# %%
# The fix: ask for gradients when you create the tensor, or switch them on in place with
# requires_grad_() *before* computing. x is a leaf; out is not (it has a grad_fn).
x_plain.requires_grad_()
out_pt = (x_plain**2).sum()
out_pt.backward()
print("x is a leaf:", x_plain.is_leaf, "| out is a leaf:", out_pt.is_leaf)
x_plain.grad

# %%
# PyTorch has a silent None too: the .grad of a tensor that is NOT a leaf. w is the result of `* 0.01`,
# so backward() fills no w.grad; only a UserWarning says so. w.retain_grad() asks torch to keep it;
# better, make the leaf you mean: (torch.randn(3) * 0.01).requires_grad_().
w = torch.randn(3, requires_grad=True) * 0.01
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    (w**2).sum().backward()
    print("w.grad:", w.grad, "| w.is_leaf:", w.is_leaf, "| warning:", str(caught[0].message)[:57] + "...")
w = torch.randn(3, requires_grad=True) * 0.01
w.retain_grad()
w_leaf = (torch.randn(3) * 0.01).requires_grad_()
(w**2 + w_leaf**2).sum().backward()
print("retain_grad(): w.grad is None:", w.grad is None, "| a real leaf:", w_leaf.is_leaf, "w_leaf.grad is None:", w_leaf.grad is None)

# %%
# The error above needs a graph in which NOTHING requires grad. Inside a model the weights do, so an
# unmarked input (the image of a saliency map, an adversarial example) gets a silent None, with no
# warning: it is a leaf, so torch has nothing to warn about. Mark it before the forward pass.
x_input = torch.ones(3)                                    # forgot requires_grad
weight = torch.ones(3, requires_grad=True)                 # a model's weight
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    (x_input * weight).sum().backward()                    # no error: weight needs a gradient
print("unmarked input inside a model: x.grad =", x_input.grad, "| warnings:", len(caught),
      "| weight.grad:", weight.grad.tolist())
assert x_input.grad is None and not caught

# %% [markdown]
# ### TensorFlow
#
# A constant is not watched. There is no error: the gradient is silently `None`. The fix is in the same cell, and
# then TensorFlow's other documented causes of a `None` (the
# [autodiff guide](https://www.tensorflow.org/guide/autodiff#cases_where_gradient_returns_none)).

# %%
c_tf = tf.constant(x_np)
with tf.GradientTape() as tape:
    out_tf = tf.reduce_sum(c_tf**2)
print("a constant, not watched:", tape.gradient(out_tf, c_tf))

# The fix: tape.watch(c) inside the tape (or make it a tf.Variable).
with tf.GradientTape() as tape:
    tape.watch(c_tf)
    out_tf = tf.reduce_sum(c_tf**2)
grad_c_tf = tape.gradient(out_tf, c_tf)
print("after tape.watch(c):", grad_c_tf.numpy())

# Other silent Nones: a detour through NumPy (the tape cannot see it), an integer variable, a variable
# made with trainable=False (not watched unless tape.watch). unconnected_gradients=ZERO gives zeros instead.
v = tf.Variable(x_np)
v_int, v_frozen = tf.Variable([1, 2]), tf.Variable(x_np, trainable=False)
with tf.GradientTape(persistent=True) as tape:
    via_numpy = tf.reduce_sum(tf.constant(np.square(v.numpy())))
    of_int = tf.reduce_sum(v_int * 2)
    of_frozen = tf.reduce_sum(v_frozen**2)
print("NumPy inside the tape:", tape.gradient(via_numpy, v), "| int variable:", tape.gradient(of_int, v_int),
      "| trainable=False:", tape.gradient(of_frozen, v_frozen))
zeros_tf = tape.gradient(via_numpy, v, unconnected_gradients=tf.UnconnectedGradients.ZERO)
del tape
print("unconnected_gradients=ZERO:", zeros_tf.numpy())

# %% [markdown]
# | a gradient that is not there | PyTorch | TensorFlow |
# |---|---|---|
# | input not marked | `RuntimeError` at `backward()` only when nothing in the graph requires grad; beside a model's weights: `None`, no warning | `None`, no message |
# | the fix | `requires_grad=True` / `requires_grad_()` | `tape.watch(c)` or a `tf.Variable` |
# | other silent `None`s | `.grad` of a non-leaf (a `UserWarning`); fix: `retain_grad()` or a real leaf | a NumPy detour, an int or a `trainable=False` variable, a rebound variable (below) |
# | zeros instead of `None` | — | `tape.gradient(..., unconnected_gradients=tf.UnconnectedGradients.ZERO)` |
#
# Neither framework always raises: check `grad is None` yourself before using a gradient.

# %%
cu.compare("d/dx sum x²", x_plain.grad, grad_c_tf)

# %% [markdown]
# ## Reset gradients between steps
#
# PyTorch *adds* each new gradient into `.grad`. That makes accumulating over several batches free,
# and means a training loop must clear `.grad` before every backward pass. TensorFlow's
# `tape.gradient` returns a fresh gradient every time, so there is nothing to clear. The model:
# $\hat y = Xw$ with the loss $\text{mean}((\hat y - y)^2)$.
#
# ### PyTorch

# %%
X_pt, y_pt = torch.tensor(X_np), torch.tensor(y_np)
w_pt = torch.tensor(w_np, requires_grad=True)


def loss_fn_pt(w):
    return ((X_pt @ w - y_pt) ** 2).mean()


loss = loss_fn_pt(w_pt)
loss.backward()
grad_step1_pt = w_pt.grad.clone()
print(f"loss = {loss.item():.4f}")
grad_step1_pt

# %% [markdown]
# Same weights, same data: a second backward pass should give the same gradient. The next cell
# asserts exactly that, and fails, because `backward()` added the new gradient to the old one:

# %% tags=["raises-exception"]
loss = loss_fn_pt(w_pt)
loss.backward()
assert cu.compare("grad, step 2", w_pt.grad, grad_step1_pt), "the gradient doubled: backward() adds into .grad"

# %%
# The fix: clear the gradient first, with optimizer.zero_grad() (or w.grad = None without an
# optimizer). Since PyTorch 2.0, zero_grad() sets .grad to None rather than to zeros.
optimizer = torch.optim.SGD([w_pt], lr=0.1)
optimizer.zero_grad()
print("after zero_grad:", w_pt.grad)
loss = loss_fn_pt(w_pt)
loss.backward()
cu.compare("grad, step 2", w_pt.grad, grad_step1_pt)
# Hence the four lines of every PyTorch training step: zero_grad, forward, backward, step.
lr, num_epochs = 0.1, 3
w_pt = torch.tensor(w_np, requires_grad=True)
optimizer = torch.optim.SGD([w_pt], lr=lr)
for epoch in range(num_epochs):
    optimizer.zero_grad()
    loss = loss_fn_pt(w_pt)
    loss.backward()
    optimizer.step()
    print(f"epoch {epoch}  loss {loss.item():.4f}")

# %% [markdown]
# What `optimizer.step()` does for SGD is `w -= lr * w.grad`. Written by hand on a leaf that requires
# gradients, autograd refuses it, because it would record the update itself:

# %% tags=["raises-exception"]
w_hand_pt = torch.tensor(w_np, requires_grad=True)
loss_fn_pt(w_hand_pt).backward()
w_hand_pt -= lr * w_hand_pt.grad

# %%
# The fix: update under torch.no_grad() (in place, so w stays the same leaf), then clear .grad.
w_hand_pt = torch.tensor(w_np, requires_grad=True)
for epoch in range(num_epochs):
    loss = loss_fn_pt(w_hand_pt)
    loss.backward()
    with torch.no_grad():
        w_hand_pt -= lr * w_hand_pt.grad
    w_hand_pt.grad = None
print("still a leaf:", w_hand_pt.is_leaf, "| requires_grad:", w_hand_pt.requires_grad)
cu.compare("by hand = SGD", w_hand_pt, w_pt)

# torch's most common autograd error is another in-place one: a value saved for backward() changed
# after the forward pass. TensorFlow has no counterpart (its tensors cannot change). Fix: h = h * 2.
w_saved = torch.tensor(w_np, requires_grad=True)
h = torch.sigmoid(X_pt @ w_saved)      # sigmoid saves its output h: its gradient is h * (1 - h)
h *= 2                                 # in place: h is now at version 1
try:
    h.sum().backward()
except RuntimeError as err:
    print("in place on a saved tensor: RuntimeError:", str(err).split(": [")[0])


# %% [markdown]
# ### TensorFlow
#
# Every call of `tape.gradient` returns a new tensor, so two steps at the same weights agree.

# %%
X_tf, y_tf = tf.constant(X_np), tf.constant(y_np)
w_tf = tf.Variable(w_np)


def loss_fn_tf(w):
    return tf.reduce_mean((tf.linalg.matvec(X_tf, w) - y_tf) ** 2)


def gradient_tf(w):
    with tf.GradientTape() as tape:
        loss = loss_fn_tf(w)
    return loss, tape.gradient(loss, w)


loss, grad_step1_tf = gradient_tf(w_tf)
loss, grad_step2_tf = gradient_tf(w_tf)
print(f"loss = {loss.numpy():.4f}")
cu.compare("grad, step 2", grad_step2_tf, grad_step1_tf)

# The training step has no zero_grad: the optimizer takes (gradient, variable) pairs.
w_tf = tf.Variable(w_np)
optimizer = keras.optimizers.SGD(learning_rate=lr)
for epoch in range(num_epochs):
    loss, grad = gradient_tf(w_tf)
    optimizer.apply_gradients([(grad, w_tf)])
    print(f"epoch {epoch}  loss {loss.numpy():.4f}")

# By hand: w = w - lr * g REBINDS the name to a plain tf.Tensor, and the next gradient is None (no error).
w_rebound = tf.Variable(w_np)
_, grad = gradient_tf(w_rebound)
w_rebound = w_rebound - lr * grad
print("after w = w - lr*g:", type(w_rebound).__name__, "| next gradient:", gradient_tf(w_rebound)[1])
# The fix: change the Variable in place with assign_sub.
w_hand_tf = tf.Variable(w_np)
for epoch in range(num_epochs):
    _, grad = gradient_tf(w_hand_tf)
    w_hand_tf.assign_sub(lr * grad)
print("with assign_sub:", type(w_hand_tf).__name__)

# %% [markdown]
# | | PyTorch | TensorFlow |
# |---|---|---|
# | a second backward pass | adds into `.grad` | returns a fresh gradient |
# | clear before a step | `optimizer.zero_grad()` (sets `None`) | nothing to clear |
# | apply a step | `optimizer.step()` reads `.grad` | `optimizer.apply_gradients([(g, w)])` |
# | a step by hand | `with torch.no_grad(): w -= lr * w.grad` (without it: `RuntimeError`) | `w.assign_sub(lr * g)` (`w = w - lr * g` silently makes a tensor) |

# %%
cu.compare("grad", grad_step1_pt, grad_step1_tf)
cu.compare("w, 3 steps", w_pt, w_tf)
cu.compare("w, by hand", w_hand_pt, w_hand_tf)

# %% [markdown]
# ### Exercise 2.1 ★★☆ (~5 min)
#
# Pretend a data set does not fit in memory at once and arrives as micro-batches of **unequal** sizes.
# Write a function `accumulate(batches, w)` that returns the **full-batch** gradient of
# `loss = mean((X @ w - y)**2)` at `w` (a NumPy array, shape `(3,)`), where `batches` is a list of
# `(X_b, y_b)` NumPy pairs (`X_b` of shape `(n_b, 3)`), by processing one micro-batch at a time and
# accumulating, in either framework. Return the gradient as a tensor, and set `answer = accumulate`
# (the function). The check calls it on data and splits you have not seen, through a loader that
# reuses its buffers as real ones do: fetching a micro-batch overwrites the one before, so joining
# the fetched arrays into one full batch shows up as NaN (copying each first gets past the check,
# and throws away what accumulation is for: the memory). Think about what share of the full mean
# one micro-batch's mean is, when the sizes differ.

# %% tags=["solution"]
def accumulate(batches, w):
    n = sum(len(y_b) for _, y_b in batches)
    w = torch.tensor(w, requires_grad=True)
    for X_b, y_b in batches:
        loss = ((torch.tensor(X_b) @ w - torch.tensor(y_b)) ** 2).mean() * len(y_b) / n  # its share of all rows
        loss.backward()  # adds into w.grad: exactly what we want here
    return w.grad


answer = accumulate
print("batches of 5 and 3 rows:", accumulate([(MICRO_X[:5], MICRO_Y[:5]), (MICRO_X[5:], MICRO_Y[5:])], MICRO_W).numpy().round(4))

# %%
cu.check.micro_batch_gradient(answer)

# %% [markdown]
# ## Use one recording twice
#
# To save memory, both frameworks drop the intermediate values of a recording once it has been
# used for one backward pass. To take two gradients from one forward pass (say of $f(x)$ and of
# $z = \sum \sin x$), ask to keep it.
#
# ### PyTorch
#
# A second `backward()` through the same graph raises an error, because the saved values are gone:

# %% tags=["raises-exception"]
x_pt = torch.tensor(x_np, requires_grad=True)
out_pt = f_pt(x_pt)
out_pt.backward()
out_pt.backward()

# %%
# The fix: retain_graph=True on every pass but the last. torch.autograd.grad *returns* the
# gradients, like TensorFlow does, and leaves .grad untouched (so nothing accumulates).
x_pt = torch.tensor(x_np, requires_grad=True)
out_pt = f_pt(x_pt)
z_pt = torch.sin(x_pt).sum()
(df_pt,) = torch.autograd.grad(out_pt, x_pt, retain_graph=True)
(dz_pt,) = torch.autograd.grad(z_pt, x_pt)
print("x.grad is", x_pt.grad)
dz_pt

# %% [markdown]
# ### TensorFlow
#
# A tape gives one set of gradients; a second call raises an error:

# %% tags=["raises-exception"]
x_tf = tf.Variable(x_np)
with tf.GradientTape() as tape:
    out_tf = f_tf(x_tf)
    z_tf = tf.reduce_sum(tf.sin(x_tf))
df_tf = tape.gradient(out_tf, x_tf)
dz_tf = tape.gradient(z_tf, x_tf)

# %%
# The fix: a persistent=True tape, deleted when done so that it frees what it holds.
with tf.GradientTape(persistent=True) as tape:
    out_tf = f_tf(x_tf)
    z_tf = tf.reduce_sum(tf.sin(x_tf))
df_tf = tape.gradient(out_tf, x_tf)
dz_tf = tape.gradient(z_tf, x_tf)
del tape
dz_tf.numpy().round(4)

# %% [markdown]
# | | PyTorch | TensorFlow |
# |---|---|---|
# | error on the second use | "Trying to backward through the graph a second time" | "A non-persistent GradientTape can only be used to compute one set of gradients" |
# | keep the recording | `retain_graph=True` | `GradientTape(persistent=True)`, then `del tape` |
# | gradients returned, not stored | `torch.autograd.grad(y, x)` | `tape.gradient(y, x)` (always) |

# %%
cu.compare("df/dx", df_pt, df_tf)
cu.compare("dz/dx", dz_pt, dz_tf)

# %% [markdown]
# ## Differentiate a gradient
#
# A gradient is computed by ordinary tensor operations, so it can be recorded and differentiated
# again. For our $f$, the second derivative is $2\sin x + 4x\cos x - x^2 \sin x$ per element, and
# since $f$ is a sum of one-variable terms its Hessian is diagonal, with exactly those numbers.
#
# ### PyTorch
#
# `create_graph=True` records the backward pass itself; then differentiate the (summed) gradient.
# `torch.autograd.functional.hessian` gives the whole matrix in one call.

# %%
x_pt = torch.tensor(x_np, requires_grad=True)
(grad_pt,) = torch.autograd.grad(f_pt(x_pt), x_pt, create_graph=True)
(second_pt,) = torch.autograd.grad(grad_pt.sum(), x_pt)
hessian_pt = torch.autograd.functional.hessian(f_pt, torch.tensor(x_np))
print("Hessian:", hessian_pt.shape)
second_pt

# %% [markdown]
# ### TensorFlow
#
# Nest two tapes: the outer one records what the inner one computes. `outer.gradient` of a vector
# differentiates its sum (like `grad_pt.sum()` above); `outer.jacobian` gives the whole Hessian.
# The outer tape is used twice, so it is persistent.

# %%
x_tf = tf.Variable(x_np)
with tf.GradientTape(persistent=True) as outer:
    with tf.GradientTape() as inner:
        out_tf = f_tf(x_tf)
    grad_tf = inner.gradient(out_tf, x_tf)
second_tf = outer.gradient(grad_tf, x_tf)
hessian_tf = outer.jacobian(grad_tf, x_tf)
del outer
print("Hessian:", hessian_tf.shape)
second_tf.numpy().round(4)

# %% [markdown]
# | | PyTorch | TensorFlow |
# |---|---|---|
# | record the backward pass | `autograd.grad(..., create_graph=True)` | an outer tape around the inner `gradient` call |
# | Hessian | `torch.autograd.functional.hessian(f, x)` (or `torch.func.hessian`) | `outer.jacobian(inner_gradient, x)` |

# %%
cu.compare("d²f/dx²", second_pt, second_tf)
cu.compare("vs by hand", second_pt, 2 * np.sin(x_np) + 4 * x_np * np.cos(x_np) - x_np**2 * np.sin(x_np))
cu.compare("Hessian", hessian_pt, hessian_tf)
cu.compare("diag = d²f", torch.diagonal(hessian_pt), second_tf)
cu.compare("off-diagonal", hessian_pt - torch.diag(torch.diagonal(hessian_pt)), np.zeros((5, 5), np.float32))

# %% [markdown]
# ### Exercise 2.2 ★★☆ (~5 min)
#
# Compute the second derivative of $\tanh$ at the five points `TANH_X` (`[-1.5, -0.5, 0, 0.5, 1.5]`),
# one number per point, in either framework. Assign it (shape `(5,)`) to `answer`.

# %% tags=["solution"]
x_ex = tf.Variable(TANH_X)
with tf.GradientTape() as outer:
    with tf.GradientTape() as inner:
        out_ex = tf.reduce_sum(tf.tanh(x_ex))
    dy_ex = inner.gradient(out_ex, x_ex)
answer = outer.gradient(dy_ex, x_ex)

# %%
cu.check.tanh_second_derivative(answer)

# %% [markdown]
# ## Vectors out: sums and Jacobians
#
# A gradient is defined for a scalar output. Asked for the gradient of a **vector**, the two
# frameworks disagree: PyTorch refuses, TensorFlow silently differentiates the sum. For all the
# derivatives of a vector output, take a Jacobian; for a batch of independent samples, the per-sample
# Jacobians. Here $y = \tanh(XW^\top)$ for a batch `X_np` of 8 samples and a (2, 3) matrix `W_jac`:
# each sample's Jacobian is (2, 3).
#
# ### PyTorch
#
# `backward()` on a vector raises:

# %% tags=["raises-exception"]
x_pt = torch.tensor(x_np, requires_grad=True)
(3 * x_pt).backward()

# %%
# The fix: say which combination you want. backward(ones) is the gradient of the sum (what TF does).
(3 * x_pt).backward(torch.ones_like(x_pt))
print("backward(ones):", x_pt.grad.tolist())
# Jacobians with torch.func: jacrev of a function; vmap of it gives the per-sample Jacobians.
W_jac = np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 1.0]], dtype=np.float32)
def layer_pt(x):
    return torch.tanh(x @ torch.tensor(W_jac).T)
full_jac_pt = torch.func.jacrev(layer_pt)(torch.tensor(X_np))               # (8, 2, 8, 3): mostly zeros
batch_jac_pt = torch.func.vmap(torch.func.jacrev(layer_pt))(torch.tensor(X_np))  # (8, 2, 3)
print("jacrev:", tuple(full_jac_pt.shape), "| vmap(jacrev):", tuple(batch_jac_pt.shape))

# %% [markdown]
# ### TensorFlow
#
# `tape.gradient` of a vector returns the gradient of its sum, without a word. `tape.jacobian` gives
# every derivative; `tape.batch_jacobian` the per-sample ones (sample *i*'s outputs depend only on
# sample *i*'s inputs).

# %%
x_tf = tf.Variable(x_np)
X_jac_tf = tf.Variable(X_np)
with tf.GradientTape(persistent=True) as tape:
    y_vec_tf = 3 * x_tf
    layer_tf = tf.tanh(X_jac_tf @ tf.transpose(W_jac))
print("gradient of a vector:", tape.gradient(y_vec_tf, x_tf).numpy())
full_jac_tf = tape.jacobian(layer_tf, X_jac_tf)
batch_jac_tf = tape.batch_jacobian(layer_tf, X_jac_tf)
del tape
print("jacobian:", tuple(full_jac_tf.shape), "| batch_jacobian:", tuple(batch_jac_tf.shape))

# %% [markdown]
# | | PyTorch | TensorFlow |
# |---|---|---|
# | gradient of a vector | `RuntimeError`; `y.backward(torch.ones_like(y))` for the sum | the gradient of the sum, silently |
# | full Jacobian | `torch.func.jacrev(f)(x)` (or `torch.autograd.functional.jacobian`) | `tape.jacobian(y, x)` |
# | per-sample Jacobians | `torch.func.vmap(torch.func.jacrev(f))(X)` | `tape.batch_jacobian(y, X)` |
# | style | function transforms: pass a function | a tape: record, then ask |

# %%
cu.compare("sum gradient", x_pt.grad, 3 * np.ones(5, np.float32))
cu.compare("Jacobian", full_jac_pt, full_jac_tf)
cu.compare("per-sample", batch_jac_pt, batch_jac_tf)

# %% [markdown]
# ## Stop a gradient
#
# Sometimes a value must count as a constant for differentiation: a target computed from the model
# itself, a normaliser, a straight-through trick. $h(x) = \sum x \cdot \text{stop}(x)$ has the value
# $\sum x^2$, but its gradient is $x$, not $2x$. For whole blocks (evaluation, logging) both
# frameworks can also stop recording altogether. And some operations stop the gradient by
# themselves: rounding is flat almost everywhere, so its gradient is useless (exercise 2.3 fixes that).
#
# ### PyTorch
#
# `x.detach()` is the same numbers without the record; under `torch.no_grad()` nothing is recorded.

# %%
x_pt = torch.tensor(x_np, requires_grad=True)
(x_pt * x_pt.detach()).sum().backward()
with torch.no_grad():
    z_pt = 2 * x_pt
print("computed under no_grad, requires_grad:", z_pt.requires_grad)
x_round = torch.tensor(x_np, requires_grad=True)
torch.round(x_round).sum().backward()
print("gradient of round:", x_round.grad)
x_pt.grad

# %% [markdown]
# ### TensorFlow
#
# `tf.stop_gradient(x)` is the same numbers without the record; under `tape.stop_recording()`
# nothing is recorded, so there is no path back (`None`).

# %%
x_tf = tf.Variable(x_np)
with tf.GradientTape(persistent=True) as tape:
    h_tf = tf.reduce_sum(x_tf * tf.stop_gradient(x_tf))
    with tape.stop_recording():
        z_tf = 2 * x_tf
    round_tf = tf.reduce_sum(tf.round(x_tf))
print("computed under stop_recording, gradient:", tape.gradient(z_tf, x_tf))
print("gradient of round:", tape.gradient(round_tf, x_tf))
stop_tf = tape.gradient(h_tf, x_tf)
del tape
stop_tf.numpy()

# %% [markdown]
# | | PyTorch | TensorFlow |
# |---|---|---|
# | one value as a constant | `x.detach()` | `tf.stop_gradient(x)` |
# | a block without recording | `with torch.no_grad():` | `with tape.stop_recording():` (or compute outside the tape) |
# | gradient of `round` | zeros | `None` |

# %%
cu.compare("d/dx x·stop(x)", x_pt.grad, stop_tf)
cu.compare("vs x", x_pt.grad, x_np)

# %% [markdown]
# ### Exercise 2.3 ★★★ (~5 min)
#
# Quantisation-aware training rounds values in the forward pass but lets the gradient through as
# if nothing had been rounded: the *straight-through estimator*, `x + stop(round(x) - x)`. With
# `x = ROUND_X` (`[0.2, 1.7, -0.6, 2.4, -1.3]`) and targets `t = ROUND_T` (`[0, 1, 1, 2, -2]`),
# compute the gradient of `loss = sum((round_ste(x) - t)**2)` with respect to `x` (shape `(5,)`),
# in either framework, and assign it to `answer`. (Plain rounding would give zeros in torch and
# `None` in TensorFlow.)

# %% tags=["solution"]
x_ex = torch.tensor(ROUND_X, requires_grad=True)
rounded = x_ex + (torch.round(x_ex) - x_ex).detach()
loss = ((rounded - torch.tensor(ROUND_T)) ** 2).sum()
loss.backward()
answer = x_ex.grad

# %%
cu.check.straight_through_gradient(answer)

# %% [markdown]
# ## Write your own gradient
#
# The norm $\lVert x \rVert = \sqrt{\sum x^2}$ has the gradient $x / \lVert x \rVert$. At $x = 0$ the
# chain rule meets $\infty \cdot 0$ and automatic differentiation returns NaN, which then spreads
# through a whole model. A custom gradient says what it should be there (0) and leaves the
# forward pass as it is. We check it against the automatic gradient where that one is fine, and
# against finite differences.
#
# ### PyTorch
#
# A `torch.autograd.Function` has a `forward`, a `setup_context` that stores in `ctx` what the
# backward needs, and a `backward`. (The older form, `forward(ctx, x)` doing both, still works, but
# `torch.func` transforms such as `vmap` and `jacrev` need the separate `setup_context`.)

# %%
class SafeNorm(torch.autograd.Function):
    @staticmethod
    def forward(x):
        return torch.sqrt((x * x).sum())

    @staticmethod
    def setup_context(ctx, inputs, output):
        (x,) = inputs
        ctx.save_for_backward(x, output)

    @staticmethod
    def backward(ctx, upstream):
        x, norm = ctx.saved_tensors
        return upstream * torch.where(norm > 0, x / norm, torch.zeros_like(x))


def norm_grad_pt(norm_fn, values):
    """The gradient of norm_fn at values (a NumPy array), as a torch tensor."""
    x = torch.tensor(values, requires_grad=True)
    norm_fn(x).backward()
    return x.grad


print("automatic at 0:", norm_grad_pt(lambda x: torch.sqrt((x * x).sum()), zeros_np))
print("custom at 0:   ", norm_grad_pt(SafeNorm.apply, zeros_np))
safe_pt = norm_grad_pt(SafeNorm.apply, x_np)
cu.compare("custom = auto", safe_pt, norm_grad_pt(lambda x: torch.sqrt((x * x).sum()), x_np))
# gradcheck compares backward with finite differences (in float64). And torch's own norm
# already defines its gradient at 0 as 0.
x64 = torch.tensor(x_np, dtype=torch.float64, requires_grad=True)
print("gradcheck:", torch.autograd.gradcheck(SafeNorm.apply, (x64,)))
print("torch.linalg.vector_norm at 0:", norm_grad_pt(torch.linalg.vector_norm, zeros_np))


# %% [markdown]
# ### TensorFlow
#
# `@tf.custom_gradient`: the function returns its value *and* the function that maps the upstream
# gradient to the input's gradient; what backward needs, it reads from the closure.

# %%
@tf.custom_gradient
def safe_norm(x):
    norm = tf.sqrt(tf.reduce_sum(x * x))

    def backward(upstream):
        return upstream * tf.where(norm > 0, x / norm, tf.zeros_like(x))

    return norm, backward


def norm_grad_tf(norm_fn, values):
    """The gradient of norm_fn at values (a NumPy array), as a TF tensor."""
    x = tf.Variable(values)
    with tf.GradientTape() as tape:
        norm = norm_fn(x)
    return tape.gradient(norm, x)


print("automatic at 0:", norm_grad_tf(lambda x: tf.sqrt(tf.reduce_sum(x * x)), zeros_np).numpy())
print("custom at 0:   ", norm_grad_tf(safe_norm, zeros_np).numpy())
safe_tf = norm_grad_tf(safe_norm, x_np)
cu.compare("custom = auto", safe_tf, norm_grad_tf(lambda x: tf.sqrt(tf.reduce_sum(x * x)), x_np))
# compute_gradient returns the Jacobians from the gradient and from finite differences (float64).
# Unlike torch's, TensorFlow's own tf.norm gives NaN at 0.
theoretical, numerical = tf.test.compute_gradient(safe_norm, [tf.constant(x_np, dtype=tf.float64)])
print("compute_gradient agrees within 1e-6:", np.abs(theoretical[0] - numerical[0]).max() < 1e-6)
print("tf.norm at 0:", norm_grad_tf(tf.norm, zeros_np).numpy())

# %% [markdown]
# | | PyTorch | TensorFlow |
# |---|---|---|
# | define | `autograd.Function` subclass with `forward`/`backward` | `@tf.custom_gradient` returning `(value, backward)` |
# | save for backward | `ctx.save_for_backward(...)` | a Python closure |
# | call it | `SafeNorm.apply(x)` | `safe_norm(x)` |
# | check it | `torch.autograd.gradcheck` | `tf.test.compute_gradient` |
# | built-in norm at 0 | gradient 0 | gradient NaN |

# %%
cu.compare("safe norm", safe_pt, safe_tf)

# %% [markdown]
# ## Summary
#
# - **Same gradient, both frameworks:** `y.backward()` fills `x.grad`; `tape.gradient(y, x)` returns
#   it. On the same function they agree to float32 precision, and with the hand-derived gradient.
#   Both record as the code runs, so Python `if`/`while` on tensor values just works.
# - **What gets gradients:** leaf tensors with `requires_grad=True` in PyTorch; trainable
#   `tf.Variable`s, or tensors passed to `tape.watch`, in TensorFlow. Both can hand you a silent
#   `None`: torch for the `.grad` of a non-leaf (only a warning; `retain_grad()`), TensorFlow for an
#   unwatched input, a NumPy detour, an int or non-trainable variable, a rebound variable
#   (`unconnected_gradients=ZERO` gives zeros). An unmarked input is `None` in both as soon as a model's
#   weights are in the graph; torch raises only when nothing in the graph requires grad.
# - **Reset, accumulate, update, reuse:** PyTorch adds into `.grad`, so call `optimizer.zero_grad()`
#   every step (and accumulate micro-batches, weighted by their sizes, for free); TensorFlow returns
#   fresh gradients and you add them yourself. By hand: `with torch.no_grad(): w -= lr * w.grad` vs
#   `w.assign_sub(lr * g)`. Keep a recording for a second pass with `retain_graph=True` / `persistent=True`.
# - **Higher order, vectors out:** `create_graph=True` (and `torch.autograd.functional.hessian`) vs
#   nested tapes (and `outer.jacobian`); the gradient of a vector raises in torch and is silently the
#   sum's in TF; Jacobians with `torch.func.jacrev`/`vmap` vs `tape.jacobian`/`batch_jacobian` agree.
# - **Stop and replace:** `detach`/`no_grad` vs `tf.stop_gradient`/`stop_recording`; a custom
#   gradient is an `autograd.Function` or a `@tf.custom_gradient`, checked against the automatic
#   gradient and against finite differences.
#
# ## PyTorch vs TensorFlow
#
# | concept | PyTorch | TensorFlow | gotcha |
# |---|---|---|---|
# | mark inputs | `requires_grad=True` | `tf.Variable` or `tape.watch` | TF returns `None` silently for an unwatched input |
# | silent `None` | `.grad` of a non-leaf (`retain_grad()`) | NumPy detour, int / `trainable=False` variable, rebound variable | `unconnected_gradients=ZERO` in TF |
# | take a gradient | `y.backward()` → `x.grad`, or `torch.autograd.grad` | `tape.gradient(y, x)` | `backward` accumulates, `tape.gradient` does not |
# | between steps | `optimizer.zero_grad()` | nothing | forgetting it in torch doubles the gradient without any error |
# | update by hand | `with torch.no_grad(): w -= lr * w.grad` | `w.assign_sub(lr * g)` | torch raises without `no_grad`; TF's `w = w - lr * g` makes a tensor |
# | second use of a recording | `retain_graph=True` | `persistent=True`, then `del tape` | both raise `RuntimeError` by default |
# | second derivative | `create_graph=True` | nested tapes | the outer gradient of a vector differentiates its sum |
# | vector output | `backward()` raises; `backward(ones)` | `tape.gradient` sums silently | Jacobians: `torch.func.jacrev`/`vmap` vs `tape.jacobian`/`batch_jacobian` |
# | stop a gradient | `detach()`, `torch.no_grad()` | `tf.stop_gradient`, `tape.stop_recording()` | rounding: a zero gradient in torch, `None` in TF |
# | custom gradient | `torch.autograd.Function` | `@tf.custom_gradient` | built-in norm at 0: torch gives 0, TF gives NaN |
#
# ## Claims settled
#
# COURSE.md assigns no claim to this lesson; it supplies evidence for two claims that later
# lessons settle in full.
#
# | claim | verdict here | shown by |
# |---|---|---|
# | TensorFlow uses static graphs; PyTorch dynamic graphs (lesson 04) | **outdated** for gradients: both record eagerly, as the code runs | "Control flow is plain Python": the same Python `while` on tensor values, differentiated in both |
# | Switching from one framework to the other is seamless (lessons 03, 13) | **partly**: the gradients are the same numbers, but the defaults differ | every `cu.compare` of PyTorch against TensorFlow above agrees; yet accumulation and the by-hand update ("Reset gradients between steps"), which silent `None`s each gives ("Choose what to differentiate"), a vector output (raises vs sums, "Vectors out") and the norm at 0 ("Write your own gradient") differ |
#
# ## Further reading
#
# - PyTorch: [A gentle introduction to `torch.autograd`](https://pytorch.org/tutorials/beginner/blitz/autograd_tutorial.html),
#   [Autograd mechanics](https://pytorch.org/docs/stable/notes/autograd.html) and
#   [Extending `torch.autograd`](https://pytorch.org/docs/stable/notes/extending.html) (custom `Function`s).
# - TensorFlow: [Introduction to gradients and automatic differentiation](https://www.tensorflow.org/guide/autodiff)
#   and [Advanced automatic differentiation](https://www.tensorflow.org/guide/advanced_autodiff).
# - Baydin et al., [Automatic differentiation in machine learning: a survey](https://arxiv.org/abs/1502.05767) (JMLR 2018).

# %% [markdown]
# ## One minute, optional: how was this lesson?
#
# If you like, replace `clarity=None` below with how clear this lesson was (1 = lost, 5 = clear), add one sentence as `comment`, and run the cell. Only those two things are kept, in your own folder (`build/record/` on a laptop, your folder on the hub), next to your checks' verdicts that the instructor's board reads; `cu.progress()` shows your record and `cu.progress(recording=False)` turns recording off.

# %%
cu.feedback("02", clarity=None, comment="")
