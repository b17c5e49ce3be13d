"""Start the dashboard: Streamlit serving ``dashboard/app.py`` on 127.0.0.1, offline, without usage statistics.

The options are passed on Streamlit's command line, so they win over any
``~/.streamlit/config.toml`` of the user: the address, the port, no usage
statistics, no file watcher, and no error details (a failure shows our own
message, never a traceback).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

APP = Path(__file__).with_name("app.py")
LOCAL = "127.0.0.1"
THREADS_VARIABLE = "SOCIALCREDIT_DASHBOARD_THREADS"  # threads per simulation, read by dashboard/runs.py


def free_port(host: str = LOCAL, port: int = 0) -> int:
    """``port`` if nobody listens on it now, or any free port (the system picks it) when ``port`` is 0; OSError if taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, port))
        return int(s.getsockname()[1])


def command(port: int, host: str = LOCAL, browser: bool = True) -> list[str]:
    """The command line that serves the dashboard."""
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.address", host,
        "--server.port", str(port),
        "--server.headless", "false" if browser else "true",
        "--browser.gatherUsageStats", "false",
        "--browser.serverAddress", host if host not in ("0.0.0.0", "::") else LOCAL,
        "--server.fileWatcherType", "none",
        "--server.runOnSave", "false",
        "--client.showErrorDetails", "none",
        "--client.toolbarMode", "minimal",
        "--global.developmentMode", "false",
        "--theme.base", "light",
    ]  # fmt: skip


def environment(threads: int = 1) -> dict[str, str]:
    """The server's environment: no usage statistics even from an older Streamlit's config; threads per simulation."""
    env = dict(os.environ)
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    env[THREADS_VARIABLE] = str(threads)
    return env


def start(port: int, host: str = LOCAL, browser: bool = True, quiet: bool = False, threads: int = 1) -> subprocess.Popen:
    """Start the server as a child process."""
    out = subprocess.DEVNULL if quiet else None
    # no stdin: the server reads none, and a terminal closed under it must not stop it
    return subprocess.Popen(command(port, host, browser), env=environment(threads), stdin=subprocess.DEVNULL, stdout=out, stderr=out)
