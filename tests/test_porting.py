"""Weight porting between torch and Keras (pt_utils/tf_utils.port_weights), and the mirrored
model, training and evaluation helpers of 03_same_model.

COURSE.md: ported float32 models agree to max |diff| <= 1e-5 on forward passes.
"""
import numpy as np
import pytest
import tensorflow as tf
import torch

from course_utils import CourseError, pt_utils, tf_utils

from porting_support import max_diff, randomize_keras, randomize_torch

TOL = 1e-5
rng = np.random.default_rng(0)


def images(n, size, seed=1):
    return np.random.default_rng(seed).uniform(0, 1, size=(n, size, size)).astype(np.float32)


MLP_SHAPES = [dict(in_features=64, hidden=32, num_classes=10), dict(in_features=5, hidden=3, num_classes=2),
              dict(in_features=17, hidden=40, num_classes=7)]
CNN_SHAPES = [dict(image_size=8, channels=8, kernel_size=3, num_classes=10),
              dict(image_size=10, channels=3, kernel_size=3, num_classes=4),
              dict(image_size=9, channels=5, kernel_size=2, num_classes=6),
              dict(image_size=12, channels=2, kernel_size=5, num_classes=3)]


def randomize_and_port(model_pt, model_tf, direction, seed):
    """Random weights in the source model, ported into the other; the port's report."""
    if direction == "torch->keras":
        randomize_torch(model_pt, seed=seed)
        return tf_utils.port_weights(model_pt, model_tf)
    randomize_keras(model_tf, seed=seed)
    return pt_utils.port_weights(model_tf, model_pt)


def built_and_ported(builder, shape, direction, seed):
    """The same model built by both frameworks' ``builder``, same parameter count, randomized on one side, ported."""
    model_pt, model_tf = getattr(pt_utils, builder)(**shape), getattr(tf_utils, builder)(**shape)
    assert pt_utils.count_params(model_pt) == tf_utils.count_params(model_tf)
    return model_pt, model_tf, randomize_and_port(model_pt, model_tf, direction, seed=seed)


@pytest.mark.parametrize("shape", MLP_SHAPES, ids=str)
@pytest.mark.parametrize("direction", ["torch->keras", "keras->torch"])
def test_mlp_port_both_ways(shape, direction):
    model_pt, model_tf, report = built_and_ported("build_mlp", shape, direction, seed=2)
    assert len(report) == 2 and all("transposed" in line for line in report)
    X = rng.normal(size=(13, shape["in_features"])).astype(np.float32)
    assert max_diff(pt_utils.predict(model_pt, X), tf_utils.predict(model_tf, X)) <= TOL


@pytest.mark.parametrize("shape", CNN_SHAPES, ids=str)
@pytest.mark.parametrize("direction", ["torch->keras", "keras->torch"])
def test_cnn_port_both_ways(shape, direction):
    model_pt, model_tf, report = built_and_ported("build_cnn", shape, direction, seed=3)
    assert "reordered" in report[1]
    X = images(11, shape["image_size"])
    out_pt = pt_utils.predict(model_pt, pt_utils.add_channel_axis(X))
    out_tf = tf_utils.predict(model_tf, tf_utils.add_channel_axis(X))
    assert out_pt.shape == (11, shape["num_classes"])
    assert max_diff(out_pt, out_tf) <= TOL


@pytest.mark.parametrize("shape", CNN_SHAPES, ids=str)
def test_conv_layer_alone_both_ways(shape):
    """The conv kernel layout on its own: compare the feature maps (NCHW vs NHWC) before pooling."""
    model_pt, model_tf = pt_utils.build_cnn(**shape), tf_utils.build_cnn(**shape)
    randomize_torch(model_pt, seed=4)
    tf_utils.port_weights(model_pt, model_tf)
    X = images(6, shape["image_size"])
    with torch.no_grad():
        maps_pt = model_pt.conv(torch.from_numpy(pt_utils.add_channel_axis(X))).numpy()
    maps_tf = np.asarray(model_tf.get_layer("conv")(tf_utils.add_channel_axis(X)))
    assert max_diff(maps_pt.transpose(0, 2, 3, 1), maps_tf) <= TOL
    back = pt_utils.build_cnn(**shape)
    pt_utils.port_weights(model_tf, back)
    assert max_diff(back.conv.weight.detach(), model_pt.conv.weight.detach()) == 0.0


