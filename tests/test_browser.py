"""Every lesson, run the way a learner runs it: a real Chromium drives the course's JupyterLab.

For each notebooks/NN_*.ipynb: open it in JupyterLab (``make lab``, see tests/labserver.py), wait for
the kernel, Run > Run All Cells, wait until every cell has run and the kernel is idle, File > Save,
then read the notebook back through the server's contents API and fail on any error output in a
cell not tagged ``raises-exception``, and on any cell that never ran. One screenshot per notebook
goes to build/browser/NN_slug.png (git ignores build/); the time each took to open, run and
save goes to build/browser/times.json.

Runs in ``make test`` / ``make test-browser`` (COURSE_BROWSER_TEST=1) and always under CI=true, where
a missing Chromium is a failure. Elsewhere it skips, saying why. Chromium: Debian's package at
/usr/bin/chromium (``make browser-install``; Playwright's own download does not work everywhere),
else Playwright's own Chromium, else ``COURSE_CHROMIUM=/path/to/chrome``.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from chromium import IN_CI, launched
from labserver import ROOT, LabServer

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SHOTS = ROOT / "build" / "browser"
NOTEBOOK_TIMEOUT_S = float(os.environ.get("BROWSER_NOTEBOOK_TIMEOUT_S", "300"))
ENABLED = IN_CI or os.environ.get("COURSE_BROWSER_TEST") == "1"

pytestmark = pytest.mark.skipif(
    not ENABLED, reason="the browser test runs in `make test` / `make test-browser` (or set COURSE_BROWSER_TEST=1)")


def unavailable(reason: str):
    """Skip on a user's machine; fail in CI, where the browser test is part of the proof."""
    if IN_CI:
        pytest.fail(f"CI=true and the browser test cannot run: {reason}. Run `make browser-install` first.")
    pytest.skip(f"{reason} — run `make browser-install` to enable the browser test")


@pytest.fixture(scope="module")
def browser():
    with launched(unavailable) as chromium:
        yield chromium


PLANTED = "zz_planted_error.ipynb"


def planted_notebook(folder: Path) -> Path:
    """A notebook with a tagged error, then an untagged one: the test must see the second and stop there."""
    import nbformat

    cells = [nbformat.v4.new_code_cell("x = 1"),
             nbformat.v4.new_code_cell("1 / 0", metadata={"tags": ["raises-exception"]}),
             nbformat.v4.new_code_cell("print('ran after the tagged error')"),
             nbformat.v4.new_code_cell("undefined_name"),
             nbformat.v4.new_code_cell("print('never reached')")]
    path = folder / PLANTED
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    return path


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if not NOTEBOOKS:
        pytest.skip("no notebooks/NN_*.ipynb yet")
    with LabServer([*NOTEBOOKS, planted_notebook(tmp_path_factory.mktemp("planted"))]) as server:
        yield server
    if TIMES:  # open + run all + save, per notebook, for the instructor's timing notes
        SHOTS.mkdir(parents=True, exist_ok=True)
        (SHOTS / "times.json").write_text(json.dumps(TIMES, indent=1, sort_keys=True) + "\n")


TIMES: dict[str, float] = {}


# Runs in the page: (number of code cells, how many show a finished prompt "[n]:",
# how many are queued or running "[*]:", the kernel's status from the toolbar indicator).
CELL_STATE_JS = """() => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  if (!panel) return null;
  const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].map(p => p.textContent.trim());
  const indicator = panel.querySelector('.jp-Notebook-ExecutionIndicator');
  return {cells: prompts.length,
          done: prompts.filter(t => /^\\[\\d+\\]:$/.test(t)).length,
          pending: prompts.filter(t => t.includes('*')).length,
          status: indicator ? indicator.getAttribute('data-status') : null};
}"""


def accept_kernel_dialog(page) -> bool:
    """Click "Select" in JupyterLab's "Select Kernel" dialog, as a learner would; True if it was there.

    It appears for a notebook without kernelspec metadata; the preselected kernel is the course's.
    """
    dialog = page.locator(".jp-Dialog", has_text="Select Kernel")
    if dialog.count():
        dialog.locator("button.jp-mod-accept").first.click()
        return True
    return False


