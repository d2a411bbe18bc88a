"""A process traces its memory only when asked (the soak's --trace), and then on each signal writes what it holds."""

from __future__ import annotations

import json
import os
import signal
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.chassis.runtime import memory_trace


@pytest.fixture
def restored() -> Iterator[None]:
    handler = signal.getsignal(memory_trace.SIGNAL)
    yield
    signal.signal(memory_trace.SIGNAL, handler)
    tracemalloc.stop()


def test_a_process_not_asked_to_trace_installs_nothing(monkeypatch: pytest.MonkeyPatch, restored: None) -> None:
    monkeypatch.delenv(memory_trace.FRAMES, raising=False)
    handler = signal.getsignal(memory_trace.SIGNAL)
    assert memory_trace.install() is False
    assert signal.getsignal(memory_trace.SIGNAL) is handler


def test_asked_the_first_signal_starts_tracing_and_the_next_writes_a_snapshot_and_the_heap(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, restored: None
) -> None:
    monkeypatch.setenv(memory_trace.FRAMES, "4")
    monkeypatch.setenv(memory_trace.DIRECTORY, str(tmp_path))
    assert memory_trace.install() is True
    os.kill(os.getpid(), memory_trace.SIGNAL)
    assert tracemalloc.is_tracing()
    os.kill(os.getpid(), memory_trace.SIGNAL)
    stem = tmp_path / f"{os.getpid()}-1"
    assert tracemalloc.Snapshot.load(f"{stem}.snapshot").traces
    heap = json.loads(Path(f"{stem}.heap.json").read_text())
    assert min(heap["VmRSS"], heap["allocated_blocks"], heap["traced"]) > 0
    assert json.loads(Path(f"{stem}.types.json").read_text())["dict"] > 0
