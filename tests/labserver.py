"""Start the course's JupyterLab the way a learner does (``make lab``), for the browser and safety tests.

``LabServer`` runs ``make lab`` with extra options in ``LAB_ARGS``: a free loopback port, a random
token, JupyterLab's cell windowing off (JupyterLab >= 4.2 renders only the visible cells otherwise),
and a root folder holding *copies* of the notebooks with their outputs cleared — the
browser run saves them, and the repository's stored outputs must never be touched.

    with LabServer([Path("notebooks/01_tensors.ipynb")]) as lab:
        lab.api("GET", "/api/status")

Used in: tests/test_browser.py, tests/test_safety.py.
"""
from __future__ import annotations

import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]

# JupyterLab user settings for the test session only (a temporary user_settings_dir).
SETTINGS = {
    # Render every cell, so that what the screenshot shows and what runs are the whole notebook.
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    # Nothing about the news toast here: the course's own overrides.json (tools/jupyter_settings/,
    # installed by `make install`) must keep it away, and tests/test_browser.py checks that it does.
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cleared_copy(src: Path, dest: Path) -> None:
    """Copy a notebook without outputs and execution counts: whatever comes back was run in the browser."""
    nb = nbformat.read(src, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nbformat.write(nb, dest)


class LabServer:
    """``make lab`` on a free port with a token, serving cleared copies of ``notebooks``."""

    def __init__(self, notebooks: list[Path], startup_timeout: float = 180.0) -> None:
        self.notebooks = notebooks
        self.startup_timeout = startup_timeout
        self.token = secrets.token_hex(16)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.tmp = Path(tempfile.mkdtemp(prefix="course-lab-"))
        self.root = self.tmp / "notebooks"
        self.process: subprocess.Popen | None = None
        self.log_path = self.tmp / "lab.log"

    # -- the command ----------------------------------------------------------------------------
    def lab_args(self) -> list[str]:
        args = [
            f"--IdentityProvider.token={self.token}",
            "--ServerApp.open_browser=False",
            f"--LabServerApp.user_settings_dir={self.tmp / 'settings'}",
            f"--LabServerApp.workspaces_dir={self.tmp / 'workspaces'}",
        ]
        return args

    def command(self) -> list[str]:
        return ["make", "--no-print-directory", "-C", str(ROOT), "lab",
                f"PORT={self.port}", f"LAB_DIR={self.root}", f"LAB_ARGS={shlex.join(self.lab_args())}"]

    # -- start / stop ---------------------------------------------------------------------------
    def __enter__(self) -> "LabServer":
        self.root.mkdir(parents=True)
        for path in self.notebooks:
            cleared_copy(path, self.root / path.name)
        (self.tmp / "data").symlink_to(ROOT / "data")  # ../data as seen from the notebooks, like the repo
        for name, values in SETTINGS.items():
            target = self.tmp / "settings" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(values))
        env = dict(os.environ,
                   JUPYTER_CONFIG_DIR=str(self.tmp / "config"),    # no user config (e.g. ip=0.0.0.0)
                   JUPYTER_RUNTIME_DIR=str(self.tmp / "runtime"))
        env.pop("MAKEFLAGS", None)
        env.pop("MAKELEVEL", None)
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(self.command(), stdout=self.log, stderr=subprocess.STDOUT,
                                        env=env, cwd=ROOT, start_new_session=True)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"`make lab` exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if self.api("GET", "/api/status", timeout=2)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.5)
        self.__exit__(None, None, None)
        raise RuntimeError(f"JupyterLab did not answer within {self.startup_timeout:.0f} s:\n{self.log_tail()}")

    def __exit__(self, *exc_info) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # make and the jupyter server it started
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if getattr(self, "log", None):
            self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text()[-chars:]
        except OSError:
            return ""

    # -- the REST API -----------------------------------------------------------------------------
    def api(self, method: str, path: str, token: str | None = "default", timeout: float = 30) -> tuple[int, object]:
        """(HTTP status, parsed JSON or None). ``token=None`` sends no token at all."""
        request = urllib.request.Request(self.url + path, method=method)
        token = self.token if token == "default" else token
        if token is not None:
            request.add_header("Authorization", f"token {token}")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                body = response.read()
                return response.status, (json.loads(body) if body else None)
        except urllib.error.HTTPError as err:
            return err.code, None

    def notebook(self, name: str) -> nbformat.NotebookNode:
        """The notebook as saved on the server, read back through the contents API."""
        status, model = self.api("GET", f"/api/contents/{name}?content=1&type=notebook")
        assert status == 200, f"contents API answered {status} for {name}"
        return nbformat.from_dict(model["content"])

    def shutdown_kernels(self) -> None:
        status, sessions = self.api("GET", "/api/sessions")
        for session in sessions or []:
            self.api("DELETE", f"/api/sessions/{session['id']}")
        status, kernels = self.api("GET", "/api/kernels")
        for kernel in kernels or []:
            self.api("DELETE", f"/api/kernels/{kernel['id']}")
