"""The workshop hub, for real: JupyterHub + configurable-http-proxy on 127.0.0.1 with a simulated room.

`make test-hub` (part of `make test`) sets COURSE_HUB_TEST=1 and runs this file; elsewhere (test-unit)
only the file checks at the top run. In order, against one hub started by the `room` fixture:

1. a room of COURSE_HUB_LEARNERS (default 3) learners sign up, are approved by the instructor, log in,
   start their servers and run lessons through the kernel API, all at once: the first learner every
   lesson of the course (09, 11 and 13 first), the others 09, 11 and 13, so that several learners run
   the lessons that write files at overlapping times: 0 failures; each learner's files under their own
   folder; memory, times and CPU per learner go to build/hub-test/room.json;
1b. the room answers exercise 1.1 right and wrong, raises and lowers sticky notes, leaves one-minute
   cards; the instructor's board (/services/board/, tools/hub/board.py) read over HTTP shows exactly
   that; a learner's request to it is refused; a screenshot in Chromium: build/hub-test/board.png;
2. signing up is not enough (approval), a wrong password is refused;
3. one learner's token cannot read or run another's server or files (hub REST API, contents API,
   kernels API, the kernel's websocket): refused;
4. a kernel killed mid-lesson: the learner's files are intact, the server restarts the kernel, the
   lesson runs again; the server itself killed: the hub notices, starts it again, nothing overwritten;
5. the hub restarted while learners are logged in: same server processes, a kernel's variables
   survive, tokens still work, every file byte-identical;
6. everything the test started is stopped by `make hub-stop`'s script (tools/hub/stop.py): no process
   left, every port free.

tools/hub/room.py holds the client (what a browser would send); docs/instructors/hub.md has the numbers.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path

import psutil
import pytest
import yaml
from listen_watch import Watch  # noqa: E402  (tests/ is on the path: conftest.py)

REPO = Path(__file__).resolve().parents[1]
HUB_DIR = REPO / "tools" / "hub"
STATE = REPO / "build" / "hub-test"
N_LEARNERS = int(os.environ.get("COURSE_HUB_LEARNERS", "3"))

_spec = importlib.util.spec_from_file_location("course_hub_room", HUB_DIR / "room.py")
room_mod = importlib.util.module_from_spec(_spec)
sys.modules["course_hub_room"] = room_mod   # dataclasses look their module up there
_spec.loader.exec_module(room_mod)
_spec = importlib.util.spec_from_file_location("course_hub_stop", HUB_DIR / "stop.py")
stop_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(stop_mod)

run_hub = pytest.mark.skipif(os.environ.get("COURSE_HUB_TEST") != "1",
                             reason="the real hub runs in `make test-hub` (COURSE_HUB_TEST=1)")


# --- the files a reader applies elsewhere: syntax and the keys the tools read ----------------------

def test_tljh_config_has_the_keys_tljh_reads():
    cfg = yaml.safe_load((HUB_DIR / "tljh-config.yaml").read_text())
    # TLJH's config.yaml schema (tljh/configurer.py): users, limits, user_environment, services
    assert set(cfg) <= {"users", "limits", "user_environment", "services", "https", "http", "auth", "base_url"}
    assert cfg["users"]["admin"], "an admin (the instructor) is listed"
    assert cfg["auth"]["type"] == "nativeauthenticator.NativeAuthenticator"
    assert str(cfg["limits"]["memory"]).endswith("G") and float(cfg["limits"]["cpu"]) > 0
    assert cfg["services"]["cull"]["enabled"] is True and int(cfg["services"]["cull"]["timeout"]) > 0
    assert cfg["user_environment"]["default_app"] == "jupyterlab"


def test_z2jh_values_have_the_keys_the_chart_reads():
    v = yaml.safe_load((HUB_DIR / "z2jh-values.yaml").read_text())
    assert set(v) <= {"hub", "proxy", "singleuser", "cull", "scheduling", "prePuller", "ingress", "debug"}
    su = v["singleuser"]
    assert su["image"]["name"] and str(su["image"]["tag"])
    for key in ("limit", "guarantee"):
        assert str(su["memory"][key]).endswith("G") and float(su["cpu"][key]) > 0
    assert float(str(su["memory"]["limit"])[:-1]) >= float(str(su["memory"]["guarantee"])[:-1])
    assert su["storage"]["type"] in {"dynamic", "static", "none"}
    assert v["cull"]["enabled"] is True and int(v["cull"]["timeout"]) > 0
    assert v["hub"]["config"]["JupyterHub"]["authenticator_class"] == "nativeauthenticator.NativeAuthenticator"
    assert "instructor" in v["hub"]["config"]["Authenticator"]["admin_users"]
    assert v["proxy"]["https"]["enabled"] is True


def test_image_recipe_builds_from_the_pins():
    dockerfile = (HUB_DIR / "Dockerfile").read_text()
    assert "requirements.txt" in dockerfile and "tools/kernel.json" in dockerfile
    assert "wheelhouse" in dockerfile, "the image can be built offline from `make wheelhouse`"
    pins = dict(line.split("==", 1) for line in (REPO / "requirements.txt").read_text().split()
                if "==" in line and not line.startswith("#"))
    assert "jupyterhub" in pins, "the image's jupyterhub-singleuser matches the hub's version"


def test_proxy_is_pinned_in_the_lock():
    lock = json.loads((REPO / "package-lock.json").read_text())
    pkg = json.loads((REPO / "package.json").read_text())
    version = pkg["dependencies"]["configurable-http-proxy"]
    assert version[0].isdigit(), "an exact version, not a range"
    assert lock["packages"]["node_modules/configurable-http-proxy"]["version"] == version


def test_workspace_adds_missing_files_only(tmp_path):
    spec = importlib.util.spec_from_file_location("course_hub_workspace", HUB_DIR / "workspace.py")
    ws = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ws)
    src, home = tmp_path / "learner", tmp_path / "home"
    src.mkdir()
    for name in ("00_a.ipynb", "01_b.ipynb"):
        (src / name).write_text(f"course copy of {name}")
    assert [p.name for p in ws.populate(home, src)] == ["00_a.ipynb", "01_b.ipynb"], "first spawn: every copy"
    (home / "00_a.ipynb").write_text("the learner's work")
    (home / "01_b.ipynb").unlink()
    (src / "00_a.ipynb").write_text("a newer course copy")
    (src / "02_c.ipynb").write_text("a new lesson")
    assert sorted(p.name for p in ws.populate(home, src)) == ["01_b.ipynb", "02_c.ipynb"]
    assert (home / "00_a.ipynb").read_text() == "the learner's work", "never overwritten"
    assert ws.populate(home, src) == []


def test_hub_state_survives_make_clean():
    """Issue 34 (M7): the hub's accounts and learners' work live outside build/, and `make clean` says what it removes."""
    import subprocess
    config = (HUB_DIR / "jupyterhub_config.py").read_text()
    assert 'env("STATE", REPO / "hub-state")' in config
    dry = subprocess.run(["make", "-n", "clean"], cwd=REPO, capture_output=True, text=True, timeout=60).stdout
    removed = [line for line in dry.splitlines() if line.startswith("rm ")]
    assert removed and all("hub-state" not in line for line in removed), removed
    assert "keeping workspace/ and hub-state/" in dry
    assert "hub-state/" in (REPO / ".gitignore").read_text().split()


def test_per_user_variables_are_functions_of_the_user():
    """Issue 34: no template string reaches a server's environment; each learner's folder is expanded per user."""
    config = (HUB_DIR / "jupyterhub_config.py").read_text()
    block = config[config.index("c.Spawner.environment = {"):]
    block = block[:block.index("}")]
    assert "{username}" not in block
    for var in ("COURSE_LEARNER_ROOT", "TORCHINDUCTOR_CACHE_DIR", "TORCH_EXTENSIONS_DIR", "MPLCONFIGDIR"):
        assert f'"{var}": lambda sp: learner_dir(sp' in block, var


# --- the real hub -----------------------------------------------------------------------------------

def digest(folder: Path) -> dict[str, str]:
    """The learner's own files: everything but hidden folders and build/ (the learner root: caches,
    scratch and the record, which a lesson's run changes by design)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()
            and not p.relative_to(folder).parts[0].startswith(".") and p.relative_to(folder).parts[0] != "build"}


