"""The slide build (course_utils/kit/slides.py, `make slides`): one Reveal.js deck per lesson that opens
from disk with no network.

Needs node_modules/ (`npm ci`, which `make slides` runs). When it is missing the test runs `npm ci`
itself if npm is there, and otherwise skips with the reason (and fails under CI=true). The browser
check opens one deck in headless Chromium (`make browser-install`) with every non-file request
blocked, and saves a screenshot to build/slides-screenshot.png.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from course_utils.kit import slides
from notebook_rules import NOTEBOOKS, ROOT, headings, read

CI = os.environ.get("CI") == "true"


def skip_or_fail(reason: str):
    if CI:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def decks(tmp_path_factory):
    if not (ROOT / "node_modules" / "reveal.js").exists():
        if not shutil.which("npm"):
            skip_or_fail("node_modules/ is missing and npm is not installed: install Node.js, then `make slides`")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=ROOT, check=True, capture_output=True)
    out = tmp_path_factory.mktemp("slides")
    return out, {d.name.replace(".slides.html", ".ipynb"): d for d in slides.build(out)}


def test_reveal_is_pinned_and_locked():
    import json

    package = json.loads((ROOT / "package.json").read_text())
    lock = json.loads((ROOT / "package-lock.json").read_text())
    for name, version in package["dependencies"].items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"package.json: pin {name} exactly, not {version!r}"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version, f"package-lock.json disagrees on {name}"


def test_one_deck_per_lesson(decks):
    out, built = decks
    assert sorted(built) == [p.name for p in NOTEBOOKS]
    index = (out / "index.html").read_text()
    for d in built.values():
        assert f'href="{d.name}"' in index


def local_references(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"#][^"]*)"', html) + re.findall(r'require\(\s*\{[^}]*\},\s*\[([^\]]*)\]', html)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_deck_loads_nothing_from_the_network(path, decks):
    out, built = decks
    html = built[path.name].read_text(encoding="utf-8")
    refs = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]*)"', html)
    refs += re.findall(r'"([^"]*\.js)"', html.split("require(", 1)[-1])
    assert refs, "the deck should load reveal.js"
    for ref in refs:
        assert not re.match(r"(https?:)?//", ref), f"{path.name}: deck loads {ref} from the network"
        target = out / unquote(urlsplit(ref).path)
        assert target.exists(), f"{path.name}: {ref} is not next to the deck"
    assert "@import url(http" not in html


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_sections_start_slides_and_solutions_are_left_out(path, decks):
    _, built = decks
    html = built[path.name].read_text(encoding="utf-8")
    sections = [text for _, level, text in headings(read(path)) if level == 2]
    assert html.count("<section") >= len(sections) + 1, f"{path.name}: each ## section should start a slide"


def test_auto_slides_respects_explicit_metadata(decks, tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("## A section"),
        nbformat.v4.new_markdown_cell("### A sub", metadata={"slideshow": {"slide_type": "fragment"}}),
        nbformat.v4.new_code_cell("x = 'SECRET_SOLUTION'", metadata={"tags": ["solution"]}),
        nbformat.v4.new_code_cell("x"),
    ])
    src = tmp_path / "99_example.ipynb"
    nbformat.write(nb, src)
    html = slides.deck(src, decks[0]).read_text(encoding="utf-8")
    assert "SECRET_SOLUTION" not in html, "solution cells are left out of the deck"
    nb, _ = slides.AutoSlidesPreprocessor().preprocess(nb, {})
    assert [c.metadata.slideshow["slide_type"] for c in nb.cells] == ["slide", "fragment", "skip", "-"]


def test_deck_opens_offline_in_chromium(decks):
    """Open one deck in headless Chromium with the network blocked; it must render its slides."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        skip_or_fail("Chromium is not installed: `make browser-install`")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    out, built = decks
    deck = built[sorted(built)[min(1, len(built) - 1)]]
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"]
    remote, errors = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=args)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})

            def route(r):
                if r.request.url.startswith("file:"):
                    return r.continue_()
                remote.append(r.request.url)
                return r.abort()

            page.route("**/*", route)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(deck.as_uri() + "#/1")
            page.wait_for_selector(".reveal.ready", timeout=20000)  # reveal.js initialised
            page.wait_for_timeout(500)
            number = page.inner_text(".slide-number")
            shot = ROOT / "build" / "slides-screenshot.png"
            shot.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(shot))
            mathjax = page.evaluate("typeof MathJax !== 'undefined' && !!MathJax.Hub")
        finally:
            browser.close()
    assert not remote, f"the deck tried to reach the network: {remote}"
    assert not errors, f"JavaScript errors: {errors}"
    assert re.fullmatch(r"2 / \d+", number.strip()), f"slide counter shows {number!r}"
    assert mathjax, "MathJax did not load from assets/"


