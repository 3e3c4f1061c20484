"""Dashboards on 127.0.0.1: start TensorBoard and Visdom as real child servers, and read what they hold.

``start_tensorboard(logdir)`` and ``start_visdom(env_path)`` return a ``course_utils.base.servers.Service``
(a context manager: ``with start_tensorboard(d) as tb: ...``; anything still running is stopped when
the kernel exits, even after a failed cell). The readers turn what TensorBoard serves over HTTP, and
what the event files on disk hold, into plain lists and pandas tables, without wall times (they
change every run).

Why the servers start the way they do (measured, see FIELD_NOTES.md):

- TensorBoard imports TensorFlow at start-up when it is installed (about 11 s of the 13 s it takes
  to answer). Reading event files does not need it: with an empty module registered as
  ``tensorboard.compat.notf`` TensorBoard uses its own small TensorFlow stub and answers in about
  2 s. ``stub_tensorflow=False`` starts it the usual way. What the stub cannot do: open a TF
  checkpoint (the projector then lists only embeddings written as TSV, e.g. by ``add_embedding``).
  Debugger V2 works either way: its plugin imports TensorFlow by itself on its first request (give
  that request time: ``tb.get("/data/plugin/debugger-v2/runs", timeout=60)``; 13-17 s on 2 busy cores). ``--load_fast=false`` keeps it in one Python process
  (no extra data-server process on another loopback address).
- Visdom's ``python -m visdom.server`` first downloads ~20 JavaScript/CSS/font files from CDNs and
  fails without a network. ``visdom.server.run_server.main`` is the same server without that step;
  ``-bind_local`` makes it listen on 127.0.0.1 only (``-hostname`` alone would bind 0.0.0.0). Its
  HTTP API works; its browser page does not (those files are missing).

Nothing here imports a deep-learning framework at module level; the event-file reader imports
TensorBoard's ``event_accumulator`` when called (TensorBoard may import TensorFlow then, if it is
installed and not yet imported).

Used in: 08_visualization (and 05_debugging's Debugger V2: ``start_tensorboard(dump_dir)``).
"""
from __future__ import annotations

import json
import time
import urllib.parse
from pathlib import Path
from typing import Any, Sequence

from ..base import servers, validate
from ..base.errors import CourseError
from ..base.servers import Service

# Run by the server's own Python: TensorBoard's main, with or without the TensorFlow stub.
_TENSORBOARD_MAIN = "from tensorboard.main import run_main; run_main()"
_TENSORBOARD_STUB = ("import sys, types; "
                     "sys.modules['tensorboard.compat.notf'] = types.ModuleType('tensorboard.compat.notf'); "
                     + _TENSORBOARD_MAIN)
_VISDOM_MAIN = "from visdom.server.run_server import main; main()"
# Options that would make a server listen beyond this machine, or move it off 127.0.0.1.
_NOT_LOOPBACK = ("--bind_all", "--host", "-hostname", "--hostname")


def _folder(path: Any, name: str, where: str, must_exist: bool = True) -> Path:
    folder = validate.path(path, name, where)
    if must_exist and not folder.is_dir():
        raise CourseError(f"{where}: {name} {folder} is not a folder — create it first, or check the path.")
    return folder


def _extra(args: Sequence[Any], where: str) -> list[str]:
    extra = list(args)
    if not all(isinstance(a, str) for a in extra):
        raise CourseError(f"{where}: extra arguments must be strings such as '--reload_interval=1'.")
    for arg in extra:
        if arg.split("=")[0] in _NOT_LOOPBACK:
            raise CourseError(f"{where}: {arg.split('=')[0]} is not allowed: the course's servers listen on 127.0.0.1 only.")
    return extra


def start_tensorboard(logdir: str | Path, *extra_args: str, stub_tensorflow: bool = True,
                      timeout: float = 60.0) -> Service:
    """Start ``tensorboard --logdir logdir --host 127.0.0.1 --port <free>`` and wait until it answers.

    ``extra_args`` go to TensorBoard as they are (``"--reload_interval=1"``; never ``--bind_all`` or
    ``--host``). Returns a ``Service``: ``.url``, ``.port``, ``.get(path)``, ``.stop()``, a ``with`` block.

    >>> with start_tensorboard("runs") as tb:          # doctest: +SKIP
    ...     tensorboard_runs(tb)
    ['pytorch', 'tensorflow']

    Used in: 08_visualization, 05_debugging.
    """
    where = "start_tensorboard"
    folder = _folder(logdir, "logdir", where)
    stub_tensorflow = validate.flag(stub_tensorflow, "stub_tensorflow", where)
    timeout = validate.number(timeout, "timeout", where, minimum=1.0)
    code = _TENSORBOARD_STUB if stub_tensorflow else _TENSORBOARD_MAIN
    return servers.start(name="tensorboard", ready_path="/data/runs", timeout=timeout, command=[
        "python", "-c", code, "--logdir", str(folder), "--host", "127.0.0.1", "--port", "{port}",
        "--load_fast=false", *_extra(extra_args, where)])


