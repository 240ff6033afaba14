"""Every route declares who may call it; requests without a token are refused."""

from __future__ import annotations

from fastapi.routing import APIRoute

from app.deps import Allow
from app.main import api_routes, create_app
from app.settings import Settings


def _declared_permissions(route: APIRoute) -> list[Allow]:
    found = []
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        if isinstance(dependant.call, Allow):
            found.append(dependant.call)
        stack.extend(dependant.dependencies)
    return found


def test_route_walk_sees_every_operation():
    document = create_app(Settings(database_url="sqlite://")).openapi()
    served = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    walked = {(method, route.path) for route in api_routes() for method in route.methods}
    assert served == walked


def test_every_route_declares_exactly_one_permission():
    routes = api_routes()
    assert len(routes) > 20
    missing = [f"{sorted(r.methods)} {r.path}" for r in routes
               if len(_declared_permissions(r)) != 1]
    assert missing == []


def test_non_public_routes_require_a_token(client):
    public = {r.path for r in api_routes() if _declared_permissions(r)[0].public}
    assert public == {"/healthz", "/v1/auth/token", "/v1/auth/wechat", "/v1/routes",
                      "/v1/isochrones", "/v1/equipment/nearby", "/v1/warnings/active"}
    for route in api_routes():
        if route.path in public:
            continue
        path = route.path.replace("{", "").replace("}", "")
        for method in route.methods:
            response = client.request(method, path)
            assert response.status_code == 401, (method, path, response.status_code)
            assert response.headers["content-type"] == "application/problem+json"
