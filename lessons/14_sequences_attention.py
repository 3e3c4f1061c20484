# %% [markdown]
# # 14 · Sequence and attention models, ported and proven equal
#
# **Time:** 45 min teaching + 20 min exercises
#
# **Prerequisites:** 03 · The same model in both frameworks (porting, the one-step proof), 04 · Graphs (`tf.function`, `torch.compile`)
#
# **Objectives:**
# - Build an LSTM and a GRU classifier and a small Transformer encoder block in `torch.nn` and in Keras, and port their weights both ways with `porting.py`'s converters.
# - Prove each pair equal on outputs, loss, gradients and one SGD step, and show every silent trap of the port (two LSTM biases, GRU gate order, attention masks and layouts, LayerNorm epsilon, `same` padding and pooling) as a wrong number first.
# - Run variable-length batches in both (`pack_padded_sequence` vs `Masking`), and count what a compiled graph does with a new length.
# - Train both from the same weights with overlaid curves, and run the Keras model on Keras' torch backend as a bridge.
# - Judge "dynamic neural nets like RNNs can benefit from this dynamic approach" from what the lesson ran.

# %% [markdown]
# ## Setup
#
# One import cell, then `cu.setup` (seeds, quiet logs). One thread per framework (`threads=1`, where most
# lessons use 2): a recurrent layer runs many tiny operations, one per step, and two threads only add their
# hand-over; on a busy 2-core machine 45 GRU training steps took 10.8 s on 2 threads and 0.26 s on one (measured
# while writing this lesson). `porting` holds the converters this lesson uses by hand;
# `pt_utils.port_weights` / `tf_utils.port_weights` apply them layer by layer.

# %%
import copy
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
import tensorflow as tf
import keras

import course_utils as cu
from course_utils.lessons import porting
from course_utils import pt_utils, tf_utils
from course_utils.lessons import sequences


cu.setup(seed=0, threads=1)

# %% [markdown]
# The digits again, read as sequences: each 8×8 image is 8 time steps (its rows) of 8 features (the pixels of a row).
# A recurrent layer reads the rows top to bottom and classifies from its last state.

# %%
data = cu.load_digits()
X_train, y_train = data.X_train, data.y_train      # (1438, 8, 8): (samples, steps, features)
X_test, y_test = data.X_test, data.y_test
X_batch, y_batch = X_train[:32], y_train[:32]
print(X_train.shape, X_train.dtype, "| steps = rows, features = pixels of a row | test", X_test.shape)

# %% [markdown]
# ## An LSTM classifier, twice
#
# `LSTM(8 → 16)` → the last hidden state → `Linear(16 → 10)`. Two defaults differ already: torch's recurrent
# layers take `(L, N, I)` unless `batch_first=True`; Keras' return only the last output unless
# `return_sequences=True`.
#
# ### PyTorch

# %%
class RNNClassifier(nn.Module):
    def __init__(self, kind="LSTM", features=8, hidden=16, num_classes=10):
        super().__init__()
        self.rnn = getattr(nn, kind)(features, hidden, batch_first=True)   # (N, L, I), as Keras
        self.fc = nn.Linear(hidden, num_classes)

    def forward(self, x):
        _, state = self.rnn(x)
        h = state[0] if isinstance(state, tuple) else state                # LSTM returns (h, c)
        return self.fc(h[-1])


torch.manual_seed(0)
lstm_pt = RNNClassifier("LSTM")
[(name, tuple(p.shape)) for name, p in lstm_pt.named_parameters()]

# %% [markdown]
# ### TensorFlow

# %%
def make_rnn_tf(kind="LSTM", features=8, hidden=16, num_classes=10, **options):
    inputs = keras.Input(shape=(None, features))                            # None: any number of steps
    x = getattr(keras.layers, kind)(hidden, name="rnn", **options)(inputs)   # the last output only
    return keras.Model(inputs, keras.layers.Dense(num_classes, name="fc")(x))


lstm_tf = make_rnn_tf("LSTM")
[(w.path, tuple(w.shape)) for w in lstm_tf.weights]

# %% [markdown]
# | LSTM, H = 16 units | PyTorch `nn.LSTM` | Keras `LSTM` |
# |---|---|---|
# | input weights | `weight_ih_l0` (4H, I) | `kernel` (I, 4H) |
# | recurrent weights | `weight_hh_l0` (4H, H) | `recurrent_kernel` (H, 4H) |
# | bias | **two**: `bias_ih_l0`, `bias_hh_l0` (4H each) | **one**: `bias` (4H) |
# | gate order | i, f, g, o | i, f, c, o (the same) |
#
# ## Port the LSTM: the two-bias trap
#
# The gates see `x·W_ih + b_ih + h·W_hh + b_hh` in torch, `x·K + h·R + b` in Keras. The naive port copies
# the first bias and forgets the second: no error, every shape fits.
#
# ### PyTorch: read the parameters

# %%
W_ih, W_hh, b_ih, b_hh = [p.detach().numpy() for p in lstm_pt.rnn.parameters()]
logits_pt = lstm_pt(torch.from_numpy(X_batch))
W_ih.shape, W_hh.shape, b_ih.shape, b_hh.shape

# %% [markdown]
# ### TensorFlow: naive, then right

# %%
lstm_tf.get_layer("fc").set_weights([lstm_pt.fc.weight.detach().numpy().T, lstm_pt.fc.bias.detach().numpy()])
lstm_tf.get_layer("rnn").set_weights([W_ih.T, W_hh.T, b_ih])                 # naive: b_hh forgotten
cu.compare("LSTM naive", logits_pt, lstm_tf(X_batch))
lstm_tf.get_layer("rnn").set_weights(porting.lstm_to_keras(W_ih, W_hh, b_ih, b_hh))   # bias = b_ih + b_hh
cu.compare("LSTM right", logits_pt, lstm_tf(X_batch))

