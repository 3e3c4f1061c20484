"""Scripted debugger sessions: the stdlib ``pdb`` driven by a list of commands, its transcript printed.

A notebook cannot wait for keyboard input when it is executed by the tests, so the lesson on
debugging (05) runs every pdb session from a script. The transcript is genuine pdb output: the
same prompt, the same answers a learner sees when typing the commands by hand. Only the volatile
bits are scrubbed — IPython's per-kernel cell file names (``/tmp/ipykernel_<pid>/<n>.py`` becomes
``<cell>``) and the install location of libraries (``.../site-packages/`` becomes
``<site-packages>/``, Python's own standard library ``<stdlib>/``).

Inside a Jupyter kernel ``pdb.Pdb`` is IPython's debugger (``ipdb>`` prompt, colours); these helpers
always use the plain stdlib class (``stdlib_pdb_class()``) so the transcript is the same in a
kernel, under pytest, and in a terminal.

Interactively, a learner types the same commands at the ``(Pdb)``/``ipdb>`` prompt after
``breakpoint()`` or ``%debug`` instead of passing ``commands=[...]``.

Used in: 05_debugging.
"""
from __future__ import annotations

import contextlib
import inspect
import io
import pdb
import re
import sys
import sysconfig
from typing import Any, Callable, Iterator, Sequence

from ..base import validate
from ..base.errors import CourseError

# What varies from kernel to kernel or machine to machine in a transcript, and what replaces it.
_SCRUB = [
    (re.compile(r"/tmp/ipykernel_\d+/\d+\.py"), "<cell>"),
    (re.compile(r"(?:[A-Za-z]:)?[^\s'\"(<>]*?[/\\]site-packages[/\\]"), "<site-packages>/"),
    (re.compile(r"0x[0-9a-f]{8,16}"), "0x<addr>"),
    # The standard library's own files (pdb can stop in them, e.g. under torch.compile): where Python is installed.
    (re.compile(re.escape(sysconfig.get_paths()["stdlib"]) + r"[/\\]"), "<stdlib>/"),
    # ... and its line numbers move between Python versions (random.py's getstate: 166 in 3.11, 173 in 3.12).
    (re.compile(r"(<stdlib>/[^\s()]+\.py)\(\d+\)"), r"\1(…)"),
    # AutoGraph writes the converted code of a tf.function to a randomly named temporary file.
    (re.compile(r"(?:[^\s'\"(<>]*?[/\\])?__autograph_generated_file\w+\.py"), "<autograph>.py"),
]
# A command that lets the program run on; sent (and shown) when the script has run out.
_CONTINUE = "continue"


def stdlib_pdb_class() -> type:
    """The standard library's ``pdb.Pdb`` class, even inside IPython (which swaps in its own).

    >>> stdlib_pdb_class().__module__
    'pdb'
    """
    return next(c for c in pdb.Pdb.__mro__ if c.__module__ == "pdb")


def scrub(text: str) -> str:
    """Replace kernel-specific paths and addresses in a transcript with stable placeholders.

    >>> scrub("> /tmp/ipykernel_4242/123456.py(3)forward()")
    '> <cell>(3)forward()'
    >>> import sysconfig; scrub(f"> {sysconfig.get_paths()['stdlib']}/random.py(166)getstate()")
    '> <stdlib>/random.py(…)getstate()'
    """
    for pattern, replacement in _SCRUB:
        text = pattern.sub(replacement, text)
    return text


class _Script(io.TextIOBase):
    """pdb's stdin: hands out the scripted commands one line at a time and echoes each into the
    transcript (as a terminal would), then ``continue`` once the script is used up."""

    def __init__(self, commands: Sequence[str], transcript: io.StringIO) -> None:
        self._commands = list(commands)
        self._transcript = transcript
        self.used = 0

    def readable(self) -> bool:
        return True

    def readline(self, size: int = -1) -> str:  # noqa: ARG002 (pdb passes no size)
        if self.used < len(self._commands):
            line = self._commands[self.used]
            self.used += 1
        else:
            line = _CONTINUE
        self._transcript.write(line + "\n")
        return line + "\n"


def _check_arguments(func: Callable[..., Any], args: tuple, kwargs: dict, where: str) -> None:
    """Raise a CourseError if ``func(*args, **kwargs)`` cannot bind (a torch module's ``forward``, a
    Keras layer's ``call``); say nothing when the signature cannot be read (some builtins)."""
    target = {"torch": "forward", "tensorflow": "call"}.get(validate.kind_of(func))
    target = getattr(func, target, func) if target else func
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return
    try:
        signature.bind(*args, **kwargs)
    except TypeError as exc:
        raise CourseError(f"{where}(func=...): func cannot take the arguments given after it ({exc}) — "
                          f"pass them as {where}(func, arg1, arg2, ..., commands=[...]).") from None


