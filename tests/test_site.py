"""The course website (``make site``, website/build.py): built offline, read in a real Chromium.

- The site builds from the committed notebooks under tests/netoff.py (network off where this machine
  allows it), into build/site/ exactly as ``make site`` does; its learner pages hold no solution and no
  check verdict, the instructor build keeps them.
- Served by a plain static server on 127.0.0.1: the home page, two lesson pages and the search page
  render in Chromium, a search returns the expected lesson, every image loads, and no request leaves
  that server (every request the pages make is recorded). A lesson page opened from ``file://`` too.
  Screenshots of a lesson page and of a search result: build/site-shots/.
- The build fails on a broken cross-reference and on a missing image (planted in a tiny site built
  with the same Sphinx command), and passes without them.

Runs in ``make test`` (test-unit). Without Chromium the browser part skips with the reason, except
under CI=true (tests/test_browser.py's rule), where it fails. About 40-70 s on 2 busy cores.
"""
from __future__ import annotations

import functools
import http.server
import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

from chromium import IN_CI, launched

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "build" / "site"
SHOTS = ROOT / "build" / "site-shots"
sys.path.insert(0, str(ROOT / "website"))
import build as site_build  # noqa: E402  (website/build.py)

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
LESSON_PAGES = ("03_same_model", "08_visualization")     # both with figures; 03 with widget state in its metadata
PAGE_TIMEOUT_MS = 120_000
SEARCHES = {"MirroredStrategy": "11_distributed", "Visdom": "08_visualization"}
REPO_URL = "https://example.org/course"   # what `make site SITE_REPO_URL=...` passes