# --- readable on a projector: wrapped code, split sections, widgets as text, no verdict under nothing --

def test_long_sections_continue_on_a_sub_slide():
    import nbformat

    cells = [nbformat.v4.new_markdown_cell("## A long section")]
    cells += [nbformat.v4.new_code_cell("\n".join(f"x{i}_{j} = {j}" for j in range(6))) for i in range(12)]
    nb, _ = slides.AutoSlidesPreprocessor().preprocess(nbformat.v4.new_notebook(cells=cells), {})
    kinds = [c.metadata.slideshow["slide_type"] for c in nb.cells]
    assert kinds[0] == "slide" and kinds.count("subslide") >= 2, kinds
    # each screen holds about SCREEN_UNITS units, never a cell less than one
    screens, units = [], 0.0
    for cell, kind in zip(nb.cells, kinds):
        if kind in ("slide", "subslide"):
            screens.append(units)
            units = 0.0
        units += slides.cell_units(cell)
    screens.append(units)
    assert max(screens) <= slides.SCREEN_UNITS + 8


def test_check_verdict_under_a_hidden_solution_is_dropped_and_widgets_become_text():
    import nbformat

    state = {"h": {"model_name": "HBoxModel", "state": {"children": ["IPY_MODEL_a", "IPY_MODEL_b", "IPY_MODEL_c"]}},
             "a": {"model_name": "HTMLModel", "state": {"value": "Training:\u2007100%"}},
             "b": {"model_name": "FloatProgressModel", "state": {"value": 135, "max": 135}},
             "c": {"model_name": "HTMLModel", "state": {"value": " 135/135 [00:01&lt;00:00]"}}}
    widget = nbformat.v4.new_output("display_data", data={
        "application/vnd.jupyter.widget-view+json": {"model_id": "h", "version_major": 2, "version_minor": 0},
        "text/plain": "Training:   0%|          | 0/135"})
    cells = [nbformat.v4.new_markdown_cell("### Exercise 9.1"),
             nbformat.v4.new_code_cell("answer = 42", metadata={"tags": ["solution"]}),
             nbformat.v4.new_code_cell("cu.check.tracing_count(answer)",
                                       outputs=[nbformat.v4.new_output("stream", name="stdout", text="Exercise 9.1 — correct.\n")]),
             nbformat.v4.new_code_cell("train()", outputs=[widget])]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": state}}
    nb, _ = slides.AutoSlidesPreprocessor().preprocess(nb, {})
    assert nb.cells[2].outputs == [], "the verdict of a solution the deck does not show"
    data = nb.cells[3].outputs[0]["data"]
    assert slides.WIDGET not in data and data["text/plain"] == "Training: 100% |██████████| 135/135 [00:01<00:00]"


# The layout, measured where a projector shows it: 1280x720 in headless Chromium.
LAYOUT_INDICES = """() => [...document.querySelectorAll('.reveal .slides > section')].map((h, i) =>
  [i, h.querySelectorAll(':scope > section').length])"""
LAYOUT_CURRENT = """() => {
  const s = [...document.querySelectorAll('.reveal .slides section.present')].filter(x => !x.querySelector('section'))[0];
  if (!s) return null;
  const m = /scale\\(([\\d.]+)\\)/.exec(document.querySelector('.reveal .slides').style.transform || '');
  const pres = [...s.querySelectorAll('pre')].filter(p => !p.closest('aside.notes'));
  const prose = [...s.querySelectorAll('.jp-MarkdownCell p, .jp-MarkdownCell li')]
    .filter(e => !e.closest('aside.notes') && e.textContent.trim().length > 0).length;
  return {h: s.scrollHeight * (m ? parseFloat(m[1]) : 1), pre: pres.length,
          cut: pres.filter(p => p.scrollWidth > p.clientWidth + 2).length,
          prose: prose > 0, notes: s.querySelectorAll(':scope aside.notes').length > 0};
}"""


