"""Checks for the exercises of 10_custom_extensions: write a backward, fix a backward, make a custom op compile.

The frameworks are never imported here: a check that runs the learner's op takes the framework
from ``sys.modules`` (the notebook has imported it already). An op is run on the check's own
inputs, in float64, with an upstream gradient that is not all ones (a backward that forgets to
multiply by it is caught).
"""
from __future__ import annotations

import sys
from typing import Any, Callable

import numpy as np

from ..base.arrays import framework_of
from .core import Wrong, as_array, describe, exercise

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
    custom = _tf_custom(op, tf)
    if custom == "framework's":
        raise Wrong("the only hand-written gradient in it is TensorFlow's own (tf.nn.silu's): write yours.")
    return y.numpy(), grad.numpy(), custom == "yours"


def _tf_custom(op: Callable, tf: Any) -> str:
    """Whose hand-written gradient the op carries, judged from its traced graph: ``tf.custom_gradient``
    puts an ``IdentityN`` node (its gradient override) over the function's outputs and inputs into the
    graph. "yours": one over exactly (output, input), a function of one tensor; "framework's": only ones over
    more inputs (tf.nn.silu's is over x and its beta); "none": a plain composite. An op that cannot be
    traced gets the benefit of the doubt."""
    try:
        graph = tf.function(op, autograph=False).get_concrete_function(tf.TensorSpec(X.shape, tf.float64)).graph
    except Exception:  # noqa: BLE001 - an op that only runs eagerly: do not refuse a right answer
        return "yours"
    overrides = [node for node in graph.get_operations() if node.type == "IdentityN"]
    if any(len(node.inputs) == 2 for node in overrides):       # (output, input): a gradient over one tensor
        return "yours"
    return "framework's" if overrides else "none"


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


def _judge_backward(answer: Any, name: str, forward: Callable, derivative: Callable, forward_changed: str,
                    mistakes: Callable[[str], list[tuple[np.ndarray, str]]], differs: Callable[[str], str],
                    derived: Callable[[str], str]) -> None:
    """Run the learner's op forward and backward, and raise ``Wrong`` with the first thing that is off:
    the forward, a known mistake (``mistakes(kind)``: gradients and their messages), any other
    gradient, or a right gradient the framework derived instead of the learner."""
    kind = op_framework(answer)
    value, grad, custom = _value_and_gradient(answer, name)
    if not _near(value, forward(X)):
        raise Wrong(forward_changed)
    for wrong_grad, message in mistakes(kind):
        if _near(grad, wrong_grad):
            raise Wrong(message)
    if not _near(grad, UPSTREAM * derivative(X)):
        raise Wrong(differs(kind))
    if not custom:
        raise Wrong(derived(kind))


def _squareplus_mistakes(kind: str) -> list[tuple[np.ndarray, str]]:
    derivative, root = _squareplus_grad(X), np.sqrt(X * X + 4)
    return [
        (derivative, f"the derivative is right, but not multiplied by the upstream gradient "
                     f"({_advice(kind, 'grad', 'upstream')}): the chain rule."),
        (UPSTREAM * 2 * derivative, "twice too large: the forward divides by 2, and so does its derivative."),
        (UPSTREAM * (1 - X / root) / 2,
         "the sign of the second term is wrong: the derivative of sqrt(x*x + 4) is positive for x > 0."),
        (UPSTREAM * (1 + 1 / (2 * root)) / 2,
         "the inner derivative is missing: d/dx sqrt(u) = u' / (2 sqrt(u)), with u = x*x + 4."),
    ]


def _silu_mistakes(kind: str) -> list[tuple[np.ndarray, str]]:
    s = _sigmoid(X)
    return [
        (UPSTREAM * s * (1 + X * s), f"that is still the colleague's gradient, which {_check_tool(kind)} rejects. "
                                     "Hint: d/dx σ(x) = σ(x)(1 - σ(x)), not σ(x)²."),
        (_silu_grad(X), f"the derivative is right, but not multiplied by the upstream gradient "
                        f"({_advice(kind, 'grad', 'upstream')})."),
        (UPSTREAM * s * (1 - s), "that is the derivative of σ(x) alone; SiLU is x·σ(x): use the product rule."),
        (UPSTREAM * s, "the x·σ'(x) term of the product rule is missing."),
    ]


@exercise("10.1", framework=op_framework, solution={"torch": SQUAREPLUS_PT, "tensorflow": SQUAREPLUS_TF})
def squareplus_backward(answer: Any) -> str:
    """The squareplus op, (x + sqrt(x² + 4)) / 2, with a hand-written backward."""
    _judge_backward(
        answer, "Squareplus.apply", _squareplus, _squareplus_grad,
        "the forward changed: it must stay (x + sqrt(x*x + 4)) / 2; only the backward is yours.",
        _squareplus_mistakes,
        lambda kind: (f"the gradient differs from {_advice(kind, 'grad', 'upstream')} · f'(x). Hint: work out "
                      f"f'(x) on paper, then compare with {_check_tool(kind)}."),
        lambda kind: ("the gradient is right, but the framework derived it from the forward: write it "
                      + _advice(kind, "in the backward of an autograd.Function.",
                                "in the grad of a tf.custom_gradient function.")))
    return "f'(x) = (1 + x/√(x² + 4)) / 2, times the upstream gradient."


