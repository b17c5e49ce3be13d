"""What this machine has: the memory a process may still use (the ground layer: no project imports).

The memory guard (:mod:`socialcredit.engine.memory`) and the edge-list loader
(:mod:`socialcredit.population.edgelist`) both size their work against it.
"""

from __future__ import annotations

import os
from pathlib import Path

HEADROOM = 0.9  # use at most this share of the available memory


def gib(x: float) -> str:
    """Bytes as GiB (or MiB below a tenth of a GiB), for messages."""
    return f"{x / 2**30:.2f} GiB" if x >= 2**30 / 10 else f"{x / 2**20:.0f} MiB"


def available_bytes() -> float:
    """Memory this process may still use: the smaller of the system's available memory and the cgroup's room."""
    avail = float("inf")
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                avail = float(line.split()[1]) * 1024
    except OSError:
        pass
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
    ):
        try:
            limit = Path(limit_file).read_text().strip()
            if limit != "max" and float(limit) < 2**60:
                avail = min(avail, float(limit) - float(Path(usage_file).read_text().strip()))
            break
        except (OSError, ValueError):
            continue
    if avail == float("inf"):  # not Linux: trust the total physical memory
        try:
            avail = float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES"))
        except (ValueError, OSError, AttributeError):
            avail = float("inf")
    return avail
