"""`make bench`: every benchmark in turn (or those named), each with its defaults; `python -m bench.<name>
--help` tells a benchmark's own options."""

from __future__ import annotations

import argparse

from bench import (
    as_of,
    consumer_batches,
    fault_rate,
    faults,
    idle_cpu,
    importing,
    kb_suggestions,
    open_batches,
    process_start,
    rebuild,
    routing_latency,
    sla_timers,
    soak,
    store_append,
    ticket_flow,
    ticket_list,
    ticket_open,
    trigger_evaluation,
    what_if,
    workspace_pages,
)

BENCHMARKS = {
    benchmark.__name__.removeprefix("bench."): benchmark
    for benchmark in (
        store_append,
        ticket_open,
        open_batches,
        ticket_flow,
        as_of,
        consumer_batches,
        ticket_list,
        routing_latency,
        idle_cpu,
        sla_timers,
        rebuild,
        workspace_pages,
        kb_suggestions,
        soak,
        what_if,
        importing,
        trigger_evaluation,
        process_start,
        fault_rate,
        faults,
    )
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="name", help=f"run only these, of: {', '.join(BENCHMARKS)}")
    names = parser.parse_args().names or list(BENCHMARKS)
    if unknown := [name for name in names if name not in BENCHMARKS]:
        parser.error(f"no benchmark {', '.join(unknown)}")
    for name in names:
        print(f"== bench.{name}")
        BENCHMARKS[name].run()


if __name__ == "__main__":
    main()