@exercise("10.2", framework=op_framework, solution={"torch": SILU_PT, "tensorflow": SILU_TF})
def silu_backward(answer: Any) -> str:
    """The SiLU op, x·σ(x), with its backward fixed."""
    _judge_backward(
        answer, "SiLU.apply", _silu, _silu_grad,
        "the forward changed: it must stay x * sigmoid(x); the bug is in the backward.",
        _silu_mistakes,
        lambda kind: f"the gradient still differs from the product rule's. Check your fix with {_check_tool(kind)}.",
        lambda kind: ("the gradient is right, but the framework derived it: fix the hand-written backward "
                      + _advice(kind, "(the autograd.Function).", "(the tf.custom_gradient).")))
    return "d/dx x·σ(x) = σ(x) + x·σ(x)(1 - σ(x)) = σ(x)(1 + x(1 - σ(x)))."


SOFTSIGN_FAKE = """torch.compiler.reset()              # a re-run registers the fake again: compile from a clean cache
@softsign_op.register_fake
def _(x):
    return torch.empty_like(x)      # the output's shape and dtype; nothing computed


answer = softsign_op"""


def _captured(answer: Any, x: Any, torch: Any) -> list[tuple[Any, Any]]:
    """(target, the output the compiler assumed) for each call in the graph that
    ``torch.compile(answer, fullgraph=True)`` captures for ``answer(x)``: a backend that records and
    compiles nothing, so it costs only the tracing. Raises what the compile raises."""
    found: list[tuple[Any, Any]] = []

    def record(graph_module: Any, example_inputs: Any) -> Callable:
        found.extend((node.target, node.meta.get("example_value", node.meta.get("val")))
                     for node in graph_module.graph.nodes if node.op == "call_function")
        return graph_module.forward

    torch.compiler.reset()     # a fresh trace for every answer (dynamo caches by code, not by answer)
    torch.compile(answer, fullgraph=True, backend=record)(x)
    return found


def _causes(exc: BaseException) -> str:
    texts = []
    while exc is not None and len(texts) < 10:
        texts.append(str(exc))
        exc = exc.__cause__ or exc.__context__
    return "\n".join(texts)


@exercise("10.3", accepts=("torch",), solution={"torch": SOFTSIGN_FAKE})
def softsign_compiles(answer: Any) -> str:
    """The NumPy-backed custom op ``course::softsign`` with a fake implementation, so that
    ``torch.compile(fullgraph=True)`` traces it as one node."""
    torch = sys.modules.get("torch")
    if answer is None:
        raise Wrong("your answer is None — assign the op itself (softsign_op).")
    if torch is None or not callable(answer) or isinstance(answer, type):
        raise Wrong(f"your answer is {describe(answer)}; expected the custom op (softsign_op), not its output.")
    x = torch.tensor(X)
    try:
        eager = answer(x)
    except Exception as exc:  # noqa: BLE001 - the learner's op: report, do not crash
        raise Wrong(f"your op failed on a float64 tensor of shape (7,): {type(exc).__name__}.") from None
    if not isinstance(eager, torch.Tensor) or not _near(as_array(eager, what="the op's output"), X / (1 + np.abs(X))):
        raise Wrong("the op's result changed: keep the forward, x / (1 + |x|) in NumPy; the fix is beside it.")
    try:
        calls = _captured(answer, x, torch)
    except Exception as exc:  # noqa: BLE001 - the compile error is the diagnosis
        if "no fake impl" in _causes(exc):
            raise Wrong("the compile still fails: the op has no fake implementation (register_fake) to "
                        "give its output's shape.") from None
        raise Wrong("the compile fails inside your fake: its tensors hold no data for NumPy; "
                    "return an empty tensor like the output.") from None
    custom = [(target, fake) for target, fake in calls if getattr(target, "namespace", "aten") not in ("aten", "prims")]
    if not custom:
        raise Wrong("the compiler traced your function into torch's own operations; hand in the "
                    "custom op, softsign_op.")
    fake = custom[-1][1]
    if fake is not None and (tuple(fake.shape) != tuple(eager.shape) or fake.dtype != eager.dtype):
        raise Wrong(f"the fake says {tuple(fake.shape)} {str(fake.dtype).replace('torch.', '')}, the op returns "
                    f"{tuple(eager.shape)} {str(eager.dtype).replace('torch.', '')}: the fake must describe the real output.")
    return ("torch.compile(fullgraph=True) keeps the op as one node and learns its output from the fake; "
            "the NumPy inside runs only when the graph runs.")