@pytest.mark.parametrize("shape", CNN_SHAPES, ids=str)
def test_naive_flatten_port_is_caught(shape):
    """Transposing the dense weight without reordering its inputs must give different outputs:
    the port tests above would fail if port_weights forgot the flatten order."""
    model_pt, model_tf = pt_utils.build_cnn(**shape), tf_utils.build_cnn(**shape)
    randomize_torch(model_pt, seed=5)
    tf_utils.port_weights(model_pt, model_tf)
    model_tf.get_layer("fc").set_weights([model_pt.fc.weight.detach().numpy().T, model_pt.fc.bias.detach().numpy()])
    X = images(11, shape["image_size"])
    out_pt = pt_utils.predict(model_pt, pt_utils.add_channel_axis(X))
    out_tf = tf_utils.predict(model_tf, tf_utils.add_channel_axis(X))
    assert max_diff(out_pt, out_tf) > 1e-2


def test_round_trip_is_exact():
    model_pt, model_tf, back = pt_utils.build_cnn(), tf_utils.build_cnn(), pt_utils.build_cnn()
    tf_utils.port_weights(model_pt, model_tf)
    pt_utils.port_weights(model_tf, back)
    for (name, a), b in zip(model_pt.state_dict().items(), back.state_dict().values()):
        assert torch.equal(a, b), name


def test_mismatched_models_give_a_course_error():
    with pytest.raises(CourseError, match="layers with weights"):
        tf_utils.port_weights(pt_utils.build_mlp(), _three_dense())
    with pytest.raises(CourseError, match="Conv2d in torch but Dense in Keras"):
        tf_utils.port_weights(pt_utils.build_cnn(), tf_utils.build_mlp(in_features=72))
    with pytest.raises(CourseError, match="Keras expects"):
        tf_utils.port_weights(pt_utils.build_mlp(hidden=16), tf_utils.build_mlp(hidden=32))
    with pytest.raises(CourseError, match="torch expects"):
        pt_utils.port_weights(tf_utils.build_mlp(hidden=16), pt_utils.build_mlp(hidden=32))
    with pytest.raises(CourseError, match="Conv2d in torch but Dense in Keras"):
        pt_utils.port_weights(tf_utils.build_mlp(), pt_utils.build_cnn())


def _three_dense():
    import keras
    inputs = keras.Input((64,))
    x = keras.layers.Dense(32)(inputs)
    x = keras.layers.Dense(32)(x)
    return keras.Model(inputs, keras.layers.Dense(10)(x))


def test_one_epoch_agrees_in_both_frameworks():
    """Same weights, same batches, SGD with momentum: the two hand-written loops stay together."""
    import keras
    X = rng.normal(size=(100, 64)).astype(np.float32)
    y = rng.integers(0, 10, size=100)
    model_pt, model_tf = pt_utils.build_mlp(), tf_utils.build_mlp()
    tf_utils.port_weights(model_pt, model_tf)
    loss_pt = pt_utils.train_epoch(model_pt, X, y, torch.nn.CrossEntropyLoss(),
                                   torch.optim.SGD(model_pt.parameters(), lr=0.1, momentum=0.9), batch_size=16)
    loss_tf = tf_utils.train_epoch(model_tf, X, y, keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                                   keras.optimizers.SGD(learning_rate=0.1, momentum=0.9), batch_size=16)
    assert isinstance(loss_pt, float) and isinstance(loss_tf, float)
    assert abs(loss_pt - loss_tf) <= 1e-5
    assert max_diff(pt_utils.predict(model_pt, X), tf_utils.predict(model_tf, X)) <= 1e-4
    acc_pt, acc_tf = pt_utils.evaluate(model_pt, X, y), tf_utils.evaluate(model_tf, X, y)
    assert isinstance(acc_pt, float) and 0.0 <= acc_pt <= 1.0 and acc_pt == acc_tf


def test_add_channel_axis_layouts():
    X = images(3, 8)
    assert pt_utils.add_channel_axis(X).shape == (3, 1, 8, 8)
    assert tf_utils.add_channel_axis(X).shape == (3, 8, 8, 1)
    assert pt_utils.add_channel_axis(X).dtype == tf_utils.add_channel_axis(X).dtype == np.float32


def test_predict_returns_numpy_and_keeps_training_mode():
    model = pt_utils.build_mlp()
    model.train()
    assert isinstance(pt_utils.predict(model, np.zeros((2, 64), np.float32)), np.ndarray)
    assert model.training
    assert isinstance(tf_utils.predict(tf_utils.build_mlp(), np.zeros((2, 64), np.float32)), np.ndarray)
    assert isinstance(tf.constant(1), tf.Tensor)  # TensorFlow is really imported here
