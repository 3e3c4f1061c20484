"""A learner's day, played for real: their own copies survive rebuilds and `make clean`, and a check
never grades a stale answer.

1. The workspace (course_utils/kit/workspace.py, `make lab`): build it, edit an exercise, rebuild,
   `make clean` (the Makefile's own recipe, run on a temporary copy of the repository), rebuild:
   the edit is still there; a lesson only run and saved takes a course update in place (no duplicate);
   an answered lesson takes it with the answers carried over and the old copy in backups/; `refresh`
   keeps a backup.
2. The stale-answer guard (course_utils/check/core.py, registered by cu.setup): in a real kernel, an
   answer cell that raises, followed by its check, prints "fix the error above first", not a grade;
   re-running a check alone still grades; an `answer` left from another exercise is not graded.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from course_utils.kit import workspace
from notebook_rules import NOTEBOOKS, ROOT, tags

LESSONS = [p for p in NOTEBOOKS if p.name[:2] in ("01", "03")]


def first_placeholder(nb) -> int:
    return next(i for i, c in enumerate(nb.cells) if "placeholder" in tags(c))


@pytest.fixture()
def course(tmp_path):
    """A temporary course: its Makefile, two real lessons in notebooks/, and room for .venv and build/."""
    root = tmp_path / "course"
    (root / "notebooks").mkdir(parents=True)
    shutil.copy(ROOT / "Makefile", root / "Makefile")
    for p in LESSONS:
        shutil.copy(p, root / "notebooks" / p.name)
    return root


def lessons_of(root: Path) -> list[Path]:
    return sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def course_update(root: Path, text: str = "An erratum, added after the first build.") -> None:
    """The course moves on: every lesson gets a new markdown cell near its top."""
    for p in lessons_of(root):
        src = nbformat.read(p, as_version=4)
        src.cells.insert(1, nbformat.v4.new_markdown_cell(text))
        nbformat.write(src, p)


def run_and_save(path: Path) -> None:
    """What Run All + Save leaves in a copy: outputs, execution counts, kernel metadata; no source changed."""
    nb = nbformat.read(path, as_version=4)
    for k, c in enumerate(c for c in nb.cells if c.cell_type == "code"):
        c.execution_count = k + 1
        c.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"ran cell {k}\n")]
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.9"}
    nbformat.write(nb, path)


def test_a_learners_day_loses_nothing(course):
    ws = course / "workspace"
    report = workspace.build(ws, lessons_of(course))
    assert sorted(report.added) == [p.name for p in LESSONS]
    assert (ws / workspace.MANIFEST).exists()

    # The learner answers the first exercise of lesson 03 and saves.
    mine = ws / LESSONS[1].name
    nb = nbformat.read(mine, as_version=4)
    i = first_placeholder(nb)
    nb.cells[i].source = "answer = W.transpose(2, 3, 1, 0)  # my answer"
    nbformat.write(nb, mine)
    edited = mine.read_bytes()

    report = workspace.build(ws, lessons_of(course))
    assert report.kept == [mine.name] and not report.added and not report.updated and not report.merged
    assert mine.read_bytes() == edited

    # `make clean`, the Makefile's own recipe, in the temporary course: .venv and build/'s caches go; the
    # workspace and the learner's record (build/record/, course_utils/record.py) stay.
    (course / ".venv").mkdir()
    (course / "build" / "learner").mkdir(parents=True)
    (course / "build" / "record").mkdir()
    record = course / "build" / "record" / "log.jsonl"
    record.write_text('{"exercise": "1.1", "status": "correct"}\n')
    run = subprocess.run(["make", "--no-print-directory", "-C", str(course), "clean"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert not (course / ".venv").exists() and sorted(p.name for p in (course / "build").iterdir()) == ["record"]
    assert record.read_text() == '{"exercise": "1.1", "status": "correct"}\n', "make clean touched the learner's record"
    assert mine.read_bytes() == edited, "make clean touched the learner's copy"

    # The course moves on: both lessons change, and a new lesson appears.
    course_update(course)
    new_lesson = course / "notebooks" / "07_new.ipynb"
    shutil.copy(LESSONS[0], new_lesson)

    report = workspace.build(ws, lessons_of(course))
    assert report.merged == [mine.name] and report.carried == {mine.name: 1}
    assert "An erratum" in mine.read_text() and "# my answer" in mine.read_text()
    backup = ws / report.backups[mine.name]
    assert backup.parent.name == "backups" and backup.read_bytes() == edited, "the copy before the update is kept"
    assert not list(ws.glob("*" + workspace.UPDATED_SUFFIX)), "no second copy of the lesson"
    assert report.updated == [LESSONS[0].name], "an untouched copy takes the update in place"
    assert "An erratum" in (ws / LESSONS[0].name).read_text()
    assert report.added == ["07_new.ipynb"]
    lines = report.lines()
    assert len(lines) == len(lessons_of(course)) + 1, "one line per lesson, then a summary"
    assert any(mine.name in line and "1 answer carried over" in line and "backups/" in line for line in lines), lines

    # Built once more: nothing changes, nothing is lost.
    after = mine.read_bytes()
    report = workspace.build(ws, lessons_of(course))
    assert mine.read_bytes() == after and report.kept == [mine.name] and not report.updated and not report.merged

    # On request only: the fresh copy, with the learner's kept in backups/.
    backup = workspace.refresh(ws, "03", lessons_of(course))
    assert backup is not None and backup.read_bytes() == after
    assert "my answer" not in mine.read_text() and "An erratum" in mine.read_text()
    assert workspace.build(ws, lessons_of(course)).unchanged == [p.name for p in lessons_of(course)]


def test_ran_and_saved_then_the_course_updated_no_duplicate(course):
    """Run All + Save does not make a copy the learner's: the update replaces it, with no .updated beside it."""
    ws = course / "workspace"
    workspace.build(ws, lessons_of(course))
    ran = ws / LESSONS[0].name
    run_and_save(ran)
    assert "ran cell 0" in ran.read_text()
    report = workspace.build(ws, lessons_of(course))
    assert report.unchanged == [p.name for p in LESSONS], "outputs alone are not a change"
    course_update(course)
    report = workspace.build(ws, lessons_of(course))
    assert report.updated == [p.name for p in LESSONS] and not report.merged and not report.beside
    assert "An erratum" in ran.read_text()
    assert sorted(p.name for p in ws.glob("*.ipynb")) == [p.name for p in LESSONS], "no second copy of a lesson"
    assert all(": updated (you had not changed it)" in line for line in report.lines()[:-1])
    assert "ran cell 0" in (ws / report.backups[ran.name]).read_text(), "the run's outputs are kept in backups/"
    assert ran.name not in report.backups or "backups/" in report.line(ran.name)