def layout(page, deck: Path) -> dict:
    """Slides, code blocks, code blocks cut off on the right, slides taller than one / two screens."""
    page.goto(deck.as_uri() + "#/0")
    page.wait_for_selector(".reveal.ready", timeout=60000)
    page.wait_for_timeout(300)
    height = page.viewport_size["height"]
    out = {"slides": 0, "code_blocks": 0, "cut_off": 0, "taller_than_screen": 0, "over_two_screens": 0,
           "with_notes": 0, "prose_without_notes": 0}
    for h, nv in page.evaluate(LAYOUT_INDICES):
        for v in range(max(nv, 1)):
            page.evaluate(f"() => {{ location.hash = '#/{h}/{v}'; }}")
            page.wait_for_timeout(100)
            r = page.evaluate(LAYOUT_CURRENT)
            if r:
                out["slides"] += 1
                out["code_blocks"] += r["pre"]
                out["cut_off"] += r["cut"]
                out["taller_than_screen"] += r["h"] > height + 2
                out["over_two_screens"] += r["h"] > 2 * height + 2
                out["with_notes"] += r["notes"]
                out["prose_without_notes"] += r["prose"] and not r["notes"]
    return out


def test_decks_fit_a_1280x720_screen(decks):
    """No code block is cut off on the right; no slide needs more than two screens; every slide with
    prose on it has speaker notes.

    Measured for lessons 01-06 (issue 12): before, 109 of 477 code blocks cut off and 23 slides over two
    screens; after, 0 and 5. Issue 35 (bullets + notes, PyTorch | TensorFlow side by side, errors as one
    line), decks 00-13: 753 slides before, 581 after (e.g. 04: 66 -> 54, 09: 63 -> 49); slides over two
    screens 6 -> 0; 402 of the 628 slides (00-14) carry speaker notes, and every slide with prose does.
    The per-deck numbers go to build/slides-layout.json.
    """
    import json

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        skip_or_fail("Chromium is not installed: `make browser-install`")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    _, built = decks
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"]
    found = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=args)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            for name, deck in sorted(built.items()):
                found[name] = layout(page, deck)
        finally:
            browser.close()
    (ROOT / "build").mkdir(exist_ok=True)
    (ROOT / "build" / "slides-layout.json").write_text(json.dumps(found, indent=1) + "\n")
    for name, r in found.items():
        assert r["cut_off"] == 0, f"{name}: {r['cut_off']} of {r['code_blocks']} code blocks cut off on the right"
        assert r["over_two_screens"] == 0, f"{name}: {r['over_two_screens']} slides over two screens tall"
        assert r["prose_without_notes"] == 0, f"{name}: {r['prose_without_notes']} slides of prose without speaker notes"


# --- made for teaching: bullets and notes, side by side, one-line errors, a styled index ----------------

def test_a_paragraph_becomes_a_short_bullet_and_the_notes_keep_it_all():
    import nbformat

    para = ("`tf.function` turns a Python function into a graph the first time it is called: it runs the "
            "Python code once with symbolic tensors, records every op. Then it runs only the graph.")
    cell = nbformat.v4.new_markdown_cell(f"## Trace a function\n\n{para}\n\n| a | b |\n|---|---|\n| 1 | 2 |")
    shown, notes = slides.teaching_cells(cell)
    assert shown.source.splitlines()[0] == "## Trace a function"
    bullet = next(l for l in shown.source.splitlines() if l.startswith("- "))
    assert bullet == "- `tf.function` turns a Python function into a graph the first time it is called"
    assert "| 1 | 2 |" in shown.source, "tables stay on the slide"
    assert notes.metadata.slideshow["slide_type"] == "notes" and para in notes.source
    heading_only = nbformat.v4.new_markdown_cell("### TensorFlow")
    assert slides.teaching_cells(heading_only) == [heading_only]
    assert slides.short("Look inside the call `a.b(c, d)`, and (e.g. here, there) the rest goes on for quite a "
                        "few more words than fit") == "Look inside the call `a.b(c, d)`"


def test_at_most_four_bullets_and_lists_are_cut_short():
    many = "\n\n".join(f"Paragraph {i} says one thing. Then more." for i in range(7))
    shown, prose = slides.on_screen(many)
    assert prose and shown.count("\n- ") + shown.startswith("- ") == slides.MAX_BULLETS
    shown, _ = slides.on_screen("**Objectives:**\n- Show that both frameworks run eagerly by default, Python "
                                "control flow included, and more words after it.\n- Trace a function.")
    assert shown.splitlines()[0] == "- **Objectives:**" and "- Trace a function." in shown


