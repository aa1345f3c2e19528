"""Which members a service trusts: the newer of the request's view and its read model."""

from __future__ import annotations

import pytest

from shared import membership as domain
from shared.problems import NotFound

AB = frozenset({"a", "b"})


def test_the_newer_membership_view_wins():
    assert domain.effective_members(["a", "b"], 3, ["a"], 2) == AB
    assert domain.effective_members(["a"], 1, ["a", "b"], 2) == AB
    assert domain.effective_members([], 0, [], 0) == frozenset()


def test_a_non_member_is_told_the_relationship_does_not_exist():
    assert domain.require_member("a", AB) == "a"
    with pytest.raises(NotFound, match="relationship not found"):
        domain.require_member("z", AB)
    with pytest.raises(NotFound):
        domain.require_member(None, AB)
