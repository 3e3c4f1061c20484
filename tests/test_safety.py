"""Safety: servers listen on 127.0.0.1 only and keep their token; nothing loads a pickle from disk.

Scanned: the course itself — course_utils/, notebooks/ (code cells), tools/, the Makefile,
README, docs/, .ci/ — not tests/, which spell out the bad patterns on purpose.
A rule that fails names the file, the line and what to write instead.
"""
from __future__ import annotations

import ast
import os
import re
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest

from labserver import ROOT, LabServer
from listen_watch import Watch

from course_utils.base import servers

# lessons/*.py are the notebooks' text twins: their code is scanned as the notebooks' code cells,
# and their markdown (prose, as comments) is not code the course runs.
PY_SOURCES = sorted([*(ROOT / "course_utils").rglob("*.py"), *(ROOT / "tools").rglob("*.py")])
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
TEXT_SOURCES = [p for p in [ROOT / "Makefile", ROOT / "README.md", ROOT / "environment.yml",
                            *(ROOT / "docs").rglob("*.md"), *(ROOT / ".ci").glob("*"),
                            *(ROOT / "tools").glob("*.json"), *(ROOT / "tools").glob("*.md")] if p.is_file()]


def code_units() -> list[tuple[str, str]]:
    """(where, Python source) for every module and notebook code cell of the course."""
    units = [(str(p.relative_to(ROOT)), p.read_text()) for p in PY_SOURCES]
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                units.append((f"{path.relative_to(ROOT)} cell {i}", cell.source))
    return units


def all_texts() -> list[tuple[str, str]]:
    return code_units() + [(str(p.relative_to(ROOT)), p.read_text(errors="replace")) for p in TEXT_SOURCES]


def parse(source: str) -> ast.AST | None:
    """Parse a module or a notebook cell; IPython magics and shell lines become blank lines."""
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    return ""


def keyword_is(call: ast.Call, name: str, value: object) -> bool:
    return any(k.arg == name and isinstance(k.value, ast.Constant) and k.value.value is value
               for k in call.keywords)


# Calls that unpickle: the name as written (last two parts) and why it is unsafe.
UNPICKLERS = {
    "pickle.load": "pickle", "pickle.loads": "pickle", "cPickle.load": "pickle",
    "dill.load": "dill (a pickle)", "dill.loads": "dill (a pickle)",
    "cloudpickle.load": "cloudpickle", "cloudpickle.loads": "cloudpickle",
    "joblib.load": "joblib (a pickle)", "shelve.open": "shelve (pickles)",
    "pd.read_pickle": "a pickle", "pandas.read_pickle": "a pickle",
}


def pickle_problems(where: str, source: str) -> list[str]:
    tree = parse(source)
    if tree is None:  # not Python we can parse: fall back to the plain patterns
        found = []
        for n, line in enumerate(source.splitlines(), 1):
            if re.search(r"pickle\.loads?\(|allow_pickle\s*=\s*True|weights_only\s*=\s*False|read_pickle\(", line):
                found.append(f"{where}:{n}: {line.strip()}")
        return found
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = dotted(node.func)
        tail = ".".join(name.split(".")[-2:])
        at = f"{where}:{node.lineno}: {name}(...)"
        if tail in UNPICKLERS:
            found.append(f"{at} loads {UNPICKLERS[tail]} — it can run any code; store arrays in .npz")
        elif tail in ("np.load", "numpy.load") and not keyword_is(node, "allow_pickle", False):
            found.append(f"{at} — write np.load(path, allow_pickle=False)")
        elif name.endswith("torch.load") and not keyword_is(node, "weights_only", True):
            found.append(f"{at} — write torch.load(path, weights_only=True)")
        elif name.endswith("load_model") and keyword_is(node, "safe_mode", False):
            found.append(f"{at} with safe_mode=False — Keras would deserialize arbitrary lambdas")
    return found


def test_nothing_loads_a_pickle():
    problems = [p for where, source in code_units() for p in pickle_problems(where, source)]
    assert not problems, "unsafe loading:\n" + "\n".join(problems)


def test_the_pickle_scan_catches_the_usual_forms():
    bad = ("import pickle, torch, numpy as np\n"
           "pickle.load(open('m.pkl', 'rb'))\n"
           "torch.load('m.pt')\n"
           "torch.load('m.pt', weights_only=False)\n"
           "np.load('d.npz')\n"
           "np.load('d.npz', allow_pickle=True)\n"
           "%time x = 1\n")
    assert len(pickle_problems("example", bad)) == 5
    good = "torch.load('m.pt', weights_only=True)\nnp.load('d.npz', allow_pickle=False)\n"
    assert pickle_problems("example", good) == []


