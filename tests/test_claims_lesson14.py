"""Lesson 14's evidence for claims 3 and 17 (claims.MORE_EVIDENCE), read with nbformat, no kernel."""
from pathlib import Path

import nbformat

from course_utils.lessons import claims


def test_lesson14_rows_exist_cite_headings_and_agree_with_lesson13():
    assert claims.more_evidence() == []


def test_a_verdict_that_disagrees_is_reported(tmp_path):
    """The check can fail: lesson 13 with claim 17 turned to 'true' disagrees with lesson 14's 'partly'."""
    nb = nbformat.read(claims.notebook(claims.THIS_LESSON), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown" and "| Switching from one framework to the other is seamless |" in cell.source:
            cell.source = cell.source.replace(
                "| Switching from one framework to the other is seamless | **partly** |",
                "| Switching from one framework to the other is seamless | **true** |")
    broken = Path(tmp_path) / "13_claims_checked.ipynb"
    nbformat.write(nb, broken)
    problems = claims.more_evidence(broken)
    assert len(problems) == 1 and "lesson 14 says 'partly'" in problems[0], problems
