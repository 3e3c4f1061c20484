"""Framework-free helpers for 04_graphs: time a call, draw a small computation graph, flatten a tree.

Nothing here imports torch or TensorFlow; the framework halves (``pt_utils.graph_nodes`` and
``tf_utils.graph_nodes``) turn a framework's graph into the plain node list that ``draw_graph`` draws.

Used in: 04_graphs.
"""
from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from .errors import CourseError

# A node of a graph, as (name, op type, names of the nodes it reads from).
Node = tuple[str, str, list[str]]


def median_seconds(fn: Callable[[], Any], repeat: int = 20, warmup: int = 2) -> float:
    """Call ``fn()`` ``warmup`` times untimed, then ``repeat`` times; return the median wall time in seconds.

    ``fn`` must finish its work before it returns (on a CPU both frameworks do; on a GPU,
    synchronise inside ``fn``). The median ignores the odd slow call caused by other processes.

    >>> median_seconds(lambda: sum(range(1000)), repeat=5) < 1.0
    True
    """
    if repeat < 1:
        raise CourseError(f"median_seconds(repeat={repeat}): expected at least 1 timed call.")
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def flatten_tree(tree: Any) -> tuple[list[int], list[tuple[int, int]]]:
    """Turn a binary tree of nested pairs, with int leaves, into two flat lists a graph can loop over.

    Returns ``(leaves, children)``: ``leaves`` are the leaf values left to right; the leaves are
    nodes ``0..len(leaves)-1``, and internal node ``len(leaves) + j`` combines the nodes
    ``children[j]``. Children always come before their parent (post-order), so one pass over
    ``children`` computes every node, and the root is the last one.

    >>> flatten_tree(((1, 2), 3))
    ([1, 2, 3], [(0, 1), (3, 2)])
    """
    leaves: list[int] = []
    pairs: list[tuple[Any, Any]] = []

    def visit(node: Any) -> Any:
        if isinstance(node, (int, np.integer)) and not isinstance(node, bool):
            leaves.append(int(node))
            return ("leaf", len(leaves) - 1)
        if isinstance(node, tuple) and len(node) == 2:
            left, right = visit(node[0]), visit(node[1])
            pairs.append((left, right))
            return ("pair", len(pairs) - 1)
        raise CourseError(f"flatten_tree: expected an int leaf or a pair (left, right), found {node!r}.")

    visit(tree)
    n_leaves = len(leaves)

    def index(ref: tuple[str, int]) -> int:
        kind, i = ref
        return i if kind == "leaf" else n_leaves + i

    return leaves, [(index(left), index(right)) for left, right in pairs]


def _depths(nodes: list[Node]) -> dict[str, int]:
    """Longest distance from an input, for each node (nodes arrive in topological order)."""
    depth: dict[str, int] = {}
    for name, _, inputs in nodes:
        depth[name] = 1 + max((depth[i] for i in inputs if i in depth), default=-1)
    return depth


def draw_graph(nodes: list[Node], title: str = "") -> Any:
    """Draw a small graph, inputs at the top, one row per depth; return the matplotlib Figure.

    ``nodes`` come from ``pt_utils.graph_nodes`` or ``tf_utils.graph_nodes`` (topological order).
    Each box shows the op type, and the node's name below it when the two differ.

    >>> fig = draw_graph([("x", "Placeholder", []), ("y", "Relu", ["x"])], title="relu")  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    if not nodes:
        raise CourseError("draw_graph: the node list is empty — was the graph traced?")
    depth = _depths(nodes)
    rows: dict[int, list[str]] = {}
    for name, _, _ in nodes:
        rows.setdefault(depth[name], []).append(name)
    pos = {}
    for d, names in rows.items():
        for k, name in enumerate(names):
            pos[name] = (k - (len(names) - 1) / 2, -d)
    width = max(len(names) for names in rows.values())
    fig, ax = plt.subplots(figsize=(2.2 * width + 1.5, 0.9 * len(rows) + 0.6))
    for name, op, inputs in nodes:
        x, y = pos[name]
        for src in inputs:
            if src in pos:
                ax.annotate("", xy=(x, y + 0.18), xytext=(pos[src][0], pos[src][1] - 0.18),
                            arrowprops={"arrowstyle": "->", "color": "0.4"})
        label = op if op == name else f"{op}\n{name}"
        ax.text(x, y, label, ha="center", va="center", fontsize=8,
                bbox={"boxstyle": "round", "facecolor": "#e8f0fe", "edgecolor": "0.5"})
    xs = [p[0] for p in pos.values()]
    ax.set_xlim(min(xs) - 0.9, max(xs) + 0.9)
    ax.set_ylim(-max(rows) - 0.5, 0.5)
    ax.set_title(title, fontsize=10)
    ax.axis("off")
    fig.tight_layout()
    return fig
