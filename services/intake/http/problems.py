"""How intake's domain and application errors read over HTTP: one problem status each."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.chassis.http.problems import problem
from services.intake.people.directory import DirectoryError
from services.intake.privacy.personal_data import PersonErasedError
from services.intake.tickets.errors import IllegalTransitionError, TicketRuleError, TimeEntryError
from services.intake.tickets.fields import CustomFieldError
from services.intake.tickets.work import StaleVersionError, TicketNotFoundError


def install(app: FastAPI) -> None:
    async def illegal_transition(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, IllegalTransitionError)
        return problem(
            409,
            "Illegal transition",
            str(error),
            current_state=error.current,
            requested_state=error.requested,
            command=error.command,
        )

    async def rule(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, TicketRuleError)
        return problem(422, "Rule violated", str(error), rule=error.rule)

    async def custom_field(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, CustomFieldError)
        field = f"custom_fields.{error.key}"
        errors = [{"field": field, "message": error.message}]
        return problem(422, "Invalid request", f"invalid field(s): {field}", errors=errors)

    async def time_entry(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, TimeEntryError)
        errors = [{"field": error.field, "message": error.message}]
        return problem(422, "Invalid request", f"invalid field(s): {error.field}", errors=errors)

    async def stale(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StaleVersionError)
        return problem(412, "Stale version", str(error), expected_version=error.expected, current_version=error.current)

    async def not_found(request: Request, error: Exception) -> JSONResponse:
        return problem(
            404, "Ticket not found", f"no ticket {error.args[0]} for this tenant", ticket_id=str(error.args[0])
        )

    async def erased(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, PersonErasedError)
        return problem(
            410,
            "Person erased",
            f"{error}: nothing more is recorded for them (a new contact is a new requester)",
            rule="erasure",
            requester_id=error.person,
        )

    async def directory(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, DirectoryError)
        errors = [{"field": error.field, "message": error.message}]
        title = {404: "Not found", 409: "Conflict"}.get(error.status, "Invalid request")
        return problem(error.status, title, f"{error.field}: {error.message}", field=error.field, errors=errors)

    app.add_exception_handler(DirectoryError, directory)
    app.add_exception_handler(IllegalTransitionError, illegal_transition)
    app.add_exception_handler(PersonErasedError, erased)
    app.add_exception_handler(TicketRuleError, rule)
    app.add_exception_handler(CustomFieldError, custom_field)
    app.add_exception_handler(TimeEntryError, time_entry)
    app.add_exception_handler(StaleVersionError, stale)
    app.add_exception_handler(TicketNotFoundError, not_found)
