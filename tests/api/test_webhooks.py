"""Signed webhooks: delivered from the timeline in order, verifiable, and a receiver that
is down never blocks incident creation (deliveries resume once it is back)."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient

from app.escalation import sweep_once
from app.main import create_app
from app.models.base import utcnow
from app.security import Role
from tests.api.test_dispatch_api import _on_duty, _responder, river  # noqa: F401 - fixture
from tests.api.test_walking_api import _at
from tests.conftest import auth

RECEIVED: list[tuple[dict[str, str], bytes]] = []


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        RECEIVED.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def hook_client(settings, engine) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update={"webhook_allowed_hosts": ["127.0.0.1"],
                                                 "escalation_interval_s": 0,
                                                 "webhook_timeout_s": 1}))
    with TestClient(app) as client:
        yield client


def test_signed_delivery_and_outage(hook_client, session, river):  # noqa: F811 - fixture
    client = hook_client
    city, community = river
    responder = _responder(session, community, 1, 100, 25, ("trauma_bandaging",))
    _on_duty(client, responder, 100, 25)
    admin = auth(Role.city_admin, region_id=city.id)
    refused = client.post("/v1/webhooks", headers=admin,
                          json={"url": "https://evil.example.com/hook"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "url"
    port = _free_port()
    created = client.post("/v1/webhooks", headers=admin,
                          json={"url": f"http://127.0.0.1:{port}/hook"})
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]

    # the receiver is down: the incident is created all the same
    lon, lat = _at(0, 25)
    incident = client.post("/v1/incidents", headers=auth(Role.dispatcher, region_id=city.id),
                           json={"location": {"lon": lon, "lat": lat}, "kind": "trauma"})
    assert incident.status_code == 201
    sweep_once(client.app)   # events settle first: a transaction may still commit a lower id
    assert client.get("/v1/webhooks", headers=admin).json()[0]["failures"] == 0
    later = utcnow() + timedelta(seconds=3)
    sweep_once(client.app, now=later)
    down = client.get("/v1/webhooks", headers=admin).json()[0]
    assert down["failures"] == 1 and down["last_error"] == "ConnectError"

    # back up: everything arrives, in order, signed
    RECEIVED.clear()
    server = ThreadingHTTPServer(("127.0.0.1", port), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        sweep_once(client.app, now=later)
    finally:
        server.shutdown()
    kinds = [json.loads(body)["kind"] for _, body in RECEIVED]
    assert kinds == ["created", "alerted"]
    for headers, body in RECEIVED:
        message = f"{headers['Rescue-Delivery']}.{headers['Rescue-Timestamp']}.".encode() + body
        expected = "v1=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["Rescue-Signature"], expected)
        tampered = message + b" "
        assert hmac.new(secret.encode(), tampered, hashlib.sha256).hexdigest() not in \
            headers["Rescue-Signature"]
    after = client.get("/v1/webhooks", headers=admin).json()[0]
    assert after["failures"] == 0
    assert after["last_event_id"] == max(json.loads(b)["id"] for _, b in RECEIVED)


def test_hanging_receiver_never_holds_up_incidents(settings, engine, session, river):  # noqa: F811
    """The sweep sends outside any write transaction: while a receiver keeps a delivery
    hanging, incidents are still created (on SQLite one write lock serves every writer)."""
    delivering, release = threading.Event(), threading.Event()

    class Hanging(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            delivering.set()
            release.wait(30)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Hanging)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    app = create_app(settings.model_copy(update={"webhook_allowed_hosts": ["127.0.0.1"],
                                                 "escalation_interval_s": 0,
                                                 "webhook_timeout_s": 30}))
    city, _ = river
    console = auth(Role.dispatcher, region_id=city.id)
    admin = auth(Role.city_admin, region_id=city.id)
    lon, lat = _at(0, 25)
    call = {"location": {"lon": lon, "lat": lat}, "kind": "trauma"}
    with TestClient(app) as client:
        hook = client.post("/v1/webhooks", headers=admin,
                           json={"url": f"http://127.0.0.1:{receiver.server_address[1]}/h"})
        assert hook.status_code == 201, hook.text
        assert client.post("/v1/incidents", headers=console, json=call).status_code == 201
        sweep = threading.Thread(target=sweep_once, args=(app,),
                                 kwargs={"now": utcnow() + timedelta(seconds=3)})
        sweep.start()
        try:
            assert delivering.wait(10), "the sweep never reached the receiver"
            created = threading.Event()

            def create() -> None:
                if client.post("/v1/incidents", headers=console, json=call).status_code == 201:
                    created.set()

            threading.Thread(target=create, daemon=True).start()
            assert created.wait(10), "incident creation waited for a hanging webhook"
        finally:
            release.set()
            sweep.join(30)
            receiver.shutdown()
        # the hanging delivery was recorded once it was answered
        assert client.get("/v1/webhooks", headers=admin).json()[0]["last_event_id"] > 0
