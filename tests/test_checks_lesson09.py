"""The 09_saving_deploying exercise checks: right answers in both frameworks pass; plausible mistakes say why."""
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf
import torch

import course_utils as cu
from check_support import assert_right, assert_wrong, first_try, one_line  # noqa: F401 - first_try is autouse
from course_utils import tf_utils
from course_utils.check import lesson09


# --- 9.1 resume a run ----------------------------------------------------------------------------

def resumed_torch(path, restore_optimizer=True, steps=1):
    checkpoint = torch.load(path, weights_only=True)
    model = torch.nn.Linear(4, 3)
    model.load_state_dict(checkpoint["model"])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    if restore_optimizer:
        optimizer.load_state_dict(checkpoint["optimizer"])
    for _ in range(steps):
        optimizer.zero_grad()
        torch.nn.CrossEntropyLoss()(model(torch.from_numpy(lesson09.RESUME_X)),
                                    torch.from_numpy(lesson09.RESUME_Y)).backward()
        optimizer.step()
    return model.weight.detach()


def resumed_sgd(path, lr):
    checkpoint = torch.load(path, weights_only=True)
    model = torch.nn.Linear(4, 3)
    model.load_state_dict(checkpoint["model"])
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    optimizer.load_state_dict(checkpoint["optimizer"])
    for group in optimizer.param_groups:
        group["lr"] = lr
    torch.nn.CrossEntropyLoss()(model(torch.from_numpy(lesson09.RESUME_X)), torch.from_numpy(lesson09.RESUME_Y)).backward()
    optimizer.step()
    return model.weight.detach()


def test_resume_keras_without_its_optimizer_gets_keras_advice(tmp_path):
    path = lesson09.make_resume_checkpoint_tf(tmp_path / "r.keras")
    model = keras.models.load_model(path)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.5, momentum=0.9),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))   # a fresh optimizer
    model.train_on_batch(lesson09.RESUME_X, lesson09.RESUME_Y)
    verdict = assert_wrong(cu.check.resume_step, model.get_layer("dense").kernel, "momentum buffer", ".keras file")
    assert "state_dict" not in str(verdict)


def test_resume_right_in_torch(tmp_path):
    path = lesson09.make_resume_checkpoint_pt(tmp_path / "r.pt")
    assert cu.check.resume_step(resumed_torch(path), quiet=True)


def test_resume_right_in_keras_two_ways(tmp_path):
    path = lesson09.make_resume_checkpoint_tf(tmp_path / "r.keras")
    model = keras.models.load_model(path)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    with tf.GradientTape() as tape:
        loss = loss_fn(lesson09.RESUME_Y, model(lesson09.RESUME_X, training=True))
    model.optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
    assert cu.check.resume_step(model.get_layer("dense").kernel, quiet=True)
    other = keras.models.load_model(path)
    other.train_on_batch(lesson09.RESUME_X, lesson09.RESUME_Y)     # the compiled loss and optimizer
    assert cu.check.resume_step(other.get_layer("dense").kernel, quiet=True)
    # the same weight through the other accessors the prompt's words allow
    assert_right(cu.check.resume_step, other.get_weights()[0])                 # NumPy, Keras layout (4, 3)
    assert_right(cu.check.resume_step, other.get_layer("dense").get_weights()[0])
    assert_right(cu.check.resume_step, other.trainable_weights[0])


def test_resume_right_through_torch_accessors(tmp_path):
    path = lesson09.make_resume_checkpoint_pt(tmp_path / "r.pt")
    weight = resumed_torch(path)
    assert_right(cu.check.resume_step, weight.numpy())                          # a NumPy copy, torch layout
    assert_right(cu.check.resume_step, weight.clone().requires_grad_())          # the Parameter, not detached
    assert_right(cu.check.resume_step, weight.T.contiguous().numpy().T)