# %% [markdown]
# ## Proven equal: loss, gradients, one SGD step
#
# The same cross-entropy on logits in both. The gradient of Keras' one bias equals the gradient of *each*
# torch bias (the gate sees their sum), so the torch gradients go to Keras' layout with the converters,
# except the bias, which is compared with `∂b_ih` alone.

# %%
loss_fn_pt = nn.CrossEntropyLoss()
loss_fn_tf = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def loss_and_grads_pt(model, X, y):
    model.zero_grad()
    loss = loss_fn_pt(model(torch.from_numpy(X)), torch.from_numpy(y))
    loss.backward()
    return loss, {name: p.grad.numpy() for name, p in model.named_parameters() if p.grad is not None}


def loss_and_grads_tf(model, X, y):
    with tf.GradientTape() as tape:
        loss = loss_fn_tf(y, model(X, training=True))
    return loss, tape.gradient(loss, model.trainable_variables)


loss_pt, grads_pt = loss_and_grads_pt(lstm_pt, X_batch, y_batch)
loss_tf, grads_tf = loss_and_grads_tf(lstm_tf, X_batch, y_batch)
cu.compare("loss", loss_pt, loss_tf)
cu.compare("∂kernel", grads_pt["rnn.weight_ih_l0"].T, grads_tf[0])
cu.compare("∂recurrent_kernel", grads_pt["rnn.weight_hh_l0"].T, grads_tf[1])
cu.compare("∂bias vs ∂b_ih", grads_pt["rnn.bias_ih_l0"], grads_tf[2])
cu.compare("∂b_ih vs ∂b_hh", grads_pt["rnn.bias_ih_l0"], grads_pt["rnn.bias_hh_l0"], atol=0.0)

# %% [markdown]
# So far, equal. Now one SGD step (`lr = 0.5`) in each. torch moves *both* of its biases by `lr·g`, so their
# sum, the bias the gates see, moves by `2·lr·g`; Keras' one bias by `lr·g`. The step compares the weights
# after it in Keras' layout (`tf_utils.port_weights` into a fresh copy sums the two biases, as above).

# %%
lr = 0.5


def weights_after_one_step(model_pt, model_tf, X, y):
    """One SGD step in each on the same batch; the torch weights (in Keras' layout) and the Keras weights."""
    loss_and_grads_pt(model_pt, X, y)
    torch.optim.SGD([p for p in model_pt.parameters() if p.requires_grad], lr=lr).step()
    _, grads = loss_and_grads_tf(model_tf, X, y)
    keras.optimizers.SGD(learning_rate=lr).apply_gradients(zip(grads, model_tf.trainable_variables))
    as_keras = keras.models.clone_model(model_tf)
    tf_utils.port_weights(model_pt, as_keras)
    return as_keras.get_weights(), model_tf.get_weights()


def lstm_pair(freeze_b_hh):
    """The LSTM classifier ported from Keras into torch (so b_hh = 0), b_hh frozen or not."""
    model_tf = make_rnn_tf("LSTM")
    model_tf.set_weights(lstm_tf.get_weights())
    model_pt = RNNClassifier("LSTM")
    pt_utils.port_weights(model_tf, model_pt)
    model_pt.rnn.bias_hh_l0.requires_grad_(not freeze_b_hh)
    return model_pt, model_tf


for freeze in (False, True):
    after_pt, after_tf = weights_after_one_step(*lstm_pair(freeze), X_batch, y_batch)
    cu.compare(f"bias after step, b_hh {'frozen' if freeze else 'trained'}", after_pt[2], after_tf[2])

# %% [markdown]
# The forward pass was equal, the step was not: the bias moved twice as far in torch. Frozen at zero, `b_hh`
# stays out of the way and the two steps agree (every weight):

# %%
for name, a, b in zip(["kernel", "recurrent_kernel", "bias", "fc kernel", "fc bias"], after_pt, after_tf):
    cu.compare(name, a, b)

# %% [markdown]
# ### Exercise 14.1 ★★☆ (~5 min)
#
# `model_pt` below was ported from a Keras LSTM classifier (so `bias_hh_l0` is zero). Take **one** SGD step
# with `lr = 0.5` and the mean cross-entropy on `X_ex, y_ex`, so that it matches the step Keras takes on
# its one bias, and hand in the model after the step as `answer`.

# %%
model_pt = cu.check.lesson14.exercise_lstm()           # a fresh copy each time you run this cell
X_ex, y_ex = cu.check.lesson14.LSTM_X, cu.check.lesson14.LSTM_Y

# %% tags=["solution"]
model_pt.rnn.bias_hh_l0.requires_grad_(False)
optimizer = torch.optim.SGD([p for p in model_pt.parameters() if p.requires_grad], lr=0.5)
nn.CrossEntropyLoss()(model_pt(torch.from_numpy(X_ex)), torch.from_numpy(y_ex)).backward()
optimizer.step()
answer = model_pt

# %%
cu.check.lstm_one_step(answer)

# %% [markdown]
# ## A GRU: the gate-order trap
#
# torch stores the GRU's gates as r, z, n; Keras as z, r, h. Keras' default `reset_after=True` keeps two
# biases, stacked `(2, 3H)`: input and recurrent, as torch's. This time the port goes **Keras → torch**.
#
# ### TensorFlow: the source

# %%
keras.utils.set_random_seed(1)
gru_tf = make_rnn_tf("GRU")
kernel, recurrent_kernel, gru_bias = gru_tf.get_layer("rnn").get_weights()
print("kernel", kernel.shape, "| recurrent_kernel", recurrent_kernel.shape, "| bias", gru_bias.shape)
logits_tf = gru_tf(X_batch)

# %% [markdown]
# ### PyTorch: naive (transpose only), then the converter

# %%
gru_pt = RNNClassifier("GRU")
pt_utils.port_weights(gru_tf, gru_pt)                               # fc and everything else right
with torch.no_grad():                                               # then overwrite the GRU naively
    for p, a in zip(gru_pt.rnn.parameters(), [kernel.T, recurrent_kernel.T, gru_bias[0], gru_bias[1]]):
        p.copy_(torch.from_numpy(np.ascontiguousarray(a)))
