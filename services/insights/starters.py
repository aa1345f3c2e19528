"""Conversation starters and rituals to try, grouped by pillar, in our own words."""

from __future__ import annotations

from shared.messages.vocabulary import Pillar

STARTERS: dict[Pillar, list[tuple[str, str]]] = {
    Pillar.EMOTIONAL: [
        ("emo-1", "What was the best moment of your week, and what made it good?"),
        ("emo-2", "Is there something small that has been weighing on you lately?"),
        ("emo-3", "When did you last feel really understood by me?"),
        ("emo-4", "What is one worry you would like me to carry with you for a while?"),
        ("emo-5", "What helps you most when you have had a hard day?"),
        ("emo-6", "Which of your feelings do you find hardest to say out loud?"),
        ("emo-7", "What is something you are proud of that you have not told me about?"),
        ("emo-8", "How can I tell when you need comfort rather than advice?"),
    ],
    Pillar.INTELLECTUAL: [
        ("int-1", "What idea or question has been on your mind this week?"),
        ("int-2", "Which belief of yours has changed the most over the years?"),
        ("int-3", "If you could learn one new skill with me, what would it be?"),
        ("int-4", "What book, film or song shaped how you see the world?"),
        ("int-5", "What would you do with a free year and no need to earn money?"),
        ("int-6", "Which value of mine do you think we share most closely?"),
        ("int-7", "What is something you disagree with most people about?"),
        ("int-8", "What would you like us to understand better together?"),
    ],
    Pillar.PHYSICAL: [
        ("phy-1", "What kind of touch makes you feel most cared for?"),
        ("phy-2", "Is there a moment in the day when you would like a hug more often?"),
        ("phy-3", "What helps your body relax after a long day?"),
        ("phy-4", "Where do you feel most at ease with me: walking, sitting close, lying down?"),
        ("phy-5", "What is a small gesture of closeness we used to share and could bring back?"),
        ("phy-6", "How would you like us to say good morning and good night?"),
        ("phy-7", "Would you enjoy a slow evening with no screens, just being close?"),
    ],
}

RITUALS_TO_TRY: dict[Pillar, str] = {
    Pillar.EMOTIONAL: "A ten-minute check-in before bed: one high, one low, one need.",
    Pillar.INTELLECTUAL: "A weekly walk with one big question to talk over.",
    Pillar.PHYSICAL: "A six-second hug when you say hello or goodbye, every day.",
}

BOUNDARY_TO_DISCUSS = (
    "Sit down together with the boundary that keeps coming up: does it still fit both of you, "
    "and what would help you keep it?"
)
PAUSE = "Take a break from the exercises for a week; easy, unplanned time together is enough."
COOL_DOWN = (
    "When an argument feels overwhelming, pause for about twenty minutes - a flooded body needs "
    "that long to settle - then come back to it."
)
OUTSIDE_SUPPORT = (
    "Some patterns are easier to shift with help. A couples therapist or counsellor can offer a "
    "calm space to talk; reaching out is a sign of care, not of failure."
)
NVC_REFRAME = (
    "A recent shared note used 'you always' or 'you never'. Try the same message as: what you "
    "noticed, how you felt, what you need, and one thing you would like to ask for."
)


def next_starter(pillar: Pillar, used: list[str]) -> tuple[str, str, list[str]]:
    """The next starter of a pillar not yet used; the pool starts over once it is used up."""
    pool = STARTERS[pillar]
    fresh = [s for s in pool if s[0] not in used]
    if not fresh:
        used, fresh = [], list(pool)
    starter_id, text = fresh[0]
    return starter_id, text, [*used, starter_id]
