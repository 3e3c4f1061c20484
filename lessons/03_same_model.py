# %% [markdown]
# # 03 · The same model in both frameworks
#
# **Time:** 40 min teaching + 15 min exercises
#
# **Prerequisites:** 01 · Tensors (layouts, NumPy exchange), 02 · Autodiff (`backward` vs `GradientTape`)
#
# **Objectives:**
# - Build one MLP and one small CNN in `torch.nn` and in Keras (subclass/functional and `Sequential`), with the same parameter count, and see how their default initialisations differ.
# - Port weights both ways: transpose dense kernels, permute conv kernels, switch NCHW ↔ NHWC, and fix the flatten order.
# - Prove the two frameworks equal on forward outputs, loss, gradients and one optimizer step, to max |diff| ≤ 1e-5.
# - Train both with a hand-written loop and with Keras `fit` on the same batches, evaluate in eval mode, and compare curves and accuracy.
# - Judge the claim "switching from one framework to the other is seamless" from what the lesson ran.

# %% [markdown]
# ## Setup
#
# One import cell, then `cu.setup`. `pt_utils`/`tf_utils` are the course's mirrored helpers: what
# this lesson teaches by hand ends up there (`port_weights`, `train_epoch`, `evaluate`) for later lessons.
# `cu.setup` also fixes both frameworks' thread count (2), so the sums run in the same order on every core count.

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch
from torch import nn
import tensorflow as tf
import keras

import course_utils as cu
from course_utils import pt_utils, tf_utils


cu.setup(seed=0)

# %% [markdown]
# The digits: 8×8 grey images, already split. The MLP reads them as 64 numbers, the CNN as images.
# One batch of 32 is kept aside for the checks below; every input is made once in NumPy and fed to both.

# %%
data = cu.load_digits()
X_train, y_train = data.X_train.reshape(-1, 64), data.y_train   # (1438, 64) float32, labels int64
X_test, y_test = data.X_test.reshape(-1, 64), data.y_test       # (359, 64)
X_batch, y_batch = X_train[:32], y_train[:32]
print(X_train.shape, X_train.dtype, y_train.shape, y_train.dtype, "| test", X_test.shape)

# %% [markdown]
# ## Build the MLP twice
#
# 64 pixels → 32 hidden units → ReLU → 10 logits (no softmax: both losses below take logits).
# PyTorch's idiom is a class: layers in `__init__`, the computation in `forward`. Keras' functional
# API wires layers by calling them on symbolic inputs.
#
# ### PyTorch: an `nn.Module` subclass

# %%
class MLP(nn.Module):
    def __init__(self, in_features=64, hidden=32, num_classes=10):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc2 = nn.Linear(hidden, num_classes)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


mlp_pt = MLP()
mlp_pt

# %% [markdown]
# ### TensorFlow: a Keras functional model
#
# Wrapped in a function, because the lesson needs fresh copies later.

# %%
def make_mlp_tf(in_features=64, hidden=32, num_classes=10):
    inputs = keras.Input(shape=(in_features,))
    x = keras.layers.Dense(hidden, activation="relu", name="fc1")(inputs)
    outputs = keras.layers.Dense(num_classes, name="fc2")(x)
    return keras.Model(inputs, outputs, name="mlp")


mlp_tf = make_mlp_tf()
[(w.path, tuple(w.shape)) for w in mlp_tf.weights]

# %% [markdown]
# Same layers, same number of parameters, but not the same storage:
#
# | | PyTorch `nn.Linear(64, 32)` | Keras `Dense(32)` |
# |---|---|---|
# | weight | `weight`, shape (out, in) = (32, 64) | `kernel`, shape (in, out) = (64, 32) |
# | computes | `x @ weight.T + bias` | `x @ kernel + bias` |
# | count | `sum(p.numel() for p in model.parameters())` | `model.count_params()` |

# %%
for (name, p), w in zip(mlp_pt.named_parameters(), mlp_tf.weights):
    print(f"torch {name:10} {str(tuple(p.shape)):9} | keras {w.path:11} {tuple(w.shape)}")
n_pt, n_tf = sum(p.numel() for p in mlp_pt.parameters()), mlp_tf.count_params()
print(f"parameters: torch {n_pt}, keras {n_tf}")
assert n_pt == n_tf == 64 * 32 + 32 + 32 * 10 + 10

# %% [markdown]
# The same MLP as a plain stack of layers, `Sequential` in both, and each framework's own overview:
# `print(model)` lists torch's modules (no shapes: torch infers nothing before the first call),
# Keras' `model.summary()` gives output shapes and parameter counts.

# %%
seq_pt = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
seq_tf = keras.Sequential([keras.Input(shape=(64,)), keras.layers.Dense(32, activation="relu", name="fc1"),
                           keras.layers.Dense(10, name="fc2")], name="mlp_seq")
print(seq_pt)
seq_tf.summary(print_fn=lambda line, **kwargs: print(line))  # plain text, not a rich display
print("parameters:", sum(p.numel() for p in seq_pt.parameters()), seq_tf.count_params())

# %% [markdown]
# ## Default initialisation differs
#
# Fresh layers are not drawn the same way. torch's `nn.Linear` draws weight **and bias** uniformly in
# ±1/√fan_in (Kaiming-uniform with `a=√5`); Keras' `Dense` draws its kernel Glorot-uniform in
# ±√(6 / (fan_in + fan_out)) and sets the bias to **zeros**. So "the same model" starts elsewhere in
# each framework unless you port the weights, and trains differently (measured at the end of *Train*).
# Another default that differs by layer: BatchNorm's running-average momentum and epsilon.