cu.compare("GRU transposed only", gru_pt(torch.from_numpy(X_batch)), logits_tf)
for line in pt_utils.port_weights(gru_tf, gru_pt):
    print(line)
cu.compare("GRU gates reordered", gru_pt(torch.from_numpy(X_batch)), logits_tf)

# %% [markdown]
# Keras' older `reset_after=False` (TensorFlow 1's default, one bias, the reset gate applied *before* the
# recurrent matmul) computes something `nn.GRU` cannot express. The closest torch port still differs, and
# `port_weights` refuses the pair rather than port it silently:

# %%
legacy_tf = make_rnn_tf("GRU", reset_after=False)
legacy_tf.get_layer("fc").set_weights(gru_tf.get_layer("fc").get_weights())
legacy_tf.get_layer("rnn").set_weights([kernel, recurrent_kernel, gru_bias.sum(axis=0)])   # one bias: the sum
cu.compare("reset_after=False", gru_pt(torch.from_numpy(X_batch)), legacy_tf(X_batch))
try:
    pt_utils.port_weights(legacy_tf, RNNClassifier("GRU"))
except cu.CourseError as error:
    print(error)

# %% [markdown]
# The GRU's loss, gradients and one step, proven as for the LSTM (no frozen bias this time: both frameworks
# have two). The torch gradients go to Keras' layout with the same converter as the weights: a gradient has
# its weight's layout.

# %%
def grads_in_keras_layout(model_pt, model_tf):
    """Each torch gradient moved to Keras' layout: the gradients written into a copy, ported like weights."""
    holder = copy.deepcopy(model_pt)
    with torch.no_grad():
        for h, p in zip(holder.parameters(), model_pt.parameters()):
            h.copy_(p.grad)
    as_keras = keras.models.clone_model(model_tf)
    tf_utils.port_weights(holder, as_keras)
    return as_keras.get_weights()


loss_pt, _ = loss_and_grads_pt(gru_pt, X_batch, y_batch)
loss_tf, grads_tf = loss_and_grads_tf(gru_tf, X_batch, y_batch)
cu.compare("GRU loss", loss_pt, loss_tf)
for w, g_pt, g_tf in zip(gru_tf.weights, grads_in_keras_layout(gru_pt, gru_tf), grads_tf):
    cu.compare(f"∂{w.path}", g_pt, g_tf)

# %%
gru_pt_step, gru_tf_step = RNNClassifier("GRU"), make_rnn_tf("GRU")
gru_tf_step.set_weights(gru_tf.get_weights())
pt_utils.port_weights(gru_tf_step, gru_pt_step)
for w, a, b in zip(gru_tf.weights, *weights_after_one_step(gru_pt_step, gru_tf_step, X_batch, y_batch)):
    cu.compare(f"{w.path} after step", a, b)

# %% [markdown]
# ### Exercise 14.2 ★★☆ (~5 min)
#
# Port this torch `nn.GRU(3, 2)` to Keras by hand: give the weights of the equivalent Keras
# `GRU(2)` (default `reset_after=True`) as `answer = [kernel, recurrent_kernel, bias]` (NumPy, torch or TF;
# a built Keras GRU layer holding them is fine too). Mind the gate order.

# %%
w_ih, w_hh, b_ih_ex, b_hh_ex = cu.check.lesson14.GRU_PARAMS       # torch layout, gates r, z, n
w_ih.shape, w_hh.shape, b_ih_ex.shape, b_hh_ex.shape

# %% tags=["solution"]
def to_keras_gates(rows):
    r, z, n = np.split(rows, 3)
    return np.concatenate([z, r, n])


answer = [to_keras_gates(w_ih).T, to_keras_gates(w_hh).T, np.stack([to_keras_gates(b_ih_ex), to_keras_gates(b_hh_ex)])]

# %%
cu.check.gru_port(answer)

# %% [markdown]
# ## Variable-length batches
#
# Real sequences differ in length. Cut each digit to 4-8 rows and pad with zero rows at the end to the
# longest. The classifier should read only the real rows: torch packs the batch
# (`pack_padded_sequence`, with the lengths), Keras masks the padded steps (`Masking(mask_value=0.0)`: no
# real row of these digits is all zeros, so zero rows mark the padding). Forgetting either raises nothing.

# %%
rng = np.random.default_rng(0)
lengths = rng.integers(4, 9, size=len(X_batch))                        # 4..8 real rows each
X_padded = X_batch.copy()
for i, n in enumerate(lengths):
    X_padded[i, n:] = 0.0
print("lengths", lengths[:10], "| all-zero rows in the data:", int((np.abs(X_train).max(axis=2) == 0).sum()))

# %% [markdown]
# ### PyTorch: pack, then run the GRU

# %%
def gru_last_state_pt(model, X, lengths=None):
    x = torch.from_numpy(X)
    if lengths is not None:
        x = nn.utils.rnn.pack_padded_sequence(x, torch.from_numpy(lengths), batch_first=True, enforce_sorted=False)
    _, h = model.rnn(x)
    return model.fc(h[-1])


logits_pad_pt = gru_last_state_pt(gru_pt, X_padded, lengths)
logits_pad_pt.shape

# %% [markdown]
# ### TensorFlow: a `Masking` layer in front of the same GRU

# %%
def make_masked_gru_tf(source):
    inputs = keras.Input(shape=(None, 8))                   # None: any number of steps
    x = keras.layers.Masking(mask_value=0.0)(inputs)
    x = keras.layers.GRU(16, name="rnn")(x)
    model = keras.Model(inputs, keras.layers.Dense(10, name="fc")(x))
    model.set_weights(source.get_weights())
    return model


