"""OAuth errors (RFC 6749 5.2, RFC 6750 3): a code such as `invalid_grant` and a description, as JSON."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400, scheme: str = "Basic") -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status
        self.scheme = scheme  # of the WWW-Authenticate challenge a 401 carries: Basic at /token, Bearer beyond


def install_oauth_errors(app: FastAPI) -> None:
    async def answer(request: Request, error: Exception) -> JSONResponse:
        if not isinstance(error, OAuthError):
            raise error
        headers = {"Cache-Control": "no-store"}
        if error.status == 401:
            headers["WWW-Authenticate"] = f'{error.scheme} realm="dev-identity", error="{error.error}"'
        return JSONResponse({"error": error.error, "error_description": error.description}, error.status, headers)

    app.add_exception_handler(OAuthError, answer)
