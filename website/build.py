"""The course as a static website (``make site``): build/site/, from the committed, executed notebooks.

    python website/build.py [--out build/site] [--solutions] [--repo-url URL]

Nothing is re-executed (website/conf.py: ``nb_execution_mode = "off"``): every page shows the outputs the
strict suite (``make test``) compares. This script only stages the sources in build/site-src/, then
runs Sphinx with ``-W --keep-going -n`` (a broken cross-reference, a missing image or a missing
download fails the build):

- ``index.md``: the README, its links to notebooks turned into links to the lesson pages and its links
  to other files of the repository into links to the repository (``--repo-url``);
- ``lessons/NN_slug.ipynb``: each lesson, by default the learner version (cells tagged
  ``instructor-only`` dropped, each ``solution`` cell replaced by its placeholder, the same function as
  ``make learner``; the solution's output and the check's verdict under it removed, every other output
  kept); ``--solutions`` keeps the instructor version. Widget outputs (tqdm) keep only their text form
  and the notebook's widget state is dropped, so no page asks a CDN for a widget manager. Under the
  title: the version stamp, the download links and "report a problem with this page";
- ``claims.md``: lesson 13's claims table as a page, generated from ``course_utils.lessons.claims``,
  each cited section a link to that section of its lesson page;
- ``instructors/``: the instructor guide, the hub guide and the schedule.

Used in: ``make site``; tests/test_site.py.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from course_utils.kit import learner  # noqa: E402
from course_utils.lessons import claims  # noqa: E402

SITE_DIR = Path(__file__).resolve().parent
# No made-up address: without SITE_REPO_URL (or a git remote) the pages say how to report instead of linking.
DEFAULT_REPO_URL = ""
INSTRUCTOR_DOCS = ("guide.md", "hub.md", "schedule.md")
WIDGET_MIME = ("application/vnd.jupyter.widget-view+json", "application/vnd.jupyter.widget-state+json")
# The stamp's versions: the pins in requirements.txt (what the site's outputs were made with).
STAMP_PACKAGES = (("torch", "PyTorch"), ("tensorflow", "TensorFlow"), ("keras", "Keras"))
# Written by a passing strict run, when the test suite records it ({"NN_slug.ipynb": "YYYY-MM-DD"}).
PASSED_FILE = ROOT / "build" / "strict_passed.json"


def pins() -> dict[str, str]:
    found = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-]+)==(\S+)", line.split("#")[0].strip())
        if m:
            found[m.group(1).lower()] = m.group(2)
    return found


def git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else ""


def checked_on(notebook: Path) -> str:
    """The date of the outputs on the page, and where that date comes from (said on the page)."""
    passed = json.loads(PASSED_FILE.read_text()) if PASSED_FILE.is_file() else {}
    if notebook.name in passed:
        return f"last strict run that passed: {passed[notebook.name]} (build/strict_passed.json)"
    rel = notebook.relative_to(ROOT).as_posix()
    if git("status", "--porcelain", "--", rel):
        return "outputs from the working tree, not yet committed (no passing strict run recorded)"
    date = git("log", "-1", "--format=%cs", "--", rel)
    if not date:
        return "no commit and no passing strict run recorded for this notebook"
    return (f"outputs executed and committed on {date} (the notebook's last git commit; the strict "
            f"suite, `make test`, re-runs every cell and compares each output)")


def stamp_cell(notebook: Path, learner_copy: str, shown_copy: str, repo_url: str, solutions: bool):
    versions = pins()
    stack = ", ".join(f"{label} {versions[name]}" for name, label in STAMP_PACKAGES)
    title = quote(f"Site page {notebook.stem}: ")
    body = quote(f"Page: lessons/{notebook.stem}\nBuild: {'instructor' if solutions else 'learner'}\n\n"
                 f"What is wrong:\n")
    report = (f"[report a problem with this page]({repo_url.rstrip('/')}/issues/new?title={title}&body={body})"
              if repo_url else "to report a problem with this page, tell your instructor or the course's "
              "maintainers (this site was built without a repository address: `make site SITE_REPO_URL=...`)")
    shown = "the instructor notebook, executed, with solutions" if solutions else \
        "this page's notebook (executed, solutions removed)"
    text = (f"```{{admonition}} About this page\n:class: note site-stamp\n"
            f"**Checked with** {stack} (the course's pins); {checked_on(notebook)}.\n\n"
            f"**Download:** {{download}}`{shown} <../downloads/{shown_copy}>` · "
            f"{{download}}`the learner copy, to run (outputs cleared, solutions to write) "
            f"<../downloads/{learner_copy}>` · "
            f"{report}\n```")
    return nbformat.v4.new_markdown_cell(text, metadata={"tags": ["site-stamp"]})


def strip_widgets(nb: nbformat.NotebookNode) -> None:
    """Widget outputs keep their text form; no widget state, so no widget manager from a CDN."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data")
            if data:
                for mime in WIDGET_MIME:
                    data.pop(mime, None)


