from __future__ import annotations

import dataclasses

import pytest

from app.geo.walkable import DEFAULT_WALKABLE_RULES, WalkableRules, is_walkable


@pytest.mark.parametrize(
    ("tags", "walkable"),
    [
        ({"highway": "footway"}, True),
        ({"highway": "steps"}, True),
        ({"highway": "residential", "name": "学清路"}, True),
        ({"highway": "primary_link"}, True),
        ({"highway": "corridor"}, True),
        ({"building": "yes"}, False),
        ({"highway": "construction"}, False),
        ({"highway": "bus_stop"}, False),
        # trunk roads only with a foot permission or a sidewalk on the way itself
        ({"highway": "trunk"}, False),
        ({"highway": "trunk_link"}, False),
        ({"highway": "trunk", "sidewalk": "no"}, False),
        ({"highway": "trunk", "sidewalk": "separate"}, False),
        ({"highway": "trunk", "sidewalk": "both"}, True),
        ({"highway": "trunk", "sidewalk": "right"}, True),
        ({"highway": "trunk", "sidewalk:left": "yes"}, True),
        ({"highway": "trunk", "sidewalk:both": "separate"}, False),
        ({"highway": "trunk", "foot": "designated"}, True),
        ({"highway": "trunk", "foot": "yes", "access": "no"}, True),
        ({"highway": "trunk", "sidewalk": "both", "foot": "no"}, False),
        # motorways never, whatever the tags
        ({"highway": "motorway"}, False),
        ({"highway": "motorway", "foot": "yes"}, False),
        ({"highway": "motorway_link", "sidewalk": "both"}, False),
        # access and foot
        ({"highway": "footway", "foot": "no"}, False),
        ({"highway": "secondary", "foot": "use_sidepath"}, False),
        ({"highway": "service", "access": "private"}, False),
        ({"highway": "service", "access": "no"}, False),
        ({"highway": "service", "access": "private", "foot": "yes"}, True),
        ({"highway": "service", "access": "no", "foot": "permissive"}, True),
        ({"highway": "track", "access": "destination"}, True),
        ({"highway": "path", "access": "private", "foot": "no"}, False),
    ],
)
def test_rule_table(tags: dict[str, str], walkable: bool) -> None:
    assert is_walkable(tags, DEFAULT_WALKABLE_RULES) is walkable


def test_rules_are_data_the_service_can_vary() -> None:
    rules = WalkableRules(access_denied=frozenset({"no"}))
    assert is_walkable({"highway": "service", "access": "private"}, rules)
    assert not is_walkable({"highway": "service", "access": "private"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        rules.highways = frozenset()  # type: ignore[misc]
    assert "trunk" in rules.candidate_highways and "motorway" not in rules.candidate_highways