class Room:
    def __init__(self):
        shutil.rmtree(STATE, ignore_errors=True)
        self.hub = room_mod.Hub(STATE)
        # Issue 26, from the OS: every socket the hub, its proxy, the servers and their kernels listen on,
        # sampled for the whole module (the processes are found by their COURSE_HUB_STATE mark, walked
        # only when a listener beyond loopback appears); test_everything... fails on any.
        self.watch = Watch(lambda: [p.pid for p in room_mod.marked_processes(self.hub.state)])
        self.admin = None
        self.names = [f"learner{i:02d}" for i in range(1, N_LEARNERS + 1)] + ["late"]
        self.learners = []
        self.stopped = None

    def stop(self) -> list[str]:
        """What `make hub-stop` runs (tools/hub/stop.py): servers and kernels, then the hub, then the rest."""
        if self.stopped is None:
            self.stopped = stop_mod.stop(self.hub.state, quiet=True)
            if self.hub.proc:
                self.hub.proc.wait(30)
        return self.stopped


@pytest.fixture(scope="module")
def room():
    if not (REPO / "node_modules" / ".bin" / "configurable-http-proxy").exists():
        pytest.fail("configurable-http-proxy is not installed: run `npm ci` (make test-hub does)")
    r = Room()
    r.watch.start()
    try:
        r.hub.start()
        r.admin, r.instructor = room_mod.admin_token(r.hub)
        r.learners = room_mod.enrol(r.hub, r.instructor, r.names[:N_LEARNERS])
        yield r
    finally:
        left = r.stop()
        r.watch.stop()
        assert not left, f"processes left running (now killed): {left}"
        wrong = [f.line() for f in r.watch.findings if not f.known]   # known: listen_watch.KNOWN_EXCEPTIONS
        assert not wrong, "listening beyond loopback (127.0.0.0/8, ::1):\n" + "\n".join(wrong)


