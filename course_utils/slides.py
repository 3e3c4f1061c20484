"""Build a Reveal.js slide deck per lesson that opens from disk with no network.

nbconvert's slides exporter does the work. By default its decks load reveal.js, require.js, jQuery,
MathJax and mermaid from CDNs; here every one of them points to a copy next to the decks, taken from
``node_modules/`` (``npm ci`` installs the versions pinned in package-lock.json; ``make slides``
runs it). The output folder is self-contained: copy ``build/slides/`` to a USB stick and it works.

Slide breaks: a cell's own ``slideshow`` metadata wins (set it in JupyterLab's property inspector;
jupytext keeps it). Cells without it get one from the lesson's structure: the title and every
``##`` section start a slide, every ``###`` heading a sub-slide (down arrow), solution cells are
skipped (decks are shown to learners), and a section longer than about one screen continues on a
new sub-slide (``SCREEN_UNITS``: an estimate of lines, see ``cell_units``). What would not read on a
projector is fixed too: code and its output wrap instead of running off the right edge (``CSS``), a
progress-bar widget (tqdm) shows its text instead of blank space, and the check cell under a hidden
solution keeps its code but not its verdict ("correct." under nothing).

Used in: ``make slides`` / ``python -m course_utils slides``; tests/test_slides.py.
"""
from __future__ import annotations

import html
import copy
import re
import shutil
from pathlib import Path

import nbformat
from jinja2 import DictLoader
from nbconvert import SlidesExporter
from nbconvert.preprocessors import Preprocessor
from traitlets.config import Config

from .errors import CourseError
from .paths import course_root, lesson_notebooks, output_dir

