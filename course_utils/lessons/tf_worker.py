"""Lesson 11's TensorFlow worker: the lesson-03 MLP trained with ``MultiWorkerMirroredStrategy``.

One process per worker. It finds the cluster and its own place in it in ``TF_CONFIG`` (set by
``course_utils.lessons.distributed.start_workers`` here, by a cluster manager or by hand on a real
cluster: docs/cluster/), and trains with a custom loop: ``experimental_distribute_dataset``,
``strategy.run`` and ``strategy.reduce`` inside a ``tf.function``. Keras 3.15's ``model.fit`` fails
under this strategy on these pins (``Attempt to convert a value (PerReplica...)``; lesson 11 says
more), the custom loop works.

    TF_CONFIG='{"cluster": {"worker": [...]}, "task": {"type": "worker", "index": 0}}' \\
        python -m course_utils.lessons.tf_worker --job build/lesson11/mwms/job.npz --out build/lesson11/mwms

The job is the one ``ddp_worker`` reads (initial weights in torch layout, ported to Keras here);
``order`` (steps × global batch sample indices) fixes the global batches, so that this run sees
exactly the batches of the PyTorch run. Each worker writes ``rank<R>.npz`` with the final weights
(in torch layout, to compare with the DDP run directly), the global loss of every step and timings.

Used in: 11_distributed (and tests/test_distributed.py).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import time
from pathlib import Path

import numpy as np
import tensorflow as tf

tf.get_logger().setLevel("ERROR")
import keras  # noqa: E402  (after TF's logger is quiet)

from course_utils import bench, tf_utils  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--job", required=True, help="job.npz written by the launcher")
    parser.add_argument("--out", required=True, help="folder for rank<R>.npz")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    tf.config.threading.set_intra_op_parallelism_threads(1)  # before the first op: 2 workers share 2 cores
    tf.config.threading.set_inter_op_parallelism_threads(1)
    with np.load(args.job, allow_pickle=False) as archive:
        job = {k: archive[k] for k in archive.files}
    rank = json.loads(os.environ["TF_CONFIG"])["task"]["index"]

    # --- the strategy: reads TF_CONFIG, connects to the other workers (collective ops over gRPC)
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    world_size = strategy.num_replicas_in_sync  # 1 CPU replica per worker here
    print(f"worker {rank}: {world_size} replicas in sync", flush=True)

    global_batch = int(job["global_batch"])
    with strategy.scope():  # variables created here are mirrored on every worker
        model = tf_utils.build_mlp()
        for layer in ("fc1", "fc2"):
            model.get_layer(layer).set_weights([job[f"init/{layer}.weight"].T, job[f"init/{layer}.bias"]])
        optimizer = keras.optimizers.SGD(learning_rate=float(job["lr"]))

    # --- the data: the global batches in the PyTorch run's order; each worker gets its share of each
    order = job["order"].reshape(-1)
    dataset = tf.data.Dataset.from_tensor_slices((job["X"][order], job["y"][order])).batch(global_batch)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    dist_dataset = strategy.experimental_distribute_dataset(dataset.with_options(options))

    # --- Keras fit under this strategy: fails on Keras 3 (since TF 2.16 made Keras 3 the default); recorded
    fit_error = ""
    if int(job.get("try_fit", 0)):
        with strategy.scope():
            fit_model = tf_utils.build_mlp()
            fit_model.compile(optimizer=keras.optimizers.SGD(learning_rate=float(job["lr"])),
                              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        try:
            fit_model.fit(dataset.take(2), epochs=1, verbose=0)
            fit_error = "(no error)"
        except Exception as exc:  # noqa: BLE001  (what fails is the point: keep its first line)
            message = re.sub(r"\(PerReplica:\{.*?\}\)", "(PerReplica:{...})", " ".join(str(exc).split()))
            fit_error = f"{type(exc).__name__}: {message}"
        print(f"worker {rank}: Keras fit -> {fit_error}", flush=True)

    # --- train: a custom loop; strategy.run runs step_fn on this worker's replica, apply_gradients all-reduces
    def step_fn(X_b, y_b):
        with tf.GradientTape() as tape:
            per_example = keras.losses.sparse_categorical_crossentropy(y_b, model(X_b, training=True),
                                                                       from_logits=True)
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=global_batch)  # sum / GLOBAL batch
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))  # all-reduces (sums) the gradients
        return loss

    @tf.function
    def train_step(X_b, y_b):
        per_replica_loss = strategy.run(step_fn, args=(X_b, y_b))
        return strategy.reduce("SUM", per_replica_loss, axis=None)  # the global batch's mean loss

    losses, step_times = [], []
    for X_b, y_b in dist_dataset:
        start = time.perf_counter()
        losses.append(float(train_step(X_b, y_b)))
        step_times.append(time.perf_counter() - start)
        print(f"worker {rank}: step {len(losses)} loss {losses[-1]:.4f}", flush=True)

    # --- timing: local compute (forward + backward, no communication) vs the all-reduce of the gradients
    reps = int(job["timing_reps"])
    local = global_batch // world_size
    X_local, y_local = tf.constant(job["X"][:local]), tf.constant(job["y"][:local])
    local_model = tf_utils.build_mlp()

    def gradients(model, X, y):  # forward + backward of one batch: the compute part of a step
        with tf.GradientTape() as tape:
            per_example = keras.losses.sparse_categorical_crossentropy(y, model(X, training=True), from_logits=True)
            loss = tf.reduce_mean(per_example)
        return tape.gradient(loss, model.trainable_variables)

    @tf.function
    def compute():
        return gradients(local_model, X_local, y_local)

    X_all, y_all = tf.constant(job["X"][:global_batch]), tf.constant(job["y"][:global_batch])

    @tf.function
    def compute_alone():  # what ONE process does per step: the whole global batch, nothing to communicate
        return gradients(local_model, X_all, y_all)

    alone_model = tf_utils.build_mlp()  # a whole step of ONE process (no strategy): the 1-worker baseline
    alone_optimizer = keras.optimizers.SGD(learning_rate=float(job["lr"]))

    @tf.function
    def alone_step():
        alone_optimizer.apply_gradients(zip(gradients(alone_model, X_all, y_all), alone_model.trainable_variables))

    flat = tf.zeros([sum(int(np.prod(v.shape)) for v in model.trainable_variables)])

    @tf.function
    def communicate():
        return strategy.run(lambda: tf.distribute.get_replica_context().all_reduce("SUM", flat))

    # number=1: every worker makes the same calls (the all-reduce is collective), median of `reps` rounds
    local = bench.interleaved({"compute": lambda: compute(), "compute_alone": lambda: compute_alone(),
                               "alone_step": lambda: alone_step()}, rounds=reps, warmup=1, number=1)
    comm = bench.interleaved({"all-reduce": lambda: communicate()}, rounds=reps, warmup=1, number=1)

    out = {}
    for layer in ("fc1", "fc2"):
        kernel, bias = model.get_layer(layer).get_weights()
        out[f"final/{layer}.weight"], out[f"final/{layer}.bias"] = kernel.T, bias  # back to torch layout
    out.update(losses=np.array(losses), fit_error=np.array(fit_error), world_size=np.array(world_size),
               step_s=np.array(statistics.median(step_times[1:] or step_times)),
               compute_s=np.array(local["compute"].median), compute_alone_s=np.array(local["compute_alone"].median),
               alone_step_s=np.array(local["alone_step"].median), comm_s=np.array(comm["all-reduce"].median),
               pid=np.array(os.getpid()))
    np.savez(Path(args.out) / f"rank{rank}.npz", **out)
    print(f"worker {rank}: done", flush=True)


if __name__ == "__main__":
    main()
