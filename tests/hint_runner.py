"""Run every exercise hint of one lesson after the lesson's own setup (tests/test_hints_run.py).

    python tests/hint_runner.py notebooks/07_data_pipelines.ipynb   # prints one HINT-RESULTS JSON line

The instructor notebook's code cells run in order in this one fresh process, as plain Python in one
namespace (``display`` imported, matplotlib on Agg, each cell's source registered as IPython does).
Only the cells the exercises need run: walking back from an exercise, a cell runs when it binds (or
calls a method on, or assigns into) a name that the exercise's hint code, its solution cell, its check
cell or an earlier needed cell reads before binding it; the ``cu.setup()`` cell and cells that change
a framework's process-wide settings always run. A needed cell that raises (a file an unneeded cell
wrote) gets every skipped cell before it run, then runs again. That the skipped cells are unrelated
is shown per exercise: the lesson's own solution cell must also reach "correct" from the same
prepared namespace.

At an exercise, before its solution cell runs, each code ``cu.check.hint(id)`` shows for a framework
the exercise accepts is pasted into a shallow copy of the namespace with ``answer`` removed, after the
exercise's own setup cells (below its heading) run again there, as a learner's fresh try; then the
exercise's check cell runs there and its verdict is read through ``core.OBSERVERS``. Then the lesson's
solution cell is tried the same way, and the lesson goes on with it in the real namespace.
"""
from __future__ import annotations

import ast
import builtins
import contextlib
import io
import itertools
import json
import linecache
import os
import re
import sys
import time
import traceback

CHECK_CALL = re.compile(r"cu\.check\.(?!hint\b)(\w+)\(")
_RUNS = itertools.count()
# A cell that changes a framework's process-wide settings (logical CPUs, threads, eager mode) runs
# whatever it binds: what comes after depends on it.
GLOBAL_SETTING = re.compile(r"\b(tf\.config\.(\w+\.)*(set_|enable_|run_functions_eagerly)|torch\.set_|"
                            r"torch\.use_deterministic|torch\.backends\.[\w.]+\s*=)")
MARK = "HINT-RESULTS "  # the line the test reads (cells may print too)


def cell_names(source: str) -> tuple[set[str], set[str], set[str]]:
    """(bound, read, imported) names of a cell's code. "read" holds the names read before the cell
    binds them (free names). A name whose method is called or into which something is assigned
    (``model.fit(...)``, ``d[k] = v``) counts as bound and read: the cell changes it."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set(), set(re.findall(r"[A-Za-z_]\w*", source)), set()
    stored_at: dict[str, tuple[int, int]] = {}   # name -> where the cell first binds it
    loads: list[tuple[tuple[int, int], str]] = []
    changed, imported, local = set(), set(), set()
    handled: set[int] = set()  # Name nodes already placed (assignment targets, comprehension variables)

    def bind(name: str, where: tuple[int, int]) -> None:
        stored_at[name] = min(stored_at.get(name, where), where)

    for node in ast.walk(tree):
        if isinstance(node, ast.comprehension):
            names = [n for n in ast.walk(node.target) if isinstance(n, ast.Name)]
            local |= {n.id for n in names}
            handled |= {id(n) for n in names}
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            # the value is read before the targets are bound: bind them at the statement's end
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            end = (node.end_lineno, node.end_col_offset)
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name) and isinstance(name.ctx, ast.Store):
                        bind(name.id, end)
                        handled.add(id(name))
            if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                loads.append(((node.lineno, node.col_offset), node.target.id))
        elif isinstance(node, ast.Name) and id(node) not in handled:
            where = (node.lineno, node.col_offset)
            if isinstance(node.ctx, ast.Load):
                loads.append((where, node.id))
            else:
                bind(node.id, where)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bind(node.name, (node.lineno, node.col_offset))
            for arg in ast.walk(node.args) if not isinstance(node, ast.ClassDef) else ():
                if isinstance(arg, ast.arg):
                    local.add(arg.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                name = (alias.asname or alias.name).split(".")[0]
                imported.add(name)
                bind(name, (node.lineno, node.col_offset))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) or \
                isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, ast.Store):
            base = node.func.value if isinstance(node, ast.Call) else node.value
            while isinstance(base, (ast.Attribute, ast.Subscript)):
                base = base.value
            if isinstance(base, ast.Name):
                changed.add(base.id)
    read = {name for where, name in loads
            if name not in local and (name not in stored_at or where < stored_at[name])}
    return set(stored_at) | changed, read | (changed - set(stored_at)), imported


def load_cells(path: str) -> list[dict]:
    nb = json.load(open(path))
    cells, heading = [], 0
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and re.search(r"^#+ .*\bExercise\b", source, flags=re.M):
            heading += 1  # the code cells after it, up to the next, are that exercise's
        if cell["cell_type"] == "code":
            cells.append({"source": source, "tags": cell.get("metadata", {}).get("tags", []), "heading": heading})
    return cells


def find_exercises(cells: list[dict], check_module) -> list[dict]:
    """Each exercise: its id, its solution cell (the nearest one above) and its check cell."""
    found = []
    for index, cell in enumerate(cells):
        for name in CHECK_CALL.findall(cell["source"]):
            exercise_id = getattr(getattr(check_module, name, None), "exercise_id", None)
            if exercise_id is None or any(e["id"] == exercise_id for e in found):
                continue
            solution = max((i for i in range(index) if "solution" in cells[i]["tags"]), default=None)
            found.append({"id": exercise_id, "check": index, "solution": solution})
    return found


def needed_cells(cells: list[dict], exercises: list[dict], hints: dict[str, dict[str, str]]) -> set[int]:
    """The cells the lesson's exercises need, all together (see the module docstring)."""
    return set().union(*(exercise_cells(cells, e, hints[e["id"]]) for e in exercises))