def _new_pdb(script: _Script, transcript: io.StringIO) -> pdb.Pdb:
    debugger = stdlib_pdb_class()(stdin=script, stdout=transcript, nosigint=True, readrc=False)
    debugger.prompt = "(Pdb) "
    return debugger


@contextlib.contextmanager
def _session(commands: Sequence[str], show: bool) -> Iterator[tuple[_Script, io.StringIO, list[pdb.Pdb]]]:
    """Capture the program's output and the debugger's into one transcript; route ``breakpoint()``
    to a scripted stdlib pdb (``sys.breakpointhook`` is the documented hook, PEP 553)."""
    transcript = io.StringIO()
    script = _Script(commands, transcript)
    sessions: list[pdb.Pdb] = []

    def hook(*args: Any, **kwargs: Any) -> None:
        debugger = _new_pdb(script, transcript)
        sessions.append(debugger)
        debugger.set_trace(sys._getframe(1))

    saved_hook, saved_trace = sys.breakpointhook, sys.gettrace()
    sys.breakpointhook = hook
    try:
        with contextlib.redirect_stdout(transcript), contextlib.redirect_stderr(transcript):
            yield script, transcript, sessions
    finally:
        sys.breakpointhook = saved_hook
        sys.settrace(saved_trace)  # pdb's `continue` already removed its own tracer
        if show:
            print(scrub(transcript.getvalue()), end="")


def run_pdb(func: Callable[..., Any], *args: Any, commands: Sequence[str], stop_at_start: bool = False,
            show: bool = True, **kwargs: Any) -> Any:
    """Call ``func(*args, **kwargs)`` under a scripted stdlib pdb; print the transcript; return the result.

    The debugger stops wherever the code calls ``breakpoint()`` (each stop is a new session fed
    from the same list of commands), or, with ``stop_at_start=True``, on the first line of ``func``
    (like ``pdb.runcall``). Each command is echoed after the ``(Pdb)`` prompt; when the list runs
    out the session sends ``continue``. Output the program prints lands in the transcript in order.

    >>> def f(x):
    ...     y = x * 2
    ...     return y + 1
    >>> run_pdb(f, 3, commands=["next", "p y", "continue"], stop_at_start=True)   # doctest: +SKIP
    > <doctest>(2)f()
    -> y = x * 2
    (Pdb) next
    > <doctest>(3)f()
    -> return y + 1
    (Pdb) p y
    6
    (Pdb) continue
    7

    Interactively: put ``breakpoint()`` in the code and type the same commands at the prompt.

    Used in: 05_debugging.
    """
    func = validate.function(func, "func", "run_pdb")
    commands = validate.strings(commands, "commands", "run_pdb", "a list of pdb commands as strings")
    stop_at_start = validate.flag(stop_at_start, "stop_at_start", "run_pdb")
    show = validate.flag(show, "show", "run_pdb")
    _check_arguments(func, args, kwargs, "run_pdb")
    with _session(commands, show) as (script, transcript, sessions):
        if stop_at_start:
            debugger = _new_pdb(script, transcript)
            sessions.append(debugger)
            return debugger.runcall(func, *args, **kwargs)
        return func(*args, **kwargs)


def post_mortem(func: Callable[..., Any], *args: Any, commands: Sequence[str], show: bool = True,
                **kwargs: Any) -> BaseException | None:
    """Call ``func(*args, **kwargs)``; if it raises, open a scripted stdlib pdb where it failed.

    Prints the exception's first line, then the transcript of a post-mortem session (what
    ``%debug`` or ``pdb.pm()`` gives interactively: ``up``/``down`` through the stack, ``p``
    anything that was alive at the crash). Returns the exception, or ``None`` if ``func`` did not
    raise. The exception is not re-raised, so the notebook cell shows no traceback.

    >>> post_mortem(lambda: 1 / 0, commands=["p 1 + 1"])              # doctest: +SKIP
    ZeroDivisionError: division by zero
    > <doctest>(1)<lambda>()
    (Pdb) p 1 + 1
    2
    (Pdb) continue

    Used in: 05_debugging.
    """
    func = validate.function(func, "func", "post_mortem")
    commands = validate.strings(commands, "commands", "post_mortem", "a list of pdb commands as strings")
    show = validate.flag(show, "show", "post_mortem")
    with _session(commands, show) as (script, transcript, sessions):
        try:
            func(*args, **kwargs)
        except Exception as exc:  # the point: look at any exception in the debugger
            first = (str(exc).strip().splitlines() or [""])[0]
            transcript.write(f"{type(exc).__name__}: {first}\n")
            debugger = _new_pdb(script, transcript)
            sessions.append(debugger)
            debugger.reset()
            # Start the stack at func's frame: this helper's own frame is not the learner's business.
            tb = exc.__traceback__
            debugger.interaction(None, tb.tb_next if tb is not None and tb.tb_next is not None else tb)
            return exc
    return None
