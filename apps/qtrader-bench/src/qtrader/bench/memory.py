"""Peak resident memory of the current process (each peer script carries a copy of this)."""

from __future__ import annotations

import resource
from pathlib import Path


def peak_rss_kib(status: Path = Path("/proc/self/status")) -> int:
    """``VmHWM`` (the resident high-water mark, KiB) where /proc has it, else ``ru_maxrss``
    (KiB on Linux)."""
    try:
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