ASSETS = "assets"
MATHJAX_CONFIG = "TeX-AMS_CHTML-full,Safe"
# What each deck needs from node_modules/, copied into <out>/assets/. MathJax 2 (the version the
# template's code is written for) loads its parts on demand: only the CommonHTML output is copied.
COPY = {
    "reveal.js/dist": "reveal.js/dist",
    "reveal.js/plugin": "reveal.js/plugin",
    "requirejs/require.js": "require.js",
    "jquery/dist/jquery.min.js": "jquery.min.js",
    "mathjax/MathJax.js": "mathjax/MathJax.js",
    f"mathjax/config/{MATHJAX_CONFIG.split(',')[0]}.js": f"mathjax/config/{MATHJAX_CONFIG.split(',')[0]}.js",
    "mathjax/config/Safe.js": "mathjax/config/Safe.js",
    "mathjax/extensions": "mathjax/extensions",
    "mathjax/jax/input/TeX": "mathjax/jax/input/TeX",
    "mathjax/jax/element": "mathjax/jax/element",
    "mathjax/jax/output/CommonHTML": "mathjax/jax/output/CommonHTML",
    "mathjax/fonts/HTML-CSS/TeX/woff": "mathjax/fonts/HTML-CSS/TeX/woff",
    "mathjax/localization/en": "mathjax/localization/en",
}
# nbconvert's reveal template, minus the two things that would still reach for the network:
# mermaid (an ES module from a CDN; no lesson uses mermaid diagrams) and the widget renderer
# (widgets are not interactive in a static deck anyway).
# Code and outputs wrap at the slide's edge (a long line would otherwise be cut off on the right);
# wrapped code keeps its indentation visible through the monospace font.
CSS = """<style>
.reveal pre, .reveal .jp-OutputArea-output pre, .reveal .highlight pre {
  white-space: pre-wrap; overflow-wrap: anywhere; word-break: normal; overflow-x: hidden; }
.reveal .jp-RenderedHTMLCommon table { font-size: 0.8em; }
.reveal .jp-RenderedHTMLCommon table { display: block; max-width: 100%; overflow-x: auto; }
.reveal .celltag_slide-compact pre, .reveal .celltag_slide-compact pre * {
  font-size: 11px !important; line-height: 1.25 !important; }
</style>"""
TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{%- block html_head_css -%}""" + CSS + """{%- endblock html_head_css -%}
"""
# How much fits on one 1280x720 screen, in the units of cell_units (about one line of code each).
SCREEN_UNITS = 26
CHARS_PER_LINE = 95  # a code line wraps after about this many characters
CHECK_CALL = re.compile(r"\bcu\.check\.\w+\(")
WIDGET = "application/vnd.jupyter.widget-view+json"


def _lines(text: str, width: int = CHARS_PER_LINE) -> int:
    return sum(max(1, -(-len(line) // width)) for line in text.splitlines()) if text else 0


def cell_units(cell) -> float:
    """A rough height of a cell on a slide, in lines of code: markdown text is larger, headings more so,
    an image takes about a third of the screen; outputs count like code."""
    if cell.cell_type == "markdown":
        units = 0.0
        for line in cell.source.splitlines():
            if line.startswith("#"):
                units += 2.5
            elif line.startswith("|"):
                units += 1.4
            elif line.strip():
                units += 1.5 * max(1, -(-len(line) // 80))
        return units
    units = float(_lines(cell.source)) + 1
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        if any(k.startswith("image/") for k in data):
            units += 12
        elif "text/html" in data:
            units += min(20, _lines("".join(data["text/html"])) / 3 + 2)
        else:
            text = out.get("text") or "".join(data.get("text/plain", "")) or "".join(out.get("traceback", []))
            units += min(25, _lines(text))
    return units


# A long printout would make its slide taller than two screens; the deck shows its start, the notebook all.
MAX_OUTPUT_LINES = 14


def shorten_output(text: str, limit: int = MAX_OUTPUT_LINES) -> str:
    """The first ``limit`` lines of a cell's printout, and how many more the notebook holds.

    >>> shorten_output("\n".join(map(str, range(20))), limit=3)
    '0\n1\n2\n… 17 more lines in the notebook\n'
    """
    lines = text.splitlines()
    if len(lines) <= limit:
        return text
    return "\n".join(lines[:limit]) + f"\n… {len(lines) - limit} more lines in the notebook\n"


def split_markdown(cell) -> list:
    """A markdown cell that holds several headed sections (a lesson's ending: Summary, the table, the
    claims) becomes one cell per section, and a long one is cut at paragraph breaks, so that each
    part can start its own (sub-)slide instead of making one slide screens tall."""
    if cell.cell_type != "markdown" or _lines(cell.source) <= SCREEN_UNITS // 2:
        return [cell]
    parts, current = [], []
    for line in cell.source.splitlines():
        starts_section = re.match(r"#{1,3} ", line) and current
        too_long = not line.strip() and _lines("\n".join(current)) > SCREEN_UNITS // 2
        if (starts_section or too_long) and any(l.strip() for l in current):
            parts.append("\n".join(current).strip("\n"))
            current = []
        current.append(line)
    if any(l.strip() for l in current):
        parts.append("\n".join(current).strip("\n"))
    if len(parts) <= 1:
        return [cell]
    out = []
    for k, text in enumerate(parts):
        piece = copy.deepcopy(cell)
        piece.source = text
        piece["id"] = f"{cell.get('id', 'md')}-{k}"
        out.append(piece)
    return out


def node_modules() -> Path:
    return course_root() / "node_modules"


def install_assets(out: Path) -> Path:
    """Copy reveal.js & co. from node_modules/ into ``out/assets`` (once; later calls reuse it)."""
    missing = [src for src in COPY if not (node_modules() / src).exists()]
    if missing:
        raise CourseError(f"node_modules/{missing[0]} is missing: run `make slides` "
                          "(it runs `npm ci` to install reveal.js from package-lock.json).")
    dest_root = out / ASSETS
    for src, dest in COPY.items():
        s, d = node_modules() / src, dest_root / dest
        if d.exists():
            continue
        d.parent.mkdir(parents=True, exist_ok=True)
        if s.is_dir():
            shutil.copytree(s, d, ignore=shutil.ignore_patterns("*.map", "*.esm.js"))
        else:
            shutil.copy2(s, d)
    return dest_root


def widget_text(model_id: str, state: dict) -> str:
    """A stored widget as one line of text, from the notebook's saved widget state: a tqdm bar (an HBox of
    HTML, progress, HTML) reads "Training: 100%|██████████| 135/135 [...]". "" when nothing is stored."""
    model = state.get(model_id, {})
    name, st = model.get("model_name", ""), model.get("state", {})
    if name in ("HTMLModel", "LabelModel"):
        return html.unescape(re.sub(r"<[^>]+>", "", str(st.get("value", "")))).replace("\u2007", " ").strip()
    if name in ("FloatProgressModel", "IntProgressModel"):
        top = float(st.get("max") or 1)
        full = max(0, min(10, round(10 * float(st.get("value") or 0) / top)))
        return "|" + "█" * full + " " * (10 - full) + "|"
    if name in ("HBoxModel", "VBoxModel"):
        parts = [widget_text(str(c).removeprefix("IPY_MODEL_"), state) for c in st.get("children", [])]
        return " ".join(p for p in parts if p)
    return ""


class AutoSlidesPreprocessor(Preprocessor):
    """Give cells without ``slideshow`` metadata a slide type from the lesson's headings, and start a
    new sub-slide where a section grows past ``SCREEN_UNITS``."""

    def preprocess(self, nb, resources):
        nb.cells = [part for cell in nb.cells for part in split_markdown(cell)]
        self._units = 0.0
        self._after_solution = False
        widgets = nb.get("metadata", {}).get("widgets", {})
        self._widget_state = widgets.get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        meta = cell.setdefault("metadata", {})
        tags = meta.get("tags", [])
        hidden_solution_above, self._after_solution = self._after_solution, "solution" in tags
        if cell.cell_type == "code" and hidden_solution_above and CHECK_CALL.search(cell.source):
            cell.outputs = []  # the verdict of a solution the deck does not show
        if cell.cell_type == "code":
            if _lines(cell.source) > SCREEN_UNITS:  # a long listing: smaller type, so it fits one screen
                meta["tags"] = tags = [*tags, "slide-compact"]
            for out in cell.get("outputs", []):
                if out.get("output_type") == "stream":
                    out["text"] = shorten_output("".join(out.get("text", "")))
                data = out.get("data", {})
                if "text/plain" in data and WIDGET not in data:
                    data["text/plain"] = shorten_output("".join(data["text/plain"]))
                if WIDGET in data:  # a widget cannot run in a static deck: show its last state as text
                    text = widget_text(data[WIDGET].get("model_id", ""), self._widget_state)
                    data["text/plain"] = text or data.get("text/plain", "")
                    del data[WIDGET]
        kind = meta.get("slideshow", {}).get("slide_type")
        if kind is None:
            first = cell.source.lstrip().splitlines()[0] if cell.source.strip() else ""
            if "solution" in tags or "instructor-only" in tags:
                kind = "skip"
            elif cell.cell_type == "markdown" and re.match(r"#{1,2} ", first):
                kind = "slide"
            elif cell.cell_type == "markdown" and first.startswith("### "):
                kind = "subslide"
            elif self._units > 0 and self._units + cell_units(cell) > SCREEN_UNITS:
                kind = "subslide"  # the section goes on below (down arrow)
            else:
                kind = "-"
            meta["slideshow"] = {"slide_type": kind}
        if kind in ("slide", "subslide"):
            self._units = 0.0
        if kind not in ("skip", "notes"):
            self._units += cell_units(cell)
        return cell, resources


def exporter() -> SlidesExporter:
    """nbconvert's SlidesExporter, every URL pointing into ``assets/`` next to the deck."""
    c = Config()
    c.SlidesExporter.reveal_url_prefix = f"{ASSETS}/reveal.js"
    # "white": its font ships in dist/theme/fonts; "simple" and others @import Google Fonts.
    c.SlidesExporter.reveal_theme = "white"
    c.SlidesExporter.reveal_scroll = True
    c.SlidesExporter.reveal_number = "c/t"
    c.SlidesExporter.require_js_url = f"{ASSETS}/require.js"
    c.SlidesExporter.jquery_url = f"{ASSETS}/jquery.min.js"
    c.SlidesExporter.mathjax_url = f"{ASSETS}/mathjax/MathJax.js?config={MATHJAX_CONFIG}"
    c.SlidesExporter.mermaid_js_url = ""
    c.SlidesExporter.exclude_input_prompt = True
    c.SlidesExporter.exclude_output_prompt = True
    c.SlidesExporter.template_file = "course_reveal.html.j2"
    return SlidesExporter(config=c, extra_loaders=[DictLoader({"course_reveal.html.j2": TEMPLATE})])


