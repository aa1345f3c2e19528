"""What each flag's `evidence` object holds, per rule: one source for the rules and the API docs."""

from __future__ import annotations

from shared.messages.vocabulary import FlagCode

EVIDENCE: dict[FlagCode, dict[str, str]] = {
    FlagCode.BIDS_TURNED_AWAY: {
        "answered": "Answered bids counted (the newest, within the window).",
        "toward": "Of those, answered by turning toward.",
        "ratio": "toward / answered.",
        "window_days": "Only answers given within this many days count.",
        "threshold": "The ratio below which the flag is raised.",
    },
    FlagCode.UNANSWERED_BIDS: {
        "left_open": "Bids made in the window that waited longer than open_hours.",
        "window_days": "The window, in days.",
        "open_hours": "How long a bid may wait before it counts.",
        "threshold": "Bids needed for the flag.",
    },
    FlagCode.STONEWALLING: {
        "count": "Conflicts in the window where at least one member noted the pattern.",
        "window_days": "The window, in days.",
        "threshold": "Conflicts needed for the flag.",
    },
    FlagCode.CONTEMPT: {
        "count": "Conflicts in the window where at least one member noted the pattern.",
        "window_days": "The window, in days.",
        "threshold": "Conflicts needed for the flag.",
    },
    FlagCode.EYE_CONTACT_AVOIDANCE: {
        "count": "Conflicts in the window where at least one member noted the pattern.",
        "window_days": "The window, in days.",
        "threshold": "Conflicts needed for the flag.",
    },
    FlagCode.RELIEF_NOT_CONNECTION: {
        "count": "Repairs in the window that felt relieved, not connected.",
        "window_days": "The window, in days.",
        "threshold": "Repairs needed for the flag.",
    },
    FlagCode.AFFECTION_DROP: {
        "recent": "Shared non-sexual touches logged in the recent window.",
        "recent_days": "The recent window, in days.",
        "baseline": "Shared non-sexual touches in the baseline window before it.",
        "baseline_days": "The baseline window, in days (grows to 8 weeks).",
        "ratio": "Recent per-day rate / baseline per-day rate.",
        "threshold": "The ratio below which the flag is raised.",
        "pair": "Only when no drop shows relationship-wide: the two members of the first pair"
        " whose touch fell; the fields above are that pair's.",
        "pairs": "Each pair of members whose own touch (logged with each other) fell:"
        " `pair` and the fields above, for that pair.",
    },
    FlagCode.AVOIDING_TIME_TOGETHER: {
        "occurrences": "Ritual times in the window with a known outcome.",
        "not_kept": "Of those, skipped by a member, or missed"
        " (only for rituals whose outcomes you record).",
        "ratio": "not_kept / occurrences.",
        "window_days": "The window, in days.",
        "threshold": "The ratio at which the flag is raised.",
    },
    FlagCode.WITHHOLDING: {
        "count": "Times you noted it on your own check-ins in the window (only you see this).",
        "window_days": "The window, in days (your own calendar days).",
        "threshold": "Times needed for the flag.",
    },
    FlagCode.CONFIDING_ELSEWHERE: {
        "count": "Times you noted it on your own check-ins in the window (only you see this).",
        "window_days": "The window, in days (your own calendar days).",
        "threshold": "Times needed for the flag.",
    },
    FlagCode.BOUNDARY_BREACHED_REPEATEDLY: {
        "boundaries": "Boundary id -> breaches reported in the window"
        " (only those at or over the threshold).",
        "window_days": "The window, in days.",
        "threshold": "Breaches of one boundary needed for the flag.",
    },
    FlagCode.SCREENS_CROWDING_PRESENCE: {
        "weekly_screen_minutes": "Screen minutes per week from shared time logs, oldest first.",
        "weekly_face_to_face_minutes": "Face-to-face minutes per week, oldest first.",
        "face_to_face_per_logged_day": "This week's face-to-face minutes per logged day.",
        "threshold": "The minutes per day below which the flag may be raised.",
    },
    FlagCode.INTIMACY_BURNOUT: {
        "exercises_per_day": "Shared assessments, completed rituals and recommendations done,"
        " per day over the week (program steps are not counted: no member event records"
        " one).",
        "connection_this_week": "Mean felt connection (1-10) of this week's shared check-ins.",
        "connection_last_week": "The same for the week before.",
        "connection_fall": "last week minus this week.",
        "threshold": "Exercises per day needed for the flag.",
        "min_fall": "Points connection must fall for the flag.",
    },
}


def describe() -> str:
    """The evidence fields of every flag code, as Markdown for the OpenAPI schema."""
    parts = ["Its shape depends on `code`:"]
    for code, fields in EVIDENCE.items():
        listed = "; ".join(f"`{name}`: {meaning}" for name, meaning in fields.items())
        parts.append(f"- `{code.value}`: {listed}")
    return "\n".join(parts)
