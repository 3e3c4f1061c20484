"""Lesson 13's claims bookkeeping, framework-free: the 17 claims of COURSE.md, each lesson's "Claims
settled" table, the section headings a claim's evidence lives under, and the check that they agree.

- ``CLAIMS`` is a copy of COURSE.md's table "The claims to settle" (claim, lessons), so the lesson never
  reads a file outside the repository; ``tests/test_claims.py`` checks the copy equals COURSE.md when the
  course's ``shared/`` folder sits next to the clone (``course_md()`` finds it).
- ``claims_table(nb)`` reads a lesson's "Claims settled" markdown table: (claim, verdict, evidence).
- ``headings(nb)`` lists a lesson's section headings; ``cited_sections(text)`` finds the ones a row cites.
- ``verify()`` is the lesson's live cell: for every claim, lesson 13's verdict and citations against the
  lessons as they are now, one line each, and what is wrong if anything is.

Nothing here imports a framework; notebooks are read with ``nbformat`` (no kernel).

Used in: 13_claims_checked (its claims table cell), tests/test_claims.py.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..base.errors import CourseError
from ..base.paths import course_root, notebooks_dir

VERDICTS = ("true", "partly", "outdated", "false")

# COURSE.md, "The claims to settle", row by row: (claim, the lessons COURSE.md assigns it to).
CLAIMS: tuple[tuple[str, str], ...] = (
    ("TensorFlow uses static graphs; PyTorch dynamic graphs", "04"),
    ("PyTorch also uses static graphs / TorchScript lets models run without Python", "04, 09"),
    ("Dynamic graphs make variable-size and recursive models simpler", "04"),
    ("TensorFlow needs a special debugger (tfdbg); PyTorch works with pdb", "05"),
    ("TensorFlow moves to the GPU automatically; PyTorch needs explicit placement", "06"),
    ("TensorFlow gives no control over GPU memory / takes all of it", "06"),
    ("PyTorch will not run without CUDA", "06"),
    ("PyTorch's data loading is simpler and easier to parallelise", "07"),
    ("PyTorch has no TensorBoard; it uses Visdom", "08"),
    ("Only TensorFlow can save the whole graph for C++/Java use; PyTorch saves weights", "09"),
    ("TensorFlow models cannot be hot-swapped without interrupting service", "09"),
    ("TensorFlow is better for mobile and embedded deployment", "09"),
    ("Custom C++/CUDA extensions need more boilerplate in TensorFlow", "10"),
    ("Both support distributed training", "11"),
    ("TensorFlow is faster and scales better; PyTorch uses memory more efficiently", "12"),
    ("PyTorch is essentially a GPU-enabled NumPy", "01"),
    ("Switching from one framework to the other is seamless", "03, 13"),
)

# Lessons that settle a claim beyond the ones COURSE.md names (its table is the course's, copied above as is):
# lesson 14 (sequence and attention models) adds evidence to claims 3 and 17. ``more_evidence()`` checks that
# each such lesson has a row for the claim, that its citations are headings, and that its verdict is lesson 13's.
MORE_EVIDENCE: dict[str, tuple[str, ...]] = {
    "Dynamic graphs make variable-size and recursive models simpler": ("14",),
    "Switching from one framework to the other is seamless": ("14",),
}

THIS_LESSON = "13"
TABLE_HEADING = "The claims, and where they were settled"   # lesson 13's table of all 17


@dataclass(frozen=True)
class Row:
    """One row of a claims table: the claim as written, its verdict word, and the rest of the row."""

    claim: str
    verdict: str | None        # one of VERDICTS, or None when the row's verdict is none of them
    cells: tuple[str, ...]     # every cell of the row after the claim, as written


def lessons_of(text: str) -> tuple[str, ...]:
    """``"04, 09"`` → ``("04", "09")``."""
    found = tuple(re.findall(r"\d\d", str(text)))
    if not found:
        raise CourseError(f"claims: no lesson number in {text!r}; expected two digits such as '04, 09'.")
    return found


def normalise(claim: str) -> str:
    """A claim's text without quotes, emphasis, a trailing "(lesson NN)" note or case: for matching.

    >>> normalise('"TensorFlow is better for mobile" (lesson 09)')
    'tensorflow is better for mobile'
    """
    text = re.sub(r"\((this lesson's own|lessons? [^)]*)\)", "", str(claim))
    text = re.sub(r"[*\"“”`]", "", text).replace("’", "'")
    return " ".join(text.lower().split()).strip(" .")


def verdict_of(text: str) -> str | None:
    """The verdict word of a table cell: the first bold word if it is a verdict, else the first verdict word.

    >>> verdict_of("**partly** (see below)"), verdict_of("**true**, modestly"), verdict_of("**not supported here**")
    ('partly', 'true', None)
    """
    bold = re.findall(r"\*\*([^*]+)\*\*", str(text))
    word = re.match(r"\s*([a-z]+)", (bold[0] if bold else str(text)).lower())
    return word.group(1) if word and word.group(1) in VERDICTS else None


# --- reading COURSE.md and the notebooks ----------------------------------------------------------------

def course_md(root: str | Path | None = None) -> Path | None:
    """COURSE.md of the course, ``<root>/../shared/COURSE.md`` (a sibling folder of the clone), or None."""
    root = Path(root) if root is not None else course_root()
    path = root.resolve().parent / "shared" / "COURSE.md"
    return path if path.is_file() else None


def _table(lines: list[str]) -> tuple[list[str], list[list[str]]]:
    """The header and body rows of the first markdown table in ``lines`` (separator dropped)."""
    rows, started = [], False
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("|"):
            started = True
            rows.append([c.strip() for c in stripped.strip("|").split("|")])
        elif started:
            break
    if not rows:
        return [], []
    return rows[0], [r for r in rows[1:] if not all(set(c) <= set("-: ") for c in r)]


def _table_rows(lines: list[str]) -> list[list[str]]:
    return _table(lines)[1]


def read_course_claims(path: str | Path) -> tuple[tuple[str, str], ...]:
    """The (claim, lessons) rows of COURSE.md's "The claims to settle" table."""
    text = Path(path).read_text(encoding="utf-8")
    if "## The claims to settle" not in text:
        raise CourseError(f"claims: {path} has no '## The claims to settle' section.")
    section = text.split("## The claims to settle", 1)[1].split("\n## ", 1)[0]
    return tuple((cells[0], cells[1]) for cells in _table_rows(section.splitlines()) if len(cells) >= 2)


