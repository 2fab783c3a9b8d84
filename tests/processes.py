"""Stopping the service processes tests start: a signal, a wait, then a kill."""
from __future__ import annotations

import signal
import subprocess


def stop_process(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
    """Send `sig` to a running process and wait for it; killed if it outlives `timeout` seconds."""
    if process.poll() is None:
        process.send_signal(sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