@pytest.fixture(autouse=True)
def _label_the_listeners(request):
    """The socket sampler names the test that was running when it saw a listener."""
    if "room" in request.fixturenames:
        request.getfixturevalue("room").watch.where = request.node.nodeid
    yield


def room_plan(learners) -> dict[str, tuple[str, ...]]:
    """The first learner: the whole course, the lessons that write files first; the others: 09, 11, 13."""
    writers = room_mod.SHARED_WRITERS
    first = writers + tuple(x for x in room_mod.ALL_LESSONS if x not in writers)
    return {lr.name: (first if i == 0 else writers) for i, lr in enumerate(learners)}


@run_hub
def test_room_runs_the_whole_course_concurrently(room):
    sampler = room_mod.Sampler(room.hub.state)
    sampler.start()
    t0 = time.monotonic()
    plan = room_plan(room.learners)
    try:
        records = room_mod.run_room(room.hub, room.learners, sampler, plan=plan)
    finally:
        sampler.stop()
    summary = room_mod.summarize(records, time.monotonic() - t0, len(room.learners))
    (STATE / "room.json").write_text(json.dumps({"summary": summary, "learners": records}, indent=1))
    failures = [f"{r['name']}: {f}" for r in records for f in r["failures"]]
    assert not failures, failures
    for r in records:
        assert r["peak_rss_mb"] > 300, f"{r['name']}: the sampler saw no kernel ({r['peak_rss_mb']} MB)"
        assert set(plan[r["name"]]) <= set(r), f"{r['name']}: lessons not run"
    # several learners ran 09, 11 and 13 at overlapping times (the shared-folder failure of issue 34)
    if len(records) > 1:
        for lesson in room_mod.SHARED_WRITERS:
            spans = sorted(r[lesson]["span"] for r in records)
            assert spans[1][0] < spans[0][1], f"{lesson}: the runs did not overlap ({spans})"
    # each learner's own folder, filled from the learner copies, and everything a lesson wrote under it
    for lr in room.learners:
        home = STATE / "users" / lr.name
        assert (home / "00_setup_check.ipynb").exists()
        assert "answer = ..." in (home / "03_same_model.ipynb").read_text()
        assert (home / "build" / "cache" / "09_saving_deploying").is_dir(), f"{lr.name}: lesson 09's files elsewhere"
        assert (home / "build" / "scratch").is_dir(), f"{lr.name}: no per-learner scratch"
    assert not [p for p in STATE.rglob("*{username}*")], "a per-user variable reached a server unexpanded"


