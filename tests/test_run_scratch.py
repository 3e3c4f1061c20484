"""paths.run_scratch: each running lesson writes into a folder of its own process (issue 34's shared-folder
failure: a second run of lesson 09 deleted the first one's files), and folders of ended processes go."""
import os
import subprocess
import sys

from course_utils.base import paths


def test_each_process_gets_its_own_folder_and_ended_ones_are_removed(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_ROOT", str(tmp_path))
    mine = paths.run_scratch("09_saving_deploying")
    (mine / "model.pt").write_text("mine")
    # another process (ended now) had its own folder beside this one
    other = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    ended = mine.parent / other.stdout.strip()
    ended.mkdir()
    (ended / "model.pt").write_text("theirs")
    again = paths.run_scratch("09_saving_deploying")
    assert again == mine == tmp_path / "build" / "scratch" / "09_saving_deploying" / str(os.getpid())
    assert (mine / "model.pt").read_text() == "mine", "a second call must not empty the folder"
    assert not ended.exists(), "the folder of a process that ended stays"


def test_a_running_process_keeps_its_folder_and_fresh_empties_only_mine(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_ROOT", str(tmp_path))
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        theirs = tmp_path / "build" / "scratch" / "lesson13" / str(running.pid)
        theirs.mkdir(parents=True)
        (theirs / "job.npz").write_text("theirs")
        mine = paths.run_scratch("lesson13")
        (mine / "job.npz").write_text("mine")
        mine = paths.run_scratch("lesson13", fresh=True)
        assert not (mine / "job.npz").exists()
        assert (theirs / "job.npz").read_text() == "theirs"
    finally:
        running.kill()
        running.wait()