def test_answered_then_updated_answers_carried_over(course):
    """Every answer the learner wrote (and ran) reaches the new version; unanswered cells take the new placeholder."""
    ws = course / "workspace"
    workspace.build(ws, lessons_of(course))
    mine = ws / LESSONS[1].name
    run_and_save(mine)
    nb = nbformat.read(mine, as_version=4)
    answer_cells = [i for i, c in enumerate(nb.cells) if "placeholder" in tags(c)]
    assert len(answer_cells) >= 2
    for k, i in enumerate(answer_cells[:-1]):   # all but the last answered
        nb.cells[i].source = f"answer = {k}  # learner answer {k}"
    nbformat.write(nb, mine)
    before = mine.read_bytes()
    untouched_placeholder = nb.cells[answer_cells[-1]].source

    course_update(course, "Errata: a clearer sentence.")
    report = workspace.build(ws, lessons_of(course))
    assert report.merged == [mine.name] and report.carried[mine.name] == len(answer_cells) - 1
    new = nbformat.read(mine, as_version=4)
    assert new.cells[1].source == "Errata: a clearer sentence."
    new_answers = [c for c in new.cells if "placeholder" in tags(c)]
    assert [c.source for c in new_answers[:-1]] == [f"answer = {k}  # learner answer {k}"
                                                     for k in range(len(answer_cells) - 1)]
    assert new_answers[-1].source == untouched_placeholder
    assert (ws / report.backups[mine.name]).read_bytes() == before
    assert not list(ws.glob("*" + workspace.UPDATED_SUFFIX))