def wait_for(page, predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    state = None
    while time.monotonic() < deadline:
        accept_kernel_dialog(page)
        state = page.evaluate(CELL_STATE_JS)
        if state and predicate(state):
            return state
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}; last state {state}")


def kernel_idle(lab: LabServer, name: str) -> bool:
    """True when the server has a session for this notebook whose kernel has started and is idle."""
    sessions = lab.api("GET", "/api/sessions")[1] or []
    return any(Path(x.get("path", "")).name == name and (x.get("kernel") or {}).get("execution_state") == "idle"
               for x in sessions)


def menu(page, top: str, command: str) -> None:
    """Click a main-menu entry the way a learner does: e.g. Run > Run All Cells."""
    page.locator(".lm-MenuBar-itemLabel", has_text=top).first.click()
    page.locator(f'.lm-Menu-item[data-command="{command}"]').first.click()


def run_in_browser(browser, lab: LabServer, name: str, code_cells: int) -> None:
    start = time.monotonic()
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(f"{lab.url}/lab/tree/{name}?reset&token={lab.token}", wait_until="domcontentloaded")
        # Idle in the toolbar is not enough: before the kernel exists (e.g. while JupyterLab asks which
        # kernel to use) cells sent to it are dropped. Wait for the server's session too.
        wait_for(page, lambda s: s["cells"] == code_cells and s["status"] == "idle" and kernel_idle(lab, name),
                 120, f"all {code_cells} code cells rendered and a started, idle kernel")
        # Run > Run All Cells. Right after start-up the click is sometimes lost (the panel not yet
        # current, the kernel connection still settling): then focus the notebook and click again.
        for attempt in range(1, 4):
            page.locator("#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current").first.click()  # its tab
            menu(page, "Run", "runmenu:run-all")
            try:
                wait_for(page, lambda s: s["pending"] > 0 or s["done"] > 0, 30 * attempt, "the run to start")
                break
            except AssertionError:
                if attempt == 3:
                    raise
        wait_for(page, lambda s: s["pending"] == 0 and s["status"] == "idle", NOTEBOOK_TIMEOUT_S,
                 "all cells to finish")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{Path(name).stem}.png"))
        before = lab.api("GET", f"/api/contents/{name}?content=0")[1]["last_modified"]
        menu(page, "File", "docmanager:save")
        deadline = time.monotonic() + 30
        while lab.api("GET", f"/api/contents/{name}?content=0")[1]["last_modified"] == before:
            assert time.monotonic() < deadline, "File > Save did not save the notebook within 30 s"
            time.sleep(0.3)
        TIMES[name] = round(time.monotonic() - start, 1)
    except Exception:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{Path(name).stem}-FAILED.png"))  # what the learner would see
        raise
    finally:
        context.close()
        lab.shutdown_kernels()


