# %% [markdown]
# # 08 · Visualization: TensorBoard from both frameworks, and Visdom
#
# Framework comparisons still say "TensorBoard is TensorFlow's; PyTorch has no equivalent and uses
# Visdom". This lesson trains the lesson-03 MLP once in each framework, from the same weights on the
# same batches, and logs both runs to one TensorBoard log directory. Then it reads the numbers back
# from the event files and from a real TensorBoard server, pushes a curve to a real Visdom server,
# and draws the plots people would rather look at than read.
#
# **Time:** 30 min teaching + 10 min exercises
#
# **Prerequisites:** 03 · The same model (the MLP, `port_weights`, the training loop); a little pandas.
#
# **Objectives:**
# - Log scalars, histograms, images, text, the model graph, hyperparameters and an embedding from PyTorch (`SummaryWriter`) and from TensorFlow (`tf.summary`, Keras' `TensorBoard` callback).
# - Read event files back into pandas and show that both frameworks logged the same numbers.
# - Start TensorBoard and Visdom on 127.0.0.1, query their HTTP APIs, and stop them.
# - Draw overlaid curves, weight histograms and confusion matrices with seaborn.
# - Judge the claim "PyTorch has no TensorBoard; it uses Visdom" from what ran.

# %% [markdown]
# ## Setup
#
# `torch.utils.tensorboard` is part of PyTorch but writes with the `tensorboard` package, the same
# one TensorFlow's summaries are read by. `dashboards` (in `course_utils/lessons/`) starts the two
# servers and reads their APIs; `course_utils.base.servers` is what stops every server the lesson starts, even when
# a cell fails (read `dashboards.start_tensorboard??`).

# %%
import os
import json
import logging
import re
import tempfile
import urllib.error
import urllib.request

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch
from torch import nn
from torch.utils.tensorboard import SummaryWriter
import tensorflow as tf
import keras
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins import projector
from tensorboard.plugins.hparams import api as hp
from tbparse import SummaryReader
import tornado
import visdom

import course_utils as cu
from course_utils import pt_utils, tf_utils
from course_utils.base import servers
from course_utils.lessons import dashboards

cu.setup(seed=0)

# %% [markdown]
# The digits of lesson 03, flattened for the MLP, and the same training plan: SGD with momentum,
# 3 epochs of 45 batches, one NumPy shuffle per epoch shared by both frameworks. Everything is
# logged under one temporary folder, `logdir`, one sub-folder (a *run*) per framework.

# %%
data = cu.load_digits(flat=True)
X_train, y_train, X_test, y_test = data.X_train, data.y_train, data.X_test, data.y_test
num_epochs, batch_size, lr, momentum = 3, 32, 0.1, 0.9
rng = np.random.default_rng(0)
orders = [rng.permutation(len(X_train)) for _ in range(num_epochs)]
batches = [order[i:i + batch_size] for order in orders for i in range(0, len(order), batch_size)]
steps_per_epoch = len(batches) // num_epochs
workdir = tempfile.TemporaryDirectory(prefix="lesson08-")      # removed at the end of the lesson
logdir = os.path.join(workdir.name, "logs")
print(f"{len(batches)} steps, {steps_per_epoch} per epoch")

# %% [markdown]
# One torch MLP, and Keras twins with the same starting weights (`port_weights`, lesson 03):

# %%
model_pt = pt_utils.build_mlp()
model_tf, model_fit = tf_utils.build_mlp(), tf_utils.build_mlp()   # model_fit: for Keras fit, below
_ = tf_utils.port_weights(model_pt, model_tf), tf_utils.port_weights(model_pt, model_fit)
cu.compare("start logits", model_pt(torch.from_numpy(X_test)), model_tf(X_test))

# %% [markdown]
# ## Log a training run
#
# What each run records: the loss of every step (`train/loss`), the test accuracy after each epoch
# (`test/accuracy`), a histogram of the first layer's weights per epoch, 16 input images, a line of
# text, the model's graph, the hyperparameters with the final accuracy, and the hidden layer's
# output for 100 test digits as an embedding (the projector).
#
# ### PyTorch: `SummaryWriter`
#
# One object, one `add_*` method per kind of data. `add_images` takes NCHW in [0, 1] and stores the
# batch as one grid image; `add_graph` traces the model with an example input; `add_hparams` writes
# into a sub-run (`run_name`); `add_embedding` writes the projector's files next to the events.

