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


MINIMAL = "return=minimal"


def prefers_minimal(prefer: str | None) -> bool:
    """Whether a ``Prefer`` header (RFC 7240) asks for ``return=minimal``: no body, the
    caller does not need the resource echoed back."""
    if prefer is None:
        return False
    return any(preference.split(";", 1)[0].replace(" ", "").lower() == MINIMAL
               for preference in prefer.split(","))


def no_content_as_preferred() -> Response:
    """204 for a caller that asked for ``return=minimal``, saying that it was honoured."""
    return Response(status_code=204, headers={"Preference-Applied": MINIMAL})
