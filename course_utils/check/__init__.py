"""Exercise checks: ``cu.check.<name>(answer)`` prints one line — correct, not quite (why), or not
attempted yet — and returns a ``Verdict``. Each accepts a torch or a TensorFlow answer.

Lessons add their checks in ``lessonNN.py`` and list them here.
"""
from .core import PLACEHOLDER, Verdict, Wrong, exercise, hint
from .lesson01 import arange_matrix, channel_axis, standardize_columns
from .lesson02 import micro_batch_gradient, straight_through_gradient, tanh_second_derivative
from .lesson03 import conv_kernel, flatten_reorder, matching_loss
from .lesson04 import no_graph_break, one_trace_row_sums, tracing_count
from .lesson05 import correct_bce, first_bad_layer, stable_bce
from .lesson06 import device_matmul, split_over_logical_cpus, to_is_not_in_place
from .lesson07 import cache_prefetch_order, full_shuffle, reproducible_noise
from .lesson08 import divergence_step, logged_schedule
from .lesson09 import any_batch_export, resume_step, unsafe_loads
from .lesson10 import silu_backward, softsign_compiles, squareplus_backward
from .lesson11 import replica_losses, scaled_batch_and_lr, set_epoch_orders
from .lesson12 import fraction_of_peak, median_speedup, unfair_benchmark
from .lesson13 import batchnorm_match, ported_sequence_model
from .lesson14 import attention_mask, gru_port, lstm_one_step
from . import lesson14

__all__ = [
    "PLACEHOLDER", "Verdict", "Wrong", "exercise", "hint",
    # 01_tensors
    "arange_matrix", "standardize_columns", "channel_axis",
    # 02_autodiff
    "micro_batch_gradient", "tanh_second_derivative", "straight_through_gradient",
    # 03_same_model
    "conv_kernel", "flatten_reorder", "matching_loss",
    # 04_graphs
    "tracing_count", "one_trace_row_sums", "no_graph_break",
    # 05_debugging
    "correct_bce", "stable_bce", "first_bad_layer",
    # 06_devices
    "device_matmul", "to_is_not_in_place", "split_over_logical_cpus",
    # 07_data_pipelines
    "full_shuffle", "reproducible_noise", "cache_prefetch_order",
    # 08_visualization
    "logged_schedule", "divergence_step",
    # 09_saving_deploying
    "resume_step", "any_batch_export", "unsafe_loads",
    # 10_custom_extensions
    "squareplus_backward", "silu_backward", "softsign_compiles",
    # 11_distributed
    "scaled_batch_and_lr", "set_epoch_orders", "replica_losses",
    # 12_performance
    "unfair_benchmark", "fraction_of_peak", "median_speedup",
    # 13_claims_checked
    "batchnorm_match", "ported_sequence_model",
    # 14_sequences_attention
    "lstm_one_step", "gru_port", "attention_mask",
]
