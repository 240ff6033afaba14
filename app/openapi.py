"""The OpenAPI contract, generated from the app (``rescue-circle openapi``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.main import create_app
from app.settings import Settings


def openapi_document() -> dict[str, Any]:
    # An in-memory database: generating the contract must not touch a real one.
    return create_app(Settings(database_url="sqlite://")).openapi()


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def write_openapi(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(openapi_document()), encoding="utf-8")
    return path