def forced_cells(cells: list[dict]) -> set[int]:
    return {i for i, c in enumerate(cells) if "cu.setup(" in c["source"] or GLOBAL_SETTING.search(c["source"])}


def exercise_cells(cells: list[dict], exercise: dict, hints: dict[str, str]) -> set[int]:
    """The cells before an exercise's solution cell that bind or change what it reads, transitively."""
    names = [cell_names(c["source"]) for c in cells]
    # `torch.manual_seed(0)` does not rebind `torch`: a module changes only where it is imported
    modules = set().union(*(imported for _, _, imported in names))
    names = [((bound - modules) | imported, read, imported) for bound, read, imported in names]
    stop = exercise["solution"] if exercise["solution"] is not None else exercise["check"]
    keep = {i for i in forced_cells(cells) if i < stop}
    wanted = set(names[exercise["check"]][1])
    if exercise["solution"] is not None:
        wanted |= names[exercise["solution"]][1]
    for code in hints.values():
        wanted |= cell_names(code)[1]
    for i in keep:
        wanted |= names[i][1]
    for i in range(stop - 1, -1, -1):
        bound, read, _ = names[i]
        if bound & wanted:
            keep.add(i)
            wanted |= read
    return keep


def run_source(source: str, namespace: dict, label: str) -> str | None:
    """Run code in the namespace; the error's last line, or None."""
    if re.search(r"^\s*[%!]", source, flags=re.M):
        from IPython.core.inputtransformer2 import TransformerManager
        source = TransformerManager().transform_cell(source)
    # as IPython does: the source stays readable (inspect.getsource, which tf.function's AutoGraph needs)
    label = f"{label[:-1]} #{next(_RUNS)}>"
    linecache.cache[label] = (len(source), None, source.splitlines(True), label)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(source, label, "exec"), namespace)
    except BaseException as exc:  # noqa: BLE001 - SystemExit too: a cell must not end the run
        return f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
    return None


