"""The committed contract equals the app's schema, and every field is documented."""

from __future__ import annotations

from pathlib import Path

from app.openapi import openapi_document, render

CONTRACT = Path(__file__).resolve().parents[1] / "openapi" / "openapi.json"


def test_contract_is_fresh():
    assert CONTRACT.exists(), "run `rescue-circle openapi` to write openapi/openapi.json"
    assert CONTRACT.read_text(encoding="utf-8") == render(openapi_document()), \
        "openapi/openapi.json is stale: run `rescue-circle openapi`"


def test_every_field_has_a_description_and_an_example():
    document = openapi_document()
    missing = []
    for name, schema in document["components"]["schemas"].items():
        if name in ("ValidationError", "HTTPValidationError") or name.startswith("Page_"):
            continue
        for field, spec in schema.get("properties", {}).items():
            if "description" not in spec:
                missing.append(f"{name}.{field}: description")
            has_example = "examples" in spec or "example" in spec or "$ref" in spec or any(
                "$ref" in option for option in spec.get("anyOf", []))
            if not has_example and spec.get("type") != "array" and name not in (
                    "FieldErrorOut",):
                missing.append(f"{name}.{field}: example")
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if "description" not in parameter and parameter["in"] != "path":
                    missing.append(f"{method.upper()} {path} ?{parameter['name']}: description")
    assert missing == []


def test_operation_ids_are_stable_and_unique():
    document = openapi_document()
    ids = [op["operationId"] for ops in document["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    assert "list_volunteers" in ids and "create_equipment" in ids
