"""Checks for the exercises of 10_custom_extensions: write a backward, fix a backward, count boilerplate.

The frameworks are never imported here: a check that runs the learner's op takes the framework
from ``sys.modules`` (the notebook has imported it already). An op is run on the check's own
inputs, in float64, with an upstream gradient that is not all ones (a backward that forgets to
multiply by it is caught).
"""
from __future__ import annotations

import sys
from typing import Any, Callable

import numpy as np

from ..base.arrays import framework_of, is_tensor_like
from .core import Wrong, as_array, describe, expect_equal, exercise

# The inputs every op check uses, and the upstream gradient fed to backward.
X = np.array([-3.0, -1.5, -0.4, 0.0, 0.3, 1.0, 2.5], dtype=np.float64)
UPSTREAM = np.array([0.5, -1.0, 2.0, 1.5, -0.7, 3.0, 0.25], dtype=np.float64)


def _squareplus(x: np.ndarray) -> np.ndarray:
    return (x + np.sqrt(x * x + 4)) / 2


def _squareplus_grad(x: np.ndarray) -> np.ndarray:
    return (1 + x / np.sqrt(x * x + 4)) / 2


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def _silu(x: np.ndarray) -> np.ndarray:
    return x * _sigmoid(x)


def _silu_grad(x: np.ndarray) -> np.ndarray:
    s = _sigmoid(x)
    return s * (1 + x * (1 - s))