@pytest.mark.parametrize("mistake, words", [
    ("no optimizer", "without the momentum buffer"),
    ("no step", "the step was not taken"),
    ("two steps", "more than one step"),
    ("bias", "shape (3,)"),
    ("full layer", "expected the weight"),
    ("lr 0.05", "no single resumed step"),
])
def test_resume_mistakes(tmp_path, mistake, words):
    path = lesson09.make_resume_checkpoint_pt(tmp_path / "r.pt")
    answer = {"no optimizer": lambda: resumed_torch(path, restore_optimizer=False),
              "no step": lambda: torch.load(path, weights_only=True)["model"]["weight"],
              "two steps": lambda: resumed_torch(path, steps=2),
              "bias": lambda: torch.zeros(3),
              "full layer": lambda: torch.cat([resumed_torch(path), torch.zeros(3, 1)], 1),
              "lr 0.05": lambda: resumed_sgd(path, lr=0.05)}[mistake]()
    verdict = cu.check.resume_step(answer, quiet=True)
    assert not verdict
    assert words in one_line(verdict)


def test_resume_from_scratch_is_refused():
    model = torch.nn.Linear(4, 3)
    with torch.no_grad():
        model.weight.copy_(torch.from_numpy(lesson09.RESUME_W0))
        model.bias.zero_()
    torch.nn.CrossEntropyLoss()(model(torch.from_numpy(lesson09.RESUME_X)), torch.from_numpy(lesson09.RESUME_Y)).backward()
    torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9).step()
    verdict = cu.check.resume_step(model.weight.detach(), quiet=True)
    assert not verdict and "untrained weights" in one_line(verdict)


# --- 9.2 export for any batch --------------------------------------------------------------------

def test_any_batch_right_in_torch(tmp_path):
    model = lesson09.exercise_mlp_pt()
    program = torch.export.export(model, (torch.zeros(32, 64),),
                                  dynamic_shapes={"x": {0: torch.export.Dim("batch", min=1, max=64)}})
    torch.export.save(program, tmp_path / "m.pt2")
    loaded = torch.export.load(tmp_path / "m.pt2")
    assert cu.check.any_batch_export(loaded, quiet=True)
    assert cu.check.any_batch_export(loaded.module(), quiet=True)


def test_any_batch_right_in_tensorflow(tmp_path):
    model = tf_utils.build_mlp()
    tf_utils.port_weights(lesson09.exercise_mlp_pt(), model)
    model.export(tmp_path / "sm", verbose=False)
    assert cu.check.any_batch_export(tf.saved_model.load(str(tmp_path / "sm")), quiet=True)
    # a tf.function with a None batch, saved and loaded
    module = tf.Module()
    module.model = model
    module.serve = tf.function(lambda x: model(x), input_signature=[tf.TensorSpec((None, 64), tf.float32)])
    tf.saved_model.save(module, str(tmp_path / "fn"))
    assert_right(cu.check.any_batch_export, tf.saved_model.load(str(tmp_path / "fn")))


def test_any_batch_tf_fixed_signature_gets_tf_advice(tmp_path):
    model = tf_utils.build_mlp()
    tf_utils.port_weights(lesson09.exercise_mlp_pt(), model)
    module = tf.Module()
    module.model = model
    module.serve = tf.function(lambda x: model(x), input_signature=[tf.TensorSpec((32, 64), tf.float32)])
    tf.saved_model.save(module, str(tmp_path / "fixed"))
    verdict = assert_wrong(cu.check.any_batch_export, tf.saved_model.load(str(tmp_path / "fixed")),
                           "fails for a batch of 1", "TensorSpec")
    assert "torch" not in str(verdict)
    # the lesson's own trap: Keras' export with the (32, 64) signature the exercise starts from
    model.export(tmp_path / "keras_fixed", verbose=False, input_signature=[tf.TensorSpec((32, 64), tf.float32)])
    verdict = assert_wrong(cu.check.any_batch_export, tf.saved_model.load(str(tmp_path / "keras_fixed")),
                           "fails for a batch of 1", "TensorSpec")
    assert "torch" not in str(verdict)
    fresh = tf_utils.build_mlp()                                          # an unported twin: other weights
    fresh.export(tmp_path / "fresh", verbose=False)
    assert_wrong(cu.check.any_batch_export, tf.saved_model.load(str(tmp_path / "fresh")), "not those of mlp_ex_tf")


