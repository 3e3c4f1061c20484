"""The claims of COURSE.md against lesson 13 (course_utils/lessons/claims.py), read with nbformat, no kernel.

Fails when a claim of COURSE.md has no row in lesson 13's table, when a row cites a section its lesson no
longer has, when lesson 13's verdict for a one-lesson claim is not that lesson's own, or when a claim has no
live cell in lesson 13. COURSE.md lives outside the repository, in the course's ``shared/`` folder next to
the clone (``../shared/COURSE.md``); without it the COURSE.md tests skip and say so, and the copy of the 17
claims kept in claims.py is used.
"""
from __future__ import annotations

import re

import nbformat
import pytest

from course_utils.lessons import claims
from notebook_rules import ROOT, headings

COURSE_MD = claims.course_md(ROOT)
NO_COURSE_MD = f"COURSE.md not found at {ROOT.parent / 'shared' / 'COURSE.md'} (the course's shared/ folder next to the clone)"
LESSON13 = claims.notebook(claims.THIS_LESSON)


def course_claims():
    return claims.read_course_claims(COURSE_MD) if COURSE_MD else claims.CLAIMS


@pytest.mark.skipif(COURSE_MD is None, reason=NO_COURSE_MD)
def test_the_copy_in_claims_py_is_course_md():
    assert claims.read_course_claims(COURSE_MD) == claims.CLAIMS, \
        "COURSE.md's claims changed: update CLAIMS in course_utils/lessons/claims.py and lesson 13's table"


def test_there_are_17_claims():
    assert len(course_claims()) == 17


@pytest.mark.parametrize("number", range(1, 18))
def test_every_claim_has_a_row_that_holds(number):
    result = claims.check(LESSON13, course_claims())[number - 1]
    assert not result.problems, f"claim {number} ({result.claim}): " + "; ".join(result.problems)


def test_sections_are_read_with_nbformat_as_the_structure_tests_do():
    for lesson in ("03", "13"):
        path = claims.notebook(lesson)
        assert claims.headings(path) == [text for _, _, text in headings(nbformat.read(path, as_version=4))]


