"""What a process's memory holds, on demand, to find what grows (issue 22's soak): off unless asked for.

With SERVICEDESK_TRACEMALLOC=<frames> in its environment a process answers SIGUSR2: the first starts
tracemalloc (tracebacks of `frames` frames; it costs CPU and memory no production process should pay, so
it starts when the bench asks, after the process's start), each one after writes a snapshot
`<pid>-<n>.snapshot` and the count of live objects of each type `<pid>-<n>.types.json` to
SERVICEDESK_TRACEMALLOC_DIR (the system's temporary directory by default). With 0 frames it traces
nothing. Each signal also writes `<pid>-<n>.heap.json`: the resident memory, the blocks Python holds, and
what the C allocator (glibc's malloc) holds in use and free, which tells memory Python's objects hold from
memory the allocator keeps for itself. `python -m bench.memory_growth` compares two of them. Without
SERVICEDESK_TRACEMALLOC nothing is installed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import json
import os
import signal
import sys
import tempfile
import tracemalloc
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

SIGNAL = signal.SIGUSR2
FRAMES = "SERVICEDESK_TRACEMALLOC"
DIRECTORY = "SERVICEDESK_TRACEMALLOC_DIR"


def install() -> bool:
    """Answer SIGUSR2 (start tracing, then snapshot), if the environment asks for it; whether it does."""
    if (asked := os.environ.get(FRAMES)) is None:
        return False
    frames = int(asked or 0)
    directory = Path(os.environ.get(DIRECTORY) or tempfile.gettempdir())
    taken = 0

    def answer(signum: int, frame: FrameType | None) -> None:
        nonlocal taken
        if frames > 0 and not tracemalloc.is_tracing():
            tracemalloc.start(frames)
            return
        taken += 1
        write(directory / f"{os.getpid()}-{taken}")

    signal.signal(SIGNAL, answer)
    return True


def write(stem: Path) -> None:
    """The heap's figures (`stem`.heap.json), and if tracing, the snapshot (`stem`.snapshot) and the live
    objects by type (`stem`.types.json), after a collection."""
    gc.collect()
    Path(f"{stem}.heap.json").write_text(json.dumps(heap()))
    if tracemalloc.is_tracing():
        tracemalloc.take_snapshot().dump(f"{stem}.snapshot")
        types = Counter(type(o).__qualname__ for o in gc.get_objects())
        Path(f"{stem}.types.json").write_text(json.dumps(dict(types.most_common(200))))


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]  # fmt: skip


def heap() -> dict[str, Any]:
    """Resident memory (KiB), Python's allocated blocks, and glibc's malloc in use and free (bytes)."""
    figures: dict[str, Any] = {"allocated_blocks": sys.getallocatedblocks()}
    status = Path("/proc/self/status").read_text().splitlines()
    figures |= {line.split(":")[0]: int(line.split()[1]) for line in status if line.startswith(("VmRSS", "RssAnon"))}
    figures["threads"] = len(os.listdir("/proc/self/task"))
    if tracemalloc.is_tracing():
        figures["traced"], _ = tracemalloc.get_traced_memory()
        figures["tracing_overhead"] = tracemalloc.get_tracemalloc_memory()
    if (libc := ctypes.util.find_library("c")) is not None:
        mallinfo2 = getattr(ctypes.CDLL(libc), "mallinfo2", None)
        if mallinfo2 is not None:
            mallinfo2.restype = _MallInfo2
            info = mallinfo2()
            figures |= {"malloc_in_use": info.uordblks + info.hblkhd, "malloc_free": info.fordblks,
                        "malloc_arena": info.arena, "malloc_mmapped": info.hblkhd}  # fmt: skip
    return figures
