"""A simulated room for the workshop hub: start the real hub, sign learners up, run lessons through the kernel API.

Used by tests/test_hub.py (the reduced room, part of ``make test``) and by ``make hub-load`` (the
measurement behind the sizing table in docs/instructors/hub.md)::

    .venv/bin/python tools/hub/room.py --learners 6 --out build/hub-load    # JSON + plot

Everything listens on 127.0.0.1. A learner here does what a person does in a browser, through the
same HTTP endpoints: signs up (the hub's signup form), waits for the instructor's approval (the
instructor's token opens ``/hub/authorize/<name>``), logs in through the REST API (a token from
``POST /hub/api/users/<name>/tokens`` with their user name and password), starts their server, opens
their own copy of a lesson through the contents API and runs every code cell in a kernel through
``/api/sessions`` and the kernel's websocket channel — the messages JupyterLab sends.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import requests
import websocket  # websocket-client

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stop import marked as marked_processes  # noqa: E402  (make hub-stop's own finder: one rule for both)

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CONFIG = HERE / "jupyterhub_config.py"
LESSONS = ("00_setup_check.ipynb", "03_same_model.ipynb")    # hub-load's room: every learner runs these
ALL_LESSONS = tuple(sorted(p.name for p in (REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")))
# The lessons that write files (caches, scratch, exported models, worker runs): in the room test several
# learners run them at the same time (issue 34).
SHARED_WRITERS = ("09_saving_deploying.ipynb", "11_distributed.ipynb", "13_claims_checked.ipynb")
ADMIN = "instructor"
ADMIN_PASSWORD = "instructor-pw-" + uuid.uuid4().hex[:8]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_free(port: int) -> bool:
    """Nothing listens on it (SO_REUSEADDR: a closed connection's TIME_WAIT does not count)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


class Hub:
    """The real hub (``jupyterhub -f tools/hub/jupyterhub_config.py``) on free loopback ports."""

    def __init__(self, state: Path, cull_timeout: int = 3600):
        self.state = Path(state).resolve()
        self.ports = {"PORT": free_port(), "API_PORT": free_port(), "PROXY_API_PORT": free_port(),
                      "BOARD_PORT": free_port()}
        self.url = f"http://127.0.0.1:{self.ports['PORT']}"
        self.env = dict(os.environ, COURSE_HUB_STATE=str(self.state), COURSE_HUB_CULL_TIMEOUT=str(cull_timeout),
                        **{f"COURSE_HUB_{k}": str(v) for k, v in self.ports.items()})
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self, timeout: float = 120) -> float:
        self.state.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        log = open(self.state / f"hub-{self.starts}.log", "w")
        t0 = time.monotonic()
        self.proc = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(CONFIG)], cwd=self.state,
                                     env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the hub exited ({self.proc.returncode}): see {self.state}/hub-{self.starts}.log")
            try:
                if requests.get(f"{self.url}/hub/api/", timeout=2).ok:
                    return time.monotonic() - t0
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise TimeoutError(f"the hub did not answer in {timeout} s")

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM, as systemd or Ctrl-C would: the hub stops the proxy and the culler, not the servers."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def api(self, method: str, path: str, token: str, **kw) -> requests.Response:
        return requests.request(method, f"{self.url}/hub/api{path}", headers={"Authorization": f"token {token}"},
                                timeout=kw.pop("timeout", 30), **kw)


def sign_up(hub: Hub, name: str, password: str) -> requests.Response:
    """The hub's signup form, as a browser posts it (with the _xsrf cookie the form page sets)."""
    s = requests.Session()
    s.get(f"{hub.url}/hub/signup", timeout=30)
    xsrf = s.cookies.get("_xsrf")
    return s.post(f"{hub.url}/hub/signup", data={"username": name, "signup_password": password,
                                                 "signup_password_confirmation": password, "_xsrf": xsrf},
                  timeout=30)