def test_a_missing_section_or_row_is_reported(tmp_path):
    nb = nbformat.read(LESSON13, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown" and f"## {claims.TABLE_HEADING}" in cell.source:
            lines = cell.source.splitlines()
            rows = [i for i, l in enumerate(lines) if l.startswith("| 1 |") or l.startswith("| 2 |")]
            lines[rows[0]] = lines[rows[0]].replace("§", "§No such section ", 1)
            del lines[rows[1]]
            cell.source = "\n".join(lines)
    broken = tmp_path / "13_broken.ipynb"
    nbformat.write(nb, broken)
    results = claims.check(broken)
    assert any("not headings there" in p for p in results[0].problems)
    assert results[1].problems == ("no row in lesson 13's table 'The claims, and where they were settled'",)


@pytest.mark.parametrize("number", range(1, 18))
def test_every_claim_has_a_live_cell(number):
    cells = [c for c in nbformat.read(LESSON13, as_version=4).cells if c.cell_type == "code"]
    assert any(re.match(rf"# Claim {number}\b", c.source) for c in cells), \
        f"lesson 13 has no code cell starting '# Claim {number}'"


def test_verdict_and_citation_parsing():
    assert claims.verdict_of("**outdated**") == "outdated"
    assert claims.verdict_of("**true, but not a PyTorch-only point**") == "true"
    assert claims.verdict_of("**not supported here** (neither)") is None
    assert claims.cited_sections("04 §Eager by default, in both; 09 §Whole programs without the model code") == \
        [("04", "Eager by default, in both"), ("09", "Whole programs without the model code")]
    assert claims.normalise('"TensorFlow uses static graphs; PyTorch dynamic graphs"') == \
        claims.normalise("TensorFlow uses static graphs; PyTorch dynamic graphs (lesson 04)")


def test_which_framework_when_cites_existing_sections(tmp_path):
    assert claims.check_table("Which framework when", LESSON13) == []
    nb = nbformat.read(LESSON13, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown" and "## Which framework when" in cell.source:
            lines = cell.source.splitlines()
            first = next(i for i, l in enumerate(lines) if l.startswith("| Python control flow"))
            lines[first] = lines[first].replace("§", "§No such section ", 1)
            second = next(i for i, l in enumerate(lines) if l.startswith("| TensorBoard"))
            lines[second] = re.sub(r"\| [^|]*\|$", "| an opinion |", lines[second])
            cell.source = "\n".join(lines)
    broken = tmp_path / "13_broken.ipynb"
    nbformat.write(nb, broken)
    problems = claims.check_table("Which framework when", broken)
    assert len(problems) == 2 and "not headings there" in problems[0] and "cites no section" in problems[1]
    with pytest.raises(claims.CourseError):
        claims.check_table("No such table", LESSON13)


def test_every_guide_row_is_tied_to_what_a_lesson_prints():
    assert claims.check_table("Which framework when", LESSON13, evidence=claims.GUIDE_EVIDENCE) == []


def _guide_with(tmp_path, old, new):
    nb = nbformat.read(LESSON13, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown" and "## Which framework when" in cell.source:
            assert old in cell.source
            cell.source = cell.source.replace(old, new)
    broken = tmp_path / "13_broken.ipynb"
    nbformat.write(nb, broken)
    return broken


def test_a_guide_row_that_drifts_from_its_evidence_is_reported(tmp_path):
    """The ties can fail: a row that no longer says what lesson 10 printed, and evidence no lesson printed."""
    broken = _guide_with(tmp_path, "34 vs 53", "34 vs 99")
    problems = claims.check_table("Which framework when", broken, evidence=claims.GUIDE_EVIDENCE)
    assert len(problems) == 1 and "no longer says '34 vs 53'" in problems[0], problems
    made_up = {**claims.GUIDE_EVIDENCE, "TensorBoard": (("event files", "08", "a line lesson 08 never printed"),)}
    problems = claims.check_table("Which framework when", LESSON13, evidence=made_up)
    assert len(problems) == 1 and "lesson 08 no longer shows" in problems[0], problems
    untied = {k: v for k, v in claims.GUIDE_EVIDENCE.items() if k != "TensorBoard"}
    problems = claims.check_table("Which framework when", LESSON13, evidence=untied)
    assert len(problems) == 1 and "no entry in claims.GUIDE_EVIDENCE" in problems[0], problems


def test_the_guide_cites_no_load_dependent_order_for_all_reduce():
    """Lesson 11 says which all-reduce is cheaper changed from run to run: the guide must not rank them."""
    row = next(r for r in claims.claims_table(LESSON13, "Which framework when")
               if r.claim.startswith("data parallelism on one machine"))
    text = " ".join(row.cells)
    assert "changed from run to run" in text
    assert not re.search(r"(TensorFlow|gloo|NCCL)[^;|]*all-reduce (cost|costs|is|was) (more|less|the slower|the faster|cheaper)"
                         r"|all-reduce (cost|costs|is|was) (more|less)", text), text


def test_a_claim_of_two_lessons_must_agree_with_both(tmp_path):
    """Claim 2 is assigned to 04 and 09: lesson 13 saying 'true' disagrees with both (it was unchecked before)."""
    nb = nbformat.read(LESSON13, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown" and f"## {claims.TABLE_HEADING}" in cell.source:
            cell.source = cell.source.replace("TorchScript lets models run without Python | **partly** |",
                                              "TorchScript lets models run without Python | **true** |")
    broken = tmp_path / "13_broken.ipynb"
    nbformat.write(nb, broken)
    problems = claims.check(broken)[1].problems
    assert len(problems) == 2 and "lesson 04 now says 'partly'" in problems[0] and "lesson 09" in problems[1], problems


def test_printed_finds_a_stored_line_or_says_it_is_gone():
    assert "int8" in claims.printed("09", "ONNX Runtime (from torch) int8")
    with pytest.raises(claims.CourseError, match="printed no line"):
        claims.printed("09", "a line lesson 09 never printed")
