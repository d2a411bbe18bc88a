"""The gateway's merged OpenAPI document, built in-process from the services' own apps, documents
every operation's errors as problem+json, and the facts they come from."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, FastAPI, Header
from fastapi.testclient import TestClient

from services.analytics import api as analytics_api
from services.analytics.projections import AnalyticsProjection
from services.chassis.http import openapi
from services.chassis.http.auth import Role
from services.chassis.http.gateway import MergedOpenAPI
from services.chassis.http.identity import CurrentIdentity, requires
from services.chassis.runtime.metrics import Metrics
from services.chassis.runtime.runtime import Runtime
from services.chassis.runtime.settings import Settings
from services.chassis.storage.store import tracking_recorder
from services.intake.attachments.blobs import FileBlobStore
from services.intake.http.app import create_app
from services.routing import api as routing_api
from services.routing.projections import LoadProjection
from services.rules import api as rules_api
from services.rules.application import Rules
from services.sla import api as sla_api
from tests import openapi_contract
from tests.privacy import memory_intake
from tests.tokens import authenticated
from tests.unit.test_knowledge_api import knowledge_desk
from tests.unit.test_routing_desk import Desk as RoutingDesk
from tests.unit.test_sla_clocks import Desk as SlaDesk


def service_app(name: str) -> FastAPI:
    return authenticated(Runtime(name, Metrics(name)).app(title=name, version="1"))


def merged_document(tmp_path: Path) -> dict[str, Any]:
    recorder = tracking_recorder(Settings(data_dir=tmp_path), "tests")
    routing = routing_api.create_app(service_app("routing"), RoutingDesk().routing, LoadProjection(recorder))
    sla = sla_api.create_app(service_app("sla"), SlaDesk().sla)
    rules = rules_api.create_app(service_app("rules"), Rules(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}))
    analytics = analytics_api.create_app(service_app("analytics"), AnalyticsProjection(recorder))
    knowledge = knowledge_desk(tmp_path / "knowledge").api.app
    gateway = create_app(service_app("intake"), memory_intake(), FileBlobStore(tmp_path / "blobs"), max_upload=1024)
    merged = MergedOpenAPI(gateway, {}, httpx.AsyncClient())
    merged.fetched = {"/v1/routing": routing.openapi(), "/v1/sla": sla.openapi(), "/v1/reports": analytics.openapi(),
                      "/v1/kb": knowledge.openapi(), "/v1/triggers": rules.openapi()}  # type: ignore[attr-defined]  # fmt: skip
    return gateway.openapi()


def test_every_operation_of_the_merged_document_documents_its_errors_as_problems(tmp_path: Path) -> None:
    document = merged_document(tmp_path)
    assert not openapi_contract.faults(document), "\n".join(openapi_contract.faults(document))
    assert not openapi_contract.declared_answers(document)
    assert not {"HTTPValidationError", "ValidationError"} & document["components"]["schemas"].keys()


def test_an_operations_errors_come_from_what_it_takes_and_checks(tmp_path: Path) -> None:
    api = APIRouter()

    @openapi.answers(409)
    def no_conflict() -> None:
        """A dependency that knows it may answer 409."""

    @api.get("/v1/open")
    async def open_to_all(who: CurrentIdentity) -> dict[str, str]:
        return {}

    @api.put("/v1/things/{thing_id}", dependencies=[requires(Role.ADMIN)], responses=openapi.problems(410))
    async def put_thing(
        thing_id: str, body: dict[str, int], who: CurrentIdentity, if_match: Annotated[str | None, Header()] = None
    ) -> dict[str, str]:
        return {}

    @api.post("/v1/conflicts", dependencies=[Depends(no_conflict)])
    async def conflicts(who: CurrentIdentity) -> None:
        return None

    app = service_app("tests")
    app.include_router(api)
    paths = TestClient(app).get("/openapi.json").json()["paths"]

    def statuses(path: str, method: str) -> set[str]:
        return {s for s in paths[path][method]["responses"] if s[0] in "45"}

    assert statuses("/v1/open", "get") == {"401", "422", "503"}  # 422: its headers (X-Correlation-Id)
    assert statuses("/v1/things/{thing_id}", "put") == {"400", "401", "403", "404", "410", "412", "422", "503"}
    assert "409" in statuses("/v1/conflicts", "post")


def test_the_hot_routes_are_documented_once_where_their_routers_are_mounted(tmp_path: Path) -> None:
    early = APIRouter(prefix="/v1/early", tags=["early"])

    @early.get("")
    async def listing(who: CurrentIdentity) -> dict[str, str]:
        return {}

    app = service_app("intake")
    create_app(app, memory_intake(), FileBlobStore(tmp_path / "blobs"), early=[early], max_upload=1024)
    document = app.openapi()
    paths = list(document["paths"])
    assert paths.index("/v1/early") < paths.index("/v1/tickets") < paths.index("/v1/tickets/{ticket_id}/comments")
    operations = [operation["operationId"] for path in document["paths"].values() for operation in path.values()]
    assert len(operations) == len(set(operations))
