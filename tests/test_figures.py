"""Every figure in notebooks 00-14 is described in words, uses a colour-blind-safe palette and labels its axes.

The rules (docs for lesson authors; checked from the committed notebooks, nothing is re-executed):

1. Description: the cell right after a code cell with an image output is a markdown cell whose first
   paragraph starts with ``*Figure:*`` and is one sentence (8+ words, ending with a full stop, no
   second sentence): what the plot shows and what to see in it. The website uses it as the image's
   alt text too (website/build.py).
2. Palette: the notebook calls ``cu.setup(`` before its first figure (it makes seaborn's
   ``colorblind`` palette matplotlib's colour cycle, session.COLORBLIND_CYCLE); a figure cell names no
   other palette: ``palette=`` / ``cmap=`` only from SAFE_MAPS (perceptually uniform or single-hue
   sequential maps, readable with colour-vision deficiencies), ``color=`` only a colour of the cycle,
   black or grey.
3. Axes: a figure cell either labels both axes itself (``xlabel`` and ``ylabel`` in any form:
   ``ax.set(xlabel=..., ylabel=...)``, ``set_xlabel``, ``plt.xlabel``, ``set_axis_labels``), or plots
   with seaborn from named data columns (``x="..."`` and ``y="..."``: seaborn writes the column names
   on the axes; a distribution plot with ``x=`` alone labels its y axis with the statistic), or draws a
   diagram with a helper in DIAGRAMS (its axes are switched off, proven below). A picture that has no
   axes (an image of a digit) is a cell tagged ``figure-picture``.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb") if int(p.name[:2]) <= 14)
PREFIX = "*Figure:*"
PICTURE_TAG = "figure-picture"
SAFE_MAPS = {"colorblind", "viridis", "cividis", "magma", "inferno", "plasma", "mako", "rocket",
             "Blues", "Greens", "Greys", "Oranges", "Purples", "gray", "binary", "gray_r", "binary_r"}
PLAIN_COLOURS = {"k", "black", "gray", "grey", "0.5", "0.3", "0.7"}
DIAGRAMS = {"graphs.draw_graph"}   # course helpers that draw a diagram with its axes off
DISTRIBUTIONS = {"displot", "histplot", "kdeplot", "ecdfplot"}


def has_image(cell) -> bool:
    return cell.cell_type == "code" and any(
        any(k.startswith("image/") for k in out.get("data", {})) for out in cell.get("outputs", []))


def figure_cells(nb):
    """(index, cell) of every code cell with an image output."""
    return [(i, c) for i, c in enumerate(nb.cells) if has_image(c)]


def figures():
    found = []
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        found += [pytest.param(path, nb, i, id=f"{path.stem}-cell{i}") for i, _ in figure_cells(nb)]
    return found


FIGURES = figures()


def description_problem(nb, index: int) -> str | None:
    """None when the cell after ``nb.cells[index]`` describes the figure by rule 1, else what is wrong."""
    after = nb.cells[index + 1] if index + 1 < len(nb.cells) else None
    if after is None or after.cell_type != "markdown":
        return "no markdown cell right after the figure"
    paragraph = after.source.strip().split("\n\n")[0]
    if not paragraph.startswith(PREFIX):
        return f"the markdown cell after the figure does not start with {PREFIX!r}"
    sentence = " ".join(paragraph[len(PREFIX):].split())
    if len(sentence.split()) < 8:
        return f"the description is too short to say what the plot shows: {sentence!r}"
    if not sentence.endswith("."):
        return f"the description is not a sentence ending with a full stop: {sentence!r}"
    if re.search(r"[.!?] +[A-Z]", sentence[:-1]):
        return f"the description is more than one sentence: {sentence!r}"
    return None


def calls(source: str) -> list[ast.Call]:
    try:
        tree = ast.parse(source)
    except SyntaxError:   # IPython magics: no plot call to check in such a cell
        return []
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)]


def dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else ""


def palette_problems(source: str) -> list[str]:
    from course_utils.session import COLORBLIND_CYCLE

    problems = []
    for call in calls(source):
        for kw in call.keywords:
            value = kw.value.value if isinstance(kw.value, ast.Constant) else None
            if kw.arg in ("palette", "cmap") and value not in SAFE_MAPS:
                problems.append(f"{kw.arg}={ast.unparse(kw.value)} is not one of the colour-blind-safe maps")
            if kw.arg in ("color", "c") and value not in PLAIN_COLOURS | set(COLORBLIND_CYCLE):
                problems.append(f"{kw.arg}={ast.unparse(kw.value)}: use the palette's colours (the default cycle)")
    return problems


def axes_labelled(source: str) -> bool:
    if "xlabel" in source and "ylabel" in source or "set_axis_labels(" in source:
        return True
    for call in calls(source):
        name = dotted(call.func)
        if name in DIAGRAMS:
            return True
        if name.startswith("sns."):
            named = {kw.arg for kw in call.keywords if isinstance(kw.value, ast.Constant)
                     and isinstance(kw.value.value, str)}
            if {"x", "y"} <= named or ("x" in named and name[4:] in DISTRIBUTIONS):
                return True
    return False


def test_there_are_figures_to_check():
    assert len(FIGURES) >= 8, f"expected the course's figures (8 in lessons 03-12), found {len(FIGURES)}"


@pytest.mark.parametrize("path, nb, index", FIGURES)
def test_figure_is_described(path, nb, index):
    problem = description_problem(nb, index)
    assert problem is None, f"{path.name} cell {index}: {problem} (rule: tests/test_figures.py, 1)"


@pytest.mark.parametrize("path, nb, index", FIGURES)
def test_figure_uses_the_colour_blind_palette(path, nb, index):
    setup_at = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "cu.setup(" in c.source), None)
    assert setup_at is not None and setup_at < index, f"{path.name}: no cu.setup() before the figure in cell {index}"
    problems = palette_problems(nb.cells[index].source)
    assert not problems, f"{path.name} cell {index}: " + "; ".join(problems)


@pytest.mark.parametrize("path, nb, index", FIGURES)
def test_figure_labels_its_axes(path, nb, index):
    cell = nb.cells[index]
    if PICTURE_TAG in cell.metadata.get("tags", []):
        return
    assert axes_labelled(cell.source), (f"{path.name} cell {index}: no axis labels (xlabel and ylabel, seaborn "
                                        f"x=/y= columns, or a diagram helper; rule: tests/test_figures.py, 3)")


# --- the rules themselves can fail -----------------------------------------------------------------

def notebook_of(*cells):
    return nbformat.v4.new_notebook(cells=list(cells))


def image_cell(source="plt.plot(x, y)"):
    cell = nbformat.v4.new_code_cell(source)
    cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"})]
    return cell


@pytest.mark.parametrize("text, ok", [
    ("*Figure:* loss against step for both runs; the two lines lie on top of each other.", True),
    ("*Figure:* loss against step for both runs. The two lines lie on top of each other.", False),
    ("*Figure:* loss against step.", False),
    ("The loss against step for both runs; the two lines lie on top of each other.", False),
    ("*Figure:* loss against step for both runs; the two lines lie on top of each other", False),
])
def test_description_rule(text, ok):
    nb = notebook_of(image_cell(), nbformat.v4.new_markdown_cell(text))
    assert (description_problem(nb, 0) is None) is ok
    assert description_problem(notebook_of(image_cell(), nbformat.v4.new_code_cell("x")), 0) is not None


@pytest.mark.parametrize("source, ok", [
    ('sns.lineplot(data=d, x="step", y="loss")', True),
    ('sns.heatmap(m, cmap="Blues", ax=ax)', True),
    ('sns.lineplot(data=d, x="step", y="loss", palette="Set1")', False),
    ('plt.imshow(m, cmap="jet")', False),
    ('ax.plot(x, y, color="red")', False),
    ('ax.axhline(p, color="k")', True),
])
def test_palette_rule(source, ok):
    assert (not palette_problems(source)) is ok


@pytest.mark.parametrize("source, ok", [
    ('ax.plot(x, y)\nax.set(xlabel="n", ylabel="GFLOP/s")', True),
    ('sns.relplot(data=d, x="step", y="loss")', True),
    ('sns.displot(data=d, x="weight", stat="density")', True),
    ('ax.plot(x, y)\nax.set(title="speed")', False),
    ('sns.lineplot(x=a, y=b)', False),   # arrays, not named columns: seaborn writes no names
    ('fig = graphs.draw_graph(nodes, title="g")', True),
])
def test_axes_rule(source, ok):
    assert axes_labelled(source) is ok


def test_diagram_helpers_switch_their_axes_off():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_utils.lessons import graphs

    nodes = [("x", "Placeholder", []), ("y", "Relu", ["x"])]   # graphs.Node: (name, op, inputs)
    fig = graphs.draw_graph(nodes, title="t")
    try:
        assert fig.axes and not any(ax.axison for ax in fig.axes)
    finally:
        plt.close(fig)


def test_setup_palette_is_seaborns_colorblind():
    import seaborn as sns

    from course_utils.session import COLORBLIND_CYCLE

    assert list(COLORBLIND_CYCLE) == sns.color_palette("colorblind").as_hex()
