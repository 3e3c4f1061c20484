"""The slide build (course_utils/slides.py, `make slides`): one Reveal.js deck per lesson that opens
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

from course_utils import slides
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
