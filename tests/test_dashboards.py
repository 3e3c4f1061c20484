"""course_utils.lessons.dashboards: real TensorBoard and Visdom servers on 127.0.0.1, read back, always stopped.

The last test runs lesson 08 itself with a planted error after both servers started, and checks that
no server process and no port is left once the kernel has shut down.
"""
from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import nbformat
import numpy as np
import psutil
import pytest

import course_utils as cu
from course_utils.base import servers
from course_utils.lessons import dashboards

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "08_visualization.ipynb"
LOSSES = [2.5, 1.25, 0.75, 0.5]


@pytest.fixture(scope="module")
def logdir(tmp_path_factory):
    """Two runs, one written by each framework, with the same losses."""
    import tensorflow as tf
    from torch.utils.tensorboard import SummaryWriter

    folder = tmp_path_factory.mktemp("logs")
    with SummaryWriter(str(folder / "pytorch")) as writer:
        for step, loss in enumerate(LOSSES):
            writer.add_scalar("train/loss", loss, global_step=step)
        writer.add_embedding(np.eye(4, dtype=np.float32), metadata=[0, 1, 2, 3], tag="emb")
    writer_tf = tf.summary.create_file_writer(str(folder / "tensorflow"))
    with writer_tf.as_default():
        for step, loss in enumerate(LOSSES):
            tf.summary.scalar("train/loss", loss, step=step)
    writer_tf.close()
    from tensorboard.plugins import projector

    tf.train.Checkpoint(embedding=tf.Variable(np.eye(4, dtype=np.float32))).save(str(folder / "tensorflow" / "emb.ckpt"))
    config = projector.ProjectorConfig()
    config.embeddings.add().tensor_name = "embedding/.ATTRIBUTES/VARIABLE_VALUE"
    projector.visualize_embeddings(str(folder / "tensorflow"), config)
    return folder


def no_process_left(pid: int) -> bool:
    return not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


# --- reading event files -----------------------------------------------------------------------

def test_read_scalars_reads_both_storage_kinds(logdir):
    table = dashboards.read_scalars(logdir)
    assert list(table.columns) == ["run", "tag", "step", "value"]
    assert dashboards.event_runs(logdir) == ["pytorch", "tensorflow"]
    for run in ("pytorch", "tensorflow"):
        rows = table[(table.run == run) & (table.tag == "train/loss")]
        assert rows.step.tolist() == [0, 1, 2, 3] and rows.value.tolist() == LOSSES


def test_read_scalars_of_an_empty_folder_is_an_empty_table(tmp_path):
    assert dashboards.read_scalars(tmp_path).empty and dashboards.event_runs(tmp_path) == []


# --- TensorBoard -------------------------------------------------------------------------------

def test_tensorboard_serves_both_runs_on_loopback_and_stops(logdir):
    with dashboards.start_tensorboard(logdir) as tb:
        assert dashboards.listening_addresses(tb) == ["127.0.0.1"]
        tags = dashboards.wait_for_runs(tb, ["pytorch", "tensorflow"])
        assert tags == {"pytorch": ["train/loss"], "tensorflow": ["train/loss"]}
        assert dashboards.tensorboard_runs(tb) == ["pytorch", "tensorflow"]
        for run in ("pytorch", "tensorflow"):
            frame = dashboards.tensorboard_scalars(tb, run, "train/loss")
            assert frame.step.tolist() == [0, 1, 2, 3] and frame.value.tolist() == LOSSES
        # the stub: TensorBoard without TensorFlow cannot open a TF checkpoint for the projector
        assert sorted(json.loads(tb.get("/data/plugin/projector/runs"))) == ["pytorch"]
        pid, port = tb.process.pid, tb.port
    assert no_process_left(pid) and not servers.port_is_open(port) and servers.running() == []