def trial(namespace: dict, code: str, check_source: str, exercise_id: str, seen: list) -> dict:
    """Paste ``code`` into a copy of the namespace without ``answer``, run the check cell: its verdict."""
    from course_utils.check import core
    copy = dict(namespace)
    copy.pop("answer", None)
    core.reset_tries()
    seen.clear()
    started = time.perf_counter()
    error = run_source(code, copy, f"<hint {exercise_id}>")
    result = {"error": error}
    if error is None:
        check_error = run_source(check_source, copy, f"<check {exercise_id}>")
        verdicts = [v for v in seen if v.exercise == exercise_id]
        result.update(check_error=check_error, status=verdicts[-1].status if verdicts else None,
                      message=verdicts[-1].message if verdicts else None)
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def main(path: str) -> None:
    path = os.path.abspath(path)
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.chdir(os.path.dirname(os.path.abspath(path)))
    sys.path.insert(0, os.getcwd())
    import course_utils.check as check_module
    from course_utils.check import core

    seen: list = []
    core.OBSERVERS.append(lambda verdict, answer: seen.append(verdict))
    cells = load_cells(path)
    exercises = find_exercises(cells, check_module)
    hints = {e["id"]: {f: core._code_for(e["id"], f)[1] for f in core.ACCEPTS.get(e["id"], ())
                       if f in core.SOLUTIONS.get(e["id"], {})} for e in exercises}
    keep = needed_cells(cells, exercises, hints)
    from IPython.display import display
    namespace = {"__name__": "__main__", "display": display}
    at_solution = {e["solution"] if e["solution"] is not None else e["check"]: e for e in exercises}
    results, cell_errors, previous_check, ran, widened = [], [], -1, set(), []
    started = time.perf_counter()
    for index, cell in enumerate(cells):
        exercise = at_solution.get(index)
        if exercise is not None:
            check_source = cells[exercise["check"]]["source"]
            between = "\n".join(cells[i]["source"] for i in range(index + 1, exercise["check"]))
            # Each try starts as a learner's fresh try: the exercise's own setup cells (after the
            # previous check, below the exercise's heading) run again first: the fresh folder 8.1 logs into.
            own_setup = sorted(i for i in exercise_cells(cells, exercise, hints[exercise["id"]])
                               if i > previous_check and cells[i]["heading"] == cell["heading"] > 0
                               and i not in forced_cells(cells) and "raises-exception" not in cells[i]["tags"])
            setup = "\n".join(cells[i]["source"] for i in own_setup)
            for framework in core.ACCEPTS.get(exercise["id"], ()):
                code = hints[exercise["id"]].get(framework)
                outcome = {"error": "no code registered"} if code is None else \
                    trial(namespace, setup + "\n" + code + "\n" + between, check_source, exercise["id"], seen)
                results.append({"id": exercise["id"], "framework": framework, **outcome})
            if exercise["solution"] is not None:
                own = trial(namespace, setup + "\n" + cell["source"] + "\n" + between, check_source, exercise["id"], seen)
                results.append({"id": exercise["id"], "framework": "lesson", **own})
        if index in keep or (exercise is not None and index in keep | {exercise["solution"]}):
            error = run_source(cell["source"], namespace, f"<cell {index}>")
            if error and "raises-exception" not in cell["tags"]:
                # a dependency the names do not show (a file an earlier cell wrote): run every
                # skipped cell before it, in order, then this one again
                widened.append(index)
                for earlier in range(index):
                    if earlier not in ran and "raises-exception" not in cells[earlier]["tags"]:
                        run_source(cells[earlier]["source"], namespace, f"<cell {earlier}>")
                        ran.add(earlier)
                error = run_source(cell["source"], namespace, f"<cell {index}>")
                if error:
                    cell_errors.append(f"cell {index}: {error}")
            ran.add(index)
        if any(e["check"] == index for e in exercises):
            previous_check = index
    print(MARK + json.dumps({"results": results, "ran": sorted(ran), "widened_at": widened, "cells": len(cells),
                      "cell_errors": cell_errors, "seconds": round(time.perf_counter() - started, 1),
                      "cpu_seconds": round(sum(os.times()[:4]), 1)}))


if __name__ == "__main__":
    try:
        main(sys.argv[1])
    except Exception:
        print(MARK + json.dumps({"crash": traceback.format_exc()[-2000:]}))