def _run_torch(op: Callable, torch: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    x = torch.tensor(X, requires_grad=True)
    y = op(x)
    if not isinstance(y, torch.Tensor):
        raise TypeError("not a torch tensor")
    if y.grad_fn is None:
        raise Wrong("the op's output has no gradient attached (grad_fn is None): return the result of the "
                    "Function's .apply, and do not detach it.")
    custom = isinstance(y.grad_fn, torch.autograd.function.BackwardCFunction)
    (grad,) = torch.autograd.grad(y, x, grad_outputs=torch.tensor(UPSTREAM), allow_unused=True)
    if grad is None:
        raise Wrong("backward returned None: return grad times the derivative of the forward.")
    return y.detach().numpy(), grad.detach().numpy(), custom


def _run_tf(op: Callable, tf: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    x = tf.constant(X)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = op(x)
    if not tf.is_tensor(y):
        raise TypeError("not a TensorFlow tensor")
    grad = tape.gradient(y, x, output_gradients=tf.constant(UPSTREAM))
    if grad is None:
        raise Wrong("the gradient function returned None: return upstream times the derivative of the forward.")
    return y.numpy(), grad.numpy(), _tf_custom(op, tf)


def _tf_custom(op: Callable, tf: Any) -> bool:
    """Does the op carry a hand-written gradient? ``tf.custom_gradient`` puts an ``IdentityN`` node
    (its gradient override) into the traced graph; a plain composite has none. If the op cannot be
    traced, give it the benefit of the doubt. (TensorFlow's own ops are told apart by ``_own_op``.)"""
    try:
        graph = tf.function(op).get_concrete_function(tf.TensorSpec(X.shape, tf.float64)).graph
    except Exception:  # noqa: BLE001 - an op that only runs eagerly: do not refuse a right answer
        return True
    return any(node.type == "IdentityN" for node in graph.get_operations())


def _own_op(answer: Any) -> str | None:
    """"torch" / "TensorFlow" when the answer is one of the framework's own functions (tf.nn.silu,
    keras.activations.silu, F.silu ...), whose gradient the framework wrote, not the learner."""
    owner = getattr(answer, "__self__", None)     # Function.apply is torch's method, bound to the learner's class
    source = owner if isinstance(owner, type) else answer
    module = (getattr(source, "__module__", None) or "").split(".")[0]
    return {"torch": "torch", "tensorflow": "TensorFlow", "keras": "TensorFlow"}.get(module)


def op_framework(answer: Any) -> str:
    """The framework an op is written for: the one whose tensor it accepts and returns ("any" if neither)."""
    torch, tf = sys.modules.get("torch"), sys.modules.get("tensorflow")
    if torch is not None and isinstance(answer, type) and issubclass(answer, torch.autograd.Function):
        return "torch"
    if not callable(answer):                       # a tensor or a dtype handed in: its framework
        kind = framework_of(answer)
        return kind if kind in ("torch", "tensorflow") else "any"
    for name, module, make in (("torch", torch, lambda m: m.zeros(2, dtype=m.float64)),
                               ("tensorflow", tf, lambda m: m.zeros(2, dtype=m.float64))):
        if module is None or not callable(answer):
            continue
        try:
            if framework_of(answer(make(module))) == name:
                return name
        except Exception:  # noqa: BLE001 - written for the other framework
            continue
    return "any"


def _advice(kind: str, torch_text: str, tf_text: str) -> str:
    return tf_text if kind == "tensorflow" else torch_text


def _value_and_gradient(answer: Any, name: str) -> tuple[np.ndarray, np.ndarray, bool]:
    """Run the learner's op forward and backward in whichever framework it is written for."""
    if answer is None:
        raise Wrong(f"your answer is None — assign the op itself: answer = {name}.")
    torch, tf = sys.modules.get("torch"), sys.modules.get("tensorflow")
    if torch is not None and isinstance(answer, type) and issubclass(answer, torch.autograd.Function):
        raise Wrong(f"that is the Function class; hand in its .apply: answer = {answer.__name__}.apply.")
    if not callable(answer) or (torch is None and tf is None):
        op = {"torch": "your Function's .apply", "tensorflow": "your tf.custom_gradient function"}.get(
            framework_of(answer), "a function of one tensor")
        raise Wrong(f"your answer is {describe(answer)}; expected the op: {op}.")
    own = _own_op(answer)
    if own is not None:
        raise Wrong(f"that is {own}'s own op, whose gradient {own} wrote; hand in your op with your backward.")
    problems = []
    for module, run in ((torch, _run_torch), (tf, _run_tf)):
        if module is None:
            continue
        try:
            value, grad, custom = run(answer, module)
        except Wrong:
            raise
        except Exception as exc:  # written for the other framework, or broken: try the next one
            problems.append(f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}")
            continue
        value, grad = as_array(value, what="the op's output"), as_array(grad, what="the gradient")
        if value.shape != X.shape or grad.shape != X.shape:
            raise Wrong(f"for an input of shape {X.shape} the op returned shapes {value.shape} (value) and "
                        f"{grad.shape} (gradient); an elementwise op keeps the shape.")
        return value, grad, custom
    raise Wrong("your op failed on a float64 tensor of shape (7,) in both frameworks ("
                + problems[0][:30] + ").")  # one error is enough to act on; two would not fit two lines


def _near(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.all(np.isfinite(a)) and np.allclose(a, b, rtol=1e-6, atol=1e-8))


SQUAREPLUS_PT = """class SquareplusSolved(torch.autograd.Function):
    @staticmethod
    def forward(x):
        return (x + torch.sqrt(x * x + 4)) / 2

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (1 + x / torch.sqrt(x * x + 4)) / 2


answer = SquareplusSolved.apply"""

SQUAREPLUS_TF = """@tf.custom_gradient
def squareplus_tf_solved(x):
    def grad(upstream):
        return upstream * (1 + x / tf.sqrt(x * x + 4)) / 2
    return (x + tf.sqrt(x * x + 4)) / 2, grad


answer = squareplus_tf_solved"""

SILU_PT = """class SiLUFixed(torch.autograd.Function):
    @staticmethod
    def forward(x):
        return x * torch.sigmoid(x)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        s = torch.sigmoid(x)
        return grad * s * (1 + x * (1 - s))      # σ'(x) = σ(1 - σ), not σ²


answer = SiLUFixed.apply"""

SILU_TF = """@tf.custom_gradient
def silu_tf_fixed(x):
    s = tf.sigmoid(x)

    def grad(upstream):
        return upstream * s * (1 + x * (1 - s))      # σ'(x) = σ(1 - σ), not σ²

    return x * s, grad


answer = silu_tf_fixed"""


def _check_tool(kind: str) -> str:
    return _advice(kind, "gradcheck", "tf.test.compute_gradient")


@exercise("10.1", framework=op_framework, solution={"torch": SQUAREPLUS_PT, "tensorflow": SQUAREPLUS_TF})
def squareplus_backward(answer: Any) -> str:
    """The squareplus op, (x + sqrt(x² + 4)) / 2, with a hand-written backward."""
    kind = op_framework(answer)
    value, grad, custom = _value_and_gradient(answer, "Squareplus.apply")
    if not _near(value, _squareplus(X)):
        raise Wrong("the forward changed: it must stay (x + sqrt(x*x + 4)) / 2; only the backward is yours.")
    derivative = _squareplus_grad(X)
    upstream = _advice(kind, "grad", "upstream")
    if _near(grad, derivative):
        raise Wrong(f"the derivative is right, but not multiplied by the upstream gradient ({upstream}): "
                    "the chain rule.")
    if _near(grad, UPSTREAM * 2 * derivative):
        raise Wrong("twice too large: the forward divides by 2, and so does its derivative.")
    if _near(grad, UPSTREAM * (1 - X / np.sqrt(X * X + 4)) / 2):
        raise Wrong("the sign of the second term is wrong: the derivative of sqrt(x*x + 4) is positive for x > 0.")
    if _near(grad, UPSTREAM * (1 + 1 / (2 * np.sqrt(X * X + 4))) / 2):
        raise Wrong("the inner derivative is missing: d/dx sqrt(u) = u' / (2 sqrt(u)), with u = x*x + 4.")
    if not _near(grad, UPSTREAM * derivative):
        raise Wrong(f"the gradient differs from {upstream} · f'(x). Hint: work out f'(x) on paper, then "
                    f"compare with {_check_tool(kind)}.")
    if not custom:
        raise Wrong("the gradient is right, but the framework derived it from the forward: write it "
                    + _advice(kind, "in the backward of an autograd.Function.", "in the grad of a tf.custom_gradient function."))
    return "f'(x) = (1 + x/√(x² + 4)) / 2, times the upstream gradient."


@exercise("10.2", framework=op_framework, solution={"torch": SILU_PT, "tensorflow": SILU_TF})
def silu_backward(answer: Any) -> str:
    """The SiLU op, x·σ(x), with its backward fixed."""
    kind = op_framework(answer)
    value, grad, custom = _value_and_gradient(answer, "SiLU.apply")
    if not _near(value, _silu(X)):
        raise Wrong("the forward changed: it must stay x * sigmoid(x); the bug is in the backward.")
    s = _sigmoid(X)
    upstream = _advice(kind, "grad", "upstream")
    if _near(grad, UPSTREAM * s * (1 + X * s)):
        raise Wrong(f"that is still the colleague's gradient, which {_check_tool(kind)} rejects. "
                    "Hint: d/dx σ(x) = σ(x)(1 - σ(x)), not σ(x)².")
    if _near(grad, _silu_grad(X)):
        raise Wrong(f"the derivative is right, but not multiplied by the upstream gradient ({upstream}).")
    if _near(grad, UPSTREAM * s * (1 - s)):
        raise Wrong("that is the derivative of σ(x) alone; SiLU is x·σ(x): use the product rule.")
    if _near(grad, UPSTREAM * s):
        raise Wrong("the x·σ'(x) term of the product rule is missing.")
    if not _near(grad, UPSTREAM * _silu_grad(X)):
        raise Wrong(f"the gradient still differs from the product rule's. Check your fix with {_check_tool(kind)}.")
    if not custom:
        raise Wrong("the gradient is right, but the framework derived it: fix the hand-written backward "
                    + _advice(kind, "(the autograd.Function).", "(the tf.custom_gradient)."))
    return "d/dx x·σ(x) = σ(x) + x·σ(x)(1 - σ(x)) = σ(x)(1 + x(1 - σ(x)))."


@exercise("10.3", accepts=("any",), solution=(
    'answer = extensions.count_lines(extensions.source("logcosh_tf.cc")) '
    '- extensions.count_lines(extensions.source("logcosh_torch.cpp"))'))
def extra_tf_lines(answer: Any) -> str:
    """How many more lines of C++ code logcosh_tf.cc has than logcosh_torch.cpp (extensions.count_lines)."""
    from ..lessons import extensions

    tf_src, pt_src = extensions.source("logcosh_tf.cc"), extensions.source("logcosh_torch.cpp")
    expected = extensions.count_lines(tf_src) - extensions.count_lines(pt_src)
    raw = len(tf_src.splitlines()) - len(pt_src.splitlines())
    if isinstance(answer, (str, bytes)) or not (isinstance(answer, (int, float, np.number)) or is_tensor_like(answer)):
        raise Wrong(f"your answer is {describe(answer)}; expected a whole number of lines, e.g. answer = 12.")
    if isinstance(answer, float) and float(answer).is_integer():
        answer = int(answer)
    if not isinstance(answer, bool) and isinstance(answer, (int, np.integer)):
        if answer == -expected:
            raise Wrong("the sign is reversed: TensorFlow's count minus PyTorch's.")
        if answer == raw != expected:
            raise Wrong("that counts every line, blank lines and comments too; extensions.count_lines counts "
                        "only lines of code.")
        if answer == extensions.count_lines(tf_src):
            raise Wrong("that is TensorFlow's whole count; the question asks for the difference.")
    expect_equal(answer, expected, what="your count",
                 hint="count each file with extensions.count_lines, then subtract.")
    return (f"{expected} more lines, mostly the REGISTER_OP interface with its shape functions and the "
            "OpKernel classes; the maths is the same header in both.")