def test_tensorboard_with_tensorflow_reads_the_tf_projector_too(logdir):
    with dashboards.start_tensorboard(logdir, "--reload_task=blocking", "--reload_interval=0",
                                      stub_tensorflow=False) as tb:
        assert sorted(json.loads(tb.get("/data/plugin/projector/runs"))) == ["pytorch", "tensorflow"]
        assert dashboards.listening_addresses(tb) == ["127.0.0.1"]


def test_the_stub_reads_a_tsv_projector_and_the_hparams_of_both_frameworks(tmp_path):
    """Lesson 08's TF embedding is a TSV file (tensor_path), which the TensorFlow-free TensorBoard opens;
    the hparams sessions of both writers are read back with their values."""
    import tensorflow as tf
    from tensorboard.plugins import projector
    from tensorboard.plugins.hparams import api as hp
    from torch.utils.tensorboard import SummaryWriter

    with SummaryWriter(str(tmp_path / "pytorch")) as writer:
        writer.add_scalar("train/loss", 1.0, global_step=0)
        writer.add_hparams({"lr": 0.1, "batch_size": 32}, {"hparam/accuracy": 0.5}, run_name="hparams")
        writer.add_embedding(np.eye(4, dtype=np.float32), metadata=[0, 1, 2, 3], tag="emb")
    run_dir = tmp_path / "tensorflow"
    with tf.summary.create_file_writer(str(run_dir)).as_default():   # a run: a folder with events
        tf.summary.scalar("train/loss", 1.0, step=0)
    with tf.summary.create_file_writer(str(run_dir / "hparams")).as_default():
        hp.hparams({"lr": 0.2, "batch_size": 32})
        tf.summary.scalar("hparam/accuracy", 0.75, step=0)
    np.savetxt(run_dir / "tensors.tsv", np.eye(4), delimiter="\t")
    (run_dir / "metadata.tsv").write_text("0\n1\n2\n3\n")
    config = projector.ProjectorConfig()
    embedding = config.embeddings.add()
    embedding.tensor_name, embedding.tensor_path, embedding.metadata_path = "emb", "tensors.tsv", "metadata.tsv"
    projector.visualize_embeddings(str(run_dir), config)
    with dashboards.start_tensorboard(tmp_path, "--reload_task=blocking", "--reload_interval=0") as tb:
        assert sorted(json.loads(tb.get("/data/plugin/projector/runs"))) == ["pytorch", "tensorflow"]
        table = dashboards.tensorboard_hparams(tb)
    assert table.session.tolist() == ["pytorch/hparams", "tensorflow/hparams"]
    assert table.lr.tolist() == [0.1, 0.2] and table["hparam/accuracy"].tolist() == [0.5, 0.75]


def test_wait_for_runs_says_what_is_missing(logdir):
    with dashboards.start_tensorboard(logdir) as tb:
        with pytest.raises(cu.CourseError, match=r"no scalars for \['nope'\].*close") as info:
            dashboards.wait_for_runs(tb, ["nope"], timeout=0.5)
        assert "\n" not in str(info.value)


@pytest.mark.parametrize("call, words", [
    (lambda d: dashboards.start_tensorboard(d / "missing"), "is not a folder"),
    (lambda d: dashboards.start_tensorboard(42), "expected a folder path"),
    (lambda d: dashboards.start_tensorboard(d, "--bind_all"), "127.0.0.1 only"),
    (lambda d: dashboards.start_tensorboard(d, "--host=0.0.0.0"), "127.0.0.1 only"),
    (lambda d: dashboards.start_tensorboard(d, 7), "must be strings"),
    (lambda d: dashboards.start_tensorboard(d, stub_tensorflow="yes"), "True or False"),
    (lambda d: dashboards.start_tensorboard(d, "--no-such-flag"), "exited with code"),
    (lambda d: dashboards.start_visdom(d / "missing"), "is not a folder"),
    (lambda d: dashboards.start_visdom(d, "-hostname", "0.0.0.0"), "127.0.0.1 only"),
    (lambda d: dashboards.tensorboard_runs("http://127.0.0.1:6006"), "expected the Service"),
    (lambda d: dashboards.read_scalars(None), "expected a folder path"),
    (lambda d: dashboards.read_scalars(d / "missing"), "is not a folder"),
])
def test_bad_arguments_are_one_line(tmp_path, call, words):
    with pytest.raises(cu.CourseError, match=words) as info:
        call(tmp_path)
    assert "\n" not in str(info.value) and len(str(info.value)) < 600
    assert servers.running() == []