masked_gru_tf = make_masked_gru_tf(gru_tf)
cu.compare("torch not packed", gru_last_state_pt(gru_pt, X_padded), masked_gru_tf(X_padded))
cu.compare("Keras not masked", logits_pad_pt, gru_tf(X_padded))
cu.compare("packed vs masked", logits_pad_pt, masked_gru_tf(X_padded))
short = int(np.argmin(lengths))                                     # a sequence of 4 real rows
cu.compare(f"packed vs cut to {lengths[short]} rows", logits_pad_pt[short:short + 1], gru_tf(X_padded[short:short + 1, :lengths[short]]))

# %% [markdown]
# Unpacked (torch) or unmasked (Keras), the GRU ran over the zero rows too and its last state moved on. Packed
# and masked, both read each sequence to its own end: the packed torch GRU on a padded sequence gives what the
# Keras GRU gives on the same sequence cut to its real rows.
#
# ## Eager vs a compiled graph, with lengths that change
#
# A seed article says *"dynamic neural nets like RNNs can benefit from this dynamic approach"* (define-by-run).
# The question for a graph is what a new length costs. Count it: batches of 6, 7 and 8 steps, then 6 and 8
# again, through (a) the fused `nn.GRU` and (b) a GRU written as a Python loop over `GRUCell`, each under
# `torch.compile(dynamic=True)`; and (c) the Keras GRU and (d) a loop over `tf.range` steps, each under
# `tf.function` with a `None` time dimension. The counting backend only records the graphs `torch.compile`
# captures (`dynamo`), then runs them as captured: capturing is what a new length triggers; Inductor's
# code generation comes after it (tens of seconds here for the loop, measured while writing this lesson).
#
# ### PyTorch: `torch.compile(dynamic=True)`

# %%
class LoopGRU(nn.Module):
    """A GRU as a Python loop over time steps: the define-by-run style."""

    def __init__(self, source):
        super().__init__()
        self.cell, self.fc = nn.GRUCell(8, 16), source.fc
        self.cell.load_state_dict({k.removesuffix("_l0"): v for k, v in source.rnn.state_dict().items()})

    def forward(self, x):
        h = x.new_zeros(x.shape[0], 16)
        for t in range(x.shape[1]):
            h = self.cell(x[:, t], h)
        return self.fc(h)


def counting_backend(counter):
    def backend(graph_module, example_inputs):
        counter.append(len(example_inputs))
        return graph_module.forward                        # run the captured graph as it is
    return backend


length_runs = [6, 7, 8, 6, 8]
batches_by_length = {n: X_batch[:, :n] for n in set(length_runs)}
loop_pt = LoopGRU(gru_pt)
graphs, same = {}, []
with torch.no_grad():
    for name, model in [("nn.GRU", gru_pt), ("Python loop", loop_pt)]:
        torch._dynamo.reset()
        graphs[name] = []
        compiled = torch.compile(model, dynamic=True, backend=counting_backend(graphs[name]))
        for n in length_runs:
            x = torch.from_numpy(batches_by_length[n])
            same.append(cu.compare(f"{name}, {n} steps", compiled(x), model(x), quiet=True).allclose)
print("compiled equals eager at every length (<= 1e-05):", all(same), "| dynamo allow_rnn:", torch._dynamo.config.allow_rnn)
print({name: f"{len(g)} graphs for {len(set(length_runs))} lengths" for name, g in graphs.items()})

# %% [markdown]
# ### TensorFlow: `tf.function` with a `None` time dimension

# %%
signature = [tf.TensorSpec([None, None, 8], tf.float32)]
gru_cell_tf = gru_tf.get_layer("rnn").cell


@tf.function(input_signature=signature)
def gru_graph(x):
    return gru_tf(x, training=False)


@tf.function(input_signature=signature)
def loop_graph(x):
    h = tf.zeros([tf.shape(x)[0], 16])
    for t in tf.range(tf.shape(x)[1]):                      # AutoGraph: a tf.while_loop, any length
        h, _ = gru_cell_tf(x[:, t], [h])
    return gru_tf.get_layer("fc")(h)


same = [cu.compare(f"graph, {n} steps", graph(batches_by_length[n]), gru_tf(batches_by_length[n]), quiet=True).allclose
        for n in length_runs for graph in (gru_graph, loop_graph)]
print("graph equals eager at every length (<= 1e-05):", all(same))
print({"Keras GRU": f"{gru_graph.experimental_get_tracing_count()} trace",
       "tf.range loop": f"{loop_graph.experimental_get_tracing_count()} trace"})

# %% [markdown]
# | | new length, eager | new length, compiled |
# |---|---|---|
# | torch `nn.GRU` | runs | `torch.compile` captures **no** graph: dynamo declines RNN modules on purpose (`torch._dynamo.config.allow_rnn` is False) and here leaves the whole `forward` to eager, the fused `nn.GRU` kernel included |
# | torch Python loop | runs | a new graph per length (the loop is unrolled: `range(x.shape[1])` fixes the length) |
# | Keras GRU / `tf.range` loop | runs | **one** trace for every length (`None` time dimension, a `while_loop` inside) |
#
# And the time per batch, eager vs graph (same threads, same batches, first calls and compiling apart). These
# numbers depend on the machine: the cell's output is not compared, and it asserts only that the graphs
# computed what eager did.

# %% tags=["nbval-ignore-output"]
# Timings vary with the machine and its load: this output is not compared (nbval-ignore-output).
def per_batch_ms(fn, repeats=5):
    fn(batches_by_length[8])                                   # warm: traced or compiled already
    start = time.perf_counter()
    for _ in range(repeats):
        for n in (6, 7, 8):
            fn(batches_by_length[n])
    return (time.perf_counter() - start) / (3 * repeats) * 1e3


with torch.no_grad():
    timings = {"torch nn.GRU, eager": per_batch_ms(lambda x: gru_pt(torch.from_numpy(x))),
               "torch Python loop, eager": per_batch_ms(lambda x: loop_pt(torch.from_numpy(x)))}
timings |= {"Keras GRU, eager": per_batch_ms(lambda x: gru_tf(x, training=False)),
            "Keras GRU, tf.function": per_batch_ms(gru_graph),
            "tf.range loop, tf.function": per_batch_ms(loop_graph)}
