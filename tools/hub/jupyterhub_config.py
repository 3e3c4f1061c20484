# The workshop hub: JupyterHub + configurable-http-proxy serving this repository's environment.
# `make hub` runs `.venv/bin/jupyterhub -f tools/hub/jupyterhub_config.py`; docs/instructors/hub.md
# explains every choice; tests/test_hub.py starts it for real (ports and state folder from the
# environment variables below).
#
# Environment (all optional):
#   COURSE_HUB_STATE     hub state: database, cookie secret, learner copies, users/<name>/ (default hub-state/,
#                        git-ignored and outside build/, so `make clean` never touches it)
#   COURSE_HUB_IP        public address (default 127.0.0.1; a room needs its LAN address AND TLS, see hub.md)
#   COURSE_HUB_PORT      public port (default 8000); COURSE_HUB_API_PORT (8081), COURSE_HUB_PROXY_API_PORT (8001)
#   COURSE_HUB_ADMIN     the instructor's user name (default instructor); comma-separated for several
#   COURSE_HUB_OPEN_SIGNUP=1  learners who sign up can log in at once (default: the instructor approves each)
#   COURSE_HUB_SPAWNER   "simple" (default: every server runs as the hub's own OS user, one folder each)
#                        or "system" (as root: one OS user per learner, a private 0700 home; real file isolation)
#   COURSE_HUB_CULL_TIMEOUT   seconds idle before the culler stops a server (default 3600)
#   COURSE_HUB_SSL_CERT, COURSE_HUB_SSL_KEY   serve HTTPS (required off loopback)
#   COURSE_HUB_BOARD_PORT     loopback port of the instructor's board service (default 8002; tools/hub/board.py)
#   COURSE_HUB_RECORD=off     learners' checks are not recorded (default on: each learner's own record, board)
import os
import pwd
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))
import workspace  # noqa: E402  (tools/hub/workspace.py)
from native_compat import CourseNativeAuthenticator  # noqa: E402  (tools/hub/native_compat.py)

c = get_config()  # noqa: F821  (provided by JupyterHub when it loads this file)


def env(name, default):
    return os.environ.get(f"COURSE_HUB_{name}", default)


STATE = Path(env("STATE", REPO / "hub-state")).resolve()
USERS = STATE / "users"
LEARNER_COPIES = STATE / "learner"
STATE.mkdir(parents=True, exist_ok=True)
USERS.mkdir(exist_ok=True)
SPAWNER = env("SPAWNER", "simple")
ADMINS = {a.strip() for a in env("ADMIN", "instructor").split(",") if a.strip()}
IS_ROOT = os.geteuid() == 0

