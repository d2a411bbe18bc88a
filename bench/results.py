"""Latency summaries and the results folder."""

from __future__ import annotations

import json
import platform
import statistics
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    """p50/p99/p99.9/max of latencies in milliseconds."""
    if not samples_ms:
        return {"n": 0}
    ordered = sorted(samples_ms)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)

    return {
        "n": len(ordered), "p50": at(0.50), "p99": at(0.99), "p99.9": at(0.999), "max": round(ordered[-1], 3),
        "mean": round(statistics.fmean(ordered), 3),
    }  # fmt: skip


def record(name: str, figures: dict[str, Any], show: bool = True, again: bool = False) -> Path:
    """Add a run's figures to bench/results/<name>.json beside every earlier run's, each with its date and
    the commit it measured (a figure is only worth something next to the ones it is compared with).
    `show`: print the figures (a bench that prints its own table says False). `again`: the figures of the
    run this process recorded last, further on (a long bench records as it goes, so that a run stopped
    midway keeps what it measured): they replace that entry, keeping its date and commit (the code the
    process loaded, whatever was committed since)."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    runs = history(name)
    entry = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "commit": commit(),
             "machine": {"cpus": _cpus(), "python": platform.python_version()}, "figures": figures}  # fmt: skip
    if again and runs:
        runs[-1] = entry | {"at": runs[-1]["at"], "commit": runs[-1]["commit"], "last_at": entry["at"]}
    else:
        runs.append(entry)
    path.write_text(json.dumps({"benchmark": name, "history": runs}, indent=2) + "\n")
    if show:
        print(json.dumps(figures, indent=2))
    if not again:
        print(f"-> {path} (run {len(runs)} of its history)")
    return path


def save_plot(figure: Any, axes: Any, name: str) -> Path:
    """Finish a matplotlib figure the benches' way (grid, legend, layout) and write it beside the
    results as `<name>.png`."""
    import matplotlib.pyplot as plt

    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    path = RESULTS / f"{name}.png"
    figure.savefig(path, dpi=110)
    plt.close(figure)
    print(f"-> {path}")
    return path


def history(name: str) -> list[dict[str, Any]]:
    """Every run recorded for `name`, oldest first (a file `write` left is one run, its commit unknown)."""
    path = RESULTS / f"{name}.json"
    if not path.exists():
        return []
    document: dict[str, Any] = json.loads(path.read_text())
    if "history" in document:
        runs: list[dict[str, Any]] = document["history"]
        return runs
    return [{"at": document.get("at"), "commit": None, "machine": document.get("machine"),
             "figures": document.get("figures")}]  # fmt: skip


def commit() -> str | None:
    """The commit measured, marked when files it tracks (results aside) were changed since."""
    root = RESULTS.parent.parent

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False, timeout=30)
        return done.stdout.strip() if done.returncode == 0 else ""

    head = git("rev-parse", "--short=12", "HEAD")
    changed = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench/results")
    return (head + ("+changes" if changed else "")) or None


def _cpus() -> int:
    import os

    return os.cpu_count() or 0
