"""Field specs shared by the condition-language tests."""

from __future__ import annotations

from socialcredit.rulebook.conditions import FieldSpec

TIERS = ("AAA", "AA", "A", "B", "C", "D")
REGIONS = ("east", "centre", "west")
GROUPS = ("majority", "minority")
FIELDS = {
    "score": FieldSpec("number"),
    "income": FieldSpec("number"),
    "friends_mean": FieldSpec("number"),
    "days_listed": FieldSpec("number"),
    "blacklisted": FieldSpec("bool"),
    "redlisted": FieldSpec("bool"),
    "region": FieldSpec("category", REGIONS),
    "group": FieldSpec("category", GROUPS),
    "tier": FieldSpec("ordered", TIERS),
}
