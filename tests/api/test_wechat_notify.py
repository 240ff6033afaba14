"""Alerts reach volunteers as WeChat subscription messages (against a local fake WeChat),
from the timeline; an outage delays them, never loses them."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs, urlparse

import pytest
from fastapi.testclient import TestClient

from app.escalation import sweep_once
from app.main import create_app
from app.models.base import utcnow
from app.security import Role
from app.services.timeline import SETTLED
from tests.api.test_dispatch_api import _on_duty, _responder, river  # noqa: F401 - fixture
from tests.api.test_walking_api import _at
from tests.conftest import auth


def _settled():
    """A sweep's clock once the new events have settled (see app.services.timeline)."""
    return utcnow() + SETTLED + timedelta(seconds=1)


class FakeWechat(BaseHTTPRequestHandler):
    sent: ClassVar[list[dict]] = []
    token_requests: ClassVar[int] = 0
    down: ClassVar[bool] = False

    def _reply(self, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        FakeWechat.token_requests += 1
        self._reply({"access_token": "TOKEN", "expires_in": 7200})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if FakeWechat.down:
            self._reply({"errcode": -1, "errmsg": "system busy"})
            return
        assert parse_qs(urlparse(self.path).query)["access_token"] == ["TOKEN"]
        FakeWechat.sent.append(body)
        self._reply({"errcode": 0})

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def wechat_app(settings, engine) -> Iterator[TestClient]:
    FakeWechat.sent, FakeWechat.token_requests, FakeWechat.down = [], 0, False
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeWechat)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    app = create_app(settings.model_copy(update={
        "wechat_api_base": f"http://127.0.0.1:{server.server_address[1]}",
        "wechat_alert_template_id": "TPL-ALERT", "escalation_interval_s": 0}))
    with TestClient(app) as client:
        yield client
    server.shutdown()


def test_alerts_as_subscription_messages(wechat_app, session, river):  # noqa: F811
    client = wechat_app
    city, community = river
    bound = _responder(session, community, 1, 100, 25, ("trauma_bandaging",))
    bound.wechat_openid = "openid-1"
    unbound = _responder(session, community, 2, 150, 25, ("trauma_bandaging",))
    session.commit()
    _on_duty(client, bound, 100, 25)
    _on_duty(client, unbound, 150, 25)
    sweep_once(client.app)  # sets the cursor: history is not replayed
    FakeWechat.sent.clear()
    FakeWechat.down = True
    lon, lat = _at(0, 25)
    created = client.post("/v1/incidents", headers=auth(Role.dispatcher, region_id=city.id),
                          json={"location": {"lon": lon, "lat": lat}, "kind": "trauma"})
    assert created.status_code == 201
    sweep_once(client.app, now=_settled())  # WeChat is busy: nothing sent, nothing skipped
    assert FakeWechat.sent == []
    FakeWechat.down = False
    sweep_once(client.app, now=_settled())
    assert [m["touser"] for m in FakeWechat.sent] == ["openid-1"]
    message = FakeWechat.sent[0]
    assert message["template_id"] == "TPL-ALERT"
    assert message["data"]["character_string3"]["value"] == "110 米"  # 5 + 100 + 5 m
    assert "地址" not in json.dumps(message, ensure_ascii=False)  # details only on accepting
    sweep_once(client.app, now=_settled())
    assert len(FakeWechat.sent) == 1  # delivered once
    assert FakeWechat.token_requests == 1  # the token is cached