def notebook(lesson: str) -> Path:
    """``notebooks/NN_*.ipynb`` for lesson ``"NN"``."""
    found = sorted(notebooks_dir().glob(f"{lesson}_*.ipynb"))
    if not found:
        raise CourseError(f"claims: no notebook for lesson {lesson} in {notebooks_dir()}.")
    return found[0]


def _cells(path: Path) -> list[Any]:
    """A notebook's cells. A notebook being rewritten (``make regen`` of that lesson at the same moment) reads
    as empty or cut JSON for an instant: read again, up to 10 times over 5 s, before giving up."""
    import time

    import nbformat

    for attempt in range(10):
        try:
            return nbformat.read(path, as_version=4).cells
        except (ValueError, nbformat.reader.NotJSONError):
            if attempt == 9:
                raise
            time.sleep(0.5)
    return []


def headings(path: str | Path) -> list[str]:
    """Every markdown heading of a notebook (any level), as written, in order."""
    found = []
    for cell in _cells(Path(path)):
        if cell.cell_type == "markdown":
            found += [m.group(2) for m in (re.match(r"^(#{1,6})\s+(.*\S)\s*$", line)
                                           for line in cell.source.splitlines()) if m]
    return found


def claims_table(path: str | Path, heading: str = "Claims settled") -> list[Row]:
    """The rows of the table under a notebook's ``## <heading>`` (by default its "Claims settled")."""
    for cell in _cells(Path(path)):
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.splitlines()
        for i, line in enumerate(lines):
            if re.match(rf"^#{{2,3}}\s+{re.escape(heading)}\s*$", line.strip()):
                rest = lines[i + 1:]
                end = next((j for j, l in enumerate(rest) if l.startswith("#")), len(rest))
                header, body = _table(rest[:end])
                names = [h.lower() for h in header]
                at = names.index("claim") if "claim" in names else 0
                verdict_at = next((j for j, n in enumerate(names) if n.startswith("verdict")), at + 1)
                return [Row(cells[at], verdict_of(cells[verdict_at]) if len(cells) > verdict_at else None,
                            tuple(cells[at + 1:])) for cells in body if len(cells) > at]
    return []


