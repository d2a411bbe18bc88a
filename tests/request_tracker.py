"""A real Request Tracker 5 (deploy/local/rt.sh: Debian's package, its database in the tests' PostgreSQL),
filled by a test through RT's own REST2 API, for the importer to read (issue 25). Not there is an error,
never a skip."""

from __future__ import annotations

import base64
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.infra import LOCAL


@dataclass
class RequestTracker:
    url: str
    token: str
    http: httpx.Client

    def create_queue(self, name: str) -> str:
        return str(self._send("POST", "/queue", {"Name": name})["id"])

    def create_ticket(
        self,
        queue: str,
        subject: str,
        requestor: str,
        content: str,
        priority: int,
        files: dict[str, bytes] | None = None,
        **fields: Any,
    ) -> str:
        """A ticket as a requestor's mail would open it, with `files` (name -> bytes) attached, and `fields` (its
        links as it is created: `RefersTo=<id>`, ...)."""
        body = {"Queue": queue, "Subject": subject, "Requestor": requestor, "Content": content, "Priority": priority}
        body |= fields
        if files:
            body["Attachments"] = [
                {"FileName": name, "FileType": "text/plain", "FileContent": base64.b64encode(data).decode()}
                for name, data in files.items()
            ]
        return str(self._send("POST", "/ticket", body)["id"])

    def correspond(self, ticket: str, content: str) -> None:
        self._send("POST", f"/ticket/{ticket}/correspond", {"Content": content, "ContentType": "text/plain"})

    def comment(self, ticket: str, content: str) -> None:
        self._send("POST", f"/ticket/{ticket}/comment", {"Content": content, "ContentType": "text/plain"})

    def update(self, ticket: str, **fields: Any) -> None:
        self._send("PUT", f"/ticket/{ticket}", fields)

    def merge(self, ticket: str, into: str) -> None:
        """Merge `ticket` into `into`: through RT's REST 1.0 (its REST2 has no merge in RT 5.0)."""
        answer = self.http.post(f"{self.url}/REST/1.0/ticket/{ticket}/merge/{into}")
        assert "Merge completed" in answer.text, f"merge {ticket} into {into}: {answer.status_code} {answer.text}"

    def ticket(self, ticket: str) -> dict[str, Any]:
        found: dict[str, Any] = self._send("GET", f"/ticket/{ticket}", None)
        return found

    def history(self, ticket: str) -> list[dict[str, Any]]:
        params = {"fields": "Type,Field,NewValue,Created,Creator,ObjectId", "per_page": "100"}
        answer = self.http.get(f"/ticket/{ticket}/history", params=params)
        answer.raise_for_status()
        return list(answer.json()["items"])

    def _send(self, method: str, path: str, body: dict[str, Any] | None) -> Any:
        answer = self.http.request(method, path, json=body)
        assert answer.status_code < 300, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json()


def _rt(command: str, check: bool = True) -> str:
    done = subprocess.run([str(LOCAL / "rt.sh"), command], capture_output=True, text=True, env=os.environ.copy())
    if check and done.returncode != 0:
        raise RuntimeError(f"rt.sh {command} failed: {done.stderr[-2000:]}")
    return done.stdout.strip()


@contextmanager
def started() -> Iterator[RequestTracker]:
    """RT on 127.0.0.1, started for the block (and stopped after it, unless it was running before)."""
    running = subprocess.run([str(LOCAL / "rt.sh"), "status"], env=os.environ.copy()).returncode == 0
    _rt("start")
    url = f"http://127.0.0.1:{os.environ.get('SERVICEDESK_RT_PORT', '18480')}"
    token = _rt("token")
    headers = {"Authorization": f"token {token}"}
    try:
        with httpx.Client(base_url=f"{url}/REST/2.0", headers=headers, timeout=60) as http:
            yield RequestTracker(url, token, http)
    finally:
        if not running:
            _rt("stop", check=False)


@pytest.fixture(scope="session")
def request_tracker() -> Iterator[RequestTracker]:
    """RT for the session's tests that import from it."""
    with started() as rt:
        yield rt
