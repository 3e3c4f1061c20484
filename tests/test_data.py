import re
import shutil
import numpy as np
import pytest

import course_utils as cu
from course_utils import data
from course_utils.base.paths import course_root


@pytest.fixture
def data_copy(tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(course_root() / "data", folder)
    return folder


def test_digits_shapes_and_ranges():
    d = cu.load_digits()
    assert d.X_train.shape == (1438, 8, 8) and d.X_test.shape == (359, 8, 8)
    assert d.X_train.dtype == np.float32 and d.y_train.dtype == np.int64
    assert 0.0 <= d.X_train.min() and d.X_train.max() <= 1.0
    assert set(np.unique(d.y_train)) == set(range(10))
    assert cu.load_digits(flat=True).X_train.shape == (1438, 64)


def test_manifest_matches_shipped_files():
    assert data.verify_all() == [("digits.npz", None)]


def test_altered_file_gives_one_line_with_restore_hint(data_copy):
    path = data_copy / "digits.npz"
    raw = bytearray(path.read_bytes())
    raw[100] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(cu.CourseError) as info:
        cu.load_digits(folder=data_copy)
    assert str(info.value) == ("data/digits.npz: checksum mismatch (the file was changed or damaged) — "
                               "run `git checkout -- data/` in the course folder to restore it.")


def test_missing_file_names_it(data_copy):
    (data_copy / "digits.npz").unlink()
    with pytest.raises(cu.CourseError, match=r"data/digits.npz: missing — run `git checkout -- data/`"):
        cu.load_digits(folder=data_copy)


def test_missing_manifest(data_copy):
    (data_copy / "MANIFEST").unlink()
    with pytest.raises(cu.CourseError, match="MANIFEST: missing"):
        cu.load_digits(folder=data_copy)


def test_unlisted_file_is_refused(data_copy):
    with pytest.raises(cu.CourseError, match="not listed"):
        data.load_npz("other.npz", data_copy)


def test_corrupted_file_in_a_notebook_kernel_shows_no_traceback(data_copy):
    """What a learner sees: after cu.setup(), a CourseError is one line, not a traceback."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    (data_copy / "digits.npz").write_bytes(b"not an npz")
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import course_utils as cu\ncu.setup(seed=0)"),
        nbformat.v4.new_code_cell(f"import pathlib\ncu.load_digits(folder=pathlib.Path({str(data_copy)!r}))"),
    ])
    with pytest.raises(CellExecutionError):
        NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    [error] = [o for o in nb.cells[1].outputs if o.output_type == "error"]
    shown = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(error.traceback)).strip()
    # IPython's own short form: a pointer to %tb, then the message; no frames.
    assert shown.splitlines()[0] == "An exception has occurred, use %tb to see the full traceback."
    assert shown.splitlines()[-1] == ("CourseError: data/digits.npz: checksum mismatch (the file was changed or damaged) — "
                               "run `git checkout -- data/` in the course folder to restore it.")
