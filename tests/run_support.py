"""Run a snippet in a fresh Python (the tests that need a process with nothing imported yet)."""
import subprocess
import sys


def fresh_python(code: str, timeout: float = 300) -> str:
    """``python -c code`` in a new process; its stdout, or a failure that shows the end of its stderr."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stderr[-1500:]
    return out.stdout