def start_visdom(env_path: str | Path, *extra_args: str, timeout: float = 60.0) -> Service:
    """Start a Visdom server on 127.0.0.1 (no download of its web page's scripts) and wait until it listens.

    ``env_path``: the folder where Visdom saves its environments (JSON files). Talk to it with
    ``visdom.Visdom(server="http://127.0.0.1", port=service.port, use_incoming_socket=False)``.

    >>> with start_visdom("visdom_envs") as vis_server:      # doctest: +SKIP
    ...     vis_server.alive
    True

    Used in: 08_visualization.
    """
    where = "start_visdom"
    folder = _folder(env_path, "env_path", where)
    timeout = validate.number(timeout, "timeout", where, minimum=1.0)
    command = ["python", "-c", _VISDOM_MAIN, "-port", "{port}", "-bind_local", "-env_path", str(folder),
               "-logging_level", "WARNING", *_extra(extra_args, where)]
    return servers.start(command, name="visdom", ready_path=None, timeout=timeout)


# --- TensorBoard's HTTP API -------------------------------------------------------------------

def _service(service: Any, where: str) -> Service:
    if not isinstance(service, Service):
        raise CourseError(f"{where}: expected the Service that start_tensorboard returned, found "
                          f"{validate.found(service)}.")
    if not service.alive:
        raise CourseError(f"{where}: {service.name} is not running any more — start it again.")
    return service


def _json(service: Service, path: str) -> Any:
    text = service.get(path)
    try:
        return json.loads(text)
    except ValueError:
        raise CourseError(f"{service.name}: GET {path} did not return JSON (it starts with {text[:40]!r}).") from None


def tensorboard_runs(service: Service) -> list[str]:
    """The runs TensorBoard lists (``GET /data/runs``): folders under the logdir that hold event files, sorted."""
    return sorted(_json(_service(service, "tensorboard_runs"), "/data/runs"))


def tensorboard_tags(service: Service, plugin: str = "scalars") -> dict[str, list[str]]:
    """``{run: [tag, ...]}`` for one plugin (``scalars``, ``histograms``, ``images``, ``text``), sorted.

    >>> tensorboard_tags(tb)                              # doctest: +SKIP
    {'pytorch': ['test/accuracy', 'train/loss'], 'tensorflow': ['test/accuracy', 'train/loss']}
    """
    where = "tensorboard_tags"
    plugin = validate.text(plugin, "plugin", where)
    listing = _json(_service(service, where), f"/data/plugin/{urllib.parse.quote(plugin)}/tags")
    if not isinstance(listing, dict):
        raise CourseError(f"{where}: the {plugin} plugin answered {type(listing).__name__}, expected an object.")
    return {run: sorted(tags) for run, tags in sorted(listing.items())}


def tensorboard_scalars(service: Service, run: str, tag: str):
    """The scalar series TensorBoard serves for ``run``/``tag`` as a DataFrame ``step, value`` (no wall time).

    ``GET /data/plugin/scalars/scalars?run=RUN&tag=TAG`` answers ``[[wall_time, step, value], ...]``.
    """
    import pandas as pd

    where = "tensorboard_scalars"
    service = _service(service, where)
    run, tag = validate.text(run, "run", where), validate.text(tag, "tag", where)
    query = urllib.parse.urlencode({"run": run, "tag": tag})
    try:
        rows = _json(service, f"/data/plugin/scalars/scalars?{query}")
    except CourseError as exc:
        known = tensorboard_tags(service)
        raise CourseError(f"{where}: no scalars for run {run!r}, tag {tag!r} — known: {known}.") from exc
    return pd.DataFrame([(int(step), float(value)) for _, step, value in rows], columns=["step", "value"])


