import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from application.ports.feature_flags import FeatureFlags
from domain.identity.entities import UserId

__all__ = ("FakeFeatureFlags", "FlagDefinition", "bucket")

_SCALE = float(0xFFFFFFFFFFFFFFF)


def _hash(key: str, distinct_id: str, salt: str) -> float:
    """Where ``distinct_id`` falls in [0, 1) for flag ``key``: the first 15 hex digits of a
    SHA-1, as PostHog buckets."""
    digest = hashlib.sha1(f"{key}.{distinct_id}{salt}".encode(), usedforsecurity=False)
    return int(digest.hexdigest()[:15], 16) / _SCALE


@dataclass(frozen=True, slots=True, kw_only=True)
class FlagDefinition:
    """A multivariate flag: its variants with their share of people in percent (adding up to
    100), rolled out to ``rollout`` percent of people; inactive, it gives nobody a variant."""

    key: str
    variants: Mapping[str, int] = field(default_factory=dict)
    rollout: int = 100
    active: bool = True


def bucket(flag: FlagDefinition, distinct_id: str) -> str | None:
    """The variant ``flag`` gives ``distinct_id``, or None."""
    if not flag.active or _hash(flag.key, distinct_id, "") > flag.rollout / 100:
        return None
    position, start = _hash(flag.key, distinct_id, "variant"), 0.0
    for variant, share in flag.variants.items():
        end = start + share / 100
        if start <= position < end:
            return variant
        start = end
    return None


class FakeFeatureFlags(FeatureFlags):
    """Flags from ``definitions``, bucketed per person as PostHog buckets; ``available``
    False stands for definitions never loaded (the service unreachable)."""

    def __init__(self, *definitions: FlagDefinition) -> None:
        self.definitions = {d.key: d for d in definitions}
        self.available = True
        self.asked = 0

    def define(self, *definitions: FlagDefinition) -> None:
        """Replace every definition."""
        self.definitions = {d.key: d for d in definitions}

    def variant(self, flag: str, user_id: UserId) -> str | None:
        self.asked += 1
        found = self.definitions.get(flag)
        if not self.available or found is None:
            return None
        return bucket(found, str(user_id))