def deck(notebook: str | Path, out: str | Path) -> Path:
    """Write ``<out>/<name>.slides.html`` for one notebook; assets must already be in ``out``."""
    notebook, out = Path(notebook), Path(out)
    nb = nbformat.read(notebook, as_version=4)
    # before the exporter's own reveal preprocessor, which groups cells into slides by their types
    nb, _ = AutoSlidesPreprocessor().preprocess(nb, {})
    body, _ = exporter().from_notebook_node(nb, resources={"metadata": {"name": notebook.stem}})
    dest = out / f"{notebook.stem}.slides.html"
    dest.write_text(body, encoding="utf-8")
    return dest


def build(out_dir: str | Path = "build/slides", notebooks: list[Path] | None = None) -> list[Path]:
    """Decks for every lesson (or the given notebooks), the assets, and an index page.

    >>> decks = build("build/slides")    # doctest: +SKIP
    >>> decks[0].name                    # doctest: +SKIP
    '00_setup_check.slides.html'
    """
    out = output_dir(out_dir)
    install_assets(out)
    paths = notebooks if notebooks is not None else lesson_notebooks()
    decks = [deck(p, out) for p in paths]
    items = "\n".join(f'<li><a href="{html.escape(d.name)}">{html.escape(_title(p))}</a></li>'
                      for d, p in zip(decks, paths))
    (out / "index.html").write_text(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Slides</title></head>\n"
        f"<body><h1>PyTorch and TensorFlow, side by side: slides</h1>\n<ul>\n{items}\n</ul></body></html>\n",
        encoding="utf-8")
    return decks


def _title(notebook: Path) -> str:
    nb = nbformat.read(notebook, as_version=4)
    first = nb.cells[0].source.splitlines()[0] if nb.cells and nb.cells[0].source else notebook.stem
    return first.lstrip("# ").strip()


def main(out_dir: str = "build/slides", notebooks: list[str] | None = None) -> int:
    """Command line: build the decks, one line per deck with its number of slides."""
    decks = build(out_dir, [Path(p) for p in notebooks] if notebooks else None)
    for d in decks:
        text = d.read_text(encoding="utf-8")
        print(f"{d.name}: {text.count('<section')} sections, opens offline from {d.parent.name}/")
    return 0
