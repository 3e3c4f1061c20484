#!/usr/bin/env bash
# TensorFlow MultiWorkerMirroredStrategy: run on each worker host with its index, e.g.
#   ./tf_worker_node.sh 0     (on worker0)      ./tf_worker_node.sh 1     (on worker1)
# Every worker gets the same cluster list and its own task index (tf_config_workerN.json). There
# is no launcher: a cluster manager (SLURM, Kubernetes' TFJob, or you) starts every worker.
# On SLURM, tf.distribute.cluster_resolver.SlurmClusterResolver builds the cluster from SLURM's variables.
set -euo pipefail
INDEX="${1:?usage: tf_worker_node.sh WORKER_INDEX}"
HERE="$(cd "$(dirname "$0")" && pwd)"

export TF_CONFIG="$(cat "$HERE/tf_config_worker$INDEX.json")"
export TF_CPP_MIN_LOG_LEVEL=2
# On GPUs: tf.distribute.MultiWorkerMirroredStrategy(communication_options=
#   tf.distribute.experimental.CommunicationOptions(implementation=tf.distribute.experimental.CommunicationImplementation.NCCL))
exec python -m course_utils.lessons.tf_worker --job /shared/lesson11/job.npz --out /shared/lesson11/mwms