def learner_page(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The executed notebook as a learner may read it: solutions swapped for placeholders (their output
    and the check's verdict under them removed), instructor-only cells dropped, other outputs kept."""
    nb = nbformat.from_dict(nb)
    keep = []
    for i, cell in enumerate(nb.cells):
        tags = cell.metadata.get("tags", [])
        if learner.INSTRUCTOR_TAG in tags:
            continue
        if cell.cell_type == "code" and learner.SOLUTION_TAG in tags:
            cell.source = learner.placeholder_for(cell.source)
            cell.outputs, cell.execution_count = [], None
            cell.metadata["tags"] = [t for t in tags if t != learner.SOLUTION_TAG] + ["placeholder"]
            after = nb.cells[i + 1] if i + 1 < len(nb.cells) else None
            if after is not None and after.cell_type == "code" and "cu.check." in after.source:
                after.outputs, after.execution_count = [], None
        keep.append(cell)
    nb.cells = keep
    return nb


FIGURE_PREFIX = "*Figure:*"   # tests/test_figures.py: the description cell right after each figure


def describe_figures(nb: nbformat.NotebookNode) -> None:
    """Each figure's one-sentence description (the markdown cell after it) becomes its image's alt text."""
    for cell, after in zip(nb.cells, nb.cells[1:]):
        has_image = any(k.startswith("image/") for out in cell.get("outputs", []) for k in out.get("data", {}))
        text = after.source.strip().split("\n\n")[0] if after.cell_type == "markdown" else ""
        if cell.cell_type == "code" and has_image and text.startswith(FIGURE_PREFIX):
            alt = re.sub(r"[`*_]", "", " ".join(text[len(FIGURE_PREFIX):].split()))
            cell.metadata.setdefault("mystnb", {}).setdefault("image", {})["alt"] = alt


def stage_lesson(src: Path, out: Path, repo_url: str, solutions: bool) -> None:
    nb = nbformat.read(src, as_version=4)
    page = nb if solutions else learner_page(nb)
    strip_widgets(page)
    describe_figures(page)
    downloads = out / "downloads"
    learner_copy, shown_copy = f"{src.stem}.learner.ipynb", src.name
    write(downloads / learner_copy, nbformat.writes(learner.learner_notebook(nb)))
    write(downloads / shown_copy, nbformat.writes(page))
    title_at = next(i for i, c in enumerate(page.cells) if c.cell_type == "markdown")
    page = nbformat.from_dict(page)
    page.cells.insert(title_at + 1, stamp_cell(src, learner_copy, shown_copy, repo_url, solutions))
    write(out / "lessons" / src.name, nbformat.writes(page))


def link_fixer(here: str, repo_url: str, lesson_names: set[str]):
    """Rewrite a markdown link target of a page staged from ``here`` (its folder in the repository)."""

    def fix(m: re.Match) -> str:
        text, target = m.group(1), m.group(2)
        if re.match(r"^[a-z]+:|^#|^mailto:", target):
            return m.group(0)
        path, _, anchor = target.partition("#")
        repo_path = (Path(here) / path).as_posix()
        repo_path = re.sub(r"(^|/)[^/]+/\.\./", r"\1", repo_path)
        while "/../" in repo_path or repo_path.startswith("./"):
            repo_path = re.sub(r"[^/]+/\.\./", "", repo_path, count=1).removeprefix("./")
        name = Path(repo_path).name
        if repo_path.startswith("notebooks/") and name in lesson_names:
            return f"[{text}]({site_path(here, 'lessons/' + name)}{'#' + anchor if anchor else ''})"
        if repo_path.startswith("docs/instructors/") and (name in INSTRUCTOR_DOCS or name.endswith(".png")):
            return f"[{text}]({site_path(here, 'instructors/' + name)}{'#' + anchor if anchor else ''})"
        if repo_path == "README.md":
            return f"[{text}]({site_path(here, 'index.md')})"
        if not repo_url:  # no address to link to: name the file instead
            return f"{text} (`{repo_path}` in the course's repository)"
        return f"[{text}]({repo_url.rstrip('/')}/blob/main/{repo_path}{'#' + anchor if anchor else ''})"

    return fix


def site_path(here: str, target: str) -> str:
    """A site-relative target seen from the staged page of the repository folder ``here``."""
    depth = 0 if here in ("", ".") else 1  # README sits at the top, docs/instructors/* one level down
    return "../" * depth + target


LINK = re.compile(r"(?<!!)\[([^\]]*)\]\(([^)\s]+)\)")


def stage_markdown(src: Path, dest: Path, repo_url: str, lesson_names: set[str]) -> None:
    here = src.parent.relative_to(ROOT).as_posix()
    text = LINK.sub(link_fixer(here, repo_url, lesson_names), src.read_text(encoding="utf-8"))
    write(dest, text)


def write(path: Path, text: str) -> None:
    """Write only what changed, so Sphinx rebuilds only the pages whose source changed."""
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def slug(heading: str) -> str:
    """MyST's anchor for a heading (myst_heading_anchors: GitHub's rule)."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def claims_page(lesson_files: dict[str, str]) -> str:
    """Lesson 13's table of the claims, each cited section a link to it on its lesson's page."""
    lesson13 = ROOT / "notebooks" / lesson_files[claims.THIS_LESSON]
    rows = claims.claims_table(lesson13, claims.TABLE_HEADING)
    lines = ["# The claims, and where they were settled", "",
             f"Generated when the site is built, from lesson 13's table \"{claims.TABLE_HEADING}\" "
             f"(`course_utils/lessons/claims.py` reads it). Each claim's verdict comes from the lesson that "
             f"ran the cells; each link goes to the section that settles it.", "",
             "| # | claim | verdict | settled in |", "|---|---|---|---|"]
    for number, (claim, lessons) in enumerate(claims.CLAIMS, 1):
        row = claims.find_row(rows, claim)
        if row is None:
            raise SystemExit(f"site: claim {number} ({claim!r}) has no row in lesson 13's table")
        cites = [c for cell in row.cells for c in claims.cited_sections(cell)]
        if not cites:
            raise SystemExit(f"site: claim {number} ({claim!r}) cites no section in lesson 13's table")
        links = "<br>".join(
            f"[{lesson} · {section}](lessons/{lesson_files[lesson].removesuffix('.ipynb')}.ipynb#{slug(section)})"
            for lesson, section in cites)
        lines.append(f"| {number} | {claim} | **{row.verdict or '?'}** | {links} |")
    lines += ["", f"The full table with its evidence: [lesson 13](lessons/{lesson_files['13']})."]
    return "\n".join(lines) + "\n"


def index_toctree(lesson_names: list[str]) -> str:
    lessons = "\n".join(f"lessons/{Path(n).stem}" for n in lesson_names)
    return ("\n\n```{toctree}\n:hidden:\n:caption: Lessons\n:maxdepth: 1\n\n" + lessons + "\n```\n\n"
            "```{toctree}\n:hidden:\n:caption: Reference\n:maxdepth: 1\n\nclaims\n"
            + "\n".join(f"instructors/{Path(d).stem}" for d in INSTRUCTOR_DOCS) + "\n```\n")


def stage(src_dir: Path, repo_url: str, solutions: bool) -> None:
    for sub in ("lessons", "downloads", "instructors"):
        (src_dir / sub).mkdir(parents=True, exist_ok=True)
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    names = [n.name for n in notebooks]
    for nb in notebooks:
        stage_lesson(nb, src_dir, repo_url, solutions)
    readme = LINK.sub(link_fixer("", repo_url, set(names)), (ROOT / "README.md").read_text(encoding="utf-8"))
    write(src_dir / "index.md", readme + index_toctree(names))
    for doc in INSTRUCTOR_DOCS:
        stage_markdown(ROOT / "docs" / "instructors" / doc, src_dir / "instructors" / doc, repo_url, set(names))
    for image in (ROOT / "docs" / "instructors").glob("*.png"):
        if not (src_dir / "instructors" / image.name).is_file() or \
                (src_dir / "instructors" / image.name).read_bytes() != image.read_bytes():
            shutil.copy2(image, src_dir / "instructors" / image.name)
    write(src_dir / "claims.md", claims_page({n[:2]: n for n in names}))
    staged = {f"lessons/{n}" for n in names} | {f"downloads/{Path(n).stem}.learner.ipynb" for n in names} \
        | {f"downloads/{n}" for n in names} | {f"instructors/{d}" for d in INSTRUCTOR_DOCS}
    for old in list(src_dir.glob("lessons/*")) + list(src_dir.glob("downloads/*")):
        if old.relative_to(src_dir).as_posix() not in staged:
            old.unlink()   # a lesson renamed or removed since the last build


def sphinx_command(src: Path, out: Path) -> list[str]:
    """Sphinx on staged sources with the site's settings: any warning (a broken cross-reference with -n,
    a missing image or download) fails the build. Doctrees beside the sources: rebuilds are incremental."""
    doctrees = src.parent / (src.name + "-doctrees")
    return [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-W", "--keep-going", "-n",
            "-c", str(SITE_DIR), "-d", str(doctrees), str(src), str(out)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="build/site")
    parser.add_argument("--src", default="build/site-src", help="where the sources are staged")
    parser.add_argument("--solutions", action="store_true", help="the instructor site (solutions shown)")
    parser.add_argument("--repo-url", default=DEFAULT_REPO_URL, help="for 'report a problem' and file links")
    args = parser.parse_args(argv)
    out, src = ROOT / args.out, ROOT / args.src
    start = time.monotonic()
    stage(src, args.repo_url or DEFAULT_REPO_URL, args.solutions)
    done = subprocess.run(sphinx_command(src, out), cwd=ROOT)
    if done.returncode != 0:
        print(f"error: the site did not build (Sphinx exit {done.returncode}; warnings above are errors)")
        return done.returncode
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"{out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}: "
          f"{'instructor' if args.solutions else 'learner'} site, {len(list(out.rglob('*.html')))} pages, "
          f"{size / 2**20:.1f} MiB, {time.monotonic() - start:.1f} s; open {out}/index.html, or serve it: "
          f"python -m http.server -d {args.out} -b 127.0.0.1 8000")
    return 0


if __name__ == "__main__":
    sys.exit(main())
