"""No stored output names the environment that produced it (issue 25).

A learner runs the notebooks on Python 3.10-3.12, with torch's CPU or CUDA build, on Linux or
macOS: a compared output that says `3.11.7` or `+cpu` fails there, and an absolute path or a host
name in any stored output (compared or not, tracebacks included) publishes the machine that ran
it. Cheap: it reads the .ipynb files, runs nothing.
"""
from __future__ import annotations

import json
import platform
import re
import socket
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
NOT_COMPARED = {"nbval-ignore-output", "nbval-skip"}  # the cell's output is stored, not compared

# Anywhere, even in a cell nbval ignores: these name the machine or its user.
HOST = socket.gethostname()
MACHINE = [
    ("an absolute home or work path", re.compile(r"(?<![\w.~])/(?:root|home|Users|work)/[\w.-]")),
    ("this course's absolute path", re.compile(re.escape(str(ROOT)) + r"(?![\w-])")),
    ("this Python's prefix", re.compile(re.escape(sys.prefix))),
]
if len(HOST) >= 4:  # a short name like "lab" would match ordinary words
    MACHINE.append(("this machine's host name", re.compile(rf"\b{re.escape(HOST)}\b")))

# In a compared output only: they differ between supported environments.
ENVIRONMENT = [
    ("a Python patch version", re.compile(rf"(?i)python\s*3\.\d+\.\d+|\b{re.escape(platform.python_version())}\b")),
    ("a local version tag", re.compile(r"\b\d+\.\d+(?:\.\d+)?\+(?:cpu|cu\d+|rocm[\d.]*|xpu)\b")),
]


ANSI = re.compile(r"\x1b\[[0-9;]*m")  # IPython colours traceback lines


def output_texts(output: dict) -> list[str]:
    """Every text of one output, colours removed: stream, text/plain, text/html, error value and
    traceback (not images)."""
    texts = [output.get("text", ""), output.get("evalue", ""), "\n".join(output.get("traceback", []))]
    data = output.get("data", {})
    texts += [data.get(kind, "") for kind in ("text/plain", "text/html", "text/markdown", "application/json")]
    joined = ["".join(t) if isinstance(t, list) else (t if isinstance(t, str) else json.dumps(t)) for t in texts]
    return [ANSI.sub("", text) for text in joined]


def findings(notebook: dict, name: str) -> list[str]:
    """One line per environment-specific text: notebook, cell index, what, the line it is in."""
    found = []
    for index, cell in enumerate(notebook.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        compared = not NOT_COMPARED & set(cell.get("metadata", {}).get("tags", []))
        rules = MACHINE + (ENVIRONMENT if compared else [])
        for output in cell.get("outputs", []):
            for text in output_texts(output):
                for what, pattern in rules:
                    match = pattern.search(text)
                    if match:
                        line = next(l for l in text.splitlines() if match.group(0) in l)
                        found.append(f"{name} cell {index}: {what}: {line.strip()[:160]!r}")
    return found


def test_there_are_notebooks_to_scan():
    assert len(NOTEBOOKS) >= 14


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_stored_output_names_the_environment(path):
    problems = findings(json.loads(path.read_text(encoding="utf-8")), path.name)
    assert not problems, "environment-specific text in stored outputs:\n" + "\n".join(problems)


def planted(outputs: list[dict], tags: list[str] | None = None) -> dict:
    cell = {"cell_type": "code", "metadata": {"tags": tags or []}, "source": "", "outputs": outputs}
    return {"cells": [{"cell_type": "markdown", "source": "", "metadata": {}}, cell]}


@pytest.mark.parametrize("text, what", [
    ("python 3.11.7 | numpy 2.4.6", "a Python patch version"),
    (f"running {platform.python_version()}", "a Python patch version"),
    ("torch 2.13.0+cpu", "a local version tag"),
    ("torch 2.13.0+cu130", "a local version tag"),
    ("saved to /home/ana/course/build/x.pt", "an absolute home or work path"),
    ("/Users/ana/course/.venv/lib/python3.12/site-packages/torch/x.py", "an absolute home or work path"),
    (f"{ROOT}/build/model.pt", "this course's absolute path"),
])
def test_a_planted_environment_text_is_found_and_named(text, what):
    stream = planted([{"output_type": "stream", "name": "stdout", "text": text}])
    problems = findings(stream, "99_planted.ipynb")
    assert any(p.startswith(f"99_planted.ipynb cell 1: {what}") for p in problems), problems


def test_a_path_in_a_traceback_is_found_even_in_an_ignored_cell():
    error = {"output_type": "error", "ename": "RuntimeError", "evalue": "boom",
             "traceback": ["\x1b[36mFile \x1b[39m\x1b[32m/work/main/.venv/lib/python3.11/site-packages/torch/_tensor.py:623"]}
    problems = findings(planted([error], tags=["nbval-ignore-output"]), "99_planted.ipynb")
    assert any("absolute home or work path" in p for p in problems), problems


def test_versions_in_an_ignored_cell_are_allowed_and_portable_text_passes():
    facts = {"output_type": "stream", "name": "stdout", "text": "python 3.11.7 | torch 2.13.0+cpu\n"}
    assert findings(planted([facts], tags=["nbval-ignore-output"]), "x.ipynb") == []
    portable = {"output_type": "stream", "name": "stdout",
                "text": "numpy 2.4.6 | torch 2.13.0 | site-packages/torch/_tensor.py:623 | ~/course | 1.3.11.2\n"}
    assert findings(planted([portable]), "x.ipynb") == []