def test_course_data_is_npz_without_objects():
    data = ROOT / "data"
    files = [p for p in data.iterdir() if p.is_file()]
    risky = [p.name for p in files if p.suffix in (".pkl", ".pickle", ".pt", ".pth", ".joblib", ".npy", ".h5")]
    assert not risky, f"data/ holds formats that can carry code or objects: {risky}; ship .npz instead"
    archives = [p for p in files if p.suffix == ".npz"]
    assert archives, "data/ has no .npz files"
    for path in archives:
        assert zipfile.is_zipfile(path), path.name
        with np.load(path, allow_pickle=False) as archive:  # raises on object arrays
            for key in archive.files:
                assert archive[key].dtype != object, f"{path.name}:{key} is an object array"


# -- servers -----------------------------------------------------------------------------------
TOKEN_OFF = re.compile(r"(token|password)\s*=\s*(''|\"\"|\s|$)|disable_check_xsrf|allow_remote_access"
                       r"|--no-token|ServerApp\.token\s*=\s*['\"]{2}", re.I)
ANY_HOST = re.compile(r"0\.0\.0\.0|--ip[= ]\*|ip\s*=\s*['\"]?\*|--bind_all|bind_all\s*=\s*True|host\s*=\s*['\"]?(::|0\.0\.0\.0)")
JUPYTER_LAUNCH = re.compile(r"jupyter[ -](lab|notebook|server)\b(?!\w)")
TB_LAUNCH = re.compile(r"(%tensorboard\b|\btensorboard\s+--|-m\s+tensorboard\b|['\"]tensorboard['\"]\s*,"
                       r"|program\.TensorBoard\(|\.configure\(\s*argv)")