@pytest.fixture(scope="module")
def site() -> Path:
    """``make site``'s build, with the outbound network off (tests/netoff.py)."""
    done = subprocess.run([sys.executable, str(ROOT / "tests" / "netoff.py"), sys.executable,
                           str(ROOT / "website" / "build.py"), "--out", "build/site", "--repo-url", REPO_URL],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"the site did not build:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    print(done.stdout.strip().splitlines()[-1])
    return SITE


def test_every_lesson_and_document_is_a_page(site):
    for nb in NOTEBOOKS:
        assert (site / "lessons" / f"{nb.stem}.html").is_file(), nb.name
    for page in ("index", "claims", "search", "instructors/guide", "instructors/hub", "instructors/schedule"):
        assert (site / f"{page}.html").is_file(), page
    nav = (site / "index.html").read_text()
    order = [nav.find(f'lessons/{nb.stem}.html') for nb in NOTEBOOKS]
    assert -1 not in order and order == sorted(order), "lessons missing from the navigation or out of order"


def test_lesson_page_carries_stamp_downloads_and_report_link(site):
    pins = site_build.pins()
    for nb in NOTEBOOKS:
        html = (site / "lessons" / f"{nb.stem}.html").read_text()
        for name in ("torch", "tensorflow", "keras"):
            assert pins[name] in html, f"{nb.stem}: no {name} version in the stamp"
        assert re.search(r"(last strict run that passed|committed on|working tree)", html), nb.stem
        downloads = re.findall(r'href="(\.\./_downloads/[^"]+)"', html)
        assert any(d.endswith(f"/{nb.stem}.learner.ipynb") for d in downloads), nb.stem
        assert any(d.endswith(f"/{nb.name}") for d in downloads), nb.stem
        for d in downloads:
            assert (site / "lessons" / d).resolve().is_file(), d
        assert re.search(rf'href="{re.escape(REPO_URL)}/issues/new\?title=[^"]*{nb.stem}',
                         html.replace("&amp;", "&")), f"{nb.stem}: no 'report a problem' link"


def solution_lines(nb_path: Path) -> list[str]:
    """Distinctive lines of a notebook's solution cells: long, and in no other cell (nor its outputs)."""
    nb = nbformat.read(nb_path, as_version=4)
    solutions = [c for c in nb.cells if "solution" in c.metadata.get("tags", [])]
    elsewhere = json.dumps([c for c in nb.cells if c not in solutions])
    lines = []
    for cell in solutions:
        lines += [line.strip() for line in cell.source.splitlines()
                  if len(line.strip()) > 30 and not line.strip().startswith("#")
                  and json.dumps(line.strip())[1:-1] not in elsewhere]
    assert lines or not solutions, f"{nb_path.name}: no distinctive solution line to look for"
    return lines


def text_of(html: str) -> str:
    import html as html_lib

    return html_lib.unescape(re.sub(r"<[^>]+>", "", html))


def test_learner_site_shows_no_solution_and_no_verdict(site):
    html = text_of((site / "lessons" / "03_same_model.html").read_text())
    assert "answer = W.transpose(2, 3, 1, 0)" not in html
    assert "Exercise 3.1 — correct" not in html
    assert "answer = ..." in html and "cu.check.conv_kernel(answer)" in html
    for nb in NOTEBOOKS:
        page = text_of((site / "lessons" / f"{nb.stem}.html").read_text())
        shown = [line for line in solution_lines(nb) if line in page]
        assert not shown, f"{nb.stem}: solution lines on the learner page: {shown[:3]}"
    # nor in any other file of the site: downloads, search index, scripts
    others = "\n".join(p.read_text(errors="replace") for p in site.rglob("*")
                       if p.is_file() and p.suffix in (".ipynb", ".js", ".txt", ".json"))
    for nb in NOTEBOOKS:
        leaked = [line for line in solution_lines(nb) if line in others or json.dumps(line)[1:-1] in others]
        assert not leaked, f"{nb.stem}: solution lines in the site's files: {leaked[:3]}"


def test_without_a_repository_address_no_link_is_made_up(tmp_path):
    nb = ROOT / "notebooks" / "03_same_model.ipynb"
    for sub in ("lessons", "downloads"):
        (tmp_path / sub).mkdir()
    site_build.stage_lesson(nb, tmp_path, site_build.DEFAULT_REPO_URL, solutions=False)
    page = (tmp_path / "lessons" / nb.name).read_text()
    assert "issues/new" not in page and "built without a repository address" in page
    fix = site_build.link_fixer("", "", set())
    assert site_build.LINK.sub(fix, "see [the tests](tests/README.md)") == \
        "see the tests (`tests/README.md` in the course's repository)"


def test_instructor_build_keeps_solutions(tmp_path):
    nb = ROOT / "notebooks" / "03_same_model.ipynb"
    for sub in ("lessons", "downloads"):
        (tmp_path / sub).mkdir()
    site_build.stage_lesson(nb, tmp_path, "https://example.org/r", solutions=True)
    page = (tmp_path / "lessons" / nb.name).read_text()
    assert "W.transpose(2, 3, 1, 0)" in page and "Exercise 3.1 — correct" in page
    learner_copy = (tmp_path / "downloads" / f"{nb.stem}.learner.ipynb").read_text()
    assert "W.transpose(2, 3, 1, 0)" not in learner_copy and "https://example.org/r/issues/new" in page


def test_no_widget_state_or_cdn_script(site):
    for page in site.rglob("*.html"):
        html = page.read_text()
        assert "widget-state+json" not in html and "require.min.js" not in html, page
        for url in re.findall(r'<(?:script|link|img|iframe)[^>]+(?:src|href)="([^"]+)"', html):
            assert not re.match(r"^(https?:)?//", url), f"{page.relative_to(site)} loads {url}"
    html = text_of((site / "lessons" / "03_same_model.html").read_text())
    # 03's training runs print one summary line each (they were tqdm widgets; a widget keeps only its text form)
    assert "MLP PyTorch loop 90 steps" in html, "lesson 03's stream output is missing from its page"


def test_claims_page_links_every_claim_to_its_section(site):
    from course_utils.lessons import claims

    html = (site / "claims.html").read_text()
    for claim, _ in claims.CLAIMS:
        assert text_of(claim) in text_of(html).replace("’", "'"), claim
    links = re.findall(r'href="(lessons/[0-9]{2}_[a-z_]+\.html)#([^"]+)"', html)
    assert len(links) >= len(claims.CLAIMS)
    for page, anchor in links:   # Sphinx already fails on a missing anchor; this reads the built pages
        assert f'id="{anchor}"' in (site / page).read_text(), f"{page}#{anchor}"


# --- the build fails on a broken reference or a missing image -----------------------------------------

def tiny_site(tmp_path: Path, page: str) -> subprocess.CompletedProcess:
    src = tmp_path / "src"
    src.mkdir()
    (src / "index.md").write_text("# Home\n\n```{toctree}\nother\n```\n\n" + page)
    (src / "other.md").write_text("# Other\n\n## A section\n\ntext\n")
    (src / "plot.png").write_bytes((ROOT / "docs" / "instructors" / "hub_load.png").read_bytes())
    return subprocess.run(site_build.sphinx_command(src, tmp_path / "out"), cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


BROKEN = {   # each a separate warning, so -W --keep-going reports all of them in one build
    "[a section](other.md#no-such-section)": "no-such-section",
    "{ref}`no-such-label`": "no-such-label",
    "[a page](missing_page.md)": "missing_page",
    "![a plot](no_such_plot.png)": "no_such_plot.png",
}


def test_build_passes_without_broken_references(tmp_path):
    done = tiny_site(tmp_path, "[a section](other.md#a-section) ![a plot](plot.png)\n")
    assert done.returncode == 0, done.stderr


def test_build_fails_on_each_broken_reference_or_missing_image(tmp_path):
    done = tiny_site(tmp_path, "\n\n".join(BROKEN) + "\n")
    assert done.returncode != 0
    for planted, name in BROKEN.items():
        assert re.search(rf"WARNING: .*{re.escape(name)}", done.stderr), f"not reported: {planted}\n{done.stderr}"


# --- in Chromium ------------------------------------------------------------------------------------

class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(site):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    with launched(unavailable) as chromium:
        yield chromium


def unavailable(reason: str):
    if IN_CI:
        pytest.fail(f"CI=true and the site's browser test cannot run: {reason}. Run `make browser-install`.")
    pytest.skip(f"{reason} — run `make browser-install` to enable the site's browser test")


class Visit:
    """A page in Chromium that records every request it makes."""

    def __init__(self, browser, allowed: str):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.set_default_timeout(PAGE_TIMEOUT_MS)   # generous: other jobs may load the machine
        self.page = self.context.new_page()
        self.allowed, self.requests, self.failed, self.pending = allowed, [], [], set()
        self.page.on("request", self._started)
        self.page.on("requestfinished", lambda r: self.pending.discard(r))
        self.page.on("requestfailed", self._failed)

    def _started(self, request):
        self.requests.append(request.url)
        self.pending.add(request)

    def _failed(self, request):
        self.failed.append(request.url)
        self.pending.discard(request)

    def open(self, url: str):
        self.page.goto(url, wait_until="load")   # images, scripts and styles loaded (or failed)
        self.settle()
        return self.page

    def settle(self, quiet_s: float = 0.5):
        """Wait until no request has been in flight for ``quiet_s`` (what the page asks for after load too)."""
        deadline, quiet_since = time.monotonic() + PAGE_TIMEOUT_MS / 1000, None
        while time.monotonic() < deadline:
            self.page.wait_for_timeout(100)   # lets Playwright deliver the request events
            if self.pending:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= quiet_s:
                return
        pytest.fail(f"requests still in flight after {PAGE_TIMEOUT_MS / 1000:.0f} s: "
                    f"{[r.url for r in self.pending][:5]}")

    def outside(self) -> list[str]:
        return [u for u in self.requests if not (u.startswith(self.allowed) or u.startswith(("data:", "blob:")))]

    def broken_images(self) -> list[str]:
        return self.page.eval_on_selector_all(
            "img", "imgs => imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)")

    def close(self):
        self.context.close()


def test_pages_render_images_load_nothing_leaves_the_server(browser, server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    visit = Visit(browser, server)
    try:
        page = visit.open(f"{server}/index.html")
        assert "side by side" in page.title()
        assert page.locator("nav a[href*='lessons/00_setup_check']").count() >= 1
        images = 0
        for stem in LESSON_PAGES:
            page = visit.open(f"{server}/lessons/{stem}.html")
            assert page.locator("h1").first.inner_text().startswith(stem[:2]), stem
            assert page.locator(".site-stamp").count() == 1, f"{stem}: no version stamp"
            images += page.locator("article img").count()
            assert not visit.broken_images(), f"{stem}: images that did not load: {visit.broken_images()}"
        assert images >= 4, f"expected the figures of lessons 03 and 08, found {images} images"
        page = visit.open(f"{server}/lessons/{LESSON_PAGES[1]}.html")
        page.locator(".site-stamp").scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / f"lesson-{LESSON_PAGES[1]}.png"), full_page=False)
        for query, lesson in SEARCHES.items():
            page = visit.open(f"{server}/search.html?q={query}")
            page.wait_for_selector("#search-results ul li a")
            found = page.eval_on_selector_all("#search-results ul li a", "as => as.map(a => a.href)")
            assert any(f"lessons/{lesson}.html" in href for href in found), f"{query!r}: {found[:8]}"
            page.screenshot(path=str(SHOTS / f"search-{query}.png"))
        assert not visit.failed, f"requests that failed: {visit.failed}"
        assert not visit.outside(), f"requests that left {server}: {visit.outside()}"
        assert len(visit.requests) > 10   # the recorder saw the pages' own requests
    finally:
        visit.close()


def test_lesson_page_from_file_url(browser, site):
    visit = Visit(browser, "file://")
    try:
        page = visit.open((site / "lessons" / f"{LESSON_PAGES[0]}.html").as_uri())
        assert page.locator(".site-stamp").count() == 1
        assert not visit.broken_images()
        query, lesson = next(iter(SEARCHES.items()))   # the search index is a script: it works from disk too
        page = visit.open((site / "search.html").as_uri() + f"?q={query}")
        page.wait_for_selector("#search-results ul li a")
        found = page.eval_on_selector_all("#search-results ul li a", "as => as.map(a => a.href)")
        assert any(f"lessons/{lesson}.html" in href for href in found), f"file:// search {query!r}: {found[:8]}"
        assert not visit.outside(), f"requests outside file://: {visit.outside()}"
    finally:
        visit.close()
    (SHOTS / "README.txt").write_text(json.dumps({
        f"lesson-{LESSON_PAGES[1]}.png": "a lesson page scrolled to its version stamp, downloads and report link",
        **{f"search-{q}.png": f"search for {q!r}; the results list {lesson}" for q, lesson in SEARCHES.items()},
    }, indent=1) + "\n")


def test_figure_descriptions_are_the_images_alt_text(site):
    """Each figure's '*Figure:*' description (tests/test_figures.py) reaches the page as its image's alt text."""
    import html as html_lib

    described = 0
    for nb_path in NOTEBOOKS:
        nb = nbformat.read(nb_path, as_version=4)
        page = (site / "lessons" / f"{nb_path.stem}.html").read_text()
        alts = [html_lib.unescape(a) for a in re.findall(r'<img alt="([^"]*)"', page)]
        for cell, after in zip(nb.cells, nb.cells[1:]):
            text = after.source.strip().split("\n\n")[0] if after.cell_type == "markdown" else ""
            if cell.cell_type == "code" and text.startswith(site_build.FIGURE_PREFIX):
                words = re.sub(r"[`*_]", "", text[len(site_build.FIGURE_PREFIX):]).split()
                assert " ".join(words) in alts, f"{nb_path.stem}: no image with alt text {' '.join(words[:8])!r}..."
                described += 1
    assert described >= 1, "no described figure found in any lesson"