def problems_in(nb) -> list[str]:
    """Error outputs outside cells tagged raises-exception, and code cells that never ran."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        tagged = "raises-exception" in cell.get("metadata", {}).get("tags", [])
        where = f"cell {index} ({cell.source.strip().splitlines()[0][:60]!r})"
        if cell.get("execution_count") is None:
            found.append(f"{where}: never ran")
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and not tagged:
                found.append(f"{where}: {output.get('ename')}: {output.get('evalue', '')[:200]}")
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_in_jupyterlab(browser, lab, path):
    code_cells = sum(cell.cell_type == "code" for cell in lab.notebook(path.name).cells)
    run_in_browser(browser, lab, path.name, code_cells)
    nb = lab.notebook(path.name)
    problems = problems_in(nb)
    assert not problems, f"{path.name} in JupyterLab:\n" + "\n".join(problems)


NEWS_TOAST = "official Jupyter news"


def test_no_news_toast_from_the_installed_settings(browser, lab):
    """`make lab` shows no "get notified about official Jupyter news?" toast over the notebook.

    The test session sets nothing about notifications (labserver.SETTINGS): the toast stays away
    only because `make install` put tools/jupyter_settings/overrides.json into the environment.
    """
    status, settings = lab.api("GET", "/lab/api/settings/@jupyterlab/apputils-extension:notification")
    # overrides.json changes the schema's default; the session's own settings leave it alone
    assert status == 200 and settings["schema"]["properties"]["fetchNews"]["default"] == "false"
    assert "fetchNews" not in settings["settings"], settings["settings"]
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    try:
        page.goto(f"{lab.url}/lab/tree/{PLANTED}?reset&token={lab.token}", wait_until="domcontentloaded")
        wait_for(page, lambda s: s["cells"] == 5, 120, "the notebook to render")
        time.sleep(5)  # JupyterLab asks about the news a moment after start-up
        toasts = page.get_by_text(NEWS_TOAST)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "no-news-toast.png"))
        assert toasts.count() == 0, "the news toast is shown: is .venv/share/jupyter/lab/settings/overrides.json installed?"
    finally:
        context.close()
        lab.shutdown_kernels()


def test_the_toast_check_can_fail(browser, monkeypatch):
    """Control: with fetchNews set back to "none" (JupyterLab's default, ask) the same look finds the toast."""
    import labserver

    monkeypatch.setitem(labserver.SETTINGS, "@jupyterlab/apputils-extension/notification.jupyterlab-settings",
                        {"fetchNews": "none"})
    with LabServer([]) as asking:
        context = browser.new_context(viewport={"width": 1280, "height": 720})
        page = context.new_page()
        try:
            page.goto(f"{asking.url}/lab?reset&token={asking.token}", wait_until="domcontentloaded")
            deadline = time.monotonic() + 60
            while page.get_by_text(NEWS_TOAST).count() == 0:
                assert time.monotonic() < deadline, "with fetchNews 'none' the news toast never appeared"
                time.sleep(0.5)
        finally:
            context.close()


def test_the_browser_run_catches_a_planted_error(browser, lab):
    """The test itself can fail: an untagged error is reported, a tagged one is not, and run-all stops."""
    run_in_browser(browser, lab, PLANTED, code_cells=5)
    nb = lab.notebook(PLANTED)
    assert nb.cells[2].outputs and "ran after the tagged error" in nb.cells[2].outputs[0]["text"]
    problems = problems_in(nb)
    assert len(problems) == 2, problems
    assert "cell 3 ('undefined_name'): NameError" in problems[0]
    assert "cell 4" in problems[1] and "never ran" in problems[1]


def test_tensorboard_ui_renders_the_runs_of_both_frameworks(browser, tmp_path):
    """Lesson 08: TensorBoard's own page, served by dashboards.start_tensorboard on 127.0.0.1, draws a run
    logged by each framework; the screenshot is build/browser/tensorboard.png."""
    import numpy as np
    import tensorflow as tf
    from torch.utils.tensorboard import SummaryWriter

    from course_utils.lessons import dashboards

    steps = np.arange(30)
    with SummaryWriter(str(tmp_path / "pytorch")) as writer:
        for step in steps:
            writer.add_scalar("train/loss", float(2.3 * np.exp(-step / 8)), global_step=int(step))
    writer_tf = tf.summary.create_file_writer(str(tmp_path / "tensorflow"))
    with writer_tf.as_default():
        for step in steps:  # another curve, so that both lines show
            tf.summary.scalar("train/loss", float(1.8 * np.exp(-step / 12)), step=int(step))
    writer_tf.close()
    with dashboards.start_tensorboard(tmp_path) as tb:
        dashboards.wait_for_runs(tb, ["pytorch", "tensorflow"])
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        try:
            page.goto(f"{tb.url}/#scalars", wait_until="domcontentloaded")
            for text in ("pytorch", "tensorflow", "train/loss"):
                page.get_by_text(text, exact=True).first.wait_for(timeout=60_000)
            deadline = time.monotonic() + 60
            while page.locator("vz-line-chart2 svg path.line").count() < 2:  # one line per run, drawn
                assert time.monotonic() < deadline, "the scalars dashboard listed the runs but drew no lines"
                time.sleep(0.5)
            time.sleep(1)  # the chart's transition
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "tensorboard.png"))
        finally:
            context.close()