# %%
fresh_pt, fresh_tf = MLP(), make_mlp_tf()
for (name, p), w in zip(fresh_pt.named_parameters(), fresh_tf.weights):
    fan_in, fan_out = (p.shape[1], p.shape[0]) if p.ndim == 2 else (fresh_pt.get_submodule(name.split(".")[0]).in_features, 0)
    glorot = np.sqrt(6 / (fan_in + fan_out)) if p.ndim == 2 else 0.0
    print(f"{name:10} torch max|w| {p.abs().max().item():.3f} (bound 1/√{fan_in} = {1 / np.sqrt(fan_in):.3f})"
          f" | keras {w.path:11} max|w| {np.abs(w.numpy()).max():.3f} (bound {glorot:.3f})")
bn_pt, bn_tf = nn.BatchNorm1d(32), keras.layers.BatchNormalization()
print(f"BatchNorm: torch momentum={bn_pt.momentum} eps={bn_pt.eps} | keras momentum={bn_tf.momentum} epsilon={bn_tf.epsilon}")

# %% [markdown]
# ## Port the MLP: torch → Keras
#
# Both were initialised at random, differently. To compare them we copy torch's weights into Keras,
# through NumPy. Since `x @ W.T == x @ K`, the Keras kernel is the transposed torch weight: `K = W.T`.
#
# ### PyTorch: read the weights as NumPy

# %%
W1, b1 = mlp_pt.fc1.weight.detach().numpy(), mlp_pt.fc1.bias.detach().numpy()
W2, b2 = mlp_pt.fc2.weight.detach().numpy(), mlp_pt.fc2.bias.detach().numpy()
W1.shape, W2.shape

# %% [markdown]
# ### TensorFlow: write them into the Keras layers

# %%
mlp_tf.get_layer("fc1").set_weights([W1.T, b1])
mlp_tf.get_layer("fc2").set_weights([W2.T, b2])
# same batch in, same logits out:
logits_pt = mlp_pt(torch.from_numpy(X_batch))
logits_tf = mlp_tf(X_batch)
cu.compare("mlp logits", logits_pt, logits_tf)

# %% [markdown]
# ## Build the CNN twice
#
# conv 3×3 (8 filters, no padding: 8×8 → 6×6) → ReLU → 2×2 max-pool (→ 3×3) → flatten (72) → dense 10.
# Images now need a channel axis, and the frameworks put it in different places: PyTorch's
# `Conv2d` takes NCHW `(N, 1, 8, 8)`, Keras' `Conv2D` takes NHWC `(N, 8, 8, 1)` (its default
# `channels_last`).
#
# ### PyTorch: channels first

# %%
class CNN(nn.Module):
    def __init__(self, channels=8, num_classes=10):
        super().__init__()
        self.conv = nn.Conv2d(1, channels, kernel_size=3)   # (N, 1, 8, 8) → (N, 8, 6, 6)
        self.pool = nn.MaxPool2d(2)                          # → (N, 8, 3, 3)
        self.fc = nn.Linear(channels * 3 * 3, num_classes)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv(x)))
        return self.fc(torch.flatten(x, start_dim=1))        # flattens (C, H, W)


cnn_pt = CNN()
images_pt = data.X_train[:32, None, :, :]                    # NCHW (32, 1, 8, 8)
cnn_pt(torch.from_numpy(images_pt)).shape

# %% [markdown]
# ### TensorFlow: channels last

# %%
def make_cnn_tf(channels=8, num_classes=10):
    inputs = keras.Input(shape=(8, 8, 1))
    x = keras.layers.Conv2D(channels, 3, name="conv")(inputs)   # (N, 8, 8, 1) → (N, 6, 6, 8)
    x = keras.layers.ReLU()(x)
    x = keras.layers.MaxPooling2D(2)(x)                          # → (N, 3, 3, 8)
    x = keras.layers.Flatten()(x)                                # flattens (H, W, C)
    outputs = keras.layers.Dense(num_classes, name="fc")(x)
    return keras.Model(inputs, outputs, name="cnn")


cnn_tf = make_cnn_tf()
images_tf = data.X_train[:32, :, :, None]                    # NHWC (32, 8, 8, 1)
for (name, p), w in zip(cnn_pt.named_parameters(), cnn_tf.weights):
    print(f"torch {name:11} {str(tuple(p.shape)):13} | keras {w.path:11} {tuple(w.shape)}")
print(f"parameters: torch {sum(p.numel() for p in cnn_pt.parameters())}, keras {cnn_tf.count_params()}")
cnn_tf(images_tf).shape

# %% [markdown]
# Feeding Keras the torch layout fails loudly — Keras checks the input shape against `keras.Input`.
# The fix is the layout, not the model: move the channel axis last, `images_pt.transpose(0, 2, 3, 1)`
# (which is `images_tf`).

# %% tags=["raises-exception"]
cnn_tf(images_pt)

# %% [markdown]
# ## Port the CNN, and the flatten trap
#
# The conv kernel: torch stores `(out, in, kh, kw)`, Keras `(kh, kw, in, out)`: `transpose(2, 3, 1, 0)`.
# The dense layer: transposed, as in the MLP. That is the obvious port. It is wrong, and silently so.
#
# ### PyTorch: read the weights

# %%
def conv_to_keras(weight):
    """torch Conv2d weight (out, in, kh, kw) → Keras Conv2D kernel (kh, kw, in, out)."""
    return weight.transpose(2, 3, 1, 0)


