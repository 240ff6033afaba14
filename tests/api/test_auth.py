"""Sign-in: tokens, password throttling, WeChat code exchange against a local fake server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs, urlparse

import pytest

from app.security import ConsoleRole, InvalidToken, Role, issue_token, read_token
from app.services.auth import create_console_user
from app.settings import DEFAULT_SECRET_KEY, Environment, Settings
from tests.conftest import TEST_SECRET, auth
from tests.factories import make_area, make_volunteer


class FakeWechat(BaseHTTPRequestHandler):
    """``/sns/jscode2session``: code ``good-N`` -> openid ``openid-N``; others -> errcode."""

    requests: ClassVar[list[dict[str, list[str]]]] = []

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = parse_qs(url.query)
        FakeWechat.requests.append(query)
        code = query.get("js_code", [""])[0]
        if url.path != "/sns/jscode2session" or query.get("appid") != ["wx-test-app"]:
            payload = {"errcode": 40013, "errmsg": "invalid appid"}
        elif code.startswith("good-"):
            payload = {"openid": "openid-" + code[5:], "session_key": "SECRET-SESSION-KEY"}
        else:
            payload = {"errcode": 40029, "errmsg": "invalid code"}
        body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def wechat() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeWechat)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def wechat_client(settings, engine, wechat):
    from fastapi.testclient import TestClient

    from app.main import create_app

    app = create_app(settings.model_copy(update={"wechat_api_base": wechat}))
    with TestClient(app) as client:
        yield client


def test_wechat_binds_by_phone_then_by_openid(wechat_client, session, caplog):
    area = make_area(session)
    volunteer = make_volunteer(session, area.community_a, 1)
    unbound = wechat_client.post("/v1/auth/wechat", json={"code": "good-1"})
    assert unbound.status_code == 404 and unbound.json()["errors"][0]["field"] == "phone"
    unknown = wechat_client.post("/v1/auth/wechat", json={"code": "good-1",
                                                          "phone": "13700000000"})
    assert unknown.status_code == 404
    bound = wechat_client.post("/v1/auth/wechat", json={"code": "good-1",
                                                        "phone": volunteer.phone})
    assert bound.status_code == 200, bound.text
    assert bound.json()["volunteer_id"] == volunteer.id
    assert "SECRET-SESSION-KEY" not in bound.text
    again = wechat_client.post("/v1/auth/wechat", json={"code": "good-1"})
    token = again.json()["access_token"]
    me = wechat_client.get("/v1/volunteers/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["id"] == volunteer.id and me.json()["wechat_bound"] is True
    # another WeChat account cannot take over a bound volunteer
    stolen = wechat_client.post("/v1/auth/wechat", json={"code": "good-2",
                                                         "phone": volunteer.phone})
    assert stolen.status_code == 409
    rejected = wechat_client.post("/v1/auth/wechat", json={"code": "bad"})
    assert rejected.status_code == 401 and rejected.json()["errors"][0]["field"] == "code"
    assert FakeWechat.requests[-1]["secret"] == ["wx-test-secret"]
    assert "SECRET-SESSION-KEY" not in caplog.text


def test_wechat_down_is_a_502_not_a_500(settings, engine):
    from fastapi.testclient import TestClient

    from app.main import create_app

    app = create_app(settings.model_copy(update={"wechat_api_base": "http://127.0.0.1:9",
                                                 "wechat_timeout_s": 0.5}))
    with TestClient(app) as client:
        response = client.post("/v1/auth/wechat", json={"code": "good-1"})
    assert response.status_code == 502
    assert response.headers["content-type"] == "application/problem+json"


def test_password_login_and_throttling(client, session):
    area = make_area(session)
    create_console_user(session, username="hexi-dispatch", password="correct-horse-1",
                        role=ConsoleRole.dispatcher, region_id=area.district_a.id)
    session.commit()
    ok = client.post("/v1/auth/token", json={"username": "hexi-dispatch",
                                             "password": "correct-horse-1"})
    assert ok.status_code == 200 and ok.json()["role"] == "dispatcher"
    token = ok.json()["access_token"]
    listed = client.get("/v1/regions", headers={"Authorization": f"Bearer {token}"})
    assert {r["code"] for r in listed.json()["items"]} == {"tj-a", "tj-a-1"}
    for _ in range(5):
        wrong = client.post("/v1/auth/token", json={"username": "hexi-dispatch",
                                                    "password": "wrong"})
        assert wrong.status_code == 401
    throttled = client.post("/v1/auth/token", json={"username": "hexi-dispatch",
                                                    "password": "correct-horse-1"})
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
    nobody = client.post("/v1/auth/token", json={"username": "nobody", "password": "x"})
    assert nobody.status_code == 401


def test_tokens_are_checked(client, session):
    area = make_area(session)
    expired = issue_token(secret_key=TEST_SECRET, role=Role.city_admin, subject="t",
                          region_id=area.city.id, ttl_s=60,
                          now=datetime.now(UTC) - timedelta(hours=1))
    forged = issue_token(secret_key="another-secret-of-sufficient-length-000000",
                         role=Role.city_admin, subject="t", region_id=area.city.id, ttl_s=60)
    for token in (expired, forged, "garbage"):
        response = client.get("/v1/regions", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
    dispatcher = auth(Role.dispatcher, region_id=area.city.id)
    assert client.get("/v1/regions", headers=dispatcher).status_code == 200
    assert client.post("/v1/teams", headers=dispatcher, json={
        "name": "x", "kind": "community", "region_code": "tj-a-1"}).status_code == 403


def test_production_refuses_default_secret():
    with pytest.raises(ValueError, match="RESCUE_SECRET_KEY"):
        Settings(env=Environment.production, secret_key=DEFAULT_SECRET_KEY)
    Settings(env=Environment.production, secret_key="x" * 40)


def test_a_token_checked_once_still_expires():
    """Verified tokens are remembered; their expiry is still judged at every use."""
    issued = datetime.now(UTC)
    token = issue_token(secret_key=TEST_SECRET, role=Role.dispatcher, subject="t",
                        region_id=1, ttl_s=60, now=issued)
    expiry = int(issued.timestamp()) + 60
    assert read_token(token, secret_key=TEST_SECRET, now=expiry - 1)["sub"] == "t"
    with pytest.raises(InvalidToken, match="expired"):
        read_token(token, secret_key=TEST_SECRET, now=expiry)
    # remembered per secret: another key does not inherit the verdict
    with pytest.raises(InvalidToken):
        read_token(token, secret_key="another-secret-of-sufficient-length-000000",
                   now=expiry - 1)
    # the claims handed out are a copy: changing them changes nothing remembered
    read_token(token, secret_key=TEST_SECRET, now=expiry - 1)["role"] = "city_admin"
    assert read_token(token, secret_key=TEST_SECRET, now=expiry - 1)["role"] == "dispatcher"