def find_row(rows: list[Row], claim: str) -> Row | None:
    """The row for ``claim``: the same text once quotes, case and '(lesson NN)' notes are dropped."""
    want = normalise(claim)
    return next((r for r in rows if normalise(r.claim) == want), None)


SECTION = re.compile(r"(\d\d) §([^;|]+?)(?=;|$| \d\d §)")


def cited_sections(text: str) -> list[tuple[str, str]]:
    """``"04 §Eager by default, in both; 09 §Whole programs ..."`` → ``[("04", "Eager by default, in both"), ...]``."""
    return [(lesson, section.strip()) for lesson, section in SECTION.findall(str(text))]


# --- the check the lesson runs ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Checked:
    """One claim, checked: lesson 13's row against the lessons it cites."""

    number: int
    claim: str
    verdict: str | None                    # lesson 13's
    lesson_verdicts: dict[str, str | None]  # each assigned lesson's own verdict (13 excluded)
    missing_sections: tuple[str, ...]       # "NN §section" cited but not (or no longer) a heading there
    problems: tuple[str, ...]

    def line(self) -> str:
        own = ", ".join(f"{k}: {v or '-'}" for k, v in self.lesson_verdicts.items()) or "-"
        status = "ok" if not self.problems else "PROBLEM"
        return f"{self.number:>2}. {self.verdict or '?':<9} (lessons say {own:<26}) {status}  {self.claim}"


def check(lesson13: str | Path | None = None, claims: tuple[tuple[str, str], ...] = CLAIMS) -> list[Checked]:
    """Every claim against lesson 13's table (``TABLE_HEADING``) and the lessons it cites, as they are now.

    A problem is: no row in lesson 13; a verdict that is none of ``VERDICTS``; a cited section that is not a
    heading of that lesson; a verdict other than the own verdict of any lesson the claim is assigned to.
    """
    path = Path(lesson13) if lesson13 is not None else notebook(THIS_LESSON)
    rows = claims_table(path, TABLE_HEADING)
    heading_cache: dict[str, list[str]] = {}
    table_cache: dict[str, list[Row]] = {}
    results = []
    for number, (claim, lessons) in enumerate(claims, 1):
        row, problems, missing = find_row(rows, claim), [], []
        own: dict[str, str | None] = {}
        for lesson in lessons_of(lessons):
            if lesson == THIS_LESSON:
                continue
            if lesson not in table_cache:
                table_cache[lesson] = claims_table(notebook(lesson))
            found = find_row(table_cache[lesson], claim)
            own[lesson] = found.verdict if found else None
        if row is None:
            problems.append(f"no row in lesson 13's table '{TABLE_HEADING}'")
        else:
            if row.verdict not in VERDICTS:
                problems.append(f"verdict {row.cells[0] if row.cells else ''!r} is none of {', '.join(VERDICTS)}")
            cites = [c for cell in row.cells for c in cited_sections(cell)]
            if not cites:
                problems.append("cites no section ('NN §Section heading')")
            for lesson, section in cites:
                if lesson not in heading_cache:
                    heading_cache[lesson] = headings(path if lesson == THIS_LESSON else notebook(lesson))
                if section not in heading_cache[lesson]:
                    missing.append(f"{lesson} §{section}")
            if missing:
                problems.append("cites sections that are not headings there: " + "; ".join(missing))
            for lesson, verdict in own.items():        # every assigned lesson but 13 must say the same
                if verdict is not None and verdict != row.verdict:
                    problems.append(f"lesson {lesson} now says {verdict!r}, lesson 13 says {row.verdict!r}")
        results.append(Checked(number, claim, row.verdict if row else None, own, tuple(missing), tuple(problems)))
    return results