Wc, bc = cnn_pt.conv.weight.detach().numpy(), cnn_pt.conv.bias.detach().numpy()
Wf, bf = cnn_pt.fc.weight.detach().numpy(), cnn_pt.fc.bias.detach().numpy()
print("conv weight", Wc.shape, "→ kernel", conv_to_keras(Wc).shape, "| dense weight", Wf.shape)
# Not Wc.T: it reverses all four axes, (kw, kh, in, out): the same shape, but each 3×3 kernel transposed
# (kh and kw swapped). Nothing is ever flipped: both frameworks compute a cross-correlation.
print("Wc.T", Wc.T.shape, "equals the right kernel:", np.array_equal(Wc.T, conv_to_keras(Wc)))

# %% [markdown]
# ### TensorFlow: the naive port

# %%
cnn_tf.get_layer("conv").set_weights([conv_to_keras(Wc), bc])
cnn_tf.get_layer("fc").set_weights([Wf.T, bf])              # transpose only, as for the MLP
logits_pt = cnn_pt(torch.from_numpy(images_pt))
logits_tf = cnn_tf(images_tf)
cu.compare("cnn logits", logits_pt, logits_tf)

# %% [markdown]
# No error, every shape fits — and the logits disagree (`allclose=False`). Where does it go wrong?
# Compare the layers one at a time: up to the pooling, the two agree (torch's NCHW maps moved to NHWC):

# %%
maps_pt = cnn_pt.pool(torch.relu(cnn_pt.conv(torch.from_numpy(images_pt))))      # (32, 8, 3, 3)
maps_tf = keras.Model(cnn_tf.input, cnn_tf.layers[-3].output)(images_tf)        # (32, 3, 3, 8)
cu.compare("pooled maps", maps_pt.permute(0, 2, 3, 1), maps_tf)

# %% [markdown]
# So the trouble is between the maps and the dense layer: the flatten. Number the 72 values of one
# map in torch's order, `(C, H, W)`, and read them in Keras' order, `(H, W, C)`: same 72 numbers,
# another order, so each dense weight column must move with its input: view torch's weight `(10, 72)`
# as `(10, C, H, W)`, reorder to `(10, H, W, C)`, flatten back, then transpose. (Or change the Keras
# model instead: the last cell of this section.)

# %%
position = np.arange(8 * 3 * 3).reshape(8, 3, 3)           # (C, H, W): value = index in torch's flat vector
print("torch flattens (C, H, W):", position.reshape(-1)[:12])
print("Keras flattens (H, W, C):", position.transpose(1, 2, 0).reshape(-1)[:12])


def dense_to_keras(weight, chw=None):
    """torch Linear weight (out, in) → Keras Dense kernel (in, out).
    chw: the (C, H, W) of the map flattened right before this layer, if any."""
    if chw is not None:
        C, H, W = chw
        weight = weight.reshape(-1, C, H, W).transpose(0, 2, 3, 1).reshape(len(weight), -1)
    return weight.T


cnn_tf.get_layer("fc").set_weights([dense_to_keras(Wf, chw=(8, 3, 3)), bf])
cu.compare("cnn logits", cnn_pt(torch.from_numpy(images_pt)), cnn_tf(images_tf))

# The other fix: keep torch's weight order and make Keras flatten in torch's (C, H, W) order. Permute
# the NHWC maps to (C, H, W) first: then the dense kernel is only transposed, as in the MLP. Keras'
# Flatten(data_format="channels_first") is NOT that: it says its *input* is channels-first and moves
# the channels last before flattening (keras/src/layers/reshaping/flatten.py), for porting between
# Keras models of the two data formats.
def make_cnn_permuted_tf(to_torch_order):
    inputs = keras.Input(shape=(8, 8, 1))
    x = keras.layers.MaxPooling2D(2)(keras.layers.ReLU()(keras.layers.Conv2D(8, 3, name="conv")(inputs)))
    x = keras.layers.Flatten()(keras.layers.Permute((3, 1, 2))(x)) if to_torch_order else \
        keras.layers.Flatten(data_format="channels_first")(x)
    model = keras.Model(inputs, keras.layers.Dense(10, name="fc")(x))
    model.get_layer("conv").set_weights([conv_to_keras(Wc), bc])
    model.get_layer("fc").set_weights([Wf.T, bf])                  # transposed only
    return model


cu.compare("Permute+Flatten", cnn_pt(torch.from_numpy(images_pt)), make_cnn_permuted_tf(True)(images_tf))
cu.compare("channels_first", cnn_pt(torch.from_numpy(images_pt)), make_cnn_permuted_tf(False)(images_tf))

# One more silent port error: a strided conv with padding. torch's padding=1 pads every side by 1;
# Keras' padding="same" pads only what the stride needs, and at the bottom/right (TensorFlow's SAME).
# With stride 2 on 8×8 both give 4×4 maps, with different numbers and no error. The fix: pad
# explicitly (keras.layers.ZeroPadding2D(1), or tf.pad) and convolve with padding="valid".
stride2_pt = torch.nn.functional.conv2d(torch.from_numpy(images_pt), torch.from_numpy(Wc), torch.from_numpy(bc),
                                        stride=2, padding=1).numpy().transpose(0, 2, 3, 1)     # NCHW → NHWC
stride2_same = tf.nn.conv2d(images_tf, conv_to_keras(Wc), strides=2, padding="SAME") + bc
stride2_pad = tf.nn.conv2d(tf.pad(images_tf, [[0, 0], [1, 1], [1, 1], [0, 0]]), conv_to_keras(Wc),
                           strides=2, padding="VALID") + bc
print("stride 2 shapes: torch padding=1", stride2_pt.shape[1:], "| 'same'", tuple(stride2_same.shape[1:]),
      "| pad 1 + 'valid'", tuple(stride2_pad.shape[1:]))
