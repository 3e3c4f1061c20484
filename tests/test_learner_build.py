"""The learner build (course_utils/kit/learner.py, `make learner`): solutions out, checks kept, and every
learner copy runs top to bottom in a fresh kernel, its checks saying "not attempted yet".

The execution re-runs each lesson once more (about its nbval time again); the conftest prints the
per-notebook times of these tests too. Select one with `-k 03_same_model`.
"""
from __future__ import annotations

import re
import time

import nbformat
import pytest
from nbclient import NotebookClient

from course_utils.kit import learner
from notebook_rules import NOTEBOOKS, tags

CHECK_CALL = re.compile(r"\bcu\.check\.\w+\(")


# --- the transformation, on small examples ---------------------------------------------------------

def test_placeholder_for_each_name_the_solution_binds():
    src = "w = torch.ones(3)\nanswer = (w * 2).sum()\n"
    out = learner.placeholder_for(src)
    assert out.splitlines()[1:] == ["w = ...", "answer = ..."]
    assert "torch.ones" not in out
    compile(out, "<placeholder>", "exec")


def test_placeholder_for_functions_tuples_and_loops():
    src = "def softmax(x):\n    return x\nloss, grad = 1, 2\nfor i in range(3):\n    total = i\n"
    assert learner.assigned_names(src) == ["softmax", "loss", "grad", "i", "total"]


def test_placeholder_without_names_is_still_runnable():
    out = learner.placeholder_for("print(42)")
    assert out.endswith("\n...") and "42" not in out


def test_nbgrader_markers_keep_the_scaffolding():
    src = ("def softmax(x):\n"
           "    ### BEGIN SOLUTION\n"
           "    e = np.exp(x - x.max())\n"
           "    return e / e.sum()\n"
           "    ### END SOLUTION\n"
           "### BEGIN SOLUTION\n"
           "answer = softmax(np.zeros(3))\n"
           "### END SOLUTION\n"
           "cu.compare('p', answer, answer)\n")
    out = learner.placeholder_for(src)
    assert out == ("def softmax(x):\n"
                   "    ...  # your code here\n"
                   "answer = ...  # your code here\n"
                   "cu.compare('p', answer, answer)\n")


def instructor_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cells = [
        nbformat.v4.new_markdown_cell("# 99 · Test"),
        nbformat.v4.new_code_cell("import torch\nimport course_utils as cu"),
        nbformat.v4.new_markdown_cell("### Exercise 1.1 ★☆☆ (~2 min)"),
        nbformat.v4.new_code_cell("answer = torch.arange(12, dtype=torch.float32).reshape(3, 4)",
                                  metadata={"tags": ["solution"]}),
        nbformat.v4.new_code_cell("cu.check.arange_matrix(answer)"),
        nbformat.v4.new_code_cell("print('instructor note')", metadata={"tags": ["instructor-only"]}),
        nbformat.v4.new_code_cell("1 / 0", metadata={"tags": ["raises-exception"]}),
    ]
    for c in cells:
        if c.cell_type == "code":
            c.outputs = [nbformat.v4.new_output("stream", name="stdout", text="stored\n")]
            c.execution_count = 1
    nb.cells = cells
    return nb


def test_learner_notebook_on_a_small_example():
    nb = instructor_notebook()
    out = learner.learner_notebook(nb)
    sources = [c.source for c in out.cells]
    assert "answer = torch.arange" not in "\n".join(sources)
    assert any(s.endswith("answer = ...") for s in sources)
    assert "cu.check.arange_matrix(answer)" in sources, "the check cell is kept"
    assert "print('instructor note')" not in sources, "instructor-only cells are dropped"
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in out.cells if c.cell_type == "code")
    assert not any("solution" in tags(c) for c in out.cells)
    assert nb.cells[3].source.startswith("answer = torch"), "the instructor notebook is left alone"


def execute(nb: nbformat.NotebookNode, cwd) -> nbformat.NotebookNode:
    # kernel "python3" is the course kernel (tools/kernel.json, installed by `make install`).
    # Cells tagged raises-exception may fail (nbclient honours the tag); any other error fails the test.
    client = NotebookClient(nb, kernel_name="python3", timeout=300, resources={"metadata": {"path": str(cwd)}})
    client.execute()
    return nb


def text_of(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream")


def test_small_example_executes_and_says_not_attempted(tmp_path):
    nb = execute(learner.learner_notebook(instructor_notebook()), tmp_path)
    check = next(c for c in nb.cells if "cu.check." in c.source)
    assert text_of(check) == "Exercise 1.1 — not attempted yet: replace the `...` with your answer, then run this cell again.\n"


# --- every lesson ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("learner")
    return {p.name: p for p in learner.build(out)}


def test_build_writes_one_copy_per_lesson(built):
    assert sorted(built) == [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_learner_copy_has_no_solutions_and_keeps_checks(path, built):
    instructor = nbformat.read(path, as_version=4)
    copy = nbformat.read(built[path.name], as_version=4)
    solutions = [c.source for c in instructor.cells if "solution" in tags(c)]
    copy_lines = set("\n".join(c.source for c in copy.cells).splitlines())
    # lines that the lesson itself shows outside its solutions may of course stay
    taught = set("\n".join(c.source for c in instructor.cells if "solution" not in tags(c)).splitlines())
    for sol in solutions:
        code_lines = [ln for ln in sol.splitlines() if ln.strip() and not ln.lstrip().startswith("#")
                      and not re.fullmatch(r"\s*\w+ = \.\.\.", ln) and "### " not in ln]
        leaked = [ln for ln in code_lines if ln in copy_lines and ln not in taught and len(ln.strip()) > 12]
        assert not leaked, f"{path.name}: solution lines left in the learner copy: {leaked[:3]}"
    checks = lambda nb: [c.source for c in nb.cells if c.cell_type == "code" and CHECK_CALL.search(c.source)
                         and "solution" not in tags(c)]
    assert checks(copy) == checks(instructor), f"{path.name}: check cells must be kept unchanged"
    assert not any(c.get("outputs") for c in copy.cells if c.cell_type == "code"), "outputs cleared"
    assert not any("solution" in tags(c) for c in copy.cells)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_learner_copy_runs_clean_and_checks_say_not_attempted(path, built, tmp_path):
    start = time.perf_counter()
    nb = execute(nbformat.read(built[path.name], as_version=4), tmp_path)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors or "raises-exception" in tags(cell), \
            f"{path.name} (learner copy) cell {i} raised {errors[0].ename}: {errors[0].evalue[:200]}"
        if CHECK_CALL.search(cell.source):
            out = text_of(cell)
            assert "not attempted yet" in out, f"{path.name} (learner copy) cell {i}: the check printed {out!r}"
            assert "correct." not in out
    print(f"{path.name}: learner copy executed in {time.perf_counter() - start:.1f} s")
