"""course_utils.lessons.debugging: scripted stdlib-pdb sessions give real, stable, scrubbed transcripts."""
from __future__ import annotations

import pdb
import sys

import sysconfig

import pytest

import course_utils as cu
from course_utils.lessons.debugging import post_mortem, run_pdb, scrub, stdlib_pdb_class

HERE = __file__


def doubled_plus_one(x):
    y = x * 2
    breakpoint()
    print("after", y)
    return y + 1


def no_breakpoint(x):
    y = x * 2
    return y + 1


def divide_by_zero(z):
    w = z - 1
    return w / (w - w)


def test_exported_from_package():
    assert cu.run_pdb is run_pdb and cu.post_mortem is post_mortem


def test_stdlib_class_even_if_pdb_is_swapped():
    assert stdlib_pdb_class().__module__ == "pdb"
    assert issubclass(pdb.Pdb, stdlib_pdb_class())


def test_breakpoint_session_transcript(capsys):
    result = run_pdb(doubled_plus_one, 3, commands=["p y", "p x + y", "continue"])
    out = capsys.readouterr().out
    assert result == 7
    assert "(Pdb) p y\n6\n(Pdb) p x + y\n9\n(Pdb) continue\nafter 6\n" in out
    assert "doubled_plus_one()" in out


def test_commands_run_out_then_continue(capsys):
    assert run_pdb(doubled_plus_one, 1, commands=["p y"]) == 3
    out = capsys.readouterr().out
    assert out.rstrip().endswith("(Pdb) continue\nafter 2")


def test_stop_at_start_and_step(capsys):
    assert run_pdb(no_breakpoint, 5, commands=["next", "p y"], stop_at_start=True) == 11
    out = capsys.readouterr().out
    assert "-> y = x * 2" in out and "(Pdb) p y\n10\n" in out


def test_same_transcript_twice(capsys):
    run_pdb(doubled_plus_one, 3, commands=["p y", "next", "next"])
    first = capsys.readouterr().out
    run_pdb(doubled_plus_one, 3, commands=["p y", "next", "next"])
    assert capsys.readouterr().out == first


def test_show_false_prints_nothing(capsys):
    assert run_pdb(doubled_plus_one, 3, commands=["p y"], show=False) == 7
    assert capsys.readouterr().out == ""


def test_breakpoint_hook_and_tracer_restored():
    hook, tracer = sys.breakpointhook, sys.gettrace()
    run_pdb(doubled_plus_one, 3, commands=[], show=False)
    assert sys.breakpointhook is hook and sys.gettrace() is tracer


def test_post_mortem_opens_at_the_failing_frame(capsys):
    exc = post_mortem(divide_by_zero, 4, commands=["p w", "p z", "up"])
    out = capsys.readouterr().out
    assert isinstance(exc, ZeroDivisionError)
    assert out.startswith("ZeroDivisionError: division by zero\n")
    assert "(Pdb) p w\n3\n(Pdb) p z\n4\n" in out
    assert "Oldest frame" in out  # the helper's own frame is not on the stack
    assert "Traceback" not in out


def test_post_mortem_without_exception(capsys):
    assert post_mortem(no_breakpoint, 1, commands=["p 1"]) is None
    assert capsys.readouterr().out == ""


def test_commands_must_be_a_list_of_strings():
    with pytest.raises(cu.CourseError, match="list of pdb commands"):
        run_pdb(no_breakpoint, 1, commands="p x")


@pytest.mark.parametrize("raw, clean", [
    ("> /tmp/ipykernel_4242/123456.py(3)forward()", "> <cell>(3)forward()"),
    ("/work/x/.venv/lib/python3.11/site-packages/torch/nn/modules/module.py(1)f()",
     "<site-packages>/torch/nn/modules/module.py(1)f()"),
    ("<function f at 0x7f12deadbeef>", "<function f at 0x<addr>>"),
    ("/tmp/__autograph_generated_filexyz_12.py(9)tf__step()", "<autograph>.py(9)tf__step()"),
    (f"> {sysconfig.get_paths()['stdlib']}/random.py(166)getstate()", "> <stdlib>/random.py(…)getstate()"),  # line numbers are the Python version's
    ("> /home/me/python3.11-notes/random.py(1)f()", "> /home/me/python3.11-notes/random.py(1)f()"),  # not the stdlib
])
def test_scrub(raw, clean):
    assert scrub(raw) == clean