def test_a_stopped_service_is_refused(logdir):
    tb = dashboards.start_tensorboard(logdir)
    tb.stop()
    with pytest.raises(cu.CourseError, match="not running any more"):
        dashboards.tensorboard_runs(tb)


# --- Visdom ------------------------------------------------------------------------------------

def test_visdom_round_trip_offline_on_loopback(tmp_path):
    import visdom

    with dashboards.start_visdom(tmp_path) as server:
        assert dashboards.listening_addresses(server) == ["127.0.0.1"]
        vis = visdom.Visdom(server="http://127.0.0.1", port=server.port, env="test",
                            use_incoming_socket=False, raise_exceptions=True)
        assert vis.check_connection()
        window = vis.line(Y=np.array(LOSSES), X=np.arange(4), win="loss")
        trace = json.loads(vis.get_window_data(window, env="test"))["content"]["data"][0]
        assert trace["y"] == LOSSES
        pid, port = server.process.pid, server.port
    assert no_process_left(pid) and not servers.port_is_open(port)


# --- the lesson leaves nothing behind, even when a cell fails ------------------------------------

def marked_processes(marker: str) -> list[str]:
    """Live processes whose environment carries COURSE_TEST_MARKER=marker (the kernel and its servers)."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            if proc.environ().get("COURSE_TEST_MARKER") == marker and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(" ".join(proc.info["cmdline"] or [])[:120])
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return found


def test_the_leak_detector_sees_a_marked_server(monkeypatch):
    """The check below can fail: a running server started with the marker is found."""
    marker = uuid.uuid4().hex
    monkeypatch.setenv("COURSE_TEST_MARKER", marker)
    with servers.start(["python", "-m", "http.server", "--bind", "127.0.0.1", "{port}"], name="marked"):
        assert any("http.server" in line for line in marked_processes(marker))
    assert marked_processes(marker) == []


def cells_after(nb, marker: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and marker in c.source) + 1


def test_no_server_left_after_the_notebook_even_when_a_cell_fails(tmp_path, monkeypatch):
    """Lesson 08 with an error planted right after both servers started: the kernel dies of it, nothing stays."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(NOTEBOOK, as_version=4)
    ports_file = tmp_path / "ports.json"
    planted = nbformat.v4.new_code_cell(
        "import json\n"
        f"open({str(ports_file)!r}, 'w').write(json.dumps([s.port for s in servers.running()]))\n"
        "raise RuntimeError('planted: a cell fails while TensorBoard and Visdom run')")
    nb.cells.insert(cells_after(nb, "dashboards.start_visdom("), planted)
    marker = uuid.uuid4().hex
    monkeypatch.setenv("COURSE_TEST_MARKER", marker)   # the kernel, and the servers it starts, inherit it
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    with pytest.raises(CellExecutionError, match="planted"):
        client.execute()
    ports = json.loads(ports_file.read_text())
    assert len(ports) == 2, f"expected TensorBoard and Visdom running at the planted error, found ports {ports}"

    def marked() -> list[str]:
        return marked_processes(marker)

    deadline = time.monotonic() + 20
    while (marked() or any(servers.port_is_open(p) for p in ports)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert marked() == [], f"left running after the kernel shut down: {marked()}"
    assert not any(servers.port_is_open(p) for p in ports), f"ports still open: {ports}"
