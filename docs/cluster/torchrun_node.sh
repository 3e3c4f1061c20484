#!/usr/bin/env bash
# PyTorch DDP on several nodes: run this same script on EVERY node (lesson 11, "On a real cluster").
# Elastic torchrun: the nodes meet at a c10d rendezvous on the first node; a worker that dies is
# restarted (--max-restarts) and the job continues with the nodes that are left (--nnodes MIN:MAX).
set -euo pipefail

NNODES="${NNODES:-2:4}"                          # at least 2 nodes, at most 4 (elastic)
NPROC_PER_NODE="${NPROC_PER_NODE:-8}"            # one process per GPU
RDZV_HOST="${RDZV_HOST:-node001.cluster.local}"  # any node all the others can reach
RDZV_PORT="${RDZV_PORT:-29400}"
JOB_ID="${JOB_ID:-lesson11-ddp}"                 # the same on every node of one job

export OMP_NUM_THREADS=1                         # torchrun warns about it otherwise
# On GPUs the worker should use init_process_group("nccl") (NCCL: GPU-to-GPU all-reduce over
# NVLink/InfiniBand); gloo, as in the lesson, is the CPU backend.
# export NCCL_DEBUG=INFO                         # to see which network NCCL picked

exec torchrun \
  --nnodes="$NNODES" \
  --nproc-per-node="$NPROC_PER_NODE" \
  --max-restarts=3 \
  --rdzv-id="$JOB_ID" \
  --rdzv-backend=c10d \
  --rdzv-endpoint="$RDZV_HOST:$RDZV_PORT" \
  -m course_utils.lessons.ddp_worker --job /shared/lesson11/job.npz --out /shared/lesson11/ddp