cu.compare("stride 2 'same'", stride2_pt, stride2_same)
cu.compare("stride 2 pad+valid", stride2_pt, stride2_pad)

# %% [markdown]
# ## Port back: Keras → torch, with the helpers
#
# The reverse port applies the inverse permutations. Both directions are kept in the course's
# helpers, one per destination framework, with the same name and arguments:
# `tf_utils.port_weights(src, dst)` fills a Keras model from a torch one, `pt_utils.port_weights(src, dst)`
# a torch model from a Keras one. Each returns what it did, layer by layer.
#
# ### PyTorch: `pt_utils.port_weights(keras_model, torch_model)`

# %%
cnn_back = CNN()                                           # fresh random weights
for line in pt_utils.port_weights(cnn_tf, cnn_back):
    print(line)

# %% [markdown]
# ### TensorFlow: `tf_utils.port_weights(torch_model, keras_model)`
#
# torch → Keras (by hand) → torch → Keras: the round trip is exact to the bit, and every copy
# computes the same logits.

# %%
cnn_tf2 = make_cnn_tf()
for line in tf_utils.port_weights(cnn_back, cnn_tf2):
    print(line)
cu.compare("round trip", cnn_back.fc.weight, cnn_pt.fc.weight, atol=0.0)
cu.compare("cnn logits", cnn_back(torch.from_numpy(images_pt)), cnn_tf2(images_tf))

# %% [markdown]
# ### Exercise 3.1 ★☆☆ (~3 min)
#
# A torch `nn.Conv2d(2, 4, kernel_size=3)` has the weight `W` below, shape `(out, in, kh, kw)`.
# Give the kernel for the equivalent Keras `Conv2D(4, 3)` as `answer` (NumPy, torch or TF).

# %%
W = np.arange(72, dtype=np.float32).reshape(4, 2, 3, 3)

# %% tags=["solution"]
answer = W.transpose(2, 3, 1, 0)

# %%
cu.check.conv_kernel(answer)

# %% [markdown]
# ### Exercise 3.2 ★★☆ (~5 min)
#
# Now the other way. A Keras model flattens a `(H, W, C) = (2, 2, 3)` map and feeds it to `Dense(4)`,
# whose kernel `K` is below, shape `(12, 4)`. Give the weight of the torch `nn.Linear(12, 4)` that
# follows `torch.flatten` of the same map in NCHW layout, shape `(4, 12)`, and assign it to `answer`.

# %%
K = np.arange(48, dtype=np.float32).reshape(12, 4)

# %% tags=["solution"]
answer = K.reshape(2, 2, 3, 4).transpose(3, 2, 0, 1).reshape(4, 12)

# %%
cu.check.flatten_reorder(answer)

# %% [markdown]
# ## Proven equal: loss, gradients, one optimizer step
#
# Same outputs are not yet the same model: training also needs the same loss and the same
# gradients. The loss is cross-entropy on logits, averaged over the batch, in both:
# `nn.CrossEntropyLoss()` and `SparseCategoricalCrossentropy(from_logits=True)`. Mind the argument
# order: torch's losses take `(y_hat, y)` (prediction first), Keras' `(y_true, y_pred)` (label first).
#
# ### PyTorch: `backward` fills `.grad`

# %%
loss_fn_pt = nn.CrossEntropyLoss()


def loss_and_grads_pt(model, X, y):
    model.zero_grad()
    loss = loss_fn_pt(model(torch.from_numpy(X)), torch.from_numpy(y))
    loss.backward()
    return loss, [p.grad for p in model.parameters()]


loss, grads = loss_and_grads_pt(mlp_pt, X_batch, y_batch)
f"loss {loss.item():.4f}", [tuple(g.shape) for g in grads]

# %% [markdown]
# ### TensorFlow: the tape returns the gradients

# %%
loss_fn_tf = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def loss_and_grads_tf(model, X, y):
    with tf.GradientTape() as tape:
        loss = loss_fn_tf(y, model(X, training=True))
    return loss, tape.gradient(loss, model.trainable_variables)


loss, grads = loss_and_grads_tf(mlp_tf, X_batch, y_batch)
print(f"loss {float(loss):.4f}", [tuple(g.shape) for g in grads])

# The argument order, run: these classification losses refuse the swap (their two arguments have
# different shapes), but a loss whose arguments have the same shape (BCE here, MSE too) computes
# a wrong number without a word, in both frameworks.
logits_tf = mlp_tf(X_batch)
for name, swapped in [("torch CE(y, y_hat)", lambda: loss_fn_pt(torch.from_numpy(y_batch), torch.from_numpy(logits_tf.numpy()))),
                      ("keras CE(y_pred, y_true)", lambda: loss_fn_tf(logits_tf, y_batch))]:
    try:
        print(f"{name}: no error, {float(swapped()):.4f}")
    except (RuntimeError, NotImplementedError, ValueError) as err:
        print(f"{name}: {type(err).__name__}")
p, t = np.float32([0.9, 0.2, 0.6]), np.float32([1.0, 0.0, 0.0])      # predicted probabilities, labels
bce = {"torch BCELoss(p, t)": nn.BCELoss()(torch.from_numpy(p), torch.from_numpy(t)).item(),
       "keras BCE(t, p)": float(keras.losses.BinaryCrossentropy()(t, p)),
       "torch BCELoss(t, p), swapped": nn.BCELoss()(torch.from_numpy(t), torch.from_numpy(p)).item(),
       "keras BCE(p, t), swapped": float(keras.losses.BinaryCrossentropy()(p, t))}
print(" | ".join(f"{name} {value:.2f}" for name, value in bce.items()))
values = list(bce.values())
assert abs(values[0] - values[1]) < 1e-4 and min(abs(v - values[0]) for v in values[2:]) > 1