def test_an_error_shows_its_last_line_and_no_absolute_path():
    import nbformat

    err = nbformat.v4.new_output("error", ename="ValueError", evalue="Requested the deserialization of a Lambda.\nMore.",
                                 traceback=["\x1b[31m---\x1b[0m", '  File "/home/me/x/.venv/lib/python3.11/site-packages/keras/a.py"',
                                            "ValueError: Requested the deserialization of a Lambda."])
    warn = nbformat.v4.new_output("stream", name="stderr",
                                  text="/home/me/x/.venv/lib/python3.11/site-packages/keras/b.py:3: UserWarning: hm\n")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("load()", outputs=[err, warn])])
    nb, _ = slides.AutoSlidesPreprocessor().preprocess(nb, {})
    outs = nb.cells[0].outputs
    assert outs[0]["output_type"] == "stream" and outs[0]["text"] == "ValueError: Requested the deserialization of a Lambda.\n"
    assert outs[1]["text"] == "…/site-packages/keras/b.py:3: UserWarning: hm\n"
    assert "error-line" in nb.cells[0].metadata.tags


def test_pytorch_and_tensorflow_cells_share_a_slide_when_they_fit():
    import nbformat

    cells = [nbformat.v4.new_markdown_cell("## Make tensors"),
             nbformat.v4.new_code_cell("x_pt = torch.ones(3)\nprint(x_pt)"),
             nbformat.v4.new_markdown_cell("### TensorFlow\n\nThe same in TensorFlow. More words."),
             nbformat.v4.new_code_cell("x_tf = tf.ones(3)\nprint(x_tf)"),
             nbformat.v4.new_code_cell("print('next')"),
             nbformat.v4.new_code_cell("\n".join(f"a{i} = {i}" for i in range(60))),
             nbformat.v4.new_markdown_cell("### TensorFlow"),
             nbformat.v4.new_code_cell("b = 1")]
    nb, _ = slides.AutoSlidesPreprocessor().preprocess(nbformat.v4.new_notebook(cells=cells), {})
    tagged = [(c.source.splitlines()[0], c.metadata.get("tags", [])) for c in nb.cells]
    assert "pair-left" in tagged[1][1] and "pair-first" in tagged[1][1]
    right = [src for src, tags in tagged if "pair-right" in tags]
    assert right == ["### TensorFlow", "x_tf = tf.ones(3)"], "the heading and the code, not the notes"
    kinds = [c.metadata.slideshow["slide_type"] for c in nb.cells]
    assert kinds[:5] == ["slide", "-", "-", "notes", "-"], kinds
    assert not any("pair-left" in tags for src, tags in tagged if src.startswith("a0")), "a 60-line cell is not halved"


def test_the_index_is_styled_and_renders_its_titles(decks):
    out, built = decks
    index = (out / "index.html").read_text()
    assert "<style>" in index and "`" not in index, "no raw backticks"
    assert "<code>DataLoader</code>" in index
    for d in built.values():
        assert f'href="{d.name}"' in index


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_decks_have_notes_and_no_tracebacks_or_absolute_paths(path, decks):
    _, built = decks
    html = built[path.name].read_text(encoding="utf-8")
    body = html.split("<body", 1)[-1]
    assert '<aside class="notes">' in body
    assert "Traceback (most recent call last)" not in body and "ipython-input" not in body
    assert not re.search(r"(/home/|/Users/|/root/|/work/)[^\s\"<]*", body), "an absolute path in a deck"


def test_a_long_table_continues_with_its_header_repeated():
    from course_utils.kit import slides

    rows = "\n".join(f"| row {k} | x |" for k in range(17))
    text = slides.split_tables(f"intro\n\n| a | b |\n|---|---|\n{rows}\nafter", rows=8)
    tables = [t for t in text.split("\n\n") if t.lstrip("intro\n").startswith("|")]
    assert [t.count("| row") for t in tables] == [8, 8, 1]
    assert all(t.splitlines()[0] == "| a | b |" and t.splitlines()[1] == "|---|---|" for t in tables)
    assert text.startswith("intro\n\n| a | b |") and text.endswith("| row 16 | x |\nafter")
