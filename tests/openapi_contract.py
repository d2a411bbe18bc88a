"""What every operation of the gateway's OpenAPI document must say about its answers (one check,
run on the document built in-process and on a real desk's)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
ALTERNATIVES: list[dict[str, list[str]]] = [
    {"bearer": []},
    {"apiKey": []},
]  # two security requirements: either one, not both


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "put", "post", "patch", "delete"):
                yield method.upper(), path, operation


def faults(document: dict[str, Any]) -> list[str]:
    """What the document leaves out: the errors each operation's facts imply, each as a Problem."""
    found = []
    components = document["components"]
    bearer, api_key = components["securitySchemes"]["bearer"], components["securitySchemes"]["apiKey"]
    if (bearer["scheme"], api_key["in"], api_key["name"]) != ("bearer", "header", "X-API-Key"):
        found.append("security schemes: a bearer token and an X-API-Key header")
    problem = components["schemas"]["Problem"]
    members = {"type", "title", "status", "detail"}
    if (
        not members <= set(problem["required"])
        or not {"instance", "rule", "field", "errors"} <= problem["properties"].keys()
    ):
        found.append("the Problem schema: RFC 9457's members and ours")
    for method, path, operation in operations(document):
        responses = operation["responses"]
        where = f"{method} {path}"
        names = {p["name"].lower() for p in operation.get("parameters", [])}
        if path.startswith("/v1/kb/public/"):  # anyone's: no credentials, each address rate-limited
            expected = {"429", "503", "404"} | ({"422"} if names or "requestBody" in operation else set())
            if operation.get("security"):
                found.append(f"{where}: the public knowledge base asks for no credentials")
            if missing := expected - set(responses):
                found.append(f"{where}: undocumented {sorted(missing)}")
        elif path.startswith("/v1/"):
            expected = {"401", "503"}
            if not path.startswith("/v1/channels/"):  # a channel's webhook proves itself with the channel's secret
                expected.add("429")
                if operation.get("security") != ALTERNATIVES:
                    found.append(f"{where}: bearer token or API key, as alternatives")
            expected |= {"404"} if "{" in path else set()
            expected |= {"422"} if names or "requestBody" in operation else set()
            expected |= {"400", "412"} if "if-match" in names else set()
            if missing := expected - set(responses):
                found.append(f"{where}: undocumented {sorted(missing)}")
        if names & {"authorization", "x-api-key"}:
            found.append(f"{where}: credentials as plain parameters, not as security")
        for status, answer in responses.items():
            if status[0] in "45" and answer.get("content") != PROBLEM:
                found.append(f"{where}: {status} is not a Problem as application/problem+json")
    return found


def declared_answers(document: dict[str, Any]) -> list[str]:
    """What only the handlers know, declared: roles (403), transitions (409), CSV and event streams."""
    paths = document["paths"]
    found = []
    if "403" not in paths["/v1/routing/groups/{group_id}"]["put"]["responses"]:
        found.append("PUT /v1/routing/groups/{group_id}: admins only (403)")
    if "409" not in paths["/v1/tickets/{ticket_id}/close"]["post"]["responses"]:
        found.append("POST /v1/tickets/{ticket_id}/close: an illegal transition (409)")
    for report in ("backlog", "flow", "service-levels", "agents", "csat"):
        if "text/csv" not in paths[f"/v1/reports/{report}"]["get"]["responses"]["200"]["content"]:
            found.append(f"GET /v1/reports/{report}: CSV")
    if set(paths["/v1/events/stream"]["get"]["responses"]["200"]["content"]) != {"text/event-stream"}:
        found.append("GET /v1/events/stream: Server-Sent Events")
    return found