for name, ms in timings.items():
    print(f"{name:28} {ms:6.2f} ms per batch of 32")
assert gru_graph.experimental_get_tracing_count() == 1 and loop_graph.experimental_get_tracing_count() == 1  # no retrace
assert all(ms > 0 for ms in timings.values())

# %% [markdown]
# ## Self-attention: layouts and the mask trap
#
# `nn.MultiheadAttention(E, heads)` and Keras' `MultiHeadAttention(heads, key_dim=E // heads)` hold the same
# maths in other shapes (the table in `porting.py`): torch stacks q, k, v in one `in_proj_weight (3E, E)`;
# Keras keeps one kernel per projection, `(E, heads, head_dim)`, and `key_dim` is **per head**. Calls differ
# too: torch `forward(query, key, value)`, `batch_first=False` by default, and it returns the attention weights
# averaged over heads; Keras `call(query, value, key=None)`.
#
# ### PyTorch

# %%
E, heads = 16, 2
torch.manual_seed(2)
mha_pt = nn.MultiheadAttention(E, heads, batch_first=True)
x_att = np.random.default_rng(2).normal(size=(4, 8, E)).astype(np.float32)     # (N, L, E)
attended_pt, weights_pt = mha_pt(torch.from_numpy(x_att), torch.from_numpy(x_att), torch.from_numpy(x_att))
print("in_proj_weight", tuple(mha_pt.in_proj_weight.shape), "| attention weights", tuple(weights_pt.shape),
      "(averaged over heads)")

# %% [markdown]
# ### TensorFlow