# "Which framework when": each row's finding tied to what a lesson printed or concluded. Per row (keyed by the
# start of its first cell): (words the row must contain, lesson, what that lesson shows). What the lesson shows
# is searched in its stored outputs of compared cells (not ``nbval-ignore-output``: those differ per machine)
# and in its "Claims settled" table, whitespace collapsed. A row that drifts from its evidence, or evidence
# that a lesson stops printing, is a problem of ``check_table``.
GUIDE_EVIDENCE: dict[str, tuple[tuple[str, str, str], ...]] = {
    "Python control flow": (("take pdb", "05", "(Pdb) p h.shape"),
                            ("both run eagerly", "04", "tf.executing_eagerly(): True")),
    "a graph, for speed or export": (("`torch.export`", "04", "export vs eager allclose=True"),
                                     ("`tf.function`", "04", "traces: 1")),
    "the model loaded without its code": (("AOTInductor", "09", "aoti: output shape (359, 10), Python in this process: no"),
                                          ("in processes without the class", "09", "each loaded in a process without the class")),
    "a phone": (("kept at least 90%", "09", "LiteRT (from Keras) int8 4.7 kB >= 90%"),
                ("kept at least 90%", "09", "ONNX Runtime (from torch) int8 5.6 kB >= 90%"),
                ("4.7 vs 6.0 kB", "09", "LiteRT (from Keras) float32 6.0 kB")),
    "a model swapped in a running service": (("0 errors", "09", "0 errors | versions served: ['1', '2']"),),
    "arbitrary Python per sample": (("PyTorch's worker processes ran it", "07",
                                     "torch DataLoader, num_workers=2 plain Python ran in worker processes: True"),
                                    ("take turns holding the GIL", "07",
                                     "tf.data map(tf.py_function), 2 parallel calls plain Python ran in worker processes: False"),
                                    ("`PyDataset(use_multiprocessing=True)`", "07",
                                     "Keras PyDataset(workers=2, use_multiprocessing=True) plain Python ran in worker processes: True")),
    "caching, interleaving and prefetching": (("`DataLoader`'s workers read ahead", "07",
                                               "torch, num_workers=1 read ahead while the loop stepped: yes"),
                                              ("`tf.data`", "07", "prefetch(AUTOTUNE), default rewrites read ahead while the loop stepped: yes")),
    "TensorBoard": (("event files", "08", "pytorch event file allclose=True"),
                    ("event files", "08", "tensorflow event file allclose=True")),
    "a custom C++ op": (("34 vs 53", "10", "C++ CPU file, total 34 53"),
                        ("fails under `jit_compile=True`", "10", "jit_compile=True -> InvalidArgumentError"),
                        ("`torch.export`", "10", "exported graph: ['aten.mul.Tensor', 'course_ext.logcosh.default']")),
    "Keras `fit` on several machines": (("fails with Keras 3", "11", "Keras fit: ValueError"),),
    "data parallelism on one machine": (("same weights", "11", "mirrored fit ~ one process: fc1.weight allclose=True"),
                                        ("slower than one process's in both", "11",
                                         "a measured 2-worker step is slower than one process's step in both"),
                                        ("not settled", "11", "**not settled here**")),
    "a model sharded across devices": (("FSDP2", "11", "FSDP2 ~ one process: fc1.weight allclose=True"),
                                       ("`tf.experimental.dtensor`", "11", "DTensor ~ one process: fc1.weight allclose=True")),
    "speed on a small model on a CPU": (("not as a rule", "12", "*Faster:* not as a rule"),
                                        ("ahead of an eager Keras call", "12",
                                         "small MLP: Keras eager takes over 5× torch eager's time per call: True"),
                                        ("same numbers", "12", "all 13 results equal eager: True")),
    "a small process footprint": (("lower with torch's CPU build and higher with its CUDA build", "12",
                                   "peaked lower than the TensorFlow one with torch's CPU build and higher with PyPI's CUDA build"),),
    "control of GPU memory": (("before the first op", "06", "--- set before the first operation"),
                              ("not run", "06", "[no GPU] Measuring TensorFlow's share of GPU memory needs a GPU")),
    "Keras code inside a PyTorch stack": (("`train_on_batch`", "13", "Keras step on torch ~ on TF: conv kernel allclose=True"),),
    "recurrent and attention models": (("traced once for 3 lengths", "14", "{'Keras GRU': '1 trace', 'tf.range loop': '1 trace'}"),
                                       ("one graph per length", "14", "'Python loop': '3 graphs for 3 lengths'"),
                                       ("LayerNorm eps 1e-5 vs 1e-3", "14", "LayerNorm, Keras default eps allclose=False")),
    "a checkpoint from a GPU machine": (("`map_location=`", "06", "{'weight': 'cpu', 'bias': 'cpu'} | same weights: True"),),
    "to move a model across": (("compare outputs every time", "03", "cnn logits allclose=False max|diff| = 0.61"),),
}