def test_a_damaged_manifest_means_nothing_is_lost(course):
    ws = course / "workspace"
    workspace.build(ws, lessons_of(course))
    (ws / workspace.MANIFEST).write_text("{not json")
    target = ws / LESSONS[0].name
    target.write_text(target.read_text().replace("answer = ...", "answer = 42", 1))
    before = target.read_bytes()
    report = workspace.build(ws, lessons_of(course))
    assert target.read_bytes() == before and report.kept == [target.name], "the lesson did not change: kept as it is"
    (ws / workspace.PRISTINE).rename(ws / "gone")   # nothing known about the copies at all
    (ws / workspace.MANIFEST).unlink()
    report = workspace.build(ws, lessons_of(course))
    assert report.merged == [target.name] and "answer = 42" in target.read_text()
    assert (ws / report.backups[target.name]).read_bytes() == before


def test_an_unreadable_copy_is_never_touched(course):
    ws = course / "workspace"
    workspace.build(ws, lessons_of(course))
    target = ws / LESSONS[0].name
    target.write_text("{ half a notebook")
    course_update(course)
    report = workspace.build(ws, lessons_of(course))
    assert target.read_text() == "{ half a notebook" and report.beside == [target.name]
    assert "An erratum" in (ws / (target.stem + workspace.UPDATED_SUFFIX)).read_text()


def test_an_older_manifest_still_knows_the_course_copies(course):
    """Workspaces built before the source fingerprint recorded whole-file hashes: still the course's copies."""
    import json

    ws = course / "workspace"
    workspace.build(ws, lessons_of(course))
    data = json.loads((ws / workspace.MANIFEST).read_text())
    for name in data["copies"]:
        h = workspace.sha256((ws / name).read_bytes())
        data["copies"][name] = {"written": h, "built": h}
    (ws / workspace.MANIFEST).write_text(json.dumps(data))
    course_update(course)
    report = workspace.build(ws, lessons_of(course))
    assert report.updated == [p.name for p in LESSONS] and not report.merged


def test_the_makefile_serves_the_workspace_and_clean_spares_it():
    text = (ROOT / "Makefile").read_text()
    clean = text.split("\nclean:", 1)[1].split("\n\n", 1)[0]
    removing = [line for line in clean.splitlines() if "rm " in line]
    assert removing and not any("workspace" in line or "WORKSPACE" in line for line in removing), removing
    assert "LAB_DIR ?= $(WORKSPACE)" in text and "lab-instructor:" in text
    assert "workspace/" in (ROOT / ".gitignore").read_text().split()


# --- the stale-answer guard, in a real kernel --------------------------------------------------------

