"""Sealing free text: each kind's text fields are encrypted under the author's data key,
bound to the relationship, the author, the entry and the field (so a sealed value copied
elsewhere does not open)."""

from __future__ import annotations

from typing import Any

from shared import crypto

# The free text of each kind of entry: stored and published sealed under the author's key.
TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    "checkin": ("note", "gratitude", "feelings"),
    "boundary": ("rule",),
    "breach": ("note",),
    "conflict": ("topic",),
    "ritual": ("title",),
    "ritual_outcome": ("reason",),
}


def _binding(relationship_id: str, author_id: str, entry_id: str, name: str) -> str:
    return f"{relationship_id}|{author_id}|{entry_id}|{name}"


def seal(
    key: bytes,
    relationship_id: str,
    author_id: str,
    kind: str,
    entry_id: str,
    fields: dict[str, Any],
) -> dict[str, Any]:
    """`fields` with the kind's free-text fields encrypted under `key`."""
    sealed = dict(fields)
    for name in TEXT_FIELDS.get(kind, ()):
        value = sealed.get(name)
        where = _binding(relationship_id, author_id, entry_id, name)
        if isinstance(value, str):
            sealed[name] = crypto.encrypt_text(key, value, where)
        elif isinstance(value, list):
            sealed[name] = [crypto.encrypt_text(key, v, where) for v in value]
    return sealed


def sealed_names(kind: str, fields: dict[str, Any]) -> list[str]:
    """The kind's text fields that hold something to open."""
    return [name for name in TEXT_FIELDS.get(kind, ()) if fields.get(name)]


def unseal(
    key: bytes | None,
    relationship_id: str,
    author_id: str,
    entry_id: str,
    kind: str,
    fields: dict[str, Any],
) -> dict[str, Any]:
    """`fields` with the text readable; None (or []) where the key was destroyed."""
    opened = dict(fields)
    for name in sealed_names(kind, fields):
        value = opened[name]
        where = _binding(relationship_id, author_id, entry_id, name)
        try:
            if key is None:
                raise crypto.KeyUnavailable("erased")
            if isinstance(value, list):
                opened[name] = [crypto.decrypt_text(key, v, where) for v in value]
            else:
                opened[name] = crypto.decrypt_text(key, value, where)
        except crypto.KeyUnavailable:
            opened[name] = [] if isinstance(value, list) else None
    return opened