def log_in(hub: Hub, name: str, password: str) -> str | None:
    """Log in through the REST API: user name and password for a token (None when refused)."""
    r = requests.post(f"{hub.url}/hub/api/users/{name}/tokens", timeout=30,
                      json={"auth": {"username": name, "password": password}, "note": "room.py", "expires_in": 86400})
    return r.json()["token"] if r.status_code in (200, 201) else None


def browser_login(hub: Hub, name: str, password: str) -> requests.Session:
    """The login form, as a browser posts it: a session holding the hub's login cookie."""
    s = requests.Session()
    s.get(f"{hub.url}/hub/login", timeout=30)
    r = s.post(f"{hub.url}/hub/login", data={"username": name, "password": password, "_xsrf": s.cookies.get("_xsrf")},
               allow_redirects=False, timeout=30)
    if r.status_code != 302:
        raise RuntimeError(f"{name} could not log in through the form: HTTP {r.status_code}")
    return s


def approve(instructor: requests.Session, hub: Hub, name: str) -> None:
    """What the instructor clicks on /hub/authorize (a page: the login cookie, not a token)."""
    r = instructor.get(f"{hub.url}/hub/authorize/{name}", allow_redirects=False, timeout=30)
    if r.status_code not in (200, 302):
        raise RuntimeError(f"approving {name}: HTTP {r.status_code}")


def admin_token(hub: Hub) -> tuple[str, requests.Session]:
    """The instructor signs up (an admin is approved at signup): their API token and browser session."""
    sign_up(hub, ADMIN, ADMIN_PASSWORD)
    token = log_in(hub, ADMIN, ADMIN_PASSWORD)
    if not token:
        raise RuntimeError("the instructor could not log in")
    return token, browser_login(hub, ADMIN, ADMIN_PASSWORD)


class KernelDied(RuntimeError):
    pass


@dataclass
class Learner:
    hub: Hub
    name: str
    password: str = field(default_factory=lambda: "pw-" + uuid.uuid4().hex[:12])
    token: str = ""
    results: dict = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"{self.hub.url}/user/{self.name}"

    @property
    def headers(self) -> dict:
        return {"Authorization": f"token {self.token}"}

    def server(self, method: str, path: str, **kw) -> requests.Response:
        return requests.request(method, f"{self.base}{path}", headers=self.headers,
                                timeout=kw.pop("timeout", 60), allow_redirects=False, **kw)

    def start_server(self, timeout: float = 180) -> float:
        t0 = time.monotonic()
        r = self.hub.api("POST", f"/users/{self.name}/server", self.token)
        if r.status_code not in (201, 202, 400):   # 400: already running
            raise RuntimeError(f"{self.name}: start server: HTTP {r.status_code} {r.text[:200]}")
        while time.monotonic() - t0 < timeout:
            info = self.hub.api("GET", f"/users/{self.name}", self.token).json()
            srv = info.get("servers", {}).get("")
            if srv and srv.get("ready"):
                if self.server("GET", "/api/status").status_code == 200:
                    return time.monotonic() - t0
            time.sleep(0.5)
        raise TimeoutError(f"{self.name}: server not ready in {timeout} s")

    def server_pid(self) -> int | None:
        for p in marked_processes(self.hub.state):
            try:
                if p.environ().get("JUPYTERHUB_USER") == self.name and "jupyterhub.singleuser" in " ".join(p.cmdline()):
                    return p.pid
            except psutil.Error:
                pass
        return None

    def open_kernel(self, path: str) -> tuple[str, str]:
        """What JupyterLab does when a notebook opens: a session (and its kernel) for that path."""
        r = self.server("POST", "/api/sessions", json={"path": path, "name": path, "type": "notebook",
                                                        "kernel": {"name": "python3"}})
        r.raise_for_status()
        s = r.json()
        return s["id"], s["kernel"]["id"]

    def close_kernel(self, session_id: str) -> None:
        self.server("DELETE", f"/api/sessions/{session_id}")

    def run_notebook(self, path: str, kernel_id: str | None = None, on_cell=None, cell_timeout: float = 300) -> dict:
        """Run every code cell of the learner's own copy of ``path``; returns times and errors.

        A cell that raises counts as a failure unless it is tagged ``raises-exception`` (the lesson
        shows that error on purpose). ``on_cell(i)`` is called before cell i (fault injection).
        """
        nb = self.server("GET", f"/api/contents/{path}").json()["content"]
        cells = [c for c in nb["cells"] if c["cell_type"] == "code" and c["source"].strip()]
        session_id = None
        t0 = time.monotonic()
        if kernel_id is None:
            session_id, kernel_id = self.open_kernel(path)
        ws_url = self.base.replace("http://", "ws://") + f"/api/kernels/{kernel_id}/channels"
        ws = websocket.create_connection(ws_url, header=[f"Authorization: token {self.token}"], timeout=cell_timeout)
        first = None
        errors = []
        try:
            for i, cell in enumerate(cells):
                if on_cell:
                    on_cell(i)
                status, out = execute(ws, cell["source"], cell_timeout)
                if first is None:
                    first = time.monotonic() - t0
                expected = "raises-exception" in cell.get("metadata", {}).get("tags", [])
                if status != "ok" and not expected:
                    errors.append(f"{path} cell {i}: {out}")
        finally:
            ws.close()
        return {"session_id": session_id, "kernel_id": kernel_id, "cells": len(cells), "errors": errors,
                "first_result_s": first, "seconds": time.monotonic() - t0}


    def run_code(self, code: str, timeout: float = 300) -> list[str]:
        """Run ``code`` in a fresh kernel of this learner (a scratch notebook's session); the outputs' text."""
        session_id, kernel_id = self.open_kernel("room-actions.ipynb")
        ws_url = self.base.replace("http://", "ws://") + f"/api/kernels/{kernel_id}/channels"
        ws = websocket.create_connection(ws_url, header=[f"Authorization: token {self.token}"], timeout=timeout)
        try:
            status, error, texts = execute(ws, code, timeout, collect=True)
        finally:
            ws.close()
            self.close_kernel(session_id)
        if status != "ok":
            raise RuntimeError(f"{self.name}: {error}")
        return texts