# %% [markdown]
# A gradient has the shape and layout of its weight, so torch's gradients port to Keras' layout
# with the same two functions as the weights. The check, for the MLP, then the CNN (whose dense
# gradient needs the flatten reorder, like its weight):

# %%
def to_keras_layout(tensor, chw=None):
    """A torch weight or gradient in Keras' layout: conv 4-D, dense 2-D, bias 1-D (unchanged)."""
    array = tensor.detach().numpy()
    if array.ndim == 4:
        return conv_to_keras(array)
    if array.ndim == 2:
        return dense_to_keras(array, chw)
    return array


def prove_equal(model_pt, model_tf, X_pt, X_tf, y, chw=None):
    """Compare loss and every gradient; return the TF gradients for the optimizer step."""
    loss_pt, grads_pt = loss_and_grads_pt(model_pt, X_pt, y)
    loss_tf, grads_tf = loss_and_grads_tf(model_tf, X_tf, y)
    cu.compare("loss", loss_pt, loss_tf)
    for (name, _), g_pt, g_tf in zip(model_pt.named_parameters(), grads_pt, grads_tf):
        cu.compare(f"∂{name}", to_keras_layout(g_pt, chw), g_tf)
    return grads_tf


grads_mlp_tf = prove_equal(mlp_pt, mlp_tf, X_batch, X_batch, y_batch)
grads_cnn_tf = prove_equal(cnn_pt, cnn_tf, images_pt, images_tf, y_batch, chw=(8, 3, 3))

# %% [markdown]
# One step of plain SGD (`w ← w − lr·g`, the same formula in both) with the gradients just
# computed, then the updated weights compared:

# %%
lr = 0.1
for model_pt, model_tf, grads_tf, chw in [(mlp_pt, mlp_tf, grads_mlp_tf, None),
                                          (cnn_pt, cnn_tf, grads_cnn_tf, (8, 3, 3))]:
    torch.optim.SGD(model_pt.parameters(), lr=lr).step()         # uses the .grad left by backward
    keras.optimizers.SGD(learning_rate=lr).apply_gradients(zip(grads_tf, model_tf.trainable_variables))
    print(f"{model_tf.name}, weights after one step:")
    for (name, p), v in zip(model_pt.named_parameters(), model_tf.trainable_variables):
        cu.compare(name, to_keras_layout(p, chw), v)

# %% [markdown]
# This lesson trains with SGD + momentum. torch and Keras write the momentum update differently
# (torch: `v ← μv + g`, `w ← w − lr·v`; Keras: `v ← μv − lr·g`, `w ← w + v`), which gives the same
# steps at a constant learning rate: the training runs below agree step by step. **Adam does not**
# match that easily, even with every argument set equal. Its defaults differ (`eps` 1e-8 vs 1e-7), and
# so does where epsilon goes: torch divides by `sqrt(v̂) + eps` (after the bias correction,
# `torch/optim/adam.py`), Keras by `sqrt(v) + epsilon` before it (`keras/src/optimizers/adam.py`: the
# paper's "epsilon hat"), which amounts to an epsilon of `eps / sqrt(1 − β₂ᵗ)`, 32× larger at step 1.
# With gradients near 1e-4 that is visible. And `weight_decay` means two things: in Keras it is
# decoupled (AdamW's `w ← w − lr·wd·w`), in `torch.optim.Adam` an L2 term added to the gradient.

# %%
adam_pt, adam_tf = torch.optim.Adam(mlp_pt.parameters()), keras.optimizers.Adam()
print(f"defaults: torch lr={adam_pt.defaults['lr']}, eps={adam_pt.defaults['eps']} | "
      f"keras lr={float(adam_tf.learning_rate):g}, epsilon={adam_tf.epsilon}")
g_seq = np.random.default_rng(1).normal(scale=1e-4, size=(5, 4)).astype(np.float32)  # 5 steps of tiny gradients


def adam_gap(eps, lr=1e-3):
    """Max |w_torch - w_keras| after 5 Adam steps on the same gradients, in units of one step (lr)."""
    w_a, w_b = torch.zeros(4, requires_grad=True), tf.Variable(np.zeros(4, np.float32))
    opt_a, opt_b = torch.optim.Adam([w_a], lr=lr, eps=eps), keras.optimizers.Adam(learning_rate=lr, epsilon=eps)
    for g in g_seq:
        w_a.grad = torch.from_numpy(g)
        opt_a.step()
        opt_b.apply_gradients([(tf.constant(g), w_b)])
    return np.abs(w_a.detach().numpy() - w_b.numpy()).max() / lr


print(f"same eps=1e-7 in both: weights differ by {adam_gap(1e-7):.0%} of a step | eps=0 in both: "
      f"{'< 0.1%' if adam_gap(0.0) < 1e-3 else 'more'}")
c = np.array([1.0, -2.0, 0.5, 3.0], np.float32)  # loss = sum(c * w): gradient c
decayed = {}
for name, make in [("torch Adam(weight_decay=0.1)", lambda w: torch.optim.Adam([w], lr=0.01, weight_decay=0.1)),
                   ("torch AdamW(weight_decay=0.1)", lambda w: torch.optim.AdamW([w], lr=0.01, weight_decay=0.1))]:
    w = torch.ones(4, requires_grad=True)
    opt = make(w)
    for _ in range(5):
        w.grad = torch.from_numpy(c)
        opt.step()
    decayed[name] = w
w = tf.Variable(np.ones(4, np.float32))
opt = keras.optimizers.Adam(learning_rate=0.01, weight_decay=0.1)
for _ in range(5):
    opt.apply_gradients([(tf.constant(c), w)])
