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

Made for teaching, not for reading (issue 35):

- a prose paragraph becomes one short bullet on screen (its first sentence, cut at a clause after
  about ``BULLET_WORDS`` words); the cell's full text goes into the speaker notes
  (``<aside class="notes">``, reveal.js's notes view: press ``s``);
- a PyTorch cell followed by its "### TensorFlow" heading and cell share one slide, side by side,
  when both halves fit half a screen (``pair_cells``);
- an error output shows only its last line (``ValueError: ...``), and absolute paths in outputs are
  cut down to the part after ``site-packages/`` or the course folder;
- the index page lists the decks with their titles rendered (code in ``<code>``), styled.

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

from ..base.errors import CourseError
from ..base.paths import course_root, lesson_notebooks, output_dir

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
.reveal .slides section::after { content: ""; display: block; clear: both; }
.reveal .celltag_pair-left { float: left; clear: both; width: 49%; }
.reveal .celltag_pair-right { margin-left: 51%; }
.reveal .celltag_pair-right + .jp-Cell:not(.celltag_pair-right) { clear: both; }
.reveal .celltag_pair-left pre, .reveal .celltag_pair-right pre, .reveal .celltag_pair-left pre *,
.reveal .celltag_pair-right pre * { font-size: 15px !important; line-height: 1.3 !important; }
.reveal .celltag_pair-first::before { content: "PyTorch"; display: block; font-weight: bold;
  font-size: 0.75em; margin: 0.2em 0; }
.reveal .celltag_pair-right h3 { font-size: 0.75em; margin: 0.2em 0; }
.reveal .celltag_error-line pre { color: #b00020; }
.reveal .jp-OutputArea-output img { max-height: 420px; width: auto; }
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


TABLE_ROWS = 8  # a markdown table longer than this continues on the next sub-slide, its header repeated


def split_tables(text: str, rows: int = TABLE_ROWS) -> str:
    r"""Cut a long markdown table into tables of ``rows`` rows, each with the header repeated and a blank
    line between them (the paragraph break ``split_markdown`` cuts at).

    >>> print(split_tables("| a |\n|---|\n| 1 |\n| 2 |\n| 3 |", rows=2))
    | a |
    |---|
    | 1 |
    | 2 |
    <BLANKLINE>
    | a |
    |---|
    | 3 |
    """
    out, lines, k = [], text.splitlines(), 0
    while k < len(lines):
        is_table = (lines[k].startswith("|") and k + 1 < len(lines)
                    and re.match(r"^\|[\s:|-]+\|$", lines[k + 1].strip()))
        if not is_table:
            out.append(lines[k])
            k += 1
            continue
        header, body, k = lines[k:k + 2], [], k + 2
        while k < len(lines) and lines[k].startswith("|"):
            body.append(lines[k])
            k += 1
        for start in range(0, max(len(body), 1), rows):
            if start:
                out.append("")
            out.extend(header + body[start:start + rows])
    return "\n".join(out)


def split_markdown(cell) -> list:
    """A markdown cell that holds several headed sections (a lesson's ending: Summary, the table, the
    claims) becomes one cell per section, and a long one is cut at paragraph breaks, so that each
    part can start its own (sub-)slide instead of making one slide screens tall."""
    if cell.cell_type != "markdown" or _lines(cell.source) <= SCREEN_UNITS // 2:
        return [cell]
    parts, current = [], []
    for line in split_tables(cell.source).splitlines():
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


# --- made for teaching: bullets on screen, the paragraph in the notes ---------------------------------

BULLET_WORDS = 14         # a bullet longer than this is cut at a clause (or after this many words, with "…")
MAX_BULLETS = 4           # bullets per cell on screen; the rest are in the notes
# Spans a cut must not fall inside: inline code, math, links, bold and italics.
PROTECTED = re.compile(r"`[^`]*`|\$[^$]*\$|\[[^\]]*\]\([^)]*\)|\*\*[^*]*\*\*")
BLOCK_START = re.compile(r"^\s*(#{1,6} |\||```|\$\$|!\[|<|>)")
LIST_ITEM = re.compile(r"^(\s*)([-*+]|\d+[.)])\s+(.*)$")


def _free_positions(text: str) -> list[bool]:
    """For each character: True when it is outside inline code, math, links and parentheses (a cut may go there)."""
    free = [True] * len(text)
    for m in PROTECTED.finditer(text):
        for k in range(m.start(), m.end()):
            free[k] = False
    depth = 0
    for k, ch in enumerate(text):
        if not free[k]:
            continue
        if ch in "([":
            depth += 1
        elif ch in ")]" and depth:
            depth -= 1
            free[k] = False
        if depth:
            free[k] = False
    return free


def short(text: str, words: int = BULLET_WORDS) -> str:
    """A paragraph's first sentence, cut at a clause (":", ";", "—", ",") or after ``words`` words.

    >>> short("Eager means an operation runs when its line runs. Both frameworks work this way.")
    'Eager means an operation runs when its line runs.'
    >>> short("A graph is reused for calls with the same *input signature*: for a tensor its shape and dtype, for a value")
    'A graph is reused for calls with the same *input signature*'
    """
    text = " ".join(text.split())
    free = _free_positions(text)
    end = len(text)
    for m in re.finditer(r"[.!?](?:\*\*|\*)?(?= |$)", text):
        before = text[:m.start()].rsplit(" ", 1)[-1].lower()
        if free[m.start()] and before not in ("e.g", "i.e", "etc", "vs", "cf") and not re.fullmatch(r"[a-z]", before):
            end = m.end()
            break
    sentence = text[:end]
    if len(sentence.split()) <= words:
        return sentence
    cuts = [k for k, ch in enumerate(sentence) if free[k] and (ch in ":;," or sentence[k:k + 2] in ("— ", "– "))
            and 4 <= len(sentence[:k].split()) <= words + 2]
    if cuts:
        return sentence[:cuts[-1]].rstrip()
    return " ".join(sentence.split()[:words]).rstrip(":;,.") + " …"


def _blocks(source: str) -> list[list[str]]:
    """The cell's blocks: runs of lines between blank lines, a fenced code or math block kept whole."""
    blocks, current, fence = [], [], None
    for line in source.splitlines():
        stripped = line.strip()
        if fence:
            current.append(line)
            if stripped.startswith(fence):
                fence = None
            continue
        if stripped.startswith("```") or stripped == "$$" or (stripped.startswith("$$") and not stripped.endswith("$$", 2)):
            fence = "```" if stripped.startswith("```") else "$$"
            current.append(line)
            continue
        if not stripped:
            if current:
                blocks.append(current)
            current = []
        elif stripped.startswith("#") and current:  # a heading starts its own block
            blocks.append(current)
            current = [line]
        else:
            current.append(line)
    if current:
        blocks.append(current)
    return blocks


def on_screen(source: str) -> tuple[str, bool]:
    """What a markdown cell shows on its slide, and whether it held prose (then its text goes to the notes).

    Headings, tables, code, math and images stay; a paragraph becomes one bullet; a list keeps its
    items, each cut short. At most MAX_BULLETS bullets.

    >>> on_screen("## Take a gradient\\n\\nA long first sentence here. And a second one.")
    ('## Take a gradient\\n\\n- A long first sentence here.', True)
    """
    out, bullets, prose = [], 0, False
    for block in _blocks(source):
        if block[0].lstrip().startswith("#"):
            out.append(block[0])
            block = block[1:]
            if not block:
                continue
        if BLOCK_START.match(block[0]):
            out.append("\n".join(block))
            continue
        items = [LIST_ITEM.match(line) for line in block]
        first_item = next((k for k, m in enumerate(items) if m and len(m.group(1)) < 2), None)
        if first_item:  # a lead-in line, then a list: the lead-in is a bullet of its own
            prose = True
            if bullets < MAX_BULLETS:
                out.append("- " + short(" ".join(line.strip() for line in block[:first_item])))
                bullets += 1
            block, items = block[first_item:], items[first_item:]
        if items[0]:
            lines, current = [], None
            for line, m in zip(block, items):
                if m and len(m.group(1)) < 2:
                    current = [m.group(2), m.group(3)]
                    lines.append(current)
                elif current:
                    current[1] += " " + line.strip()
            for marker, text in lines:
                prose = True
                if bullets < MAX_BULLETS:
                    out.append(f"{marker if marker[0].isdigit() else '-'} {short(text)}")
                    bullets += 1
            continue
        prose = True
        if bullets < MAX_BULLETS:
            out.append("- " + short(" ".join(line.strip() for line in block)))
            bullets += 1
    text = "\n\n".join(out)
    return re.sub(r"(?m)^(- .*)\n\n(?=- )", r"\1\n", text), prose


def teaching_cells(cell) -> list:
    """A markdown cell as [what the slide shows, its full text as speaker notes]; other cells as they are."""
    if cell.cell_type != "markdown" or "slideshow" in cell.get("metadata", {}):
        return [cell]
    visible, prose = on_screen(cell.source)
    if not prose:
        return [cell]
    shown = copy.deepcopy(cell)
    shown.source = visible
    notes = copy.deepcopy(cell)
    notes["id"] = f"{cell.get('id', 'md')}-notes"
    notes.metadata["slideshow"] = {"slide_type": "notes"}
    return [shown, notes] if visible.strip() else [notes]


# --- errors as their last line, no absolute paths -------------------------------------------------------

ANSI = re.compile(r"\x1b\[[0-9;]*m")
ABSOLUTE_PATH = re.compile(r"(?<![\w.])(?:/[\w.+@-]+)+/(?:site-packages|dist-packages)/")


def last_line(output) -> str:
    """An error output as the line a traceback ends with: ``ValueError: what went wrong`` (its first line)."""
    value = ANSI.sub("", str(output.get("evalue", ""))).strip().splitlines()
    first = value[0] if value else ""
    first = first if len(first) <= 200 else first[:197].rstrip() + "…"
    return f"{output.get('ename', 'Error')}: {first}".rstrip(": ")


def strip_paths(text: str, root: str | None = None) -> str:
    """Absolute paths cut down: ``/x/.venv/lib/python3.11/site-packages/keras/a.py`` → ``…/site-packages/keras/a.py``,
    and the course folder → ``.``."""
    text = ABSOLUTE_PATH.sub("…/site-packages/", text)
    root = root or str(course_root())
    return text.replace(root + "/", "./").replace(root, ".")


# --- PyTorch and TensorFlow side by side -------------------------------------------------------------------

PAIR_UNITS = SCREEN_UNITS - 8   # each half must fit at half width, below the slide's heading and a bullet


HALF_CHARS = 64     # characters per code line in one half (15 px type in 49% of the slide)
HALF_SCALE = 0.8    # a 15 px line is 0.8 of a full-width 19 px line


def _half_units(cell) -> float:
    """cell_units in one half of a side-by-side slide (narrower, smaller type)."""
    if cell.cell_type == "markdown":
        return cell_units(cell) * 0.8
    lines = _lines(cell.source, HALF_CHARS)
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        if any(k.startswith("image/") for k in data):
            lines += 10
        elif "text/html" in data:
            lines += min(20, _lines("".join(data["text/html"])) / 3 + 2)
        else:
            text = out.get("text") or "".join(data.get("text/plain", "")) or "".join(out.get("traceback", []))
            lines += min(MAX_OUTPUT_LINES + 1, _lines(text, HALF_CHARS))
    return 1 + HALF_SCALE * lines


def pair_cells(cells: list) -> int:
    """Tag each (PyTorch code cell, "### TensorFlow" heading, TensorFlow code cell) that fits half a screen
    per side: ``pair-left`` / ``pair-right``, so the CSS puts them side by side on one slide. Returns the
    number of pairs."""
    def is_notes(c) -> bool:
        return c.get("metadata", {}).get("slideshow", {}).get("slide_type") == "notes"

    shown = [c for c in cells if not is_notes(c)]
    pairs = 0
    for i in range(1, len(shown) - 1):
        left, head, right = shown[i - 1], shown[i], shown[i + 1]
        if not (head.cell_type == "markdown" and head.source.startswith("### TensorFlow")
                and left.cell_type == "code" and right.cell_type == "code"):
            continue
        if any(t in c.get("metadata", {}).get("tags", []) for c in (left, right)
               for t in ("solution", "instructor-only", "pair-left", "pair-right")):
            continue
        height = max(_half_units(left), _half_units(head) + _half_units(right))
        if height > PAIR_UNITS:
            continue
        left.metadata["pair_units"] = height
        for c, tag in ((left, "pair-left"), (head, "pair-right"), (right, "pair-right")):
            c.setdefault("metadata", {}).setdefault("tags", []).append(tag)
            c.metadata["pair"] = tag
        before = shown[i - 2] if i >= 2 else None
        if not (before is not None and before.cell_type == "markdown" and before.source.startswith("### PyTorch")):
            left.metadata["tags"].append("pair-first")  # no "PyTorch" heading above: the CSS labels the half
        head.metadata["slideshow"] = {"slide_type": "-"}
        right.metadata["slideshow"] = {"slide_type": "-"}
        pairs += 1
    return pairs


class AutoSlidesPreprocessor(Preprocessor):
    """Give cells without ``slideshow`` metadata a slide type from the lesson's headings, and start a
    new sub-slide where a section grows past ``SCREEN_UNITS``."""

    def preprocess(self, nb, resources):
        nb.cells = [part for cell in nb.cells for part in split_markdown(cell)]
        nb.cells = [part for cell in nb.cells for part in teaching_cells(cell)]
        self.pairs = pair_cells(nb.cells)
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
            if _lines(cell.source) > SCREEN_UNITS or cell_units(cell) > 1.5 * SCREEN_UNITS:
                # a long listing, or code with a plot and a printout under it: smaller type, so it fits
                meta["tags"] = tags = [*tags, "slide-compact"]
            if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
                meta["tags"] = tags = [*tags, "error-line"]
            cell.outputs = [nbformat.v4.new_output("stream", name="stderr", text=last_line(o) + "\n")
                            if o.get("output_type") == "error" else o for o in cell.get("outputs", [])]
            for out in cell.get("outputs", []):
                if out.get("output_type") == "stream":
                    out["text"] = strip_paths(shorten_output("".join(out.get("text", ""))))
                data = out.get("data", {})
                if "text/plain" in data and WIDGET not in data:
                    data["text/plain"] = strip_paths(shorten_output("".join(data["text/plain"])))
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
            elif self._units > 0 and self._units + meta.get("pair_units", cell_units(cell)) > SCREEN_UNITS:
                kind = "subslide"  # the section goes on below (down arrow)
            else:
                kind = "-"
            meta["slideshow"] = {"slide_type": kind}
        if kind in ("slide", "subslide"):
            self._units = 0.0
        pair = meta.get("pair")
        if pair == "pair-left":  # the pair takes the height of its taller half
            self._units += meta["pair_units"]
        elif kind not in ("skip", "notes") and pair != "pair-right":
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
    (out / "index.html").write_text(index_page(list(zip(decks, paths))), encoding="utf-8")
    return decks


INDEX_CSS = """
body { font-family: "Source Sans Pro", Helvetica, Arial, sans-serif; max-width: 52rem; margin: 3rem auto;
       padding: 0 1.5rem; color: #222; line-height: 1.5; }
h1 { font-weight: 600; margin-bottom: 0.2rem; }
p.lead { color: #555; margin-top: 0; }
ol { list-style: none; padding: 0; }
li { display: flex; gap: 1rem; align-items: baseline; padding: 0.55rem 0.2rem; border-bottom: 1px solid #e5e5e5; }
li .n { font-variant-numeric: tabular-nums; color: #888; min-width: 2ch; }
li a { color: #1a4f8b; text-decoration: none; flex: 1; }
li a:hover { text-decoration: underline; }
li .meta { color: #777; font-size: 0.9em; white-space: nowrap; }
code { font-family: "Source Code Pro", Menlo, Consolas, monospace; font-size: 0.92em; background: #f3f3f3;
       padding: 0.05em 0.3em; border-radius: 3px; }
"""


def inline_markdown(text: str) -> str:
    """A title's inline Markdown as HTML: `code` and **bold**, everything else escaped.

    >>> inline_markdown("07 · Data pipelines: `DataLoader` vs `tf.data`")
    '07 · Data pipelines: <code>DataLoader</code> vs <code>tf.data</code>'
    """
    parts = re.split(r"(`[^`]*`)", text)
    out = []
    for part in parts:
        if part.startswith("`") and part.endswith("`") and len(part) >= 2:
            out.append(f"<code>{html.escape(part[1:-1])}</code>")
        else:
            out.append(re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html.escape(part)))
    return "".join(out)


def slide_count(deck_html: str) -> int:
    """Screens in a deck: every <section> but those that only hold a vertical stack of others."""
    return len(re.findall(r"<section[\s>]", deck_html)) - len(re.findall(r"<section[^>]*>\s*<section[\s>]", deck_html))


def index_page(decks: list[tuple[Path, Path]]) -> str:
    """The decks' index: number, title (Markdown rendered), slides and notes per deck."""
    rows = []
    for deck_path, nb_path in decks:
        text = deck_path.read_text(encoding="utf-8")
        title = _title(nb_path)
        number, _, rest = title.partition(" · ")
        slides = slide_count(text)
        notes = text.count('<aside class="notes">')
        rows.append(f'<li><span class="n">{html.escape(number)}</span>'
                    f'<a href="{html.escape(deck_path.name)}">{inline_markdown(rest or title)}</a>'
                    f'<span class="meta">{slides} slides · {notes} speaker notes</span></li>')
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>Slides: PyTorch and TensorFlow, side by side</title><style>{INDEX_CSS}</style></head>\n"
            "<body><h1>PyTorch and TensorFlow, side by side</h1>\n"
            "<p class=\"lead\">One deck per lesson. Arrows move between slides; <kbd>s</kbd> opens the speaker "
            "notes (the full text of each slide); <kbd>Esc</kbd> shows the overview.</p>\n"
            f"<ol>\n" + "\n".join(rows) + "\n</ol></body></html>\n")


def _title(notebook: Path) -> str:
    nb = nbformat.read(notebook, as_version=4)
    first = nb.cells[0].source.splitlines()[0] if nb.cells and nb.cells[0].source else notebook.stem
    return first.lstrip("# ").strip()


def main(out_dir: str = "build/slides", notebooks: list[str] | None = None) -> int:
    """Command line: build the decks, one line per deck with its number of slides."""
    decks = build(out_dir, [Path(p) for p in notebooks] if notebooks else None)
    for d in decks:
        text = d.read_text(encoding="utf-8")
        notes = text.count('<aside class="notes">')
        print(f"{d.name}: {slide_count(text)} slides, {notes} notes, "
              f"opens offline from {d.parent.name}/")
    return 0