def _squash(text: str) -> str:
    return " ".join(str(text).split())


def shown(path: str | Path) -> str:
    """What a lesson shows as the same on every machine: the text outputs of its compared code cells (cells
    tagged ``nbval-ignore-output`` left out) and its "Claims settled" table, whitespace collapsed."""
    parts = []
    for cell in _cells(Path(path)):
        if cell.cell_type != "code" or "nbval-ignore-output" in cell.get("metadata", {}).get("tags", []):
            continue
        for out in cell.get("outputs", []):
            parts.append(str(out.get("text", "")) + "\n" + str(out.get("data", {}).get("text/plain", "")))
    parts += [" | ".join((r.claim,) + r.cells) for r in claims_table(path)]
    return _squash("\n".join(parts))


def printed(lesson: str, words: str, compared: bool = True) -> str:
    """The first line lesson ``lesson`` printed (its stored outputs) that contains ``words``: a result cited
    from a lesson whose computation takes too long to re-run here. ``compared=False`` also searches the
    per-machine cells (``nbval-ignore-output``). Raises ``CourseError`` when no line has them.

    Used in: 13_claims_checked (claims 12 and 15).
    """
    for cell in _cells(notebook(lesson)):
        if cell.cell_type != "code" or (compared and "nbval-ignore-output" in cell.get("metadata", {}).get("tags", [])):
            continue
        for out in cell.get("outputs", []):
            for line in (str(out.get("text", "")) + "\n" + str(out.get("data", {}).get("text/plain", ""))).splitlines():
                if _squash(words) in _squash(line):
                    return _squash(line)
    raise CourseError(f"claims.printed: lesson {lesson} printed no line with {words!r} (re-run that lesson?).")


def evidence_problems(rows: list[Row], evidence: dict[str, tuple[tuple[str, str, str], ...]],
                      path: Path) -> list[str]:
    """For each row, each ``(words, lesson, shows)`` of its entry in ``evidence``: the row holds ``words`` and
    lesson ``lesson`` shows ``shows`` (``shown``). A row without an entry, or an entry without a row, is a problem."""
    problems, cache = [], {}
    for row in rows:
        keys = [k for k in evidence if row.claim.startswith(k)]
        if not keys:
            problems.append(f"row {row.claim!r}: no entry in claims.GUIDE_EVIDENCE ties it to what a lesson printed")
            continue
        text = _squash(" | ".join(row.cells))
        for words, lesson, what in evidence[keys[0]]:
            if lesson not in cache:
                cache[lesson] = shown(path if lesson == THIS_LESSON else notebook(lesson))
            if _squash(words) not in text:
                problems.append(f"row {row.claim!r}: no longer says {words!r}, which lesson {lesson} backs")
            elif _squash(what) not in cache[lesson]:
                problems.append(f"row {row.claim!r}: lesson {lesson} no longer shows {what!r}")
    for key in evidence:
        if not any(row.claim.startswith(key) for row in rows):
            problems.append(f"claims.GUIDE_EVIDENCE has {key!r}, which is no row of the table")
    return problems