# %%
mha_tf = keras.layers.MultiHeadAttention(heads, key_dim=E // heads)
mha_tf(x_att, x_att)                                                           # build
mha_tf.set_weights(porting.mha_to_keras(*[p.detach().numpy() for p in (
    mha_pt.in_proj_weight, mha_pt.in_proj_bias, mha_pt.out_proj.weight, mha_pt.out_proj.bias)], num_heads=heads))
print([tuple(w.shape) for w in mha_tf.weights[:2]], "...", [tuple(w.shape) for w in mha_tf.weights[-2:]])
cu.compare("attention", attended_pt, mha_tf(x_att, x_att))

# %% [markdown]
# Now a causal mask (each position attends to itself and the past). A boolean mask means the **opposite** in
# the two: in `nn.MultiheadAttention` (and `nn.Transformer*`) `True` = *blocked*; in Keras' `attention_mask`
# (and in `F.scaled_dot_product_attention`) `True` = *may attend*. The same mask passed to both:

# %%
L = x_att.shape[1]
blocked = np.triu(np.ones((L, L), bool), k=1)                 # torch's causal mask: True above the diagonal
causal_pt, _ = mha_pt(*[torch.from_numpy(x_att)] * 3, attn_mask=torch.from_numpy(blocked))
cu.compare("mask passed as is", causal_pt, mha_tf(x_att, x_att, attention_mask=blocked[None]))
cu.compare("mask inverted", causal_pt, mha_tf(x_att, x_att, attention_mask=~blocked[None]))
cu.compare("use_causal_mask", causal_pt, mha_tf(x_att, x_att, use_causal_mask=True))

# %% [markdown]
# ### Exercise 14.3 ★★☆ (~5 min)
#
# A torch model calls `mha(x, x, x, key_padding_mask=pad)` on 3 sequences padded to 8 steps, with the
# lengths below; `pad` is True at the padded positions. Give the `attention_mask` for Keras'
# `mha(x, x, attention_mask=answer)` that makes the Keras layer compute the same thing (NumPy, torch or TF).

# %%
ex_lengths = cu.check.lesson14.MASK_LENGTHS                     # 3 sequences, padded to 8 steps
pad = np.arange(8)[None, :] >= np.array(ex_lengths)[:, None]   # torch: True = ignore this key
pad.astype(int)

# %% tags=["solution"]
answer = np.broadcast_to(~pad[:, None, :], (3, 8, 8))         # (batch, query, key): True = attend

# %%
cu.check.attention_mask(answer)

# %% [markdown]
# ## A Transformer encoder block
#
# `nn.TransformerEncoderLayer` is attention → add → LayerNorm → feed-forward → add → LayerNorm, with defaults
# a port must match: `dim_feedforward=2048`, `dropout=0.1`, ReLU, post-norm, `eps=1e-5`, `batch_first=False`.
# Keras has no such layer (KerasHub has one); the Keras side is a functional block with those settings.
#
# ### PyTorch

# %%
default_layer = nn.TransformerEncoderLayer(E, heads)
print("dim_feedforward", default_layer.linear1.out_features, "| dropout", default_layer.dropout.p,
      "| activation", default_layer.activation.__name__, "| norm_first", default_layer.norm_first,
      "| eps", default_layer.norm1.eps, "| batch_first", default_layer.self_attn.batch_first)
torch.manual_seed(3)
encoder_pt = nn.TransformerEncoderLayer(E, heads, dim_feedforward=32, dropout=0.0, batch_first=True).eval()

# %% [markdown]
# ### TensorFlow: the same block, functional

# %%
def make_encoder_tf(epsilon=1e-5, ff=32):
    inputs = keras.Input(shape=(None, E))
    a = keras.layers.MultiHeadAttention(heads, key_dim=E // heads, name="attn")(inputs, inputs)
    x = keras.layers.LayerNormalization(epsilon=epsilon, name="norm1")(inputs + a)
    f = keras.layers.Dense(E, name="linear2")(keras.layers.Dense(ff, activation="relu", name="linear1")(x))
    return keras.Model(inputs, keras.layers.LayerNormalization(epsilon=epsilon, name="norm2")(x + f))


def port_encoder(src, dst):
    """torch TransformerEncoderLayer → the Keras block, by layer name, with porting.py's converters."""
    attn = src.self_attn
    dst.get_layer("attn").set_weights(porting.mha_to_keras(*[p.detach().numpy() for p in (
        attn.in_proj_weight, attn.in_proj_bias, attn.out_proj.weight, attn.out_proj.bias)], num_heads=heads))
    for name in ("linear1", "linear2", "norm1", "norm2"):
        w, b = [p.detach().numpy() for p in getattr(src, name).parameters()]
        dst.get_layer(name).set_weights([w.T if w.ndim == 2 else w, b])
    return dst


encoder_tf = port_encoder(encoder_pt, make_encoder_tf())
with torch.no_grad():
    encoded_pt = encoder_pt(torch.from_numpy(x_att))
cu.compare("encoder block", encoded_pt, encoder_tf(x_att))

# %% [markdown]
# Two traps in this block. **LayerNorm epsilon**: torch's default is 1e-5, Keras' 1e-3. On activations of
# ordinary size the gap hides in the noise; on small ones (std 0.01, as after a small residual branch) it does
# not. **Padding in eval**: with a `src_key_padding_mask`, the inference fast path of `nn.TransformerEncoder`
# (the stack of layers; a nested tensor inside) returns exact zeros at the padded positions, where the Keras
# block (masked keys) returns real numbers: compare only the unpadded positions.

# %%
small = x_att * 0.01
ln_pt = nn.LayerNorm(E)
cu.compare("LayerNorm, Keras default eps", ln_pt(torch.from_numpy(small)), keras.layers.LayerNormalization()(small))
cu.compare("LayerNorm, epsilon=1e-5", ln_pt(torch.from_numpy(small)), keras.layers.LayerNormalization(epsilon=1e-5)(small))
pad_steps = np.arange(L)[None, :] >= np.array([8, 6, 5, 3])[:, None]            # True = padding (torch)
stack_pt = nn.TransformerEncoder(encoder_pt, num_layers=1).eval()        # one copy of encoder_pt
with torch.no_grad(), warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="The PyTorch API of nested tensors")   # a prototype notice
    fast_pt = stack_pt(torch.from_numpy(x_att), src_key_padding_mask=torch.from_numpy(pad_steps))
print("padded positions that are exact zeros in torch:", int((fast_pt[torch.from_numpy(pad_steps)] == 0).all(dim=-1).sum()),
      "of", int(pad_steps.sum()))


def make_masked_encoder_tf():
    inputs, keep = keras.Input(shape=(None, E)), keras.Input(shape=(None, None), dtype="bool")
    a = keras.layers.MultiHeadAttention(heads, key_dim=E // heads, name="attn")(inputs, inputs, attention_mask=keep)
    x = keras.layers.LayerNormalization(epsilon=1e-5, name="norm1")(inputs + a)
    f = keras.layers.Dense(E, name="linear2")(keras.layers.Dense(32, activation="relu", name="linear1")(x))
    return keras.Model([inputs, keep], keras.layers.LayerNormalization(epsilon=1e-5, name="norm2")(x + f))


masked_tf = port_encoder(encoder_pt, make_masked_encoder_tf())
out_tf = np.asarray(masked_tf([x_att, np.broadcast_to(~pad_steps[:, None, :], (4, L, L))]))
cu.compare("unpadded positions", fast_pt.numpy()[~pad_steps], out_tf[~pad_steps])

# %% [markdown]
# The block's loss, gradients and one SGD step, with a mean over time and a `Linear(16 → 10)` head on both
# sides (ported with `port_weights` this time: `MultiheadAttention` ↔ `MultiHeadAttention`, `Linear` ↔ `Dense`,
# `LayerNorm` ↔ `LayerNormalization`, in the same order on both sides):

# %%
class AttentionClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(8, E)
        self.attn = nn.MultiheadAttention(E, heads, batch_first=True)
        self.norm = nn.LayerNorm(E)
        self.fc = nn.Linear(E, 10)

    def forward(self, x):
        x = self.embed(x)
        a, _ = self.attn(x, x, x, need_weights=False)
        return self.fc(self.norm(x + a).mean(dim=1))


def make_attention_tf():
    inputs = keras.Input(shape=(8, 8))
    x = keras.layers.Dense(E, name="embed")(inputs)
    a = keras.layers.MultiHeadAttention(heads, key_dim=E // heads, name="attn")(x, x)
    x = keras.layers.LayerNormalization(epsilon=1e-5, name="norm")(x + a)
    return keras.Model(inputs, keras.layers.Dense(10, name="fc")(keras.ops.mean(x, axis=1)))


torch.manual_seed(4)
att_pt, att_tf = AttentionClassifier(), make_attention_tf()
for line in tf_utils.port_weights(att_pt, att_tf):
    print(line)
loss_pt, _ = loss_and_grads_pt(att_pt, X_batch, y_batch)
loss_tf, grads_tf = loss_and_grads_tf(att_tf, X_batch, y_batch)
cu.compare("attention loss", loss_pt, loss_tf)
grads_ok = [cu.compare(w.path, g_pt, g_tf, quiet=True).allclose
            for w, g_pt, g_tf in zip(att_tf.weights, grads_in_keras_layout(att_pt, att_tf), grads_tf)]
steps_ok = [cu.compare("step", a, b, quiet=True).allclose for a, b in
            zip(*weights_after_one_step(att_pt, att_tf, X_batch, y_batch))]
print(f"gradients equal (<= 1e-05): {sum(grads_ok)} of {len(grads_ok)} | weights after one step: {sum(steps_ok)} of {len(steps_ok)}")

# %% [markdown]
# ## Two more defaults from the same table: `same` padding and average pooling
#
# Not sequence layers, but the same kind of silent gap, measured in the same probe. At stride 2, TensorFlow's
# `padding="same"` pads the extra row and column at the bottom and right only; torch refuses
# `padding="same"` with a stride, and the usual substitute `padding=1` pads all sides.

# %%
images = X_batch[:, None]                                            # NCHW (32, 1, 8, 8)
torch.manual_seed(5)
conv_pt = nn.Conv2d(1, 4, 3, stride=2, padding=1)
conv_tf = keras.layers.Conv2D(4, 3, strides=2, padding="same")
conv_tf.build((None, 8, 8, 1))
conv_tf.set_weights([conv_pt.weight.detach().numpy().transpose(2, 3, 1, 0), conv_pt.bias.detach().numpy()])
same_tf = conv_tf(images.transpose(0, 2, 3, 1))
cu.compare("padding=1", conv_pt(torch.from_numpy(images)).permute(0, 2, 3, 1), same_tf)
explicit = F.conv2d(F.pad(torch.from_numpy(images), (0, 1, 0, 1)), conv_pt.weight, conv_pt.bias, stride=2)
cu.compare("F.pad bottom/right", explicit.permute(0, 2, 3, 1), same_tf)

# %% [markdown]
# Average pooling with `same` padding: TensorFlow divides by the number of *real* pixels under the window,
# torch by the window size unless `count_include_pad=False`.

# %%
pool_tf = keras.layers.AveragePooling2D(3, strides=1, padding="same")(images.transpose(0, 2, 3, 1))
for include in (True, False):
    pool_pt = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=include)(torch.from_numpy(images))
    cu.compare(f"count_include_pad={include}", pool_pt.permute(0, 2, 3, 1), pool_tf, atol=0.0 if not include else 1e-5)

# %% [markdown]
# ## Train both from the same weights
#
# The GRU classifier, 2 epochs of SGD (`lr = 1.0`, batches of 32, the same shuffles), from the weights ported
# above: a hand-written loop in each, the batch losses recorded.

# %%
num_epochs, batch_size, train_lr = 2, 32, 1.0
orders = [np.random.default_rng(epoch).permutation(len(X_train)) for epoch in range(num_epochs)]
batches = [order[i:i + batch_size] for order in orders for i in range(0, len(order), batch_size)]
train_pt, train_tf = RNNClassifier("GRU"), make_rnn_tf("GRU")
train_tf.set_weights(gru_tf.get_weights())
pt_utils.port_weights(train_tf, train_pt)
len(batches)

# %% [markdown]
# ### PyTorch

# %%
def train_loop_pt(model):
    optimizer = torch.optim.SGD(model.parameters(), lr=train_lr)
    losses = []
    for idx in batches:
        optimizer.zero_grad()
        loss = loss_fn_pt(model(torch.from_numpy(X_train[idx])), torch.from_numpy(y_train[idx]))
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


losses_pt = train_loop_pt(train_pt)
f"first {losses_pt[0]:.3f}, last {losses_pt[-1]:.3f}"

# %% [markdown]
# ### TensorFlow

# %%
def train_loop_tf(model):
    optimizer = keras.optimizers.SGD(learning_rate=train_lr)

    @tf.function(input_signature=[tf.TensorSpec([None, 8, 8]), tf.TensorSpec([None], tf.int64)])
    def train_step(X_b, y_b):
        with tf.GradientTape() as tape:
            loss = loss_fn_tf(y_b, model(X_b, training=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    return [float(train_step(X_train[idx], y_train[idx])) for idx in batches]


losses_tf = train_loop_tf(train_tf)
f"first {losses_tf[0]:.3f}, last {losses_tf[-1]:.3f}"

# %%
cu.compare("loss curves", losses_pt, losses_tf, check_dtype=False, atol=1e-4)
acc_pt, acc_tf = pt_utils.evaluate(train_pt, X_test, y_test), tf_utils.evaluate(train_tf, X_test, y_test)
print(f"test accuracy: torch {acc_pt:.4f} | keras {acc_tf:.4f} | equal: {acc_pt == acc_tf}")
fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(losses_pt, label="PyTorch loop", lw=3, alpha=0.5)
ax.plot(losses_tf, label="TensorFlow loop", ls="--")
ax.set(xlabel="training step (batch of 32)", ylabel="cross-entropy loss", title="GRU classifier, same start, same batches")
ax.legend()
plt.show()

# %% [markdown]
# *Figure:* the batch losses of the GRU classifier over 90 SGD steps in PyTorch (thick line) and TensorFlow
# (dashes), from the same ported weights on the same batches; the two curves lie on top of each other.
#
# ## The bridge: the Keras model on Keras' torch backend
#
# Keras 3 runs the same Keras code on torch. A Keras process picks its backend once, so this runs in a
# subprocess with `KERAS_BACKEND=torch` and `KERAS_TORCH_DEVICE=cpu` (`course_utils/lessons/sequences.py`):
# it builds the Keras GRU classifier, ports `gru_pt`'s weights with `porting.gru_to_keras`, predicts, and takes
# one step with `torch.optim.SGD` on the Keras model, which there *is* an `nn.Module`.

# %%
bridge = sequences.run_gru_on_torch_backend(gru_pt, X_batch, y_batch, lr=lr)
print({k: v for k, v in bridge["facts"].items()})
cu.compare("logits, torch.nn vs Keras-on-torch", gru_pt(torch.from_numpy(X_batch)), bridge["logits"])
bridge_pt, bridge_tf = RNNClassifier("GRU"), make_rnn_tf("GRU")
bridge_tf.set_weights(gru_tf.get_weights())
pt_utils.port_weights(bridge_tf, bridge_pt)
stepped_pt, _ = weights_after_one_step(bridge_pt, bridge_tf, X_batch, y_batch)
print(f"loss before the step: {bridge['loss']:.4f}")
for w, a, b in zip(gru_tf.weights, stepped_pt, bridge["weights"]):
    cu.compare(f"{w.path} after step", a, b)

# %% [markdown]
# ## Summary
#
# - **Build:** an LSTM and a GRU classifier over the digits' rows and a Transformer encoder block were built in
#   `torch.nn` and Keras (`batch_first=True` vs Keras' `(N, L, I)`; Keras' last-output default).
# - **Port and prove:** each was ported (LSTM torch → Keras, GRU Keras → torch, attention torch → Keras and, in
#   `tests/test_porting_sequences.py`, every direction) and proven equal on logits, loss, gradients and one SGD
#   step within 1e-5. The naive ports ran without error and gave other numbers: one LSTM bias, both LSTM biases
#   trained, GRU gates in torch's order, a boolean mask passed as is, LayerNorm's Keras epsilon, `padding=1` for
#   `same`, average pooling over padding. `reset_after=False` cannot be ported at all.
# - **Variable length:** `pack_padded_sequence` and `Masking` read each sequence to its own end and agree;
#   without them the padded steps change the result.
# - **Graphs:** eager ran every length; `tf.function` with a `None` time dimension traced once for 3 lengths;
#   `torch.compile(dynamic=True)` captured no graph of `nn.GRU` and one graph per length of a Python loop.
# - **Train and bridge:** both trained to overlapping curves from the same weights; Keras on the torch backend
#   computed what `torch.nn` computed, step included.
#
# ## PyTorch vs TensorFlow
#
# | concept | PyTorch | TensorFlow / Keras | gotcha |
# |---|---|---|---|
# | input layout | `batch_first=False`: `(L, N, I)` | `(N, L, I)` | set `batch_first=True` |
# | LSTM bias | `bias_ih` + `bias_hh` | one `bias` | port the sum; train with `bias_hh` frozen at 0 |
# | GRU gates | r, z, n | z, r, h; `reset_after=True` default | reorder; `reset_after=False` has no torch twin |
# | attention weights | `in_proj_weight (3E, E)`, `embed_dim` = total | kernels `(E, heads, head_dim)`, `key_dim` per head | `mha_to_keras` splits and reshapes |
# | attention call | `forward(q, k, v)`, returns averaged weights | `call(query, value, key=None)` | argument order |
# | boolean mask | True = blocked (`nn.MultiheadAttention`) | True = attend (`attention_mask`) | invert it, or `use_causal_mask=True` |
# | LayerNorm eps | 1e-5 | 1e-3 | set `epsilon=1e-5` |
# | variable length | `pack_padded_sequence(x, lengths)` | `Masking` / `mask_zero=True` / a `mask` argument | zero padding without them changes the result |
# | graph with new lengths | `torch.compile`: skips `nn.GRU`; a Python loop compiles per length | `tf.function` + `None` dim: one trace | count traces before timing |
# | `same` padding, stride 2 | refused; `padding=1` pads all sides | pads bottom/right | `F.pad(x, (0, 1, 0, 1))` |
# | average pooling | counts padding | excludes padding | `count_include_pad=False` |
#
# ## Claims settled
#
# | claim | verdict | evidence | sections |
# |---|---|---|---|
# | "Dynamic neural nets like RNNs can benefit from this dynamic approach" (this lesson's own) | **true, narrowly** | Eager ran every length with nothing to trace or compile. A graph handled them too when written for it: one `tf.function` trace for 3 lengths, with a `None` time dimension and a `while_loop`; `torch.compile(dynamic=True)` captured 3 graphs for 3 lengths of a Python-loop RNN (the define-by-run loop is unrolled, so each new length costs a new graph) and none of `nn.GRU`. The benefit is the loop written in plain Python and any length run at once, in eager TensorFlow as in eager PyTorch; compiled, the graph-style `while_loop` handled new lengths better. Speed depends on the machine (the timing cell). | 14 §Eager vs a compiled graph, with lengths that change |
# | Dynamic graphs make variable-size and recursive models simpler | **true, but not a PyTorch-only point** | Variable-length batches took the same care in both: packed (torch) and masked (Keras) GRUs agreed on sequences of 4-8 steps, a padded sequence gave what the cut one gave, and forgetting either gave wrong numbers with no error. Eager TensorFlow ran every length as eager PyTorch did. | 14 §Variable-length batches; 14 §Eager vs a compiled graph, with lengths that change |
# | Switching from one framework to the other is seamless | **partly** | The maths carried over: an LSTM, a GRU and an attention model equal within 1e-5, one SGD step included, and Keras ran on torch with the same numbers. Every layer had a silent trap in between: two LSTM biases, GRU gate order, inverted masks, LayerNorm's epsilon, `same` padding and pooling. Compare outputs after every port. | 14 §Port the LSTM: the two-bias trap; 14 §A GRU: the gate-order trap; 14 §Self-attention: layouts and the mask trap; 14 §A Transformer encoder block; 14 §The bridge: the Keras model on Keras' torch backend |
#
# ## Further reading
#
# - PyTorch: [`nn.LSTM`](https://pytorch.org/docs/stable/generated/torch.nn.LSTM.html),
#   [`nn.GRU`](https://pytorch.org/docs/stable/generated/torch.nn.GRU.html),
#   [`nn.MultiheadAttention`](https://pytorch.org/docs/stable/generated/torch.nn.MultiheadAttention.html),
#   [`pack_padded_sequence`](https://pytorch.org/docs/stable/generated/torch.nn.utils.rnn.pack_padded_sequence.html).
# - Keras: [`LSTM`](https://keras.io/api/layers/recurrent_layers/lstm/), [`GRU`](https://keras.io/api/layers/recurrent_layers/gru/),
#   [`MultiHeadAttention`](https://keras.io/api/layers/attention_layers/multi_head_attention/),
#   [masking and padding](https://keras.io/guides/understanding_masking_and_padding/); Keras' own torch-backend
#   mapping in `keras/src/backend/torch/rnn.py` (`prepare_lstm_params`, `prepare_gru_params`).
# - The helpers: `course_utils/lessons/porting.py` (the layout table and converters), `tests/test_porting_sequences.py`.

# %% [markdown]
# ## One minute, optional: how was this lesson?
#
# If you like, replace `clarity=None` below with how clear this lesson was (1 = lost, 5 = clear), add one sentence as `comment`, and run the cell. Only those two things are kept, in your own folder (`build/record/` on a laptop, your folder on the hub), next to your checks' verdicts that the instructor's board reads; `cu.progress()` shows your record and `cu.progress(recording=False)` turns recording off.

# %%
cu.feedback("14", clarity=None, comment="")
