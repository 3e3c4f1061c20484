"""Build the learner copies of the lessons: solutions out, runnable placeholders in, outputs cleared.

One source, two builds. The instructor notebooks in ``notebooks/`` hold each exercise's solution in a
code cell tagged ``solution``; the learner copy replaces that cell with a placeholder for every name
the solution assigns (``answer = ...``), so the check cell below it still runs and says
"not attempted yet". Everything else is nbconvert's own, well-kept machinery:

- ``TagRemovePreprocessor`` drops cells tagged ``instructor-only`` (notes for the instructor);
- ``SolutionPlaceholderPreprocessor`` (below) swaps solutions for placeholders;
- ``ClearOutputPreprocessor`` removes outputs and execution counts.

Inside a solution cell, nbgrader's markers keep the scaffolding and hide only the marked part::

    def softmax(x):                    # kept
        ### BEGIN SOLUTION
        e = np.exp(x - x.max())        # replaced by `...  # your code here`
        return e / e.sum()
        ### END SOLUTION

Used in: ``make learner`` / ``python -m course_utils learner``; tests/test_learner_build.py.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
from nbconvert.preprocessors import ClearOutputPreprocessor, Preprocessor, TagRemovePreprocessor

from ..base.paths import course_root, lesson_notebooks, output_dir

SOLUTION_TAG = "solution"
INSTRUCTOR_TAG = "instructor-only"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
PROMPT = "# Your answer: replace the `...` with your code, then run the check below."


def assigned_names(source: str) -> list[str]:
    """Names a piece of code binds at its top level, in order (assignments, defs, classes, imports).

    >>> assigned_names("w = 2\\nanswer, b = f(w), 1\\ndef g(): pass")
    ['w', 'answer', 'b', 'g']
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    names: list[str] = []

    def targets(node: ast.AST) -> None:
        if isinstance(node, ast.Name):
            names.append(node.id)
        elif isinstance(node, (ast.Tuple, ast.List)):
            for elt in node.elts:
                targets(elt)
        elif isinstance(node, ast.Starred):
            targets(node.value)

    for node in tree.body:
        if isinstance(node, ast.Assign):
            for t in node.targets:
                targets(t)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets(node.target)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, (ast.For, ast.With)):
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                    names.append(sub.id)
    return list(dict.fromkeys(names))


def placeholder_for(source: str) -> str:
    """The learner's version of a solution cell.

    >>> print(placeholder_for("answer = torch.arange(12).reshape(3, 4)"))
    # Your answer: replace the `...` with your code, then run the check below.
    answer = ...
    """
    if BEGIN in source:
        return _replace_marked(source)
    names = assigned_names(source)
    body = "\n".join(f"{name} = ..." for name in names) if names else "..."
    return f"{PROMPT}\n{body}"


def _replace_marked(source: str) -> str:
    pattern = re.compile(rf"^([ \t]*){re.escape(BEGIN)}[^\n]*\n(.*?)^[ \t]*{re.escape(END)}[^\n]*(\n|$)",
                         flags=re.M | re.S)

    def swap(m: re.Match) -> str:
        indent, hidden = m.group(1), m.group(2)
        names = assigned_names(_dedent(hidden)) if not indent else []
        lines = [f"{indent}{n} = ...  # your code here" for n in names] or [f"{indent}...  # your code here"]
        return "\n".join(lines) + m.group(3)

    return pattern.sub(swap, source)


def _dedent(text: str) -> str:
    import textwrap

    return textwrap.dedent(text)


class SolutionPlaceholderPreprocessor(Preprocessor):
    """nbconvert preprocessor: a cell tagged ``solution`` becomes a runnable placeholder."""

    def preprocess_cell(self, cell, resources, index):
        tags = list(cell.get("metadata", {}).get("tags", []))
        if cell.cell_type == "code" and SOLUTION_TAG in tags:
            cell.source = placeholder_for(cell.source)
            cell.metadata["tags"] = [t for t in tags if t != SOLUTION_TAG] + ["placeholder"]
            resources.setdefault("solutions_replaced", 0)
            resources["solutions_replaced"] += 1
        return cell, resources


def learner_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The learner copy of one instructor notebook (a new object; ``nb`` is left alone)."""
    nb = nbformat.from_dict(nb)  # deep copy
    resources: dict = {}
    for pre in (TagRemovePreprocessor(remove_cell_tags={INSTRUCTOR_TAG}, enabled=True),
                SolutionPlaceholderPreprocessor(),
                ClearOutputPreprocessor()):
        nb, resources = pre.preprocess(nb, resources)
    nb.metadata.setdefault("course", {})["build"] = "learner"
    nbformat.validate(nb)
    return nb


def build(out_dir: str | Path = "build/learner", notebooks: list[Path] | None = None) -> list[Path]:
    """Write the learner copy of each notebook into ``out_dir`` (relative to the course root).

    >>> paths = build("build/learner")   # doctest: +SKIP
    >>> paths[0].name                    # doctest: +SKIP
    '00_setup_check.ipynb'
    """
    out = output_dir(out_dir)
    written = []
    for src in notebooks if notebooks is not None else lesson_notebooks():
        nb = learner_notebook(nbformat.read(src, as_version=4))
        dest = out / Path(src).name
        nbformat.write(nb, dest)
        written.append(dest)
    return written


def main(out_dir: str = "build/learner", notebooks: list[str] | None = None) -> int:
    """Command line: build the copies and say where they went (one line per notebook)."""
    paths = build(out_dir, [Path(p) for p in notebooks] if notebooks else None)
    for p in paths:
        nb = nbformat.read(p, as_version=4)
        n = sum(1 for c in nb.cells if "placeholder" in c.get("metadata", {}).get("tags", []))
        print(f"{p.relative_to(course_root()) if p.is_relative_to(course_root()) else p}: "
              f"{n} solution{'s' if n != 1 else ''} replaced by placeholders")
    return 0
