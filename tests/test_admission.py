"""Admission control: requests beyond the slots wait in line; one slot stays free for the
calls of an emergency, whatever else fills the others."""

from __future__ import annotations

import asyncio

from app.admission import AdmissionControl, is_emergency_call


def _scope(method: str, path: str) -> dict:
    return {"type": "http", "method": method, "path": path}


def test_emergency_calls_are_told_apart():
    assert is_emergency_call(_scope("POST", "/v1/incidents"))
    assert is_emergency_call(_scope("POST", "/v1/dispatch/rank"))
    assert is_emergency_call(_scope("POST", "/v1/assignments/12/accept"))
    assert not is_emergency_call(_scope("GET", "/v1/incidents"))
    assert not is_emergency_call(_scope("POST", "/v1/incidents/12/close"))
    assert not is_emergency_call(_scope("POST", "/v1/coverage/audit"))


def _admitted_while_held(max_in_flight: int, calls: list[tuple[str, str]]) -> list[str]:
    """Send ``calls`` in order into an app that holds each request until released; returns
    the paths let in before the release, then checks that everyone got in after it."""

    async def run() -> list[str]:
        inside: list[str] = []
        release = asyncio.Event()

        async def app(scope, receive, send) -> None:
            inside.append(scope["path"])
            await release.wait()

        admission = AdmissionControl(app, max_in_flight=max_in_flight)
        tasks = []
        for method, path in calls:
            tasks.append(asyncio.create_task(admission(_scope(method, path), None, None)))
            await asyncio.sleep(0)  # each gets in line in order
        await asyncio.sleep(0.01)
        before = list(inside)
        release.set()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)
        assert sorted(inside) == sorted(path for _, path in calls)
        return before

    return asyncio.run(run())


def test_other_requests_leave_one_slot_for_an_emergency():
    admitted = _admitted_while_held(2, [("GET", "/v1/coverage/a"), ("GET", "/v1/coverage/b"),
                                        ("POST", "/v1/incidents")])
    assert admitted == ["/v1/coverage/a", "/v1/incidents"]


def test_emergency_calls_may_take_every_slot():
    admitted = _admitted_while_held(2, [("POST", "/v1/dispatch/rank"),
                                        ("POST", "/v1/incidents"), ("GET", "/v1/incidents")])
    assert admitted == ["/v1/dispatch/rank", "/v1/incidents"]


def test_a_single_slot_is_shared_by_everyone():
    admitted = _admitted_while_held(1, [("GET", "/v1/coverage/a"), ("POST", "/v1/incidents")])
    assert admitted == ["/v1/coverage/a"]
