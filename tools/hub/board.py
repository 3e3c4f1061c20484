"""The instructor's board: a JupyterHub service that shows the room (issue 34).

Started by the hub (tools/hub/jupyterhub_config.py, ``c.JupyterHub.services``), on 127.0.0.1 only,
behind the hub's login: a request needs the ``access:services!service=board`` scope, which the admin
role (the instructor) has and a learner does not; a learner's request is refused (403). It reads each
learner's record (``users/<name>/build/record/log.jsonl``, written by course_utils/record.py) at each
request and answers one HTML page (course_utils/kit/room.py: learners x exercises, ✓/✗/○/· with
tries, ⚑ stuck flags, the one-minute cards per lesson) that reloads itself every 10 s. It never
writes anything. ``/services/board/room.json`` gives the same as JSON (the room test reads it).

Environment: the JUPYTERHUB_* variables the hub gives a managed service, and COURSE_BOARD_USERS (the
hub's users/ folder), COURSE_BOARD_REFRESH_S (default 10).
"""
from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from urllib.parse import urlparse

from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
from tornado import ioloop, web

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from course_utils.kit import room  # noqa: E402  (imports neither framework)

USERS = Path(os.environ.get("COURSE_BOARD_USERS", REPO / "hub-state" / "users"))
REFRESH_S = int(os.environ.get("COURSE_BOARD_REFRESH_S", "10"))
PREFIX = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/board/")


class Board(HubOAuthenticated, web.RequestHandler):
    def refuse_or_login(self) -> bool:
        """True when the request may see the board. A token without the service's scope: 403."""
        user = self.current_user
        if user:
            return True
        if self.request.headers.get("Authorization") or self.get_cookie(self.hub_auth.cookie_name):
            raise web.HTTPError(403, "the board is for the instructor (hub admins) only")
        self.redirect(self.get_login_url())
        return False

    def data(self) -> room.Room:
        return room.load(USERS)


class Page(Board):
    def get(self) -> None:
        if not self.refuse_or_login():
            return
        self.set_header("Cache-Control", "no-store")
        self.write(room.html(self.data(), refresh_s=REFRESH_S, title="The room"))


class Json(Board):
    def get(self) -> None:
        if not self.refuse_or_login():
            return
        r = self.data()
        self.set_header("Content-Type", "application/json")
        self.write(json.dumps({
            "learners": {name: {"exercises": {ex: r.cell(name, ex)[1] for ex in r.exercises},
                                "stuck": state["stuck"], "feedback": state["feedback"]}
                         for name, state in sorted(r.learners.items())},
            "exercises": r.exercises, "feedback": r.feedback()}))


def main() -> None:
    url = urlparse(os.environ.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:10101"))
    app = web.Application([
        (PREFIX, Page),
        (PREFIX + "room.json", Json),
        (PREFIX + "oauth_callback", HubOAuthCallbackHandler),
    ], cookie_secret=os.urandom(32))
    signal.signal(signal.SIGTERM, lambda *_: ioloop.IOLoop.current().add_callback_from_signal(ioloop.IOLoop.current().stop))
    app.listen(url.port, "127.0.0.1")   # loopback only: the hub's proxy is the way in
    print(f"board: serving {USERS} on 127.0.0.1:{url.port}{PREFIX}", flush=True)
    try:
        ioloop.IOLoop.current().start()
    except KeyboardInterrupt:  # the hub stops its services with SIGINT/SIGTERM: a quiet exit
        pass


if __name__ == "__main__":
    main()
