"""One process of a service: an HTTP app (health, readiness, metrics and any routes)
plus background workers (relay, consumers), stopped together on SIGTERM or SIGINT.

A worker that fails, or a consumer that halts, stops the whole process with a
non-zero exit code, so the supervisor (make run, Kubernetes) restarts it. A start hook that
cannot start (`StartError`: Kafka does not answer) says why in one plain line on stderr,
whatever the log format, before the process exits.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import Depends, FastAPI, Response
from fastapi.responses import JSONResponse
from fastapi.telemetry import TelemetryConfig
from fastapi_offline import FastAPIOffline

from services.chassis.http import draining, openapi
from services.chassis.http.answer_headers import AnswerHeaders
from services.chassis.http.problems import install_problem_handlers
from services.chassis.http.text import refuse_nul
from services.chassis.runtime import memory_trace, tracing
from services.chassis.runtime.metrics import Metrics

log = logging.getLogger(__name__)

Worker = Callable[[asyncio.Event], Coroutine[Any, Any, None]]

# Told to stop, a process exits within seconds: an orchestrator kills it soon after (Kubernetes 30 s, the tests 15 s).
WORKER_GRACE_SECONDS = 5.0
STOP_HOOKS_SECONDS = 3.0
# An idle connection is kept longer than its client keeps it (httpx 5 s, load balancers 60 s): the side that keeps
# it longer must not be the one to close it, or a request sent as it closes is lost unanswered (uvicorn's own 5 s
# met httpx's 5 s so; tests/integration/test_gateway_keep_alive.py).
KEEP_ALIVE_SECONDS = 75
NO_NATIVE_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}


class StartError(RuntimeError):
    """A start hook could not start the process; the message says why, to a person."""


Check = Callable[[], Awaitable[bool]]


class Runtime:
    def __init__(self, service: str, metrics: Metrics) -> None:
        self.service = service
        self.metrics = metrics
        self.stopping = asyncio.Event()
        self.workers: list[tuple[str, Worker]] = []
        self.checks: dict[str, Check] = {}
        self.on_start: list[Callable[[], Awaitable[None]]] = []
        self.on_stop: list[Callable[[], Awaitable[None]]] = []
        self.exit_code = 0
        self._server: uvicorn.Server | None = None
        self._tasks: list[asyncio.Task[None]] = []
        memory_trace.install()  # only where PYTHONTRACEMALLOC asks for it

    def fail(self, error: BaseException) -> None:
        """Stop the process with exit code 1 (a halted consumer, a crashed worker)."""
        log.error("%s: stopping after failure: %r", self.service, error)
        self.exit_code = 1
        self.stopping.set()
        if self._server is not None:
            self._server.should_exit = True

    def app(self, **fastapi_kwargs: object) -> FastAPI:
        # `/docs` and `/redoc` load Swagger UI and ReDoc from the package, never from a CDN (the
        # validator badge, which would call out, is off).
        fastapi_kwargs.setdefault("swagger_ui_parameters", {"validatorUrl": None})
        dependencies = [*fastapi_kwargs.pop("dependencies", []), Depends(refuse_nul)]  # type: ignore[misc]
        fastapi_kwargs["dependencies"] = dependencies  # no text with a NUL in: services/chassis/http/text.py
        # Traces come from OpenTelemetry's FastAPI instrumentation (tracing.py): FastAPI's own telemetry, which
        # then stands aside, would still ask for the providers at every request.
        fastapi_kwargs.setdefault("telemetry", NO_NATIVE_TELEMETRY)
        app = FastAPIOffline(lifespan=self._lifespan, **fastapi_kwargs)  # type: ignore[arg-type]
        install_problem_handlers(app)
        openapi.install(app)
        tracing.instrument(app)

        app.add_middleware(AnswerHeaders, observe=self._observe)

        @app.get("/health/live", include_in_schema=False)
        async def live() -> dict[str, str]:
            return {"status": "up", "service": self.service}

        @app.get("/health/ready", include_in_schema=False)
        async def ready() -> JSONResponse:
            results = {}
            for name, check in self.checks.items():
                try:
                    results[name] = await asyncio.wait_for(check(), timeout=2.0)
                except Exception:  # noqa: BLE001 - a failing check is a "no", whatever its cause
                    results[name] = False
            ok = all(results.values()) and not self.stopping.is_set()
            return JSONResponse({"ready": ok, "checks": results}, status_code=200 if ok else 503)

        @app.get("/metrics", include_in_schema=False)
        async def metrics() -> Response:
            return Response(self.metrics.render(), media_type="text/plain; version=0.0.4")

        return app

    def _observe(self, method: str, template: str, status: int, seconds: float) -> None:
        if template not in ("/metrics", "/health/live", "/health/ready"):
            self.metrics.http_duration.labels(method, template, str(status)).observe(seconds)

    @asynccontextmanager
    async def _lifespan(self, app: FastAPI) -> AsyncIterator[None]:
        try:
            for start in self.on_start:
                await start()
        except Exception as error:
            self.exit_code = 1
            if isinstance(error, StartError):
                print(f"{self.service} cannot start: {error}", file=sys.stderr, flush=True)
            raise
        for name, worker in self.workers:
            task = asyncio.create_task(worker(self.stopping), name=name)
            task.add_done_callback(self._worker_done)
            self._tasks.append(task)
        try:
            yield
        finally:
            self.stopping.set()
            await self._stop_workers()
            try:
                await asyncio.wait_for(self._run_stop_hooks(), timeout=STOP_HOOKS_SECONDS)
            except TimeoutError:
                log.warning("%s: stop hooks still running after %.0f s: exiting", self.service, STOP_HOOKS_SECONDS)

    async def _stop_workers(self) -> None:
        """Let the workers finish what they hold; one still running after the grace is cancelled, as a crash
        would end it (each keeps its effects exactly once across a crash), and named in the log."""
        if not self._tasks:
            return
        _, running = await asyncio.wait(self._tasks, timeout=WORKER_GRACE_SECONDS)
        for task in running:
            log.warning("%s: worker %s still running %.0f s after the stop: cancelled",
                        self.service, task.get_name(), WORKER_GRACE_SECONDS)  # fmt: skip
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _run_stop_hooks(self) -> None:
        for stop in reversed(self.on_stop):
            await stop()

    def _worker_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("%s: worker %s failed", self.service, task.get_name(), exc_info=error)  # which, and where
            self.fail(error)
        elif not self.stopping.is_set():
            self.fail(RuntimeError(f"worker {task.get_name()} ended"))

    def serve(self, app: FastAPI, host: str, port: int) -> int:
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            log_config=None,  # uvicorn's lines go through the process's own handler (see logs.py)
            lifespan="on",
            access_log=False,
            timeout_graceful_shutdown=int(WORKER_GRACE_SECONDS),  # then requests still open are cancelled
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
        )
        self._server = _Server(config)
        self._server.run()
        return self.exit_code


class _Server(uvicorn.Server):
    """uvicorn's server, whose open event streams end as its graceful shutdown begins (draining.py)."""

    async def shutdown(self, sockets: list[Any] | None = None) -> None:
        draining.begin()
        await super().shutdown(sockets)