# --- network: loopback unless told otherwise ------------------------------------------------------
c.JupyterHub.ip = env("IP", "127.0.0.1")
c.JupyterHub.port = int(env("PORT", "8000"))
c.JupyterHub.hub_ip = "127.0.0.1"                      # the hub's own API: never off the machine
c.JupyterHub.hub_port = int(env("API_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{env('PROXY_API_PORT', '8001')}"
c.ConfigurableHTTPProxy.command = [str(REPO / "node_modules" / ".bin" / "configurable-http-proxy")]
c.ConfigurableHTTPProxy.pid_file = str(STATE / "proxy.pid")
if env("SSL_CERT", ""):
    c.JupyterHub.ssl_cert = env("SSL_CERT", "")
    c.JupyterHub.ssl_key = env("SSL_KEY", "")

# --- state: survives a hub restart ----------------------------------------------------------------
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")
c.JupyterHub.cleanup_servers = False    # restarting the hub leaves learners' servers (and kernels) running
c.JupyterHub.last_activity_interval = 60

# --- authentication: accounts for one room, approved by the instructor ----------------------------
c.JupyterHub.authenticator_class = CourseNativeAuthenticator   # NativeAuthenticator, login page fixed for JupyterHub 6
c.Authenticator.admin_users = ADMINS
c.Authenticator.allow_all = True                  # anyone the NativeAuthenticator lets log in (= approved)
c.NativeAuthenticator.open_signup = env("OPEN_SIGNUP", "0") == "1"
c.NativeAuthenticator.minimum_password_length = 10
c.NativeAuthenticator.check_common_password = True
c.NativeAuthenticator.allowed_failed_logins = 5   # then a pause: guessing a learner's password is slow
c.NativeAuthenticator.seconds_before_next_try = 60
# Names become folder names (and OS user names in the system mode): lower-case letters, digits, - and _.
c.Authenticator.username_pattern = r"^[a-z][a-z0-9_-]{1,30}$"

# --- each learner's server: their own folder, filled once from the learner copies -----------------
workspace.learner_copies(LEARNER_COPIES)           # the course's copies, rebuilt at each hub start

c.Spawner.cmd = [sys.executable, "-m", "jupyterhub.singleuser"]   # this repository's .venv
c.Spawner.default_url = "/lab"
c.Spawner.ip = "127.0.0.1"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.Spawner.poll_interval = 10                       # a dead server is noticed within 10 s


def learner_dir(spawner, *parts):
    """A folder of this learner's own: users/<name>/... (expanded per user, never a template)."""
    return str(USERS.joinpath(spawner.user.name, *parts))


c.Spawner.environment = {
    "COURSE_HUB_STATE": str(STATE),                # marks every process of this hub (the test finds them by it)
    "COURSE_ROOT": str(REPO),                      # course_utils finds data/ here (read only)
    # Everything a lesson writes goes under the learner's own root (course_utils/base/paths.py learner_root):
    # caches, scratch, exported models, worker runs, compiled extensions, the learner's record.
    "COURSE_LEARNER_ROOT": lambda sp: learner_dir(sp, "build"),
    "COURSE_RECORD": "off" if env("RECORD", "on") == "off" else "on",
    "TORCHINDUCTOR_CACHE_DIR": lambda sp: learner_dir(sp, "build", "cache", "torchinductor"),
    "TORCH_EXTENSIONS_DIR": lambda sp: learner_dir(sp, "build", "cache", "torch_extensions"),
    "MPLCONFIGDIR": lambda sp: learner_dir(sp, "build", "cache", "matplotlib"),
}
c.Spawner.notebook_dir = str(USERS / "{username}")

if SPAWNER == "system":
    if not IS_ROOT:
        sys.exit("COURSE_HUB_SPAWNER=system needs root (it creates one OS user per learner)")
    c.JupyterHub.spawner_class = "localprocess"    # setuid to the learner's own OS user

    def ensure_system_user(name):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            subprocess.run(["useradd", "--no-create-home", "--home-dir", str(USERS / name),
                            "--shell", "/usr/sbin/nologin", "--user-group", name], check=True)
            return pwd.getpwnam(name)
else:
    c.JupyterHub.spawner_class = "simple"          # SimpleLocalProcessSpawner: hub's OS user, one folder each
    c.SimpleLocalProcessSpawner.home_dir_template = str(USERS / "{username}")
    args = ["--ServerApp.terminals_enabled=False"]
    if IS_ROOT:
        args.append("--ServerApp.allow_root=True")
    c.Spawner.args = args


def pre_spawn_hook(spawner):
    """Create the learner's folder on first spawn; add only files they do not have (never overwrite)."""
    name = spawner.user.name
    uid = gid = None
    if SPAWNER == "system":
        pw = ensure_system_user(name)
        uid, gid = pw.pw_uid, pw.pw_gid
    copied = workspace.populate(USERS / name, LEARNER_COPIES, uid=uid, gid=gid)
    spawner.log.info("workspace %s: %d file(s) added from the learner copies", USERS / name, len(copied))


c.Spawner.pre_spawn_hook = pre_spawn_hook

# --- the idle culler, as a hub service with only the permissions it needs -------------------------
# --- the instructor's board (tools/hub/board.py): /services/board/, admins only (access:services) ---
BOARD_PORT = int(env("BOARD_PORT", "8002"))
c.JupyterHub.services = [{
    "name": "idle-culler",
    "command": [sys.executable, "-m", "jupyterhub_idle_culler",
                f"--timeout={int(env('CULL_TIMEOUT', '3600'))}", "--cull-every=60"],
}, {
    "name": "board",
    "url": f"http://127.0.0.1:{BOARD_PORT}",
    "command": [sys.executable, str(HERE / "board.py")],
    "oauth_no_confirm": True,
    "environment": {"COURSE_BOARD_USERS": str(USERS), "COURSE_HUB_STATE": str(STATE),
                    "COURSE_BOARD_REFRESH_S": env("BOARD_REFRESH_S", "10")},
    "display": True,
}]
# Admins (the instructor) hold access:services; a learner's role ("user": self) does not, so the hub
# refuses a learner's request to the board.
c.JupyterHub.load_roles = [{
    "name": "idle-culler",
    "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
    "services": ["idle-culler"],
}]