cu.compare("keras ~ AdamW", decayed["torch AdamW(weight_decay=0.1)"], w, atol=1e-5)
cu.compare("keras ~ Adam", decayed["torch Adam(weight_decay=0.1)"], w, atol=1e-5)

# %% [markdown]
# ### Exercise 3.3 ★★☆ (~5 min)
#
# Two engineers compute the loss of the same logits. The torch number is right; the Keras one
# differs. Find why, fix the Keras call, and set `answer` to the fixed Keras loss.

# %%
logits = np.array([[2.0, -1.0, 0.5], [0.1, 0.2, 3.0], [1.5, 1.0, -2.0]], dtype=np.float32)
labels = np.array([0, 2, 1])
loss_torch = nn.CrossEntropyLoss()(torch.from_numpy(logits), torch.from_numpy(labels))
loss_keras = keras.losses.SparseCategoricalCrossentropy()(labels, logits)
print(f"torch {loss_torch.item():.4f}   keras {float(loss_keras):.4f}")

# %% tags=["solution"]
answer = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)

# %%
cu.check.matching_loss(answer)

# %% [markdown]
# ## Train: a hand-written loop in both, and Keras `fit`
#
# Three runs per model, all starting from the same weights (ported from torch), seeing the same
# batches in the same order (one NumPy permutation per epoch, shared), with SGD, momentum 0.9,
# `lr = 0.1`, `batch_size = 32`, 2 epochs.

# %%
num_epochs, batch_size, lr, momentum = 2, 32, 0.1, 0.9
rng = np.random.default_rng(0)
orders = [rng.permutation(len(X_train)) for _ in range(num_epochs)]   # the shuffles, shared by all runs
batches = [order[i:i + batch_size] for order in orders for i in range(0, len(order), batch_size)]
images_train_pt, images_test_pt = data.X_train[:, None], data.X_test[:, None]          # NCHW
images_train_tf, images_test_tf = data.X_train[..., None], data.X_test[..., None]      # NHWC
print(f"{len(batches)} steps, the first batch starts with samples {batches[0][:4]}")

# %% [markdown]
# ### PyTorch: the loop
#
# `model.train()` switches layers such as dropout and BatchNorm to their training behaviour (our
# models have none, but the habit matters). Each run prints one line when it ends (a `tqdm(batches)`
# progress bar is the interactive habit; in a saved notebook it stays frozen at 0 %).

# %%
def train_pt(model, X, y):
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    model.train()
    losses = []
    for idx in batches:
        X_b, y_b = torch.from_numpy(X[idx]), torch.from_numpy(y[idx])
        optimizer.zero_grad()
        loss = loss_fn_pt(model(X_b), y_b)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses

# %% [markdown]
# ### TensorFlow: the loop
#
# The same steps. The step is wrapped in `tf.function`, the usual way to write a TensorFlow
# training step: it is traced into a graph once and then reused (lesson 04 looks inside). Keras has no
# mode switch on the model: each call says `training=True` or `training=False`.

# %%
def train_tf(model, X, y):
    optimizer = keras.optimizers.SGD(learning_rate=lr, momentum=momentum)

    @tf.function(reduce_retracing=True)
    def train_step(X_b, y_b):
        with tf.GradientTape() as tape:
            loss = loss_fn_tf(y_b, model(X_b, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    return [float(train_step(X[idx], y[idx])) for idx in batches]

# %% [markdown]
# ### Keras `fit`: the same run in one call per epoch
#
# `fit` gets each epoch's batches already in order (`shuffle=False`). It reports the *mean loss of
# the epoch so far* after each batch, not the batch's own loss; the callback turns it back into
# per-batch losses so the curves are comparable.

# %%
class BatchLosses(keras.callbacks.Callback):
    def __init__(self, n):
        super().__init__()
        self.n, self.losses = n, []

    def on_epoch_begin(self, epoch, logs=None):
        self.seen, self.total = 0, 0.0

    def on_train_batch_end(self, batch, logs=None):
        size = min(batch_size, self.n - self.seen)
        total = logs["loss"] * (self.seen + size)           # running mean × samples seen
        self.losses.append((total - self.total) / size)
        self.seen, self.total = self.seen + size, total


def train_fit(model, X, y):
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr, momentum=momentum), loss=loss_fn_tf)
    record = BatchLosses(len(X))
    for order in orders:
        model.fit(X[order], y[order], batch_size=batch_size, epochs=1, shuffle=False, verbose=0, callbacks=[record])
    return record.losses

# Run all six: three for the MLP, three for the CNN, each trio from one torch initialisation.
runs, models = {}, {}
for kind, make_pt, make_tf, X_pt, X_tf in [("MLP", MLP, make_mlp_tf, X_train, X_train),
                                           ("CNN", CNN, make_cnn_tf, images_train_pt, images_train_tf)]:
    model_pt, model_loop, model_fit = make_pt(), make_tf(), make_tf()
    tf_utils.port_weights(model_pt, model_loop)
    tf_utils.port_weights(model_pt, model_fit)
    runs[kind, "PyTorch loop"] = train_pt(model_pt, X_pt, y_train)
    runs[kind, "TF loop"] = train_tf(model_loop, X_tf, y_train)
    runs[kind, "Keras fit"] = train_fit(model_fit, X_tf, y_train)
    models[kind] = model_pt, model_loop, model_fit
    for run in ("PyTorch loop", "TF loop", "Keras fit"):
        losses = runs[kind, run]
        print(f"{kind} {run:<12} {len(losses)} steps, loss {losses[0]:.2f} → {losses[-1]:.2f}")