EX = "1.1"
ACTIONS = {  # learner index -> code run in that learner's kernel (what they type in a notebook)
    0: ["cu.check.arange_matrix(torch.zeros(3, 4))", "cu.check.arange_matrix(torch.arange(12.).reshape(3, 4))",
        'cu.feedback("09", clarity=4, comment="clear, the build is long")'],
    1: ["cu.check.arange_matrix(torch.zeros(3, 4))", "cu.check.arange_matrix(torch.ones(4, 3))", 'cu.stuck("1.1")',
        'cu.feedback("09", clarity=2, comment="lost at the AOTInductor part")'],
    2: ["cu.check.arange_matrix(torch.arange(12.).reshape(3, 4))", 'cu.stuck("13.1")', "cu.unstuck()"],
}
EXPECTED = {0: ("✓2", None), 1: ("✗2", "1.1"), 2: ("✓1", None)}  # (cell of 1.1, stuck flag)


def board_get(room, path: str, token: str):
    import requests
    return requests.get(f"{room.hub.url}/services/board/{path}", headers={"Authorization": f"token {token}"},
                        allow_redirects=False, timeout=60)


@run_hub
def test_board_shows_the_rooms_exact_state_to_the_instructor_only(room):
    learners = room.learners[:3]
    for i, lr in enumerate(learners):
        lr.start_server()
        lr.run_code("import torch\nimport course_utils as cu\n" + "\n".join(ACTIONS[i]))
    r = board_get(room, "room.json", room.admin)
    assert r.status_code == 200, f"the instructor's board: HTTP {r.status_code} {r.text[:200]}"
    board = r.json()
    for i, lr in enumerate(learners):
        row = board["learners"][lr.name]
        cell, stuck = EXPECTED[i]
        assert row["exercises"][EX] == cell, f"{lr.name}: {row['exercises'][EX]} on the board, expected {cell}"
        assert row["stuck"] == stuck, f"{lr.name}: stuck flag {row['stuck']}, expected {stuck}"
        # every other exercise: opened by the lessons' placeholder checks, or not started; never a try
        others = {ex: c for ex, c in row["exercises"].items() if ex != EX}
        assert set(others.values()) <= {"○", "·"}, others
        ran = {int(x[:2]) for x in room_plan(room.learners)[lr.name]}
        opened = {int(ex.split(".")[0]) for ex, c in others.items() if c == "○"}
        assert opened <= ran, f"{lr.name}: exercises of lessons not run are marked opened: {opened - ran}"
    cards = board["feedback"]["09"]
    assert sorted((c["clarity"], c["comment"]) for c in cards) == [
        (2, "lost at the AOTInductor part"), (4, "clear, the build is long")]
    page = board_get(room, "", room.admin)
    assert page.status_code == 200 and 'http-equiv="refresh"' in page.text
    assert "⚑ 1.1" in page.text and "✓2" in page.text and "✗2" in page.text and "clarity 3.0/5" in page.text
    # a learner's token, and a learner's logged-in browser: refused
    for lr in learners:
        refused = board_get(room, "room.json", lr.token)
        assert refused.status_code == 403, f"{lr.name}'s token read the board: HTTP {refused.status_code}"
        assert "✓" not in refused.text and "feedback" not in refused.text
    browser = room_mod.browser_login(room.hub, learners[1].name, learners[1].password)
    seen = browser.get(f"{room.hub.url}/services/board/", timeout=60)
    assert seen.status_code == 403 and "✓" not in seen.text, f"a learner's browser reached the board: {seen.status_code}"
    # what the instructor sees: Chromium, the instructor's token in the request headers
    from chromium import launched

    def unavailable(reason):
        pytest.fail(f"Chromium is needed for the board's screenshot: {reason}")

    with launched(unavailable) as chromium:
        context = chromium.new_context(viewport={"width": 1400, "height": 700},
                                       extra_http_headers={"Authorization": f"token {room.admin}"})
        page = context.new_page()
        try:
            page.goto(f"{room.hub.url}/services/board/", wait_until="domcontentloaded")
            page.get_by_text("⚑ 1.1").first.wait_for(timeout=60_000)
            page.screenshot(path=str(STATE / "board.png"), full_page=True)
        finally:
            context.close()
    assert (STATE / "board.png").stat().st_size > 5000


