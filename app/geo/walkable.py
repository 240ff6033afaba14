"""Which OpenStreetMap ways a person may walk on: the rule as data, and a pure predicate.

`WalkableRules` is a frozen dataclass whose defaults are the product's rule, so the
service can expose it as a region setting and tests can build variants.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["DEFAULT_WALKABLE_RULES", "WalkableRules", "is_walkable"]


@dataclass(frozen=True, slots=True)
class WalkableRules:
    """The walkability rule.

    Parameters
    ----------
    highways
        `highway=*` values that are walkable unless access tags forbid it.
    highways_needing_foot
        `highway=*` values walkable only with an explicit `foot` permission or a
        sidewalk on the way itself (e.g. trunk roads).
    foot_allowed
        `foot=*` values that allow walking, overriding `access=no/private` and
        making `highways_needing_foot` walkable.
    foot_denied
        `foot=*` values that always exclude the way. `use_sidepath` means a
        separately mapped sidewalk exists, which is itself walkable.
    access_denied
        `access=*` values that exclude the way unless `foot` is in `foot_allowed`.
    sidewalk_values
        `sidewalk=*` values meaning a sidewalk is part of this way.
    sidewalk_side_keys
        Keys (such as `sidewalk:left`) that mean a sidewalk on this way when `yes`.

    Never walkable: any `highway=*` value not listed, in particular motorway and
    motorway_link, whatever the foot tag says.
    """

    highways: frozenset[str] = frozenset(
        {
            "footway",
            "pedestrian",
            "path",
            "steps",
            "living_street",
            "residential",
            "service",
            "unclassified",
            "tertiary",
            "tertiary_link",
            "secondary",
            "secondary_link",
            "primary",
            "primary_link",
            "track",
            "cycleway",
            "corridor",
            "road",
            "bridleway",
        }
    )
    highways_needing_foot: frozenset[str] = frozenset({"trunk", "trunk_link"})
    foot_allowed: frozenset[str] = frozenset({"yes", "designated", "permissive"})
    foot_denied: frozenset[str] = frozenset({"no", "use_sidepath"})
    access_denied: frozenset[str] = frozenset({"no", "private"})
    sidewalk_values: frozenset[str] = frozenset({"both", "left", "right", "yes"})
    sidewalk_side_keys: frozenset[str] = frozenset(
        {"sidewalk:both", "sidewalk:left", "sidewalk:right"}
    )

    @property
    def candidate_highways(self) -> frozenset[str]:
        """Every `highway=*` value that can be walkable under some tags."""
        return self.highways | self.highways_needing_foot


DEFAULT_WALKABLE_RULES = WalkableRules()


def _has_sidewalk(tags: Mapping[str, str], rules: WalkableRules) -> bool:
    if tags.get("sidewalk") in rules.sidewalk_values:
        return True
    return any(tags.get(key) == "yes" for key in rules.sidewalk_side_keys)


def is_walkable(tags: Mapping[str, str], rules: WalkableRules = DEFAULT_WALKABLE_RULES) -> bool:
    """Whether a way with these OSM tags belongs to the walking network.

    Parameters
    ----------
    tags
        The way's tags (any mapping with `get`, e.g. a dict or an osmium TagList).
    rules
        The rule; `DEFAULT_WALKABLE_RULES` when omitted.

    Returns
    -------
    bool
    """
    highway = tags.get("highway")
    if highway is None:
        return False
    foot = tags.get("foot")
    if foot in rules.foot_denied:
        return False
    foot_allowed = foot in rules.foot_allowed
    if highway in rules.highways_needing_foot:
        if not (foot_allowed or _has_sidewalk(tags, rules)):
            return False
    elif highway not in rules.highways:
        return False
    return foot_allowed or tags.get("access") not in rules.access_denied