# %% [markdown]
# Per batch, the three runs of each model stay together through all 90 steps (the Keras `fit`
# losses carry a little float32 rounding from the running mean they were recovered from):

# %%
for kind in ("MLP", "CNN"):
    cu.compare(f"{kind} pt~loop", runs[kind, "PyTorch loop"], runs[kind, "TF loop"], check_dtype=False)
    cu.compare(f"{kind} loop~fit", runs[kind, "TF loop"], runs[kind, "Keras fit"], check_dtype=False, atol=1e-4)

# %% [markdown]
# All six loss curves in one figure; they overlap so closely that the dashes of one run show
# through the others.

# %%
curves = pd.DataFrame([{"model": kind, "run": run, "step": step, "loss": loss}
                       for (kind, run), losses in runs.items() for step, loss in enumerate(losses)])
grid = sns.relplot(data=curves, x="step", y="loss", hue="run", style="run", col="model",
                   kind="line", height=3, aspect=1.3)
grid.set(yscale="log")
plt.show()

# %% [markdown]
# *Figure:* the training loss (log scale) at each step for the MLP (left) and the CNN (right), one
# line per run (PyTorch loop, TF loop, Keras `fit`); the three lines lie on top of each other, which
# is what the same losses from the same weights and batches look like.
#
# ### PyTorch: evaluate
#
# Accuracy on the held-out 359 images: the share whose largest logit is at the label. The evaluation
# loop in eval mode (`model.eval()`: dropout off, BatchNorm uses its running averages) and without
# recording (`torch.no_grad()`). `pt_utils.evaluate` does the same for later lessons.

# %%
def evaluate_pt(model, X, y, batch_size=128):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(X), batch_size):
            logits = model(torch.from_numpy(X[i:i + batch_size]))
            correct += (logits.argmax(dim=1) == torch.from_numpy(y[i:i + batch_size])).sum().item()
    return correct / len(X)


acc_pt = {kind: evaluate_pt(models[kind][0], X_pt_test, y_test)
          for kind, X_pt_test in [("MLP", X_test), ("CNN", images_test_pt)]}
{kind: round(acc, 4) for kind, acc in acc_pt.items()}

# %% [markdown]
# ### TensorFlow: evaluate
#
# The same loop; `training=False` is Keras' eval mode, and no tape means nothing is recorded.
# (`model.evaluate` after `compile(metrics=["accuracy"])` does it in one call.)

# %%
def evaluate_tf(model, X, y, batch_size=128):
    correct = 0
    for i in range(0, len(X), batch_size):
        logits = model(X[i:i + batch_size], training=False)
        correct += int(tf.reduce_sum(tf.cast(tf.argmax(logits, axis=1) == y[i:i + batch_size], tf.int32)))
    return correct / len(X)


for kind, X_pt_test, X_tf_test in [("MLP", X_test, X_test), ("CNN", images_test_pt, images_test_tf)]:
    model_pt, model_loop, model_fit = models[kind]
    print(f"{kind}: test accuracy  PyTorch loop {acc_pt[kind]:.4f} | TF loop {evaluate_tf(model_loop, X_tf_test, y_test):.4f}"
          f" | Keras fit {evaluate_tf(model_fit, X_tf_test, y_test):.4f}")
    cu.compare(f"{kind} logits", pt_utils.predict(model_pt, X_pt_test), tf_utils.predict(model_loop, X_tf_test), atol=1e-4)

# %% [markdown]
# **Out of the box, without porting.** The same MLP, the same batches, the same optimizer — but each
# framework's own default initialisation (*Default initialisation differs*). The runs no longer agree:

# %%
own_pt, own_tf = MLP(), make_mlp_tf()
losses_pt = train_pt(own_pt, X_train, y_train)
losses_tf = train_tf(own_tf, X_train, y_train)
print(f"first-batch loss: torch {losses_pt[0]:.2f} | keras {losses_tf[0]:.2f}")
print(f"test accuracy: torch {evaluate_pt(own_pt, X_test, y_test):.4f} | keras {evaluate_tf(own_tf, X_test, y_test):.4f}")
cu.compare("loss curves", losses_pt, losses_tf, check_dtype=False, atol=1e-2)