@run_hub
def test_signup_needs_approval_and_the_right_password(room):
    hub = room.hub
    room_mod.sign_up(hub, "late", "a-long-enough-password")
    assert room_mod.log_in(hub, "late", "a-long-enough-password") is None, "not approved yet: refused"
    with pytest.raises(RuntimeError):
        room_mod.browser_login(hub, "late", "a-long-enough-password")
    room_mod.approve(room.instructor, hub, "late")
    with pytest.raises(RuntimeError):
        room_mod.browser_login(hub, "late", "the-wrong-password")
    room_mod.browser_login(hub, "late", "a-long-enough-password")
    assert room_mod.log_in(hub, "late", "a-long-enough-password")
    assert room_mod.log_in(hub, room.learners[0].name, "the-wrong-password") is None


@run_hub
def test_a_learner_cannot_reach_another_learners_server_or_files(room):
    alice, bob = room.learners[0], room.learners[1]
    assert alice.server("GET", "/api/contents").status_code == 200, "control: her own server answers"
    session_id, bob_kernel = bob.open_kernel("00_setup_check.ipynb")
    try:
        as_alice = room_mod.Learner(room.hub, bob.name, token=alice.token)   # Alice's token on Bob's URLs
        refused = {
            "hub: read Bob": room.hub.api("GET", f"/users/{bob.name}", alice.token).status_code,
            "hub: list users": room.hub.api("GET", "/users", alice.token).status_code,
            "hub: Bob's tokens": room.hub.api("GET", f"/users/{bob.name}/tokens", alice.token).status_code,
            "hub: stop Bob's server": room.hub.api("DELETE", f"/users/{bob.name}/server", alice.token).status_code,
            "hub: start Bob's server": room.hub.api("POST", f"/users/{bob.name}/server", alice.token).status_code,
            "contents: list": as_alice.server("GET", "/api/contents").status_code,
            "contents: read a notebook": as_alice.server("GET", "/api/contents/03_same_model.ipynb").status_code,
            "contents: write a file": as_alice.server("PUT", "/api/contents/x.txt",
                                                      json={"type": "file", "format": "text", "content": "x"}).status_code,
            "contents: delete": as_alice.server("DELETE", "/api/contents/00_setup_check.ipynb").status_code,
            "kernels: list": as_alice.server("GET", "/api/kernels").status_code,
            "kernels: start": as_alice.server("POST", "/api/kernels", json={"name": "python3"}).status_code,
            "files: download": as_alice.server("GET", "/files/03_same_model.ipynb").status_code,
        }
        no_token = room_mod.Learner(room.hub, bob.name, token="not-a-token")
        refused["no valid token: contents"] = no_token.server("GET", "/api/contents").status_code
        wrongly_allowed = {k: v for k, v in refused.items() if v not in (401, 403, 404)}
        assert not wrongly_allowed, f"Alice's token was let in (HTTP status): {wrongly_allowed}"
        import websocket
        ws_url = bob.base.replace("http://", "ws://") + f"/api/kernels/{bob_kernel}/channels"
        with pytest.raises(websocket.WebSocketBadStatusException) as ws_refused:   # the kernel's channel
            websocket.create_connection(ws_url, header=[f"Authorization: token {alice.token}"], timeout=30)
        assert ws_refused.value.status_code in (401, 403, 404)
        assert (STATE / "users" / bob.name / "00_setup_check.ipynb").exists(), "Bob's files untouched"
        assert not (STATE / "users" / bob.name / "x.txt").exists()
        assert bob.server("GET", "/api/status").status_code == 200, "Bob's server still running"
    finally:
        bob.close_kernel(session_id)