# %%
def train_pt(model, run_dir):
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    weights, losses = [model.fc1.weight.detach().numpy().copy()], []         # epoch 0: the initial weights
    with SummaryWriter(run_dir) as writer:
        writer.add_histogram("fc1/weight", model.fc1.weight, global_step=0)
        writer.add_images("inputs", X_train[:16].reshape(16, 1, 8, 8), global_step=0)
        writer.add_text("notes", "MLP 64-32-10, SGD with momentum, digits", global_step=0)
        writer.add_graph(model, torch.from_numpy(X_train[:1]))
        for step, idx in enumerate(batches):
            optimizer.zero_grad()
            loss = loss_fn(model(torch.from_numpy(X_train[idx])), torch.from_numpy(y_train[idx]))
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            writer.add_scalar("train/loss", loss.item(), global_step=step)
            if (step + 1) % steps_per_epoch == 0:
                epoch = (step + 1) // steps_per_epoch
                accuracy = pt_utils.evaluate(model, X_test, y_test)
                writer.add_scalar("test/accuracy", accuracy, global_step=step)
                writer.add_histogram("fc1/weight", model.fc1.weight, global_step=epoch)
                weights.append(model.fc1.weight.detach().numpy().copy())
        writer.add_hparams({"lr": lr, "momentum": momentum, "batch_size": batch_size},
                           {"hparam/accuracy": accuracy}, run_name="hparams")
        with torch.no_grad():
            hidden = torch.relu(model.fc1(torch.from_numpy(X_test[:100])))
        writer.add_embedding(hidden, metadata=y_test[:100].tolist(), tag="fc1_output")
    return losses, weights


losses_pt, weights_pt = train_pt(model_pt, os.path.join(logdir, "pytorch"))
print(f"PyTorch: final loss {losses_pt[-1]:.4f}, test accuracy {pt_utils.evaluate(model_pt, X_test, y_test):.4f}")

# %% [markdown]
# ### TensorFlow: `tf.summary`
#
# A writer is made default with `as_default()`; then plain functions (`tf.summary.scalar`,
# `histogram`, `image`, `text`) write into it, also from inside a `tf.function`. `image` takes NHWC
# and keeps each image separately (`max_outputs`). The graph comes from tracing a `tf.function`
# between `trace_on` and `trace_export`; the hyperparameters from the hparams plugin's
# `hp.hparams`; the projector needs the vectors, a metadata file and a config written by hand. The
# vectors can be a TF checkpoint (`tensor_name`) or, as here, the same TSV file `add_embedding`
# writes (`tensor_path`), which any TensorBoard opens, with or without TensorFlow.

