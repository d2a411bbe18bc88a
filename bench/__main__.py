"""`make bench`: every benchmark in turn."""

from __future__ import annotations

from bench import (
    as_of,
    consumer_batches,
    idle_cpu,
    kb_suggestions,
    rebuild,
    routing_latency,
    sla_timers,
    store_append,
    ticket_flow,
    ticket_open,
    workspace_pages,
)


def main() -> None:
    for benchmark in (
        store_append,
        ticket_open,
        ticket_flow,
        as_of,
        consumer_batches,
        routing_latency,
        idle_cpu,
        sla_timers,
        rebuild,
        workspace_pages,
        kb_suggestions,
    ):
        print(f"== {benchmark.__name__}")
        benchmark.run()


if __name__ == "__main__":
    main()