def execute(ws: websocket.WebSocket, code: str, timeout: float, collect: bool = False):
    """One execute_request on the kernel's channel; wait for its reply and the kernel's idle status."""
    msg_id = uuid.uuid4().hex
    ws.send(json.dumps({"header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "room",
                                   "session": "room", "version": "5.3", "date": ""},
                        "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                        "content": {"code": code, "silent": False, "store_history": True,
                                    "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}}))
    reply = idle = None
    error = ""
    texts: list[str] = []
    deadline = time.monotonic() + timeout
    while reply is None or not idle:
        if time.monotonic() > deadline:
            raise TimeoutError("cell did not finish")
        msg = json.loads(ws.recv())
        mtype = msg.get("msg_type") or msg["header"]["msg_type"]
        if mtype == "status" and msg["content"].get("execution_state") in ("restarting", "dead"):
            raise KernelDied(msg["content"]["execution_state"])
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        if mtype == "execute_reply":
            reply = msg["content"]
        elif mtype == "error":
            error = f"{msg['content']['ename']}: {msg['content']['evalue']}"[:300]
        elif mtype == "status" and msg["content"]["execution_state"] == "idle":
            idle = True
        elif mtype == "stream":
            texts.append(msg["content"].get("text", ""))
    return (reply["status"], error, texts) if collect else (reply["status"], error)


class Sampler(threading.Thread):
    """Peak RSS and CPU seconds of each learner's server + kernels (psutil, every ``every`` s)."""

    def __init__(self, state: Path, every: float = 0.5):
        super().__init__(daemon=True)
        self.state, self.every = state, every
        self.owner: dict[tuple[int, float], str] = {}      # (pid, create_time) -> learner
        self.cpu: dict[tuple[int, float], float] = {}
        self.peak: dict[str, int] = {}
        self.stop_event = threading.Event()
        self.lock = threading.Lock()

    def sample(self) -> None:
        rss: dict[str, int] = {}
        for p in psutil.process_iter():
            try:
                key = (p.pid, p.create_time())
                if key not in self.owner:
                    e = p.environ()
                    self.owner[key] = e.get("JUPYTERHUB_USER", "") if e.get("COURSE_HUB_STATE") == str(self.state) else ""
                who = self.owner[key]
                if not who:
                    continue
                with p.oneshot():
                    mem = p.memory_info().rss
                    t = p.cpu_times()
                with self.lock:
                    self.cpu[key] = t.user + t.system   # not children_*: a reaped kernel would count twice
                rss[who] = rss.get(who, 0) + mem
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                pass
        with self.lock:
            for who, v in rss.items():
                self.peak[who] = max(self.peak.get(who, 0), v)

    def cpu_of(self, who: str) -> float:
        with self.lock:
            return sum(v for k, v in self.cpu.items() if self.owner.get(k) == who)

    def run(self) -> None:
        while not self.stop_event.is_set():
            self.sample()
            self.stop_event.wait(self.every)

    def stop(self) -> None:
        self.stop_event.set()
        self.join(10)


def run_room(hub: Hub, learners: list[Learner], sampler: Sampler, lessons=LESSONS, plan=None) -> list[dict]:
    """Every learner, concurrently: start their server, then each lesson in a fresh kernel, closed after.

    ``plan``: {learner name: lessons} for learners whose lessons differ from ``lessons``."""
    out: list[dict] = [{} for _ in learners]
    plan = plan or {}

    def one(i: int, lr: Learner) -> None:
        rec = out[i]
        rec["name"] = lr.name
        rec["failures"] = []
        try:
            t0 = time.monotonic()
            rec["server_start_s"] = lr.start_server()
            for lesson in plan.get(lr.name, lessons):
                sampler.sample()
                cpu0, t_lesson = sampler.cpu_of(lr.name), time.monotonic()
                r = lr.run_notebook(lesson)
                sampler.sample()
                r["cpu_s"] = sampler.cpu_of(lr.name) - cpu0
                lr.close_kernel(r["session_id"])
                rec.setdefault("first_result_s", t_lesson - t0 + r["first_result_s"])  # login -> first cell's result
                rec[lesson] = {k: r[k] for k in ("seconds", "cpu_s", "cells", "first_result_s")}
                rec[lesson]["span"] = (round(t_lesson - t0, 1), round(time.monotonic() - t0, 1))
                rec["failures"] += r["errors"]
        except Exception as e:  # a failure of the room, reported, never swallowed
            rec["failures"].append(f"{type(e).__name__}: {e}")

    threads = [threading.Thread(target=one, args=(i, lr)) for i, lr in enumerate(learners)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for rec in out:
        rec["peak_rss_mb"] = round(sampler.peak.get(rec["name"], 0) / 2**20)
    return out


def enrol(hub: Hub, instructor: requests.Session, names: list[str]) -> list[Learner]:
    """Sign each learner up, approve them as the instructor, log them in (a token each)."""
    learners = []
    for name in names:
        lr = Learner(hub, name)
        sign_up(hub, name, lr.password)
        approve(instructor, hub, name)
        browser_login(hub, name, lr.password)      # the first login creates the hub's user
        lr.token = log_in(hub, name, lr.password) or ""
        if not lr.token:
            raise RuntimeError(f"{name} could not log in after approval")
        learners.append(lr)
    return learners


def stop_everything(hub: Hub, admin: str | None, names: list[str]) -> list[str]:
    """Stop each learner's server through the hub, then the hub; kill and report anything left."""
    if admin and hub.proc and hub.proc.poll() is None:
        for name in names:
            try:
                hub.api("DELETE", f"/users/{name}/server", admin, timeout=60)
            except requests.RequestException:
                pass
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            left = [p for p in marked_processes(hub.state) if p.pid != hub.proc.pid
                    and "jupyterhub.singleuser" in " ".join(p.cmdline())]
            if not left:
                break
            time.sleep(0.5)
    hub.stop()
    time.sleep(1)
    leftovers = []
    for p in marked_processes(hub.state):
        try:
            leftovers.append(f"{p.pid} {' '.join(p.cmdline())[:120]}")
            p.kill()
        except psutil.Error:
            pass
    return leftovers


def summarize(records: list[dict], wall: float, n: int) -> dict:
    import statistics as st

    def col(key, lesson=None):
        return [r[lesson][key] if lesson else r[key] for r in records if (lesson in r if lesson else key in r)]

    mem = col("peak_rss_mb")
    summary = {"learners": n, "wall_s": round(wall, 1), "failures": sum(len(r["failures"]) for r in records),
               "peak_rss_mb": {"max": max(mem), "median": st.median(mem)},
               "server_start_s": {"max": round(max(col("server_start_s")), 1)},
               "first_result_s": {"max": round(max(col("first_result_s")), 1)},
               "load_avg_1min": round(os.getloadavg()[0], 1),
               "machine": {"cores": psutil.cpu_count(), "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
                           "cpu": platform_cpu()}}
    for lesson in ALL_LESSONS:
        secs, cpu = col("seconds", lesson), col("cpu_s", lesson)
        if secs:
            summary[lesson] = {"seconds_max": round(max(secs), 1), "seconds_median": round(st.median(secs), 1),
                               "cpu_s_median": round(st.median(cpu), 1),
                               "cores_per_learner": round(st.median(c / s for c, s in zip(cpu, secs)), 2)}
    return summary


def platform_cpu() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform
    return platform.processor()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--learners", type=int, nargs="+", default=[4], help="room sizes to run, one after another")
    ap.add_argument("--out", default=str(REPO / "build" / "hub-load"))
    ap.add_argument("--plot", default="", help="also write this PNG (e.g. docs/instructors/hub_load.png)")
    args = ap.parse_args(argv)
    out = Path(args.out).resolve()
    runs = []
    for n in args.learners:
        hub = Hub(out / f"state-{n}")
        admin = None
        names = [f"learner{i:02d}" for i in range(1, n + 1)]
        try:
            print(f"room of {n}: hub up in {hub.start():.1f} s", flush=True)
            admin, instructor = admin_token(hub)
            learners = enrol(hub, instructor, names)
            sampler = Sampler(hub.state)
            sampler.start()
            t0 = time.monotonic()
            records = run_room(hub, learners, sampler)
            sampler.stop()
            summary = summarize(records, time.monotonic() - t0, n)
            runs.append({"summary": summary, "learners": records})
            print(json.dumps(summary), flush=True)
            (out / "load.json").write_text(json.dumps(runs, indent=1))   # after each room: kept if interrupted
        finally:
            left = stop_everything(hub, admin, names)
            if left:
                print("left running (killed):", left)
    if args.plot:
        plot(runs, Path(args.plot))
    return 0 if all(r["summary"]["failures"] == 0 for r in runs) else 1


def plot(runs: list[dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.8))
    ns = [r["summary"]["learners"] for r in runs]
    for lesson, mark in zip(LESSONS, "os"):
        a.plot(ns, [r["summary"][lesson]["seconds_median"] for r in runs], marker=mark, label=lesson[:-6])
    a.set_xlabel("learners running at once (2 cores)")
    a.set_ylabel("seconds per lesson (median)")
    a.legend()
    a.set_title("time per lesson (machine shared: see hub.md)")
    b.plot(ns, [r["summary"]["peak_rss_mb"]["max"] / 1024 for r in runs], marker="o", label="max")
    b.plot(ns, [r["summary"]["peak_rss_mb"]["median"] / 1024 for r in runs], marker="x", ls=":", label="median")
    b.legend()
    b.set_xlabel("learners running at once")
    b.set_ylabel("peak GB per learner (server + kernel)")
    b.set_ylim(0, 1.5)
    b.set_title("memory per learner")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)


if __name__ == "__main__":
    sys.exit(main())