# %%
def train_tf(model, run_dir):
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = keras.optimizers.SGD(learning_rate=lr, momentum=momentum)
    writer = tf.summary.create_file_writer(run_dir)
    weights, losses = [model.get_layer("fc1").kernel.numpy().T.copy()], []   # torch's (out, in) layout

    @tf.function(reduce_retracing=True)
    def train_step(X_b, y_b, step):
        with tf.GradientTape() as tape:
            loss = loss_fn(y_b, model(X_b, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        tf.summary.scalar("train/loss", loss, step=step)        # written from inside the graph
        return loss

    @tf.function
    def forward(X_b):
        return model(X_b)

    with writer.as_default():
        tf.summary.histogram("fc1/weight", model.get_layer("fc1").kernel, step=0)
        tf.summary.image("inputs", X_train[:16].reshape(16, 8, 8, 1), step=0, max_outputs=16)
        tf.summary.text("notes", "MLP 64-32-10, SGD with momentum, digits", step=0)
        tf.summary.trace_on(graph=True)
        forward(X_train[:1])
        tf.summary.trace_export("model", step=0)
        for step, idx in enumerate(batches):
            losses.append(float(train_step(X_train[idx], y_train[idx], tf.constant(step, tf.int64))))
            if (step + 1) % steps_per_epoch == 0:
                epoch = (step + 1) // steps_per_epoch
                accuracy = tf_utils.evaluate(model, X_test, y_test)
                tf.summary.scalar("test/accuracy", accuracy, step=step)
                tf.summary.histogram("fc1/weight", model.get_layer("fc1").kernel, step=epoch)
                weights.append(model.get_layer("fc1").kernel.numpy().T.copy())
    with tf.summary.create_file_writer(os.path.join(run_dir, "hparams")).as_default():
        hp.hparams({"lr": lr, "momentum": momentum, "batch_size": batch_size})
        tf.summary.scalar("hparam/accuracy", accuracy, step=0)
    writer.close()
    hidden = keras.Model(model.input, model.get_layer("fc1").output)(X_test[:100])
    np.savetxt(os.path.join(run_dir, "tensors.tsv"), hidden.numpy(), delimiter="\t")
    with open(os.path.join(run_dir, "metadata.tsv"), "w") as f:
        f.writelines(f"{label}\n" for label in y_test[:100])
    config = projector.ProjectorConfig()
    embedding = config.embeddings.add()
    embedding.tensor_name, embedding.tensor_path = "fc1_output", "tensors.tsv"
    embedding.metadata_path = "metadata.tsv"
    projector.visualize_embeddings(run_dir, config)
    return losses, weights


losses_tf, weights_tf = train_tf(model_tf, os.path.join(logdir, "tensorflow"))
print(f"TensorFlow: final loss {losses_tf[-1]:.4f}, test accuracy {tf_utils.evaluate(model_tf, X_test, y_test):.4f}")

# %% [markdown]
# Same start, same batches, same arithmetic (lesson 03): the two runs agree step by step.

# %%
cu.compare("losses pt~tf", losses_pt, losses_tf, check_dtype=False)
cu.compare("fc1 weights after training", weights_pt[-1], weights_tf[-1])

# %% [markdown]
# ### Keras `fit`: the `TensorBoard` callback
#
# With `fit`, one callback does the logging: per-epoch `epoch_loss` and `epoch_accuracy` for the
# `train` and `validation` sub-runs, weight histograms (`histogram_freq=1`) and the graph. Here
# `model_fit`, the third copy of the same start weights, trained on the same batches (`shuffle=False`, one
# `fit` call per epoch with `initial_epoch` so the epochs are numbered 0, 1, 2).

# %%
tensorboard_callback = keras.callbacks.TensorBoard(log_dir=os.path.join(logdir, "keras"), histogram_freq=1)
model_fit.compile(optimizer=keras.optimizers.SGD(learning_rate=lr, momentum=momentum),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
for epoch, order in enumerate(orders):
    model_fit.fit(X_train[order], y_train[order], batch_size=batch_size, shuffle=False, verbose=0,
                  initial_epoch=epoch, epochs=epoch + 1, validation_data=(X_test, y_test),
                  callbacks=[tensorboard_callback])
sorted(dashboards.event_runs(logdir))

# %% [markdown]
# ## Read the event files back
#
# An event file is a sequence of records (`events.out.tfevents.<time>.<host>.<pid>...`: names change
# every run, so this lesson never prints them). TensorBoard's own reader is `EventAccumulator`, one
# per run. It shows the one real difference in how the two frameworks store a number:
#
# ### PyTorch: scalars are `simple_value`s

# %%
acc_pt = EventAccumulator(os.path.join(logdir, "pytorch"), size_guidance={"scalars": 0, "tensors": 0})
acc_pt.Reload()
print("scalars:", acc_pt.Tags()["scalars"], "| tensors:", acc_pt.Tags()["tensors"])
[(e.step, round(e.value, 4)) for e in acc_pt.Scalars("train/loss")[:3]]

# %% [markdown]
# ### TensorFlow: scalars are 0-d tensors
#
# TF2's `tf.summary.scalar` writes a tensor with the `scalars` plugin's metadata, so it is not under
# `Scalars` but under `Tensors`, and the value must be decoded (`tf.make_ndarray`).

# %%
acc_tf = EventAccumulator(os.path.join(logdir, "tensorflow"), size_guidance={"scalars": 0, "tensors": 0})
acc_tf.Reload()
print("scalars:", acc_tf.Tags()["scalars"], "| tensors:", sorted(acc_tf.Tags()["tensors"]))
[(e.step, round(float(tf.make_ndarray(e.tensor_proto)), 4)) for e in acc_tf.Tensors("train/loss")[:3]]

# %% [markdown]
# TensorBoard itself shows both the same way. `tbparse`, a well-kept reader that turns a whole
# logdir into pandas tables, keeps the split: its `scalars` table holds only the PyTorch-style
# values, the TF2 ones are in `tensors` (with the histograms, which TF2 also stores as tensors):

# %%
reader = SummaryReader(logdir, pivot=False, extra_columns={"dir_name"})
print("tbparse .scalars:", sorted(reader.scalars.dir_name.unique()))
print("tbparse .tensors:", sorted(reader.tensors.dir_name.unique()))

# %% [markdown]
# The course's `dashboards.read_scalars` reads both kinds into one table `run, tag, step, value`
# (an `EventAccumulator` per run; no wall times, which change every run). Where tbparse reads the
# same values, they are the same:

# %%
scalars = dashboards.read_scalars(logdir)
for run, group in scalars.groupby("run"):
    print(f"{run:18} {sorted(group.tag.unique())}")
from_tbparse = reader.scalars.query("dir_name == 'pytorch' and tag == 'train/loss'").sort_values("step")
cu.compare("read_scalars ~ tbparse", scalars.query("run == 'pytorch' and tag == 'train/loss'").value.to_numpy(),
           from_tbparse.value.to_numpy(), atol=0.0, check_dtype=False)

# %% [markdown]
# The losses read back equal the ones the loops returned, and `fit`'s `epoch_loss` is the
# sample-weighted mean of each epoch's batch losses (the last batch holds 30 digits, not 32):

# %%
def series(run, tag):
    """One run's values of one tag, as float32 (what the event file stores)."""
    return scalars.query("run == @run and tag == @tag").value.to_numpy(np.float32)


cu.compare("pytorch event file", series("pytorch", "train/loss"), np.float32(losses_pt), atol=0.0)
cu.compare("tensorflow event file", series("tensorflow", "train/loss"), np.float32(losses_tf), atol=0.0)
sizes = np.array([len(idx) for idx in batches]).reshape(num_epochs, -1)
epoch_means = (np.array(losses_pt).reshape(num_epochs, -1) * sizes).sum(axis=1) / sizes.sum(axis=1)
cu.compare("keras epoch_loss ~ loop", series("keras/train", "epoch_loss"), epoch_means, atol=1e-4, check_dtype=False)

# %% [markdown]
# ## Plots to look at
#
# The two frameworks' loss curves, from the event files, overlaid: the dashes of one run over the
# line of the other.

# %%
curves = scalars[scalars.tag == "train/loss"].replace({"run": {"pytorch": "PyTorch", "tensorflow": "TensorFlow"}})
ax = sns.lineplot(data=curves, x="step", y="value", hue="run", style="run")
ax.set(yscale="log", ylabel="train/loss", title="The same run, logged by both frameworks")
plt.show()

# %% [markdown]
# *Figure:* the training loss (log scale) at each step as read back from the event files, PyTorch's
# run as a solid line and TensorFlow's dashed; the dashes trace the solid line all the way, because
# both frameworks logged the same numbers.

# %% [markdown]
# The first layer's weights at the start (epoch 0) and after each epoch. They start uniform in
# ±1/8 (torch's default initialisation of a 64-input layer, ported to Keras) and training pulls
# them out into long tails. PyTorch's and TensorFlow's panels are the same histograms.

# %%
hist = pd.DataFrame([{"framework": name, "epoch": epoch, "weight": w}
                     for name, weights in [("PyTorch", weights_pt), ("TensorFlow", weights_tf)]
                     for epoch, snapshot in enumerate(weights) for w in snapshot.ravel()])
grid = sns.displot(data=hist, x="weight", hue="epoch", col="framework", kind="hist", element="step", fill=False,
                   stat="density", common_norm=False, bins=60, height=3, aspect=1.3, palette="viridis")
plt.show()

# %% [markdown]
# *Figure:* histograms of the first layer's weights at epoch 0 (a flat block within ±1/8, the
# initialisation) and after epochs 1 to 3 (dark to light colours), PyTorch on the left and
# TensorFlow on the right; the two panels are the same, and training spreads the weights into long
# tails.

# %% [markdown]
# A confusion matrix per model on the 359 test digits: rows are true labels, columns predictions.

# %%
def confusion(y_true, y_pred, classes=10):
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (y_true, y_pred), 1)
    return matrix


predicted = {"PyTorch": pt_utils.predict(model_pt, X_test).argmax(axis=1),
             "TensorFlow": tf_utils.predict(model_tf, X_test).argmax(axis=1)}
fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
for ax, (name, y_pred) in zip(axes, predicted.items()):
    sns.heatmap(confusion(y_test, y_pred), annot=True, fmt="d", cbar=False, cmap="Blues", ax=ax)
    ax.set(title=name, xlabel="predicted", ylabel="true")
plt.show()
print("same predictions:", np.array_equal(predicted["PyTorch"], predicted["TensorFlow"]))

# %% [markdown]
# *Figure:* the confusion matrices of the PyTorch and the TensorFlow model on the 359 test digits,
# true label by row and predicted label by column, each cell a count; almost every count sits on the
# diagonal, and the two matrices are the same because the predictions are.

# %% [markdown]
# ### Exercise 8.1 ★☆☆ (~4 min)
#
# Log a learning-rate schedule so that TensorBoard shows it: the tag `train/lr`, the value
# `0.1 * 0.5 ** (step // 10)` at every step from 0 to 29, into the folder `answer_dir` (made fresh
# below). Use either framework; make sure the events reach the disk. Then set `answer = answer_dir`.

# %%
answer_dir = tempfile.mkdtemp(dir=workdir.name)

# %% tags=["solution"]
with SummaryWriter(answer_dir) as writer:
    for step in range(30):
        writer.add_scalar("train/lr", 0.1 * 0.5 ** (step // 10), global_step=step)
answer = answer_dir

# %%
cu.check.logged_schedule(answer)

# %% [markdown]
# ## A real TensorBoard server
#
# `dashboards.start_tensorboard(logdir)` runs `tensorboard --logdir ... --host 127.0.0.1 --port
# <free>` as a child process and waits until it answers; the port changes every run, so the lesson
# prints only where it listens. Normally TensorBoard reads the logdir in the background and again
# every 5 s, so that a training run shows up live (`dashboards.wait_for_runs` waits for runs to
# appear). These runs are finished, so the two extra flags make it read everything once, before
# it answers.

# %%
tb = dashboards.start_tensorboard(logdir, "--reload_task=blocking", "--reload_interval=0")
print("TensorBoard answers on 127.0.0.1:", tb.alive and dashboards.listening_addresses(tb) == ["127.0.0.1"])
dashboards.tensorboard_runs(tb)

# %% [markdown]
# Its HTTP API is what the web page reads: the dashboards that have data, the runs and their tags
# per plugin, and each series (`/data/plugin/scalars/scalars?run=...&tag=...`). This `/data/...` API
# is the page's internal one, undocumented and free to change: the lesson reads it to prove what the
# server serves, but tools should read event files with `EventAccumulator` or tbparse (above).

# %%
listing = json.loads(tb.get("/data/plugins_listing"))
print("dashboards with data:", sorted(name for name, plugin in listing.items() if plugin["enabled"]))
scalar_tags = dashboards.tensorboard_tags(tb, "scalars")
for run in ("pytorch", "tensorflow", "keras/train"):
    print(f"{run:11} scalars    {scalar_tags[run]}")
for plugin in ("histograms", "images", "text"):
    found = dashboards.tensorboard_tags(tb, plugin)
    print(f"{plugin:10} pytorch {found.get('pytorch')} | tensorflow {found.get('tensorflow')}")
images = json.loads(tb.get("/data/plugin/images/tags"))
print("images per step:", {run: images[run]["inputs"]["samples"] for run in ("pytorch", "tensorflow")})
graphs = json.loads(tb.get("/data/plugin/graphs/info"))
print("graphs:", {run: sorted(info["tags"]) for run, info in sorted(graphs.items())})
print("projector runs:", sorted(json.loads(tb.get("/data/plugin/projector/runs"))))
dashboards.tensorboard_hparams(tb).round(4)

# %% [markdown]
# Every kind of data from both frameworks has its dashboard. Three differences show: the images
# (`add_images` stored one grid of 16 digits, `tf.summary.image` 16 separate images), the graphs
# (PyTorch's `add_graph` stores the run's graph plus a `step1` run-metadata tag, `trace_export` the
# traced `model`, Keras its conceptual graph), and the projector, where both runs are TSV files
# (`add_embedding` writes them; the TF run wrote them with `np.savetxt`). A TF checkpoint as the
# projector's tensor also works, but only in a TensorBoard that imports TensorFlow; this one runs
# without it (`stub_tensorflow=True`, the default of `start_tensorboard`: it answers sooner).
# The hparams dashboard lists one session per framework, each with the hyperparameters and the
# final accuracy that run logged.

# %% [markdown]
# The series it serves are what was written, for both frameworks:

# %%
served = {run: dashboards.tensorboard_scalars(tb, run, "train/loss") for run in ("pytorch", "tensorflow")}
for run, frame in served.items():
    print(f"{run}: {len(frame)} points, steps {frame.step.min()}..{frame.step.max()}")
    cu.compare(f"{run} served", frame.value.to_numpy(np.float32), series(run, "train/loss"), atol=0.0)
cu.compare("served pt~tf", served["pytorch"].value.to_numpy(), served["tensorflow"].value.to_numpy())

# %% [markdown]
# In JupyterLab, the same UI can sit inside the notebook. The `%tensorboard` magic starts its own
# server (or reuses one) and shows it in an iframe; `tensorboard.notebook.display(port=...)` shows a
# running one. This lesson does not run them: the output is an iframe with a random id that points to
# a server that is gone when the notebook is reopened, so the stored output would be a dead frame.
# Try it yourself in a cell:
#
# ```python
# %load_ext tensorboard
# %tensorboard --logdir {logdir} --host 127.0.0.1
# ```
#
# The browser test (`tests/test_browser.py`) opens this very UI in Chromium and keeps a screenshot of
# the scalars dashboard in `build/browser/tensorboard.png`. The server keeps running until the end
# of the lesson.

# %% [markdown]
# ## Visdom, as the old articles recommend
#
# Visdom (from Facebook AI Research, now kept by FOSSASIA) is a live dashboard server: a client pushes plots to it, the browser
# shows them. It is framework-free: it takes NumPy arrays or torch tensors. On these pins:
#
# - `pip install visdom` on Python 3.11 builds 0.2.4 from source (0.3.0 needs Python 3.12), and the
#   build fails with `No module named 'pkg_resources'` unless setuptools < 81 builds it; the
#   Makefile passes `--build-constraint tools/build-constraints.txt` for that.
# - `python -m visdom.server` first downloads about 20 JavaScript, CSS and font files from CDNs
#   (`visdom.server.build.download_scripts`) and crashes without a network. The same server without
#   that step is `visdom.server.run_server.main()`; `dashboards.start_visdom` starts it with
#   `-bind_local` (127.0.0.1 only).
#
# So the server runs offline, and its API works; its web page does not, online or offline (see below).

# %%
env_path = tempfile.mkdtemp(dir=workdir.name)
vis_server = dashboards.start_visdom(env_path)
print("Visdom answers on 127.0.0.1:", vis_server.alive and dashboards.listening_addresses(vis_server) == ["127.0.0.1"])
logging.getLogger("visdom").setLevel(logging.ERROR)   # its two start-up notices, see the text above
vis = visdom.Visdom(server="http://127.0.0.1", port=vis_server.port, env="lesson08",
             use_incoming_socket=False, raise_exceptions=True)
vis.check_connection()

# %% [markdown]
# Push the PyTorch training curve (a torch tensor), then read the window back through the API:

# %%
curve = torch.tensor(losses_pt)
window = vis.line(Y=curve, X=torch.arange(len(curve)), win="train_loss",
                  opts={"title": "PyTorch train/loss", "xlabel": "step"})
stored = json.loads(vis.get_window_data(window, env="lesson08"))
trace = stored["content"]["data"][0]
print(f"window {window!r}, {stored['type']}, {len(trace['y'])} points, envs {sorted(vis.get_env_list())}")
cu.compare("visdom round trip", np.array(trace["y"]), curve, atol=0.0, check_dtype=False)

# %% [markdown]
# The web page fails for two reasons, one of which has nothing to do with the network. Visdom's
# start page is a template that links `../user/style.css`. Tornado, the web server under Visdom (and
# Jupyter), refuses since 6.6 a static path outside the static folder, so `/` answers 403 Forbidden
# before any script is looked for, online or not; tornado 6.5 and older only logged a warning and
# answered 200. That is why the course pins tornado (`requirements.txt`): this cell prints what the
# installed version does, whichever it is. Second, the page's scripts (React, Plotly, jQuery,
# Bootstrap, d3) are the files that were never downloaded. The server's log says both:

# %%
try:
    status = urllib.request.urlopen(vis_server.url + "/", timeout=10).status
except urllib.error.HTTPError as error:
    status = error.code
log = vis_server.log_path.read_text()          # what the server wrote while it rendered the page
refused = re.search(r"403 GET / \(127\.0\.0\.1\): (.*)", log)
print(f"tornado {tornado.version}: GET / -> {status}", f"({refused.group(1)})" if refused else "(the template rendered)")
missing = sorted({os.path.basename(f) for f in re.findall(r"Could not open static file '([^']+)'", log)})
print(f"{len(missing)} files the page needs are missing:", ", ".join(missing))
static = os.path.join(os.path.dirname(visdom.__file__), "static", "js")
print("scripts shipped:", sorted(os.listdir(static)))
print("the page can work here:", status == 200 and not missing)


# %% [markdown]
# ### Exercise 8.2 ★★☆ (~6 min)
#
# A colleague's run went wrong: the loss fell, then climbed, then became NaN. The cell below logs
# it as they did (every 5th step). Read `diverged_dir` back with any reader from this lesson and
# find the **step** at which the loss diverged: the first logged step whose loss is more than twice
# the lowest loss logged before it. Set `answer` to that step.

# %%
steps = np.arange(0, 400, 5)
loss = 2.3 * np.exp(-steps / 60) + 0.1
loss *= 1 + 0.02 * np.random.default_rng(8).standard_normal(len(steps))
loss[43:] = loss[42] * 1.6 ** np.arange(1, len(steps) - 42)      # the learning rate was raised at step 210
loss[60:] = np.nan
diverged_dir = tempfile.mkdtemp(dir=workdir.name)
with SummaryWriter(diverged_dir) as writer:
    for step, value in zip(steps, loss):
        writer.add_scalar("train/loss", value, global_step=step)

# %% tags=["solution"]
logged = dashboards.read_scalars(diverged_dir).query("tag == 'train/loss'")
lowest_before = logged.value.cummin().shift(1)
answer = int(logged.step[logged.value > 2 * lowest_before].iloc[0])

# %%
cu.check.divergence_step(answer)

# %% [markdown]
# ## Nothing left running
#
# Stop both servers; their ports are closed afterwards. Had a cell failed before this one,
# `course_utils.base.servers` would stop them when the kernel shuts down (`tests/test_dashboards.py` runs this
# notebook with a planted error and checks that no server process and no port is left).

# %%
ports = {"TensorBoard": tb.port, "Visdom": vis_server.port}
tb.stop()
vis_server.stop()
for name, port in ports.items():
    print(f"{name} port closed:", not servers.port_is_open(port))
print("servers still running:", servers.running())
workdir.cleanup()
print("log folder removed:", not os.path.exists(logdir))

# %% [markdown]
# ## Summary
#
# - **Log:** both frameworks wrote scalars, weight histograms, images, text, the graph,
#   hyperparameters and an embedding into one logdir — `SummaryWriter.add_*` in PyTorch,
#   `tf.summary.*` under a default writer (or the Keras `TensorBoard` callback) in TensorFlow.
# - **Read back:** `EventAccumulator` showed the one storage difference (torch `simple_value`
#   scalars, TF2 0-d tensors); `tbparse` and `dashboards.read_scalars` read both into pandas, and
#   the two frameworks' losses agreed step by step, as written.
# - **Serve:** a real TensorBoard on 127.0.0.1 listed both runs and served the same series over
#   HTTP; a real Visdom server took a torch curve and gave it back; both were stopped.
# - **Plot:** overlaid curves, first-layer weight histograms per epoch and confusion matrices were
#   the same for both frameworks.
# - **Judge:** PyTorch logs to TensorBoard natively; Visdom is an extra whose API works, while its
#   page is broken on these pins whatever the network (tornado 6.6 refuses its template) and offline
#   its scripts are missing too (verdict below).

# %% [markdown]
# ## PyTorch vs TensorFlow
#
# | concept | PyTorch | TensorFlow / Keras | gotcha |
# |---|---|---|---|
# | writer | `SummaryWriter(run_dir)`, methods `add_*` | `tf.summary.create_file_writer(run_dir)` + `as_default()`, functions `tf.summary.*` | close (or flush) the writer, or the events may not be on disk yet; TF without a default writer: `tf.summary.scalar` returns `False` and writes nothing |
# | scalar | `add_scalar(tag, value, global_step)` | `tf.summary.scalar(name, data, step)` | stored as `simple_value` vs a 0-d tensor: `Scalars` vs `Tensors` in `EventAccumulator` |
# | histogram | `add_histogram` | `tf.summary.histogram` | |
# | images | `add_images` (NCHW, one grid) | `tf.summary.image` (NHWC, `max_outputs` separate images) | the layouts of lesson 03 again |
# | graph | `add_graph(model, example)` (traces) | `trace_on` → call a `tf.function` → `trace_export` | torch's is a TorchScript trace (`torch.jit.trace`, deprecated in 2.13, warns under default-off filters; no data-dependent control flow) |
# | hyperparameters | `add_hparams(hparams, metrics, run_name=...)` | `hp.hparams(...)` + a scalar per metric | torch writes them into a sub-run: name it with `run_name` |
# | embedding | `add_embedding(features, metadata)` | `tensors.tsv` (or a checkpoint) + `metadata.tsv` + `projector.visualize_embeddings` | one call vs a config by hand; a checkpoint needs a TensorBoard with TensorFlow |
# | `fit` | — (Lightning and others have loggers) | `keras.callbacks.TensorBoard` | `fit` logs per-epoch means |
# | server | `tensorboard --logdir D --host 127.0.0.1` | the same | `--bind_all` exposes it to the network; its `/data/...` HTTP API is internal (read files with `EventAccumulator`/tbparse) |
#
# ## Claims settled
#
# | claim | verdict | evidence |
# |---|---|---|
# | PyTorch has no TensorBoard; it uses Visdom | **outdated** | `torch.utils.tensorboard.SummaryWriter` ships with PyTorch and wrote every kind of TensorBoard data here (§Log a training run); the same TensorBoard server listed and served the PyTorch run next to the TensorFlow one, with the same numbers (§A real TensorBoard server). Visdom works with PyTorch (it took a torch tensor, §Visdom) but is an extra package, not needed for TensorBoard; on these pins it installs only with setuptools < 81, its server and API run, but on these pins its web page is broken whatever the network (tornado 6.6 refuses the page's template: 403), and offline its scripts are missing too (§Visdom). History, not run here: PyTorch itself shipped no TensorBoard writer before 1.1 (2019; `torch.utils.tensorboard`, stable since 1.2), and the third-party `tensorboardX` (2017) already wrote TensorBoard files from PyTorch, so even then "no TensorBoard" meant "not built in". |
#
# ## Further reading
#
# - PyTorch: [`torch.utils.tensorboard`](https://pytorch.org/docs/stable/tensorboard.html),
#   [visualizing models, data and training with TensorBoard](https://pytorch.org/tutorials/intermediate/tensorboard_tutorial.html).
# - TensorFlow: [`tf.summary`](https://www.tensorflow.org/api_docs/python/tf/summary),
#   [TensorBoard get started](https://www.tensorflow.org/tensorboard/get_started),
#   [hyperparameter tuning with the hparams plugin](https://www.tensorflow.org/tensorboard/hyperparameter_tuning_with_hparams),
#   [TensorBoard in notebooks](https://www.tensorflow.org/tensorboard/tensorboard_in_notebooks).
# - [tbparse](https://tbparse.readthedocs.io/) (event files into pandas);
#   [Visdom](https://github.com/fossasia/visdom).
# - Profiling, a main reason to open TensorBoard: TensorFlow's profiler still lives there
#   ([TensorBoard profiler](https://www.tensorflow.org/guide/profiler)); PyTorch's TensorBoard
#   profiler plugin is deprecated, and `torch.profiler` exports Chrome/Perfetto traces instead
#   ([torch.profiler](https://pytorch.org/docs/stable/profiler.html)).

# %% [markdown]
# ## One minute, optional: how was this lesson?
#
# If you like, replace `clarity=None` below with how clear this lesson was (1 = lost, 5 = clear), add one sentence as `comment`, and run the cell. Only those two things are kept, in your own folder (`build/record/` on a laptop, your folder on the hub), next to your checks' verdicts that the instructor's board reads; `cu.progress()` shows your record and `cu.progress(recording=False)` turns recording off.

# %%
cu.feedback("08", clarity=None, comment="")