def statement_at(text: str, start: int) -> str:
    """The logical line holding text[start]: continues while brackets are open or a line ends in \\."""
    begin = text.rfind("\n", 0, start) + 1
    depth, i = 0, begin
    while i < len(text):
        ch = text[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "\n" and depth <= 0 and text[i - 1] != "\\":
            break
        i += 1
    return text[begin:i]


def launches(pattern: re.Pattern) -> list[tuple[str, str]]:
    found = []
    for where, text in all_texts():
        for match in pattern.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append((f"{where}:{line}", statement_at(text, match.start())))
    return found


def test_make_lab_listens_on_loopback_with_a_token():
    makefile = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    recipe = re.search(r"^lab:.*\n((?:\t.*\n)+)", makefile, re.M).group(1)
    assert "jupyter lab" in recipe and "--ServerApp.ip=127.0.0.1" in recipe, recipe
    assert not TOKEN_OFF.search(recipe) and not ANY_HOST.search(recipe), recipe


def test_every_jupyter_launch_keeps_loopback_and_token():
    problems = [f"{where}: {stmt.strip()}" for where, stmt in launches(JUPYTER_LAUNCH)
                if TOKEN_OFF.search(stmt) or ANY_HOST.search(stmt)]
    assert not problems, "JupyterLab must listen on 127.0.0.1 with its token:\n" + "\n".join(problems)


def test_every_tensorboard_launch_is_loopback_only():
    problems = []
    for where, stmt in launches(TB_LAUNCH):
        if ANY_HOST.search(stmt):
            problems.append(f"{where}: listens beyond this machine: {stmt.strip()}")
        elif not re.search(r"127\.0\.0\.1|localhost", stmt):
            problems.append(f"{where}: say --host 127.0.0.1: {stmt.strip()}")
    assert not problems, "TensorBoard must listen on 127.0.0.1 only:\n" + "\n".join(problems)


def test_the_server_rules_catch_the_usual_forms():
    assert ANY_HOST.search("tensorboard --logdir runs --bind_all")
    assert ANY_HOST.search("jupyter lab --ip=0.0.0.0")
    assert TOKEN_OFF.search("jupyter lab --ServerApp.token=''")
    assert TOKEN_OFF.search("jupyter lab --IdentityProvider.token= --port 1")
    assert not TOKEN_OFF.search("jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.port=8888")
    text = 'subprocess.Popen(["tensorboard",\n "--logdir", d,\n "--host", "127.0.0.1"])\n'
    assert "127.0.0.1" in statement_at(text, text.index('"tensorboard"'))


def test_make_lab_really_listens_on_loopback_and_asks_for_the_token():
    psutil = pytest.importorskip("psutil")
    with LabServer([]) as lab:
        assert lab.api("GET", "/api/contents", token=None)[0] in (401, 403), "no token must be refused"
        assert lab.api("GET", "/api/contents", token="wrong")[0] in (401, 403), "a wrong token must be refused"
        assert lab.api("GET", "/api/contents")[0] == 200
        processes = [psutil.Process(lab.process.pid), *psutil.Process(lab.process.pid).children(recursive=True)]
        listening = {(c.laddr.ip, c.laddr.port) for p in processes
                     for c in p.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN}
    assert ("127.0.0.1", lab.port) in listening, listening
    assert all(ip == "127.0.0.1" for ip, _ in listening), f"listening beyond loopback: {listening}"


def test_make_lab_and_its_kernels_listen_on_loopback_only():
    """Issue 26, from the OS: JupyterLab and a kernel it starts (its ZMQ ports), sampled all along."""
    import json
    import urllib.request

    with LabServer([]) as lab, Watch(lambda: [lab.process.pid]) as watch:
        request = urllib.request.Request(lab.url + "/api/kernels", data=b"{}", method="POST",
                                         headers={"Authorization": f"token {lab.token}",
                                                  "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as reply:
            kernel_id = json.loads(reply.read())["id"]
        deadline = time.monotonic() + 60
        while len(servers.listening_sockets([lab.process.pid])) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)  # the kernel's five ZMQ ports appear once it has started
        listening = servers.listening_sockets([lab.process.pid])
        lab.api("DELETE", f"/api/kernels/{kernel_id}")
    assert len({l.pid for l in listening}) >= 2, f"no kernel seen listening: {listening}"
    assert all(l.loopback for l in listening), listening
    assert watch.findings == [], [f.line() for f in watch.findings]


# --- issue 26: the listening-socket sampler the strict suite runs (tests/listen_watch.py) can fail ----

BIND = ("import socket, sys, time; s = socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET); "
        "s.bind((sys.argv[1], 0)); s.listen(); print('listening', flush=True); time.sleep(60)")


def child_listening_on(address: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", BIND, address], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "listening"
    return proc


def has_ipv6() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def test_the_sampler_catches_a_child_on_all_interfaces_and_passes_loopback():
    addresses = ["0.0.0.0", "127.0.0.1"] + (["::", "::1"] if has_ipv6() else [])
    with Watch(lambda: [os.getpid()]) as watch:
        watch.where = "planted wrong bind"
        children = {a: child_listening_on(a) for a in addresses}
        try:
            time.sleep(3 * watch.interval)
        finally:
            for proc in children.values():
                proc.kill()
                proc.wait()
    caught = {(f.pid, f.address) for f in watch.findings}
    assert (children["0.0.0.0"].pid, "0.0.0.0") in caught, [f.line() for f in watch.findings]
    if has_ipv6():
        assert (children["::"].pid, "::") in caught, [f.line() for f in watch.findings]
    assert all(f.address in ("0.0.0.0", "::") for f in watch.findings), "a loopback listener was flagged"
    assert any(address == "127.0.0.1" and "-c import socket" in process for process, address in watch.loopback)
    line = next(f for f in watch.findings if f.address == "0.0.0.0").line()
    assert line.startswith("planted wrong bind: pid ") and "-c import socket" in line and "0.0.0.0:" in line
    assert watch.samples >= 2 and not watch._thread.is_alive(), "the sampler ran and was stopped"


def nbval(tmp_path: Path, cells: list[str]) -> subprocess.CompletedProcess:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "planted.ipynb"
    nbformat.write(nb, path)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)])}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "listen_watch", "-p", "no:cacheprovider",
                           "--nbval-lax", "--current-env", "-q", "-c", os.devnull, "--rootdir", str(tmp_path),
                           str(path)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


PLANT = ("import subprocess, sys\n"
         "child = subprocess.Popen([sys.executable, '-c', {bind!r}, {address!r}], stdout=subprocess.PIPE, text=True)\n"
         "assert child.stdout.readline().strip() == 'listening'")


def test_a_strict_notebook_run_fails_on_a_planted_wrong_bind(tmp_path):
    """A real nbval run with the plugin: a cell whose child listens on 0.0.0.0 fails, named; loopback passes."""
    stop = "import time; time.sleep(1); child.kill(); child.wait()"
    wrong = nbval(tmp_path, ["x = 1", PLANT.format(bind=BIND, address="0.0.0.0"), stop])
    out = wrong.stdout + wrong.stderr
    assert wrong.returncode != 0, out[-3000:]
    assert "planted.ipynb::Cell 1" in out and "listening beyond loopback" in out, out[-3000:]
    assert "-c import socket" in out and "0.0.0.0:" in out, out[-3000:]
    assert "1 failed, 2 passed" in out, out[-3000:]
    right = nbval(tmp_path, ["x = 1", PLANT.format(bind=BIND, address="127.0.0.1"), stop])
    out = right.stdout + right.stderr
    assert right.returncode == 0 and "beyond loopback: 0; known exceptions: 0" in out, out[-3000:]
