"""What grew in a process between two of its memory snapshots (services/chassis/runtime/memory_trace.py):
the tracebacks whose live allocations grew most, and the types whose live objects grew most.

    python -m bench.memory_growth BEFORE.snapshot AFTER.snapshot [--top 15 --frames 6]

`bench.soak --trace` takes the snapshots of every process of the flow and prints this for each.
"""

from __future__ import annotations

import argparse
import json
import sys
import tracemalloc
from collections.abc import Sequence
from pathlib import Path

TOP = 15
FRAMES = 6  # the innermost frames of a traceback shown, the project's own first
OURS = ("services/", "schemas/", "bench/")


def growth(before: Path, after: Path, top: int = TOP, frames: int = FRAMES) -> str:
    """How the heap's figures changed from `before` to `after` (their .heap.json), and when traced, the
    `top` tracebacks whose live memory grew most, then the types of object."""
    lines = [heap_growth(before, after)]
    if before.exists() and after.exists():
        lines.append(traced_growth(before, after, top, frames))
    return "\n".join(lines)


def heap_growth(before: Path, after: Path) -> str:
    """Each figure of the heap (memory_trace.heap) before, after, and the change, in MiB (counts as they are)."""
    old, new = (json.loads(Path(f"{p.with_suffix('')}.heap.json").read_text()) for p in (before, after))
    kib = {"VmRSS", "RssAnon"}
    counts = {"allocated_blocks", "threads"}

    def shown(name: str, value: float) -> str:
        return f"{value:,.0f}" if name in counts else f"{value / (1024 if name in kib else 2**20):.2f}"

    cells = [f"{name} {shown(name, old[name])} -> {shown(name, new[name])}" for name in new if name in old]
    return "  heap (MiB; blocks and threads counted): " + "; ".join(cells)


def traced_growth(before: Path, after: Path, top: int, frames: int) -> str:
    """The `top` tracebacks whose live memory grew most from `before` to `after`, then the types of object."""
    old, new = tracemalloc.Snapshot.load(str(before)), tracemalloc.Snapshot.load(str(after))
    ignore = [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "<frozen importlib.*")]
    old, new = old.filter_traces(ignore), new.filter_traces(ignore)
    total = sum(s.size for s in new.statistics("filename")) - sum(s.size for s in old.statistics("filename"))
    lines = [f"  traced memory {total / 2**20:+.2f} MiB; the tracebacks that grew most:"]
    for stat in new.compare_to(old, "traceback")[:top]:
        now = stat.size / 2**20
        lines.append(f"  {stat.size_diff / 2**20:+8.2f} MiB {stat.count_diff:+9d} blocks (now {now:.2f} MiB)")
        lines.extend(f"        {frame}" for frame in _innermost(stat.traceback, frames))
    types_before, types_after = _types(before), _types(after)
    if types_before is not None and types_after is not None:
        grown = sorted(((n - types_before.get(t, 0), t) for t, n in types_after.items()), reverse=True)[:top]
        lines.append("  live objects (tracked by the collector) that grew most: "
                     + ", ".join(f"{t} {d:+d}" for d, t in grown if d > 0))  # fmt: skip
    return "\n".join(lines)


def _innermost(traceback: tracemalloc.Traceback, frames: int) -> list[str]:
    """The innermost frames, and the innermost of the project's own when those are all a library's."""
    every = [(frame.filename, f"{frame.filename}:{frame.lineno}") for frame in reversed(traceback)]
    shown = [where for _, where in every][:frames]
    ours = [where for filename, where in every if any(o in filename for o in OURS)]
    if ours and ours[0] not in shown:
        shown.append(f"... {ours[0]}")
    return shown


def _types(snapshot: Path) -> dict[str, int] | None:
    path = snapshot.with_suffix(".types.json")
    return json.loads(path.read_text()) if path.exists() else None


def run(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.memory_growth", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--top", type=int, default=TOP)
    parser.add_argument("--frames", type=int, default=FRAMES)
    args = parser.parse_args(list(argv))
    print(growth(args.before, args.after, args.top, args.frames))


if __name__ == "__main__":
    run(sys.argv[1:])