def check_table(heading: str, lesson13: str | Path | None = None,
                evidence: dict[str, tuple[tuple[str, str, str], ...]] | None = None) -> list[str]:
    """Lesson 13's table under ``## <heading>``: every row must cite at least one ``NN §Section`` that is a
    heading of lesson NN now; with ``evidence`` (``GUIDE_EVIDENCE``), every row's finding must also be tied to
    what the lesson it rests on printed or concluded (``evidence_problems``). Prints one line (rows, citations,
    results tied, problems) and the problems; returns the problems.

    Used in: 13_claims_checked (its "Which framework when" table).
    """
    if not isinstance(heading, str) or not heading.strip():
        raise CourseError(f"check_table(heading=...): expected a section heading of lesson 13, found {heading!r}.")
    path = Path(lesson13) if lesson13 is not None else notebook(THIS_LESSON)
    rows = claims_table(path, heading)
    if not rows:
        raise CourseError(f"check_table: lesson 13 has no table under '## {heading}'.")
    heading_cache: dict[str, list[str]] = {}
    problems = []
    for row in rows:
        cites = [c for cell in row.cells for c in cited_sections(cell)]
        missing = []
        for lesson, section in cites:
            if lesson not in heading_cache:
                heading_cache[lesson] = headings(path if lesson == THIS_LESSON else notebook(lesson))
            if section not in heading_cache[lesson]:
                missing.append(f"{lesson} §{section}")
        if not cites:
            problems.append(f"row {row.claim!r}: cites no section ('NN §Section heading')")
        elif missing:
            problems.append(f"row {row.claim!r}: cites sections that are not headings there: " + "; ".join(missing))
    tied = ""
    if evidence is not None:
        problems += evidence_problems(rows, evidence, path)
        tied = f", {sum(len(v) for k, v in evidence.items() if any(r.claim.startswith(k) for r in rows))} printed results tied"
    print(f"{len(rows)} rows, {sum(len(cited_sections(' ; '.join(r.cells))) for r in rows)} citations{tied} | "
          f"problems: {len(problems)}")
    for problem in problems:
        print(problem)
    return problems


def verify(lesson13: str | Path | None = None) -> list[Checked]:
    """Print one line per claim (lesson 13's verdict, each lesson's own, ok/PROBLEM), then any problems.

    Used in: 13_claims_checked.
    """
    results = check(lesson13)
    for r in results:
        print(r.line())
    bad = [r for r in results if r.problems]
    for r in bad:
        print(f"claim {r.number}: " + "; ".join(r.problems))
    counts = {v: sum(r.verdict == v for r in results) for v in VERDICTS}
    print(f"{len(results)} claims: " + ", ".join(f"{n} {v}" for v, n in counts.items())
          + f" | problems: {len(bad)}")
    return results


def more_evidence(lesson13: str | Path | None = None) -> list[str]:
    """Problems with ``MORE_EVIDENCE`` (empty when all is well): for each claim and each extra lesson, the lesson's
    "Claims settled" table must have the claim's row, cite only its own headings, and agree with lesson 13's verdict.

    Used in: tests/test_claims_lesson14.py.
    """
    rows13 = claims_table(Path(lesson13) if lesson13 is not None else notebook(THIS_LESSON), TABLE_HEADING)
    problems = []
    for claim, lessons in MORE_EVIDENCE.items():
        row13 = find_row(rows13, claim)
        for lesson in lessons:
            path = notebook(lesson)
            row = find_row(claims_table(path), claim)
            if row is None:
                problems.append(f"lesson {lesson} has no row for {claim!r}")
                continue
            cites = [c for cell in row.cells for c in cited_sections(cell)]
            missing = [f"{n} §{sec}" for n, sec in cites if sec not in headings(notebook(n))]
            if not cites or missing:
                problems.append(f"lesson {lesson}, {claim!r}: cites {'; '.join(missing) or 'no section'}")
            if row13 is not None and row.verdict != row13.verdict:
                problems.append(f"lesson {lesson} says {row.verdict!r} for {claim!r}, lesson 13 {row13.verdict!r}")
    return problems
