"""What someone other than an entry's author may see of it: the one place that decides.

Self-reports ("I held back", "I confided elsewhere") and the criticism marker belong to
the author alone, even on a shared check-in: they feed the author's own flags and never
reach another member, an integration or anyone else's live stream or export. Every
projection of an event or an entry to a non-author goes through these functions.
"""

from __future__ import annotations

from typing import Any

from shared.envelope import Envelope, Visibility

# Event data fields only the acting member may see, by event type.
AUTHOR_ONLY_EVENT_FIELDS: dict[str, tuple[str, ...]] = {
    "checkin.logged": ("signals", "criticism"),
}
# Entry fields only the author may see, by entry kind (the checkin service's entries).
AUTHOR_ONLY_ENTRY_FIELDS: dict[str, tuple[str, ...]] = {
    "checkin": ("signals", "criticism"),
}


def event_for(envelope: Envelope, viewer: str | None) -> Envelope | None:
    """The event as `viewer` may see it, or None when they may not see it at all.

    `viewer` None is an integration (a webhook): it sees what every member may see.
    """
    if viewer is not None and envelope.actor_id == viewer:
        return envelope
    if envelope.visibility is not Visibility.SHARED:
        return None
    hidden = AUTHOR_ONLY_EVENT_FIELDS.get(envelope.type, ())
    if not any(name in envelope.data for name in hidden):
        return envelope
    data = {k: v for k, v in envelope.data.items() if k not in hidden}
    return envelope.model_copy(update={"data": data})


def entry_fields_for(
    kind: str, author_id: str, viewer: str, fields: dict[str, Any]
) -> dict[str, Any]:
    """An entry's fields as `viewer` may see them (the author sees them all)."""
    if viewer == author_id:
        return fields
    hidden = AUTHOR_ONLY_ENTRY_FIELDS.get(kind, ())
    return {k: v for k, v in fields.items() if k not in hidden}
