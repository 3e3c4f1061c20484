import numpy as np
import pytest
import tensorflow as tf
import torch

import course_utils as cu


def test_numpy_torch_tf_agree(capsys):
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    result = cu.compare("x", torch.tensor(x), tf.constant(x))
    assert result and result.max_diff == 0.0 and result.shape == (2, 3)
    assert capsys.readouterr().out.strip() == "x            allclose=True   max|diff| <= 1e-05    shape=(2, 3)"


def test_detects_difference_beyond_atol():
    a = np.zeros(4, np.float32)
    b = a.copy()
    b[2] = 1e-3
    result = cu.compare("v", a, b, atol=1e-5, quiet=True)
    assert not result
    assert result.max_diff == pytest.approx(1e-3)


def test_tensor_with_grad_and_variable_are_accepted():
    w = torch.ones(3, requires_grad=True)
    v = tf.Variable(np.ones(3, np.float32))
    assert cu.compare("w", w * 2, v * 2, quiet=True)


def test_shape_mismatch_is_one_clear_line():
    with pytest.raises(cu.CourseError) as info:
        cu.compare("logits", np.zeros((8, 10), np.float32), torch.zeros(10, 8))
    message = str(info.value)
    assert "\n" not in message
    assert "(8, 10)" in message and "(10, 8)" in message and "transpose" in message


def test_dtype_mismatch_explains_float64_default():
    with pytest.raises(cu.CourseError, match="float64"):
        cu.compare("x", np.zeros(3), torch.zeros(3))
    assert cu.compare("x", np.zeros(3), torch.zeros(3), check_dtype=False, quiet=True)


def test_nan_is_never_close():
    a = np.array([np.nan], np.float32)
    assert not cu.compare("n", a, a.copy(), quiet=True)


@pytest.mark.parametrize("bad", [None, "text", {"a": 1}, object()])
def test_unsupported_inputs_raise_course_error(bad):
    with pytest.raises(cu.CourseError, match="expected a NumPy array"):
        cu.compare("x", bad, np.zeros(1))