def cell(source: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(source)


def run_cells(sources: list[str], tmp_path) -> list[str]:
    """Execute the cells in one course kernel (errors allowed, as a learner meets them); each cell's stdout."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [cell(s) for s in sources]
    NotebookClient(nb, kernel_name="python3", timeout=120, allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    return ["".join(o.get("text", "") for o in c.outputs if o.output_type == "stream") for c in nb.cells]


STALE = [
    "import course_utils as cu\ncu.setup(seed=0)",                     # 0
    "answer = 4",                                                      # 1  Exercise 4.1's answer cell
    "cu.check.tracing_count(answer)",                                  # 2  -> correct
    "answer = 'block3'\n  oops = 1",                                   # 3  5.3's answer cell: IndentationError
    "cu.check.first_bad_layer(answer)",                                # 4  -> fix the error above first
    "cu.check.first_bad_layer(answer)",                                # 5  re-run alone: answer is still 4.1's
    "answer = 'block3'",                                               # 6  fixed
    "cu.check.first_bad_layer(answer)",                                # 7  -> correct
    "cu.check.first_bad_layer(answer)",                                # 8  re-run alone -> still graded
    "print(answer.upper())",                                           # 9  a look at the answer
    "cu.check.first_bad_layer(answer)",                                # 10 -> still graded
    "answer = blok3",                                                  # 11 a typo: NameError
    "cu.check.first_bad_layer(answer)",                                # 12 -> fix the error above first
    "cu.check.tracing_count(answer)",                                  # 13 out of order: 5.3's answer, not graded
    "answer = 4",                                                      # 14
    "cu.check.tracing_count(answer)",                                  # 15 same int object as before: graded
    "answer = 'block1'\ncu.check.first_bad_layer(answer)",             # 16 answer and check in one cell: graded
    "cu.check.hint('5.3')",                                            # 17 the code, on request
]


def test_a_failing_answer_cell_is_not_graded_in_a_real_kernel(tmp_path):
    out = [" ".join(o.split()) + "\n" for o in run_cells(STALE, tmp_path)]   # the checks wrap long lines
    fix_first = "the answer cell above raised an error: fix the error above first, then run this cell again."
    assert out[2].startswith("Exercise 4.1 — correct."), out[2]   # the wording is the check's (lesson04.py)
    assert out[4] == f"Exercise 5.3 — {fix_first}\n", out[4]
    assert "has not changed since you checked Exercise 4.1" in out[5], out[5]
    assert "correct" not in out[4] + out[5] and "not quite" not in out[4] + out[5]
    for i in (7, 8, 10):
        assert out[i].startswith("Exercise 5.3 — correct."), (i, out[i])
    assert out[12] == f"Exercise 5.3 — {fix_first}\n", out[12]
    assert "has not changed since you checked Exercise 5.3" in out[13], out[13]
    assert out[15].startswith("Exercise 4.1 — correct."), out[15]
    assert out[16].startswith("Exercise 5.3 — not quite:") and "block1" in out[16], out[16]
    assert out[17].startswith("Exercise 5.3 — the code:"), out[17]


def test_without_setup_every_answer_is_graded(tmp_path):
    """No cu.setup(): no hooks, so nothing is refused (as in plain Python)."""
    out = run_cells(["import course_utils as cu", "answer = 4", "answer = 'x'\n  oops", "cu.check.tracing_count(answer)"],
                    tmp_path)
    assert out[3].startswith("Exercise 4.1 — correct."), out[3]


def test_plain_python_grades_normally():
    from course_utils.check import core

    assert core.track_answers() is False and core._TRACKER is None
    assert core._binds_answer("x, answer = 1, 2") and core._binds_answer("for answer in range(3):\n    pass")
    assert not core._binds_answer("def f():\n    answer = 1") and not core._binds_answer("answer == 3")
    assert core._binds_answer("answer = 1\n  bad indent")


# --- a quiet start -----------------------------------------------------------------------------------

NOISE = ("cudart_stub", "cuInit", "absl::InitializeLog")


def test_the_doctor_prints_no_tensorflow_noise():
    """`make doctor`'s report is what learners paste: no "Could not find cuda drivers" lines in it."""
    import sys

    run = subprocess.run([sys.executable, "-m", "course_utils", "doctor"], capture_output=True, text=True, timeout=300)
    assert "[OK] tensorflow devices" in run.stdout, run.stdout[-500:]
    assert not any(n in run.stdout + run.stderr for n in NOISE), run.stderr[-500:]


def test_the_noise_filter_keeps_real_errors():
    import sys

    code = ("import os\nfrom course_utils.kit.doctor import tf_noise_filtered\nwith tf_noise_filtered():\n"
            "    os.write(2, b'I0000 cudart_stub.cc:31] Could not find cuda drivers\\n')\n"
            "    os.write(2, b'a real problem\\n')\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.stderr == "a real problem\n", run.stderr


def test_postbuild_installs_the_course_kernel_settings_and_workspace(tmp_path):
    """Binder / the conda route: postBuild puts the same kernel and lab settings as `make install` into the
    environment it runs in, and builds the workspace (here into a temporary course and prefix)."""
    import json
    import os
    import sys

    course = tmp_path / "course"
    shutil.copytree(ROOT / "tools", course / "tools")
    shutil.copy(ROOT / "postBuild", course / "postBuild")
    (course / "notebooks").mkdir()
    shutil.copy(LESSONS[0], course / "notebooks" / LESSONS[0].name)
    prefix, bin_dir = tmp_path / "prefix", tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").write_text(  # `python` as postBuild finds it: this prefix, the course's Python
        f'#!/bin/bash\nif [ "$1" = -c ]; then echo {prefix}; else exec {sys.executable} "$@"; fi\n')
    (bin_dir / "python").chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", COURSE_ROOT=str(course))
    run = subprocess.run(["bash", str(course / "postBuild")], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    kernel = json.loads((prefix / "share/jupyter/kernels/python3/kernel.json").read_text())
    assert kernel == json.loads((ROOT / "tools/kernel.json").read_text())
    overrides = json.loads((prefix / "share/jupyter/lab/settings/overrides.json").read_text())
    assert overrides["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
    assert (course / "workspace" / LESSONS[0].name).exists()


def test_the_lab_settings_key_is_jupyterlabs_own():
    """overrides.json names a real plugin and a real value of its schema (jupyterlab as installed)."""
    import json
    import sys

    schema = Path(sys.prefix) / "share/jupyter/lab/schemas/@jupyterlab/apputils-extension/notification.json"
    if not schema.exists():
        pytest.skip(f"no JupyterLab schemas in {sys.prefix}")
    props = json.loads(schema.read_text())["properties"]
    overrides = json.loads((ROOT / "tools/jupyter_settings/overrides.json").read_text())
    for key, value in overrides["@jupyterlab/apputils-extension:notification"].items():
        assert key in props
        allowed = [c["const"] for c in props[key].get("oneOf", [])]
        assert not allowed or value in allowed, (key, value, allowed)


def test_make_lab_drops_tensorflows_start_up_lines_from_the_terminal(tmp_path):
    """The kernels' fd-2 output reaches `make lab`'s terminal; the Makefile filters TF's CUDA lines there.

    The Makefile's own lab recipe, run in a temporary copy with a stand-in `jupyter` that prints what a
    kernel importing TensorFlow prints, plus a line that must survive.
    """
    course = tmp_path / "course"
    (course / ".venv" / "bin").mkdir(parents=True)
    shutil.copy(ROOT / "Makefile", course / "Makefile")
    fake = course / ".venv" / "bin" / "jupyter"
    fake.write_text("#!/bin/bash\n"
                    "echo 'WARNING: All log messages before absl::InitializeLog() is called are written to STDERR' >&2\n"
                    "echo 'I0000 00:00:1 1 cudart_stub.cc:31] Could not find cuda drivers on your machine' >&2\n"
                    "echo 'E0000 00:00:1 1 cuda_platform.cc:52] failed call to cuInit: INTERNAL' >&2\n"
                    "echo '    http://127.0.0.1:8888/lab?token=abc' >&2\n"
                    "echo 'Traceback: a real error' >&2\n")
    fake.chmod(0o755)
    run = subprocess.run(["make", "--no-print-directory", "-C", str(course), "lab", "LAB_DIR=notebooks",
                          "-o", ".venv/.installed", "-o", ".venv/share/jupyter/lab/settings/overrides.json"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "token=abc" in run.stdout and "a real error" in run.stdout
    assert not any(n in run.stdout + run.stderr for n in NOISE), run.stdout
