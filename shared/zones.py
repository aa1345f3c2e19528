"""IANA time zones: the only kind Attune accepts."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AfterValidator


@lru_cache(maxsize=1)
def _known() -> frozenset[str]:
    return frozenset(available_timezones())


def iana_zone(name: str) -> str:
    """Return `name` if it is an IANA zone (Europe/Berlin), else raise ValueError."""
    if name not in _known():
        raise ValueError(f"{name!r} is not an IANA time zone name (e.g. Europe/Berlin)")
    return name


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(iana_zone(name))
    except ZoneInfoNotFoundError as exc:  # pragma: no cover - the name was listed
        raise ValueError(f"time zone {name!r} is not installed") from exc


TimeZoneName = Annotated[str, AfterValidator(iana_zone)]
