"""Routing: requests reach the operation their path names, whatever order the routers
are tried in (app.main.ROUTERS puts the emergency calls first)."""

from __future__ import annotations

import re

from app.main import api_routes


def test_no_operation_is_hidden_behind_an_earlier_one():
    # api_routes() lists operations in the order the app tries them; the first whose
    # pattern matches a path takes the request.
    routes = api_routes()
    hidden = []
    for index, later in enumerate(routes):
        sample = re.sub(r"\{[^}]+\}", "1", later.path)
        hidden += [f"{sorted(later.methods)} {later.path} behind {earlier.path}"
                   for earlier in routes[:index]
                   if earlier.methods & later.methods and earlier.path_regex.fullmatch(sample)]
    assert hidden == []
