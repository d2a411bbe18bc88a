"""A pydantic model as an HTTP answer's JSON, serialized once, by pydantic itself.

`JSONResponse(model.model_dump(mode="json"))` builds the whole document as Python objects, then
encodes those again with `json.dumps`; pydantic's serializer writes the bytes in one pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel
from pydantic_core import to_json


class ModelJSONResponse(JSONResponse):
    """`model` as JSON, with `more` members after its own (names that are none of its fields)."""

    def __init__(
        self,
        model: BaseModel,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        more: Mapping[str, Any] | None = None,
    ) -> None:
        self.more = dict(more or {})
        super().__init__(model, status_code=status_code, headers=headers)

    def render(self, content: Any) -> bytes:
        body = to_json(content)
        if not self.more:
            return body
        return body[:-1] + (b"," if body != b"{}" else b"") + to_json(self.more)[1:]
