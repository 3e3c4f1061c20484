"""Framework-free helpers for 06_devices: the one-line message of a GPU-only cell on a CPU, MiB
formatting, and running short scripts in fresh Python processes (for settings that only work
before TensorFlow's first operation, such as the device-placement log).

Nothing here imports torch or TensorFlow.

Used in: 06_devices.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from ..base.errors import CourseError

#: What every GPU-only cell prints first on a machine without a GPU (tests/test_devices.py checks it).
NO_GPU = "[no GPU]"


def no_gpu(what: str, instead: str) -> str:
    """The line a GPU-only cell prints where there is no GPU: what it would do, and what you see instead.

    >>> no_gpu("torch.cuda.memory_reserved()", "it returns 0 on a CPU-only machine")
    '[no GPU] torch.cuda.memory_reserved() needs a GPU — here: it returns 0 on a CPU-only machine.'

    Used in: 06_devices.
    """
    what, instead = " ".join(what.split()), " ".join(instead.split()).rstrip(".")
    if not what or not instead:
        raise CourseError("no_gpu(what, instead): both must be non-empty strings.")
    return f"{NO_GPU} {what} needs a GPU — here: {instead}."


def mib(nbytes: int | float) -> str:
    """Bytes as MiB with one decimal, for memory reports.

    >>> mib(3 * 2**20), mib(0)
    ('3.0 MiB', '0.0 MiB')

    Used in: 06_devices.
    """
    if nbytes < 0:
        raise CourseError(f"mib(nbytes): expected a byte count >= 0, found {nbytes}.")
    return f"{nbytes / 2**20:.1f} MiB"


def run_fresh(scripts: dict[str, str], timeout: float = 120.0,
              env: dict[str, str] | None = None) -> dict[str, list[str]]:
    """Run each script in its own fresh Python process, all at once; return each one's stdout lines.

    Blank lines are dropped. stderr (where TensorFlow's C++ runtime logs start-up notices) is kept
    only to explain a failure: a script that fails raises ``CourseError`` with the end of its
    stderr. ``env`` adds to (does not replace) this process's environment.

    >>> run_fresh({"hi": "print('hi')"})
    {'hi': ['hi']}

    Used in: 06_devices (the device-placement log needs a process where no TF op has run yet).
    """
    full_env = {**os.environ, **(env or {})}
    procs = {name: subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True, env=full_env)
             for name, code in scripts.items()}
    results: dict[str, list[str]] = {}
    for name, proc in procs.items():
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            for p in procs.values():
                p.kill()
            raise CourseError(f"run_fresh: script {name!r} ran longer than {timeout:.0f} s and was stopped.") from None
        lines = [line.rstrip() for line in out.splitlines() if line.strip()]
        if proc.returncode != 0:
            tail = " | ".join([line for line in err.splitlines() if line.strip()][-3:])
            raise CourseError(f"run_fresh: script {name!r} failed (exit {proc.returncode}): {tail}")
        results[name] = lines
    return results


# How ``torch.save`` writes a storage's device in its pickle (protocol 2: 'X', a 4-byte length, the text).
def _pickled_text(text: str) -> bytes:
    raw = text.encode("ascii")
    return b"X" + len(raw).to_bytes(4, "little") + raw


def as_saved_on(path: str | os.PathLike, device: str = "cuda:0") -> Path:
    """Copy a ``torch.save`` file as if it had been saved on ``device``; return the copy's path.

    ``torch.save`` writes, beside each tensor's bytes, the device the tensor lived on (``'cpu'``,
    ``'cuda:0'``); ``torch.load`` puts it back there unless told otherwise (``map_location=``). A
    checkpoint from a GPU machine therefore fails to load on a laptop without CUDA. To show that
    error without a GPU, this rewrites the device tags of a CPU checkpoint (``NAME.pt`` becomes
    ``NAME.<device>.pt`` beside it); the tensor bytes are the same either way. Nothing is unpickled:
    the tags are replaced as bytes in the archive's ``data.pkl``.

    >>> as_saved_on("model.pt")                 # doctest: +SKIP
    PosixPath('model.cuda_0.pt')

    Used in: 06_devices.
    """
    import zipfile

    src = Path(os.fspath(path)) if isinstance(path, (str, os.PathLike)) else None
    if src is None or not src.is_file():
        raise CourseError(f"as_saved_on(path={path!r}): expected the path of a file written by torch.save.")
    if not isinstance(device, str) or not re.fullmatch(r"[a-z]+(:\d+)?", device):
        raise CourseError(f"as_saved_on(device={device!r}): expected a device string such as 'cuda:0'.")
    if not zipfile.is_zipfile(src):
        raise CourseError(f"as_saved_on: {src.name} is not a torch.save archive (a zip file) — save it with torch.save.")
    dst = src.with_name(f"{src.stem}.{device.replace(':', '_')}{src.suffix}")
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        pickles = [n for n in zin.namelist() if n.endswith("/data.pkl")]
        if not pickles:
            raise CourseError(f"as_saved_on: {src.name} holds no data.pkl — is it a torch.save file?")
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename in pickles:
                data = data.replace(_pickled_text("cpu"), _pickled_text(device))
            zout.writestr(info, data)
    return dst