@pytest.mark.parametrize("mistake, words", [
    ("fixed batch", "fails for a batch of 1"),
    ("max too small", "fails for a batch of 33"),
    ("eager model", "eager model itself"),
    ("keras model", "Keras model itself"),
    ("fresh weights", "not those of mlp_ex_pt"),
    ("a path", "a str"),
    ("torchscript", "TorchScript module"),
])
def test_any_batch_mistakes(tmp_path, mistake, words):
    model = lesson09.exercise_mlp_pt()
    example = (torch.zeros(32, 64),)
    if mistake == "fixed batch":
        answer = torch.export.export(model, example)
    elif mistake == "max too small":
        answer = torch.export.export(model, example, dynamic_shapes={"x": {0: torch.export.Dim("b", min=1, max=32)}})
    elif mistake == "eager model":
        answer = model
    elif mistake == "keras model":
        answer = tf_utils.build_mlp()
    elif mistake == "fresh weights":
        answer = torch.export.export(torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10)),
                                     example, dynamic_shapes={"input": {0: torch.export.Dim("b", min=1, max=64)}})
    elif mistake == "torchscript":                              # legacy, and it does take any batch: still not an export
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")                     # torch.jit.trace is deprecated
            answer = torch.jit.trace(model, example)
    else:
        answer = str(tmp_path / "m.pt2")
    verdict = cu.check.any_batch_export(answer, quiet=True)
    assert not verdict
    assert words in one_line(verdict)


# --- 9.3 unsafe loads ----------------------------------------------------------------------------

@pytest.mark.parametrize("answer", [{"b", "d", "f"}, ["B", "D", "F"], "b, d, f", ("f", "d", "b"), "bdf",
                                    frozenset("bdf")])
def test_unsafe_loads_right(answer):
    assert cu.check.unsafe_loads(answer, quiet=True)


@pytest.mark.parametrize("answer, words", [
    (..., "not attempted yet"),
    ({"a", "b", "d", "f"}, "a is safe"),
    ({"b", "d", "e", "f"}, "e is safe"),
    ({"b", "f"}, "missing (1 of 3)"),
    ({"b", "d", "f", "z"}, "not one of the options"),
    (3, "an int"),
    ({"a", "c", "e", "g"}, "a is safe"),
    ({"b", "d"}, "missing (1 of 3)"),
    (set(), "missing (3 of 3)"),
    ({"b", "d", "f", "g"}, "g is safe"),
])
def test_unsafe_loads_wrong(answer, words):
    verdict = cu.check.unsafe_loads(answer, quiet=True)
    assert not verdict
    assert words in one_line(verdict)


def test_unsafe_loads_never_hands_out_the_answer_at_once():
    cu.check.core.reset_tries()
    verdict = cu.check.unsafe_loads({"b"}, quiet=True)
    assert "b, d, f" not in str(verdict) and "{'b', 'd', 'f'}" not in str(verdict)


# --- every solution runs in a namespace holding what the lesson defines before it, and passes ------

@pytest.mark.parametrize("exercise, framework", [("9.1", "torch"), ("9.1", "tensorflow"), ("9.2", "torch"),
                                                 ("9.2", "tensorflow"), ("9.3", "any")])
def test_each_solution_runs_after_the_lessons_setup_and_passes(tmp_path, exercise, framework):
    mlp_ex_pt = lesson09.exercise_mlp_pt()
    mlp_ex_tf = tf_utils.build_mlp()
    tf_utils.port_weights(mlp_ex_pt, mlp_ex_tf)
    namespace = {"torch": torch, "nn": torch.nn, "tf": tf, "keras": keras, "np": np, "WORK": tmp_path,
                 "X_resume": lesson09.RESUME_X, "y_resume": lesson09.RESUME_Y,
                 "resume_pt": lesson09.make_resume_checkpoint_pt(tmp_path / "resume.pt"),
                 "resume_tf": lesson09.make_resume_checkpoint_tf(tmp_path / "resume.keras"),
                 "mlp_ex_pt": mlp_ex_pt, "mlp_ex_tf": mlp_ex_tf}
    exec(cu.check.core.SOLUTIONS[exercise][framework], namespace)
    check = {"9.1": cu.check.resume_step, "9.2": cu.check.any_batch_export, "9.3": cu.check.unsafe_loads}[exercise]
    assert_right(check, namespace["answer"])
