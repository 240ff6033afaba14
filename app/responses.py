"""Responses of the hot emergency routes, serialised once."""

from __future__ import annotations

from fastapi import Response
from pydantic import BaseModel


def json_response(model: BaseModel, *, status_code: int = 200) -> Response:
    """The model as JSON. Returned as a model from a sync route, FastAPI would validate it
    again in a second thread-pool trip before serialising it; under load that trip waits
    for the interpreter lock behind the other requests (the route keeps its
    ``response_model`` for the OpenAPI contract)."""
    return Response(model.model_dump_json(), status_code=status_code,
                    media_type="application/json")
