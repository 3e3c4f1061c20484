"""Notebook structure (STYLE.md), checked without a kernel. Each rule names the notebook and cell."""
from __future__ import annotations

import re

import jupytext
import pytest

from notebook_rules import NOTEBOOKS, ROOT, headings, minutes, number_of, read, tags

IDS = [p.name for p in NOTEBOOKS]


def test_there_are_lessons():
    assert NOTEBOOKS, "no notebooks/NN_*.ipynb found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_title_carries_the_file_number(path):
    nb = read(path)
    first = nb.cells[0]
    assert first.cell_type == "markdown"
    assert re.match(rf"# {path.name[:2]} · \S", first.source), f"{path.name}: first line must be '# {path.name[:2]} · Title'"
    assert sum(1 for _, level, _ in headings(nb) if level == 1) == 1, "exactly one H1"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_header_has_time_prerequisites_objectives(path):
    nb = read(path)
    header = nb.cells[0].source
    teaching, exercises = minutes(nb)
    assert teaching > 0
    assert "**Prerequisites:**" in header
    objectives = re.findall(r"^\s*[-*] ", header.split("**Objectives:**", 1)[-1], flags=re.M)
    assert "**Objectives:**" in header and 3 <= len(objectives) <= 5, "3-5 objectives as a bullet list"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_one_setup_section_calls_cu_setup(path):
    nb = read(path)
    titles = [text for _, level, text in headings(nb) if level == 2]
    assert titles[0] == "Setup", f"{path.name}: the first section must be '## Setup'"
    setup_idx = next(i for i, level, text in headings(nb) if level == 2 and text == "Setup")
    first_code = next(c for c in nb.cells[setup_idx:] if c.cell_type == "code")
    assert "cu.setup(" in first_code.source, "the setup cell calls cu.setup(seed=...)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_fixed_ending(path):
    titles = [text for _, level, text in headings(read(path)) if level == 2]
    assert "Summary" in titles, f"{path.name}: needs '## Summary'"
    if number_of(path) >= 1:
        tail = titles[titles.index("Summary"):]
        assert tail[:2] == ["Summary", "PyTorch vs TensorFlow"], f"{path.name}: Summary, then 'PyTorch vs TensorFlow'"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_the_minute_card_is_last(path):
    """Issue 34: the one-minute card is every lesson's last two cells: the markdown invitation,
    then ``cu.feedback("NN", clarity=None, comment="")`` with the lesson's own number (records nothing
    as shipped; never waits for input, so Run All goes through)."""
    nb = read(path)
    cards = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "cu.feedback(" in c.source]
    assert cards, f"{path.name}: ends with the one-minute card (see course_utils/record.py, feedback)"
    assert cards == [len(nb.cells) - 1], f"{path.name}: the cu.feedback card is the last cell (cells {cards})"
    expected = f'cu.feedback("{number_of(path):02d}", clarity=None, comment="")'
    assert nb.cells[-1].source.strip() == expected, f"{path.name}: the last cell is exactly {expected}"
    assert nb.cells[-2].cell_type == "markdown" and "One minute" in nb.cells[-2].source, \
        f"{path.name}: the card's markdown invitation comes just before it"


MAX_LESSON_CELLS = 80   # the lesson itself; the one-minute card's two cells come after it


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_a_lesson_fits_in_80_cells(path):
    cells = read(path).cells
    lesson = cells[:-2] if cells and "cu.feedback(" in cells[-1].source else cells
    assert len(lesson) <= MAX_LESSON_CELLS, f"{path.name}: {len(lesson)} cells before the minute card (at most {MAX_LESSON_CELLS})"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_every_pytorch_section_has_its_tensorflow_twin(path):
    """Within each ## section, ### PyTorch... and ### TensorFlow... headings come in pairs."""
    section, counts, problems = "(top)", {}, []
    for _, level, text in headings(read(path)) + [(None, 2, "(end)")]:
        if level <= 2:
            if counts.get("PyTorch", 0) != counts.get("TensorFlow", 0):
                problems.append(f"'{section}': {counts.get('PyTorch', 0)} PyTorch vs {counts.get('TensorFlow', 0)} TensorFlow")
            section, counts = text, {}
        elif level == 3:
            for fw in ("PyTorch", "TensorFlow"):
                if text.startswith(fw):
                    counts[fw] = counts.get(fw, 0) + 1
    assert not problems, f"{path.name}: unpaired framework sections: {problems}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_error_output_unless_tagged(path):
    for i, cell in enumerate(read(path).cells):
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if "raises-exception" in tags(cell):
            assert errors, f"{path.name} cell {i}: tagged raises-exception but stores no error"
        else:
            assert not errors, f"{path.name} cell {i}: stores {errors[0].ename} without the raises-exception tag"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_executed_top_to_bottom(path):
    counts = [c.execution_count for c in read(path).cells if c.cell_type == "code" and c.source.strip()]
    assert None not in counts, f"{path.name}: {counts.count(None)} code cells never executed — run `make regen NB={path.relative_to(ROOT)}`"
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: not executed in order in one fresh kernel"


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if number_of(p) >= 1], ids=lambda p: p.name)
def test_exercises_have_solutions_and_checks(path):
    nb = read(path)
    exercise_cells = [i for i, level, text in headings(nb) if level == 3 and text.startswith("Exercise")]
    assert 2 <= len(exercise_cells) <= 4, f"{path.name}: 2-4 exercises, found {len(exercise_cells)}"
    bounds = exercise_cells + [len(nb.cells)]
    for start, end in zip(bounds, bounds[1:]):
        block = nb.cells[start:end]
        title = nb.cells[start].source.splitlines()[0]
        assert re.match(r"### Exercise \d+\.\d+ [★☆]{3} \(~\d+ min\)", title), f"{path.name}: '{title}' — use '### Exercise N.M ★★☆ (~5 min)'"
        assert any("solution" in tags(c) for c in block), f"{path.name}: '{title}' has no cell tagged solution"
        assert any(c.cell_type == "code" and "cu.check." in c.source and "solution" not in tags(c) for c in block), \
            f"{path.name}: '{title}' has no check cell (cu.check.<name>(answer)) outside the solution"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_text_twin_in_sync(path):
    """lessons/NN_*.py (jupytext percent) holds the same cells as the notebook; `make sync` fixes it."""
    twin = ROOT / "lessons" / path.with_suffix(".py").name
    assert twin.exists(), f"missing {twin.relative_to(ROOT)} — run `make sync`"
    from_text = jupytext.read(twin)
    from_nb = read(path)
    def cells(nb):
        return [(c.cell_type, c.source.strip(), sorted(tags(c))) for c in nb.cells]
    assert cells(from_text) == cells(from_nb), f"{path.name} and {twin.name} differ — run `make sync`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_kernel_is_the_course_kernel(path):
    """Without a kernelspec JupyterLab asks the learner to pick a kernel; python3 is the course's (tools/kernel.json)."""
    assert read(path).metadata.get("kernelspec", {}).get("name") == "python3", f"{path.name}: set metadata.kernelspec.name to python3"