def kernel_pids(learner) -> set[int]:
    """The learner's kernel processes (children of their server)."""
    server = psutil.Process(learner.server_pid())
    return {p.pid for p in server.children(recursive=True) if "ipykernel" in " ".join(p.cmdline())}


def wait_kernel_back(learner, kernel_id: str, old_pid: int, timeout: float = 90) -> int:
    """Until the server has restarted the kernel: a new process, the same kernel id, idle."""
    t0, state, new = time.monotonic(), None, set()
    while time.monotonic() - t0 < timeout:
        new = kernel_pids(learner) - {old_pid}
        r = learner.server("GET", f"/api/kernels/{kernel_id}")
        state = r.json().get("execution_state") if r.status_code == 200 else r.status_code
        # A new process under the same kernel id is the restart. With no client connected the server
        # may still report "starting" (it learns "idle" from the kernel's next status message); the
        # lesson run that follows proves the kernel works.
        if new and state in ("idle", "starting", "busy"):
            return new.pop()
        time.sleep(0.5)
    raise TimeoutError(f"kernel {kernel_id} not back in {timeout} s (state: {state}, new process: {bool(new)})")


@run_hub
def test_kernel_killed_mid_lesson_then_server_killed(room):
    lr = room.learners[2 % len(room.learners)]
    lr.start_server()                                      # running already after the room (idempotent)
    home = STATE / "users" / lr.name
    # the learner's own work: a saved file, and an edited lesson (it must never be overwritten)
    put = lr.server("PUT", "/api/contents/my_notes.txt",
                    json={"type": "file", "format": "text", "content": "w = 42  # mine\n"})
    assert put.status_code in (200, 201)
    nb = lr.server("GET", "/api/contents/03_same_model.ipynb").json()["content"]
    nb["cells"][0]["source"] = "# my notes on lesson 03\n" + nb["cells"][0]["source"]
    assert lr.server("PUT", "/api/contents/03_same_model.ipynb",
                     json={"type": "notebook", "content": nb}).status_code == 200
    before = digest(home)

    session_id, kernel_id = lr.open_kernel("03_same_model.ipynb")
    (old_pid,) = kernel_pids(lr)

    def kill_at(i):
        if i == 6:  # mid-lesson: a few cells have run, the model cells are next
            psutil.Process(old_pid).send_signal(signal.SIGKILL)

    with pytest.raises(room_mod.KernelDied):
        lr.run_notebook("03_same_model.ipynb", kernel_id=kernel_id, on_cell=kill_at)
    assert digest(home) == before, "the learner's files changed when the kernel died"
    wait_kernel_back(lr, kernel_id, old_pid)               # jupyter_server restarted it, same kernel id
    again = lr.run_notebook("03_same_model.ipynb", kernel_id=kernel_id)
    assert not again["errors"], again["errors"]
    lr.close_kernel(session_id)

    # now the whole server dies (as the OOM killer would take it, kernels included)
    server = psutil.Process(lr.server_pid())
    for p in server.children(recursive=True) + [server]:
        p.kill()
    psutil.wait_procs([server], timeout=10)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 60:                      # the hub polls its servers (every 10 s here)
        srv = room.hub.api("GET", f"/users/{lr.name}", room.admin).json()["servers"]
        if not srv.get("", {}).get("ready"):
            break
        time.sleep(1)
    else:
        pytest.fail("the hub did not notice the dead server in 60 s")
    lr.start_server()                                      # what the learner's browser does: start again
    assert lr.server_pid() != server.pid
    assert digest(home) == before, "restarting the server overwrote or lost a file"
    r = lr.server("GET", "/api/contents/my_notes.txt").json()
    assert r["content"] == "w = 42  # mine\n"