def tensorboard_hparams(service: Service):
    """The hparams dashboard's sessions as a DataFrame ``session`` + one column per hyperparameter and metric.

    ``GET /data/plugin/hparams/session_groups?request=<JSON>`` (the page's own request; TensorBoard
    also takes it as a POST body). One row per session, sorted by name.

    >>> tensorboard_hparams(tb)                           # doctest: +SKIP
                  session  batch_size   lr  momentum  hparam/accuracy
    0     pytorch/hparams        32.0  0.1       0.9           0.9359
    """
    import pandas as pd

    where = "tensorboard_hparams"
    service = _service(service, where)
    request = {"experimentName": "", "startIndex": 0, "sliceSize": 1000, "colParams": [],
               "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"]}
    query = urllib.parse.urlencode({"request": json.dumps(request)})
    groups = _json(service, f"/data/plugin/hparams/session_groups?{query}")
    if not isinstance(groups, dict):
        raise CourseError(f"{where}: the hparams plugin answered {type(groups).__name__}, expected an object.")
    rows, hparams, metrics = [], set(), set()
    for group in groups.get("sessionGroups", []):
        for session in group.get("sessions", []):
            values = {m["name"]["tag"]: m["value"] for m in session.get("metricValues", [])}
            hparams |= set(group.get("hparams", {}))
            metrics |= set(values)
            rows.append({"session": session["name"], **group.get("hparams", {}), **values})
    columns = ["session", *sorted(hparams), *sorted(metrics - hparams)]   # the server's order varies
    return pd.DataFrame(rows, columns=columns).sort_values("session").reset_index(drop=True)


def wait_for_runs(service: Service, runs: Sequence[str], plugin: str = "scalars", timeout: float = 30.0
                  ) -> dict[str, list[str]]:
    """Wait until TensorBoard has loaded ``runs`` (it reads the logdir in the background after it starts).

    Returns ``tensorboard_tags(service, plugin)`` once every run in ``runs`` has tags there.
    """
    where = "wait_for_runs"
    service = _service(service, where)
    if isinstance(runs, str) or not all(isinstance(r, str) for r in runs):
        raise CourseError(f"{where}: runs must be a list of run names such as ['pytorch', 'tensorflow'].")
    timeout = validate.number(timeout, "timeout", where, minimum=0.1)
    deadline = time.monotonic() + timeout
    while True:
        tags = tensorboard_tags(service, plugin)
        missing = [r for r in runs if not tags.get(r)]
        if not missing:
            return tags
        if time.monotonic() > deadline:
            raise CourseError(f"{where}: after {timeout:.0f} s TensorBoard still shows no {plugin} for {missing}; "
                              f"it has {sorted(tags)}. Did the writers close (writer.close() / flush())?")
        time.sleep(0.2)


# --- event files on disk ----------------------------------------------------------------------

def event_runs(logdir: str | Path) -> list[str]:
    """The runs under ``logdir`` as TensorBoard names them: each folder holding an event file, relative, sorted.

    ``"."`` is the logdir itself.
    """
    folder = _folder(logdir, "logdir", "event_runs")
    found = {p.parent.relative_to(folder).as_posix() for p in folder.rglob("events.out.tfevents.*")}
    return sorted(found)


def read_scalars(logdir: str | Path):
    """Every scalar under ``logdir`` as a DataFrame ``run, tag, step, value``, sorted; no wall time.

    Reads both ways a scalar is stored: ``SummaryWriter.add_scalar`` writes a ``simple_value``
    (``EventAccumulator.Scalars``), ``tf.summary.scalar`` a 0-d tensor with the ``scalars`` plugin
    (``EventAccumulator.Tensors``). Uses TensorBoard's own ``event_accumulator``.

    >>> read_scalars("runs").head(2)                      # doctest: +SKIP
           run        tag  step   value
    0  pytorch  train/loss     0  2.3146
    """
    import numpy as np
    import pandas as pd
    from tensorboard.backend.event_processing import event_accumulator
    from tensorboard.util import tensor_util

    folder = _folder(logdir, "logdir", "read_scalars")
    rows = []
    for run in event_runs(folder):
        acc = event_accumulator.EventAccumulator(str(folder / run), size_guidance={"scalars": 0, "tensors": 0})
        acc.Reload()
        for tag in acc.Tags()["scalars"]:
            rows += [(run, tag, int(e.step), float(e.value)) for e in acc.Scalars(tag)]
        for tag in acc.Tags()["tensors"]:
            plugin = acc.SummaryMetadata(tag).plugin_data.plugin_name
            if plugin != "scalars":
                continue  # images, histograms, text, hparams: not scalars
            for e in acc.Tensors(tag):
                value = np.asarray(tensor_util.make_ndarray(e.tensor_proto))
                rows.append((run, tag, int(e.step), float(value.reshape(-1)[0])))
    table = pd.DataFrame(rows, columns=["run", "tag", "step", "value"])
    return table.sort_values(["run", "tag", "step"], kind="stable").reset_index(drop=True)


def listening_addresses(service: Service) -> list[str]:
    """The IP addresses the service and its children listen on (``['127.0.0.1']`` for the course's servers),
    read from the operating system (``servers.listening_sockets``)."""
    service = _service(service, "listening_addresses")
    return sorted({listener.address for listener in servers.listening_sockets([service.process.pid])})
