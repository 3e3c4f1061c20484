"""course_utils.lessons.graphs (framework-free) and the mirrored graph_nodes helpers of 04_graphs."""
import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from course_utils.lessons import graphs  # noqa: E402
from course_utils.base.errors import CourseError  # noqa: E402


def test_flatten_tree_post_order():
    assert graphs.flatten_tree(((1, 2), 3)) == ([1, 2, 3], [(0, 1), (3, 2)])
    leaves, children = graphs.flatten_tree(((1, 2), (3, (4, 5))))
    assert leaves == [1, 2, 3, 4, 5]
    assert children == [(0, 1), (3, 4), (2, 6), (5, 7)]
    for j, (left, right) in enumerate(children):  # children before parents
        assert left < len(leaves) + j and right < len(leaves) + j


def test_flatten_tree_single_leaf_and_errors():
    assert graphs.flatten_tree(7) == ([7], [])
    with pytest.raises(CourseError, match="pair"):
        graphs.flatten_tree((1, 2, 3))
    with pytest.raises(CourseError):
        graphs.flatten_tree((1, "a"))


def test_captured_logs_collects_and_restores():
    import logging
    logger = logging.getLogger("course-test-graphs")
    before_handlers, before_level = list(logger.handlers), logger.level
    with graphs.captured_logs("course-test-graphs", level=logging.WARNING) as messages:
        logger.warning("retraced %d times", 5)
        logger.info("below the level: not kept")
    assert messages == ["retraced 5 times"]
    assert logger.handlers == before_handlers and logger.level == before_level
    logger.warning("after the block: not kept")
    assert messages == ["retraced 5 times"]


@pytest.mark.parametrize("names, level", [((), None), ((3,), None), (("",), None), (("x",), "WARNING"), (("x",), True)])
def test_captured_logs_bad_arguments(names, level):
    with pytest.raises(CourseError):
        with graphs.captured_logs(*names, level=level):
            pass


def test_draw_graph_returns_a_figure():
    fig = graphs.draw_graph([("x", "Placeholder", []), ("w", "Const", []), ("y", "MatMul", ["x", "w"]),
                             ("z", "Relu", ["y"])], title="t")
    assert fig.axes and fig.axes[0].get_title() == "t"
    with pytest.raises(CourseError):
        graphs.draw_graph([])


def test_graph_nodes_mirror_each_other():
    import tensorflow as tf
    import torch

    from course_utils import pt_utils, tf_utils

    pt = pt_utils.graph_nodes(torch.fx.symbolic_trace(torch.nn.ReLU()))
    assert [op for _, op, _ in pt] == ["input", "relu", "output"]
    tf_nodes = tf_utils.graph_nodes(tf.function(tf.nn.relu).get_concrete_function(tf.TensorSpec([2])))
    assert [op for _, op, _ in tf_nodes] == ["Placeholder", "Relu", "Identity"]
    assert tf_nodes[1][2] == [tf_nodes[0][0]]
    with pytest.raises(CourseError):
        pt_utils.graph_nodes(42)
    with pytest.raises(CourseError):
        tf_utils.graph_nodes(42)
