"""Phones are masked in every list and read; the cabinet PIN never appears."""

from __future__ import annotations

from app.security import Role, mask_phone
from tests.conftest import auth
from tests.factories import make_aed, make_area, make_volunteer


def test_mask_phone():
    assert mask_phone("13812341234") == "138****1234"
    assert mask_phone("+8613812341234") == "+86****1234"
    assert mask_phone("12345") == "***45"


def test_phone_masked_in_every_response(client, session):
    area = make_area(session)
    volunteer = make_volunteer(session, area.community_a, 1)
    aed = make_aed(session, area.community_a, 1)
    headers = auth(Role.city_admin, region_id=area.city.id)
    me = auth(Role.volunteer, volunteer_id=volunteer.id)
    responses = [
        client.get("/v1/volunteers", headers=headers),
        client.get(f"/v1/volunteers/{volunteer.id}", headers=headers),
        client.patch(f"/v1/volunteers/{volunteer.id}", headers=headers, json={"name": "新名"}),
        client.get("/v1/volunteers/me", headers=me),
        client.get("/v1/equipment", headers=headers),
        client.get(f"/v1/equipment/{aed.id}", headers=headers),
    ]
    for response in responses:
        assert response.status_code == 200, response.text
        text = response.text
        assert volunteer.phone not in text
        assert "02223456789" not in text
        assert "4921" not in text  # cabinet PIN
    assert responses[0].json()["items"][0]["phone_masked"] == "139****0001"
    assert responses[5].json()["owner_phone_masked"] == "022****6789"
    assert responses[5].json()["has_cabinet_pin"] is True