# %% [markdown]
# ## Summary
#
# - **Build:** the MLP (2,410 parameters) and the CNN (810) were written as an `nn.Module` subclass
#   and as a Keras functional model (and the MLP as `Sequential` in both), with identical counts;
#   `print(model)` vs `model.summary()`. Fresh layers start differently: torch's uniform ±1/√fan_in
#   weights and biases, Keras' Glorot-uniform kernels and zero biases.
# - **Port:** dense kernels are transposed; conv kernels go `(out, in, kh, kw)` ↔ `(kh, kw, in, out)`
#   (not `W.T`, which transposes each kernel); images go NCHW ↔ NHWC; the dense layer after a flatten
#   needs its inputs reordered (C, H, W) ↔ (H, W, C), or a `Permute((3, 1, 2))` before Keras' `Flatten`
#   (`Flatten(data_format="channels_first")` does not do it) — without either the port ran without
#   error and gave wrong logits. A strided conv is the other silent one: torch's `padding=1` and
#   Keras' `padding="same"` give the same shapes and different numbers.
# - **Prove:** logits, loss, every gradient and the weights after one SGD step agreed to
#   max |diff| ≤ 1e-5 for both models. Adam did not, with equal arguments: epsilon sits elsewhere
#   (15 % of a step after 5 tiny-gradient steps), and Keras' `weight_decay` is AdamW's.
# - **Train and evaluate:** the PyTorch loop, the TF loop and Keras `fit`, from the same weights on the
#   same batches, gave overlapping curves and the same test accuracy, evaluated in eval mode
#   (`model.eval()` + `no_grad` vs `training=False`). From each framework's own initialisation the
#   runs differ.
# - **Judge:** the maths carried over unchanged; the layouts and the defaults did not (verdict below).
#
# ## PyTorch vs TensorFlow
#
# | concept | PyTorch | TensorFlow / Keras | gotcha |
# |---|---|---|---|
# | model | `nn.Module` subclass, `forward`; `nn.Sequential` | functional `keras.Model(inputs, outputs)`; `keras.Sequential` | Keras knows shapes up front and checks inputs |
# | overview | `print(model)` (modules, no shapes) | `model.summary()` (shapes, counts) | |
# | default init | weight and bias U(±1/√fan_in) | kernel Glorot-uniform, bias zeros | same architecture, different start: port or re-initialise |
# | dense weight | `Linear.weight` (out, in) | `Dense.kernel` (in, out) | transpose when porting |
# | conv weight | `Conv2d.weight` (out, in, kh, kw) | `Conv2D.kernel` (kh, kw, in, out) | `W.T` transposes each kernel: use `transpose(2, 3, 1, 0)` |
# | image layout | NCHW | NHWC (`channels_last`) | feeding the other layout: an error in Keras |
# | strided padding | `Conv2d(stride=2, padding=1)` pads every side | `Conv2D(strides=2, padding="same")` pads bottom/right only | same shapes, other numbers, no error: `ZeroPadding2D(1)` + `padding="valid"` |
# | flatten | (C, H, W) | (H, W, C); `Permute((3, 1, 2))` + `Flatten()` gives torch's | the silent bug: reorder the next dense layer's inputs; `Flatten(data_format="channels_first")` is for channels-first *inputs* |
# | parameter count | `sum(p.numel() for p in m.parameters())` | `model.count_params()` | |
# | loss on logits | `nn.CrossEntropyLoss()(y_hat, y)` | `SparseCategoricalCrossentropy(from_logits=True)(y_true, y_pred)` | argument order; Keras' default is `from_logits=False` |
# | gradients | `loss.backward()` → `p.grad` | `tape.gradient(loss, vars)` | zero the grads in torch |
# | optimizer step | `optimizer.step()` | `optimizer.apply_gradients(zip(g, v))` | Adam: eps 1e-8 vs 1e-7, and placed differently; Keras `weight_decay` = torch `AdamW` |
# | train / eval mode | `model.train()` / `model.eval()` + `torch.no_grad()` | `model(x, training=True/False)` | forgetting `eval()` leaves dropout and BatchNorm in training mode |
# | BatchNorm defaults | `momentum=0.1` (weight of the new batch), `eps=1e-5` | `momentum=0.99` (weight of the old average), `epsilon=1e-3` | set both explicitly, and still the running *variance* differs (torch's update divides by n−1, Keras' by n; no setting changes that, lesson 13): a port copies the four statistics |
# | epoch loss reported | what your loop records | `fit` logs the running mean of the epoch | not the last batch's loss |
#
# ## Claims settled
#
# | claim | verdict | evidence |
# |---|---|---|
# | Switching from one framework to the other is seamless | **partly** | What carried over for free: the architecture, the arithmetic (logits, loss, gradients, SGD steps equal to ≤ 1e-5, §Proven equal) and the training itself once the weights are ported (identical curves and accuracy, §Train). What needed care: every weight layout (§Port the MLP, §Port the CNN), the input layout (the NCHW error, §Build the CNN twice), the flatten order, a silent error (§Port the CNN), and defaults that differ without warning: Keras' `from_logits=False` (Exercise 3.3), the argument order of losses, the initialisation (§Default initialisation differs: out of the box the two runs diverge, §Train), Adam's epsilon placement and `weight_decay` meaning (§Proven equal), BatchNorm's momentum 0.1 vs 0.99 and eps 1e-5 vs 1e-3 (§Default initialisation differs). Porting is mechanical once known, and `port_weights` does it, but nothing tells you when it is wrong: compare outputs every time. |
#
# ## Further reading
#
# - PyTorch: [`nn.Module`](https://pytorch.org/docs/stable/generated/torch.nn.Module.html),
#   [`nn.Conv2d`](https://pytorch.org/docs/stable/generated/torch.nn.Conv2d.html) (weight layout),
#   [`torch.optim.Adam`](https://pytorch.org/docs/stable/generated/torch.optim.Adam.html) and `AdamW`.
# - Keras: [the functional API](https://keras.io/guides/functional_api/),
#   [writing a training loop from scratch](https://keras.io/guides/writing_a_custom_training_loop_in_tensorflow/),
#   [`Conv2D`](https://keras.io/api/layers/convolution_layers/convolution2d/) (`data_format`),
#   [`Adam`](https://keras.io/api/optimizers/adam/) ("epsilon hat").
# - Loshchilov & Hutter, [Decoupled weight decay regularization](https://arxiv.org/abs/1711.05101) (AdamW).
# - The helpers of this lesson: `pt_utils.port_weights`, `tf_utils.port_weights`, `train_epoch`, `evaluate`
#   in `course_utils/` — and `tests/test_porting.py`, which ports random weights of several shapes both ways.

# %% [markdown]
# ## One minute, optional: how was this lesson?
#
# If you like, replace `clarity=None` below with how clear this lesson was (1 = lost, 5 = clear), add one sentence as `comment`, and run the cell. Only those two things are kept, in your own folder (`build/record/` on a laptop, your folder on the hub), next to your checks' verdicts that the instructor's board reads; `cu.progress()` shows your record and `cu.progress(recording=False)` turns recording off.

# %%
cu.feedback("03", clarity=None, comment="")