@run_hub
def test_hub_restart_keeps_servers_kernels_and_files(room):
    hub, lr = room.hub, room.learners[-1]
    for other in room.learners:
        other.start_server()                               # all running (idempotent)
    pids = {x.name: x.server_pid() for x in room.learners}
    files = {x.name: digest(STATE / "users" / x.name) for x in room.learners}
    session_id, kernel_id = lr.open_kernel("00_setup_check.ipynb")
    ws_base = lr.base.replace("http://", "ws://")
    import websocket
    ws = websocket.create_connection(f"{ws_base}/api/kernels/{kernel_id}/channels",
                                     header=[f"Authorization: token {lr.token}"], timeout=60)
    assert room_mod.execute(ws, "state_before_restart = 6 * 7", 60)[0] == "ok"
    ws.close()

    hub.stop()
    assert hub.proc.returncode is not None
    for name, pid in pids.items():
        assert psutil.pid_exists(pid), f"{name}'s server stopped with the hub"
    hub.start()

    for x in room.learners:
        assert hub.api("GET", f"/users/{x.name}", x.token).status_code == 200, "tokens survive the restart"
        assert x.server_pid() == pids[x.name], f"{x.name}: the server was replaced"
        assert x.server("GET", "/api/status").status_code == 200, "reachable through the new proxy"
        assert digest(STATE / "users" / x.name) == files[x.name], f"{x.name}: a file changed"
    ws = websocket.create_connection(f"{ws_base}/api/kernels/{kernel_id}/channels",
                                     header=[f"Authorization: token {lr.token}"], timeout=60)
    try:
        assert room_mod.execute(ws, "assert state_before_restart == 42", 60)[0] == "ok", "the kernel kept its state"
    finally:
        ws.close()
    lr.close_kernel(session_id)


@run_hub
def test_everything_the_test_started_is_stopped(room):
    left = room.stop()
    assert not left, f"processes left running (now killed): {left}"
    assert not room_mod.marked_processes(room.hub.state)
    busy = [p for p in room.hub.ports.values() if not room_mod.port_free(p)]
    assert not busy, f"ports still in use: {busy}"
    room.watch.stop()
    assert room.watch.samples > 10, "the socket sampler ran all along"
    # lesson 11's TensorFlow workers bind every interface (TF 2.21 has no option): a known exception,
    # reported (tests/listen_watch.py KNOWN_EXCEPTIONS, lesson 11 says so); anything else fails.
    unknown = [f for f in room.watch.findings if not f.known]
    assert not unknown, "listening beyond loopback:\n" + "\n".join(f.line() for f in unknown)
    known = sorted({f.known for f in room.watch.findings if f.known})
    print(f"hub sockets: on loopback but the known exceptions {known}; sampler: {room.watch.cost()}")
