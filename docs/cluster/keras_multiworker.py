"""The Keras multi-worker recipe (TensorFlow's "Multi-worker training with Keras" tutorial), with fault
tolerance: run on every worker with its TF_CONFIG (tf_config_workerN.json).

NOT for Keras 3: since TensorFlow 2.16 made Keras 3 the default, `model.fit` under
MultiWorkerMirroredStrategy fails (`Attempt to convert a value (PerReplica...)`, keras-team/keras#20585;
lesson 11 shows it on Keras 3.15.1). This recipe uses Keras 2 through the `tf_keras` package
(`pip install tf_keras==<your TF version>`, then TF_USE_LEGACY_KERAS=1). With Keras 3, use the custom
loop of course_utils/lessons/tf_worker.py and save a tf.train.CheckpointManager every few steps instead.
"""
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # tf.keras is then Keras 2 (tf_keras)

import numpy as np
import tensorflow as tf

GLOBAL_BATCH = 64
BACKUP_DIR = "/shared/lesson11/backup"  # on storage every worker can reach


def make_dataset(X, y):
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return tf.data.Dataset.from_tensor_slices((X, y)).shuffle(len(X), seed=0).batch(GLOBAL_BATCH).with_options(options)


def main():
    strategy = tf.distribute.MultiWorkerMirroredStrategy()  # reads TF_CONFIG
    with np.load("/shared/lesson11/job.npz", allow_pickle=False) as job:
        X, y = job["X"], job["y"]
    with strategy.scope():
        model = tf.keras.Sequential([tf.keras.layers.Dense(32, activation="relu"), tf.keras.layers.Dense(10)])
        model.compile(optimizer=tf.keras.optimizers.SGD(0.1),
                      loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    # BackupAndRestore: if a worker dies, restart ALL workers with the same command; fit resumes
    # from the last saved epoch (or every save_freq steps) instead of from scratch.
    backup = tf.keras.callbacks.BackupAndRestore(backup_dir=BACKUP_DIR, save_freq="epoch")
    model.fit(make_dataset(X, y), epochs=3, callbacks=[backup], verbose=2)


if __name__ == "__main__":
    main()
