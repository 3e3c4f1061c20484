"""Framework-free helpers for 04_graphs: collect log messages, draw a small computation graph, flatten a tree.

Nothing here imports torch or TensorFlow; the framework halves (``pt_utils.graph_nodes`` and
``tf_utils.graph_nodes``) turn a framework's graph into the plain node list that ``draw_graph`` draws.

Used in: 04_graphs.
"""
from __future__ import annotations

import contextlib
import logging
from typing import Any, Iterator

import numpy as np

from ..base.errors import CourseError

# A node of a graph, as (name, op type, names of the nodes it reads from).
Node = tuple[str, str, list[str]]


@contextlib.contextmanager
def captured_logs(*names: str, level: int | None = None) -> Iterator[list[str]]:
    """Collect what the loggers ``names`` log inside the block into a list of messages, instead of printing.

    Both frameworks report retracing and recompiling through Python's ``logging``: TensorFlow's
    retracing warning on the ``"tensorflow"`` logger, dynamo's graph breaks, recompiles and its
    recompile limit on ``"torch._dynamo"`` (``torch._logging.set_logs(...)``, what ``TORCH_LOGS``
    does for a script). Their own handlers print a date, a process id and a path on every line;
    inside the block they are detached (put back afterwards) and each record's message is appended
    to the list instead. ``level`` sets each logger's level for the block (``logging.WARNING`` to see
    TensorFlow's warnings after ``cu.setup`` quietened them); ``None`` leaves the levels alone.

    >>> import logging
    >>> with captured_logs("demo", level=logging.INFO) as messages:
    ...     logging.getLogger("demo").info("retraced")
    >>> messages
    ['retraced']

    Used in: 04_graphs.
    """
    if not names or not all(isinstance(n, str) and n for n in names):
        raise CourseError(f"captured_logs{names!r}: expected one or more logger names such as "
                          "'tensorflow' or 'torch._dynamo'.")
    if level is not None and (isinstance(level, bool) or not isinstance(level, int)):
        raise CourseError(f"captured_logs(level={level!r}): expected a logging level such as logging.WARNING, or None.")
    messages: list[str] = []

    class _Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    keep = _Keep()
    saved = []
    for name in names:
        logger = logging.getLogger(name)
        saved.append((logger, list(logger.handlers), logger.level))
        logger.handlers = [keep]
        if level is not None:
            logger.setLevel(level)
    try:
        yield messages
    finally:
        for logger, handlers, old_level in saved:
            logger.handlers = handlers
            logger.setLevel(old_level)


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
