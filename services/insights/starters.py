"""Conversation starters, rituals to try and the fixed suggestions, in our own words.

Every text has a stable `text_key` an app can translate. A starter marked deep
asks for vulnerability; it is held back for a while after a hard moment.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.messages.vocabulary import Pillar


@dataclass(frozen=True)
class Text:
    id: str
    text: str
    deep: bool = False

    @property
    def text_key(self) -> str:
        return f"insights.{self.id}"


def _pool(prefix: str, items: list[tuple[str, bool]]) -> list[Text]:
    return [Text(f"{prefix}-{i}", text, deep) for i, (text, deep) in enumerate(items, 1)]


STARTERS: dict[Pillar, list[Text]] = {
    Pillar.EMOTIONAL: _pool("starter-emo", [
        ("What was the best moment of your week, and what made it good?", False),
        ("Is there something small that has been weighing on you lately?", False),
        ("When did you last feel really understood by me?", False),
        ("What is one worry you would like me to carry with you for a while?", True),
        ("What helps you most when you have had a hard day?", False),
        ("Which of your feelings do you find hardest to say out loud?", True),
        ("What is something you are proud of that you have not told me about?", False),
        ("How can I tell when you need comfort rather than advice?", False),
        ("What did you need as a child that you still look for today?", True),
        ("Which moment between us would you like to relive?", False),
        ("What makes you feel safe enough to say something difficult?", True),
        ("When do you feel lonely, even when we are together?", True),
        ("What is a kind thing someone did for you this month?", False),
        ("What would you like me to ask you about more often?", False),
        ("Which fear about the future visits you most?", True),
        ("How do you like to be cheered on when something matters to you?", False),
        ("What is a hurt from the past you would like us to talk about gently?", True),
        ("What made you laugh recently, really laugh?", False),
        ("What do you wish I knew about how you feel on Sunday evenings?", False),
        ("What does feeling loved look like on an ordinary Tuesday?", False),
    ]),
    Pillar.INTELLECTUAL: _pool("starter-int", [
        ("What idea or question has been on your mind this week?", False),
        ("Which belief of yours has changed the most over the years?", True),
        ("If you could learn one new skill with me, what would it be?", False),
        ("What book, film or song shaped how you see the world?", False),
        ("What would you do with a free year and no need to earn money?", False),
        ("Which value of mine do you think we share most closely?", False),
        ("What is something you disagree with most people about?", False),
        ("What would you like us to understand better together?", False),
        ("Which question about life do you keep coming back to?", True),
        ("What did you read, hear or watch lately that surprised you?", False),
        ("If we wrote a short manifesto for our home, what would be in it?", False),
        ("What is a place you would love to explore, and why that one?", False),
        ("Which person, living or not, would you like to have dinner with?", False),
        ("What is one thing you have changed your mind about because of me?", False),
        ("What do you think makes a good life, in one sentence?", True),
        ("What problem in the world would you most like to see solved?", False),
        ("What is a hobby you gave up that you miss?", False),
        ("Which tradition from your family would you keep, and which would you drop?", True),
        ("What is a small experiment we could try this month?", False),
        ("What are you curious about that you have never looked into?", False),
    ]),
    Pillar.PHYSICAL: _pool("starter-phy", [
        ("What kind of touch makes you feel most cared for?", False),
        ("Is there a moment in the day when you would like a hug more often?", False),
        ("What helps your body relax after a long day?", False),
        ("Where do you feel most at ease with me: walking, sitting close, lying down?", False),
        ("What is a small gesture of closeness we used to share and could bring back?", False),
        ("How would you like us to say good morning and good night?", False),
        ("Would you enjoy a slow evening with no screens, just being close?", False),
        ("Is there a kind of touch you would like less of, or at other times?", True),
        ("What does your body need when you are stressed: space or closeness?", True),
        ("Which of our places feels the coziest to you?", False),
        ("How do you feel about holding hands in public?", False),
        ("What would a perfectly lazy morning together look like?", False),
        ("When do you feel most at home in your own body?", True),
        ("What is a way of being close that does not involve talking?", False),
        ("Would you like a massage, and where do you carry your tension?", False),
        ("What is a physical activity we could start doing side by side?", False),
        ("How do you like to be comforted when you feel unwell?", False),
        ("Is there anything about closeness you have found hard to ask for?", True),
        ("What kind of hug do you like best: quick, long, from behind?", False),
        ("What is a small ritual of touch we could do every day?", False),
    ]),
}  # fmt: skip

RITUALS_TO_TRY: dict[Pillar, list[Text]] = {
    Pillar.EMOTIONAL: _pool("ritual-emo", [
        ("A ten-minute check-in before bed: one high, one low, one need.", False),
        ("A weekly 'how are we really' conversation over tea.", False),
        ("Write each other a short note of thanks every Friday.", False),
        ("Share one worry and one hope at Sunday dinner.", False),
        ("A daily six-word summary of how your day felt.", False),
        ("A monthly letter to each other about what you have noticed.", False),
        ("Name one thing you appreciate about each other every morning.", False),
        ("A walk after a hard day where one talks and the other only listens.", False),
        ("A weekly 'nothing to fix' hour: listening without advice.", False),
        ("Keep a shared jar of good moments and read it together once a month.", False),
    ]),
    Pillar.INTELLECTUAL: _pool("ritual-int", [
        ("A weekly walk with one big question to talk over.", False),
        ("Read the same article each week and talk about it over dinner.", False),
        ("A monthly 'teach me something' evening, taking turns.", False),
        ("Pick a documentary together every other week.", False),
        ("Keep a list of questions and draw one each Saturday.", False),
        ("Visit somewhere new in your town once a month.", False),
        ("Start a two-person book club with one chapter a week.", False),
        ("A Sunday morning plan-our-dreams half hour.", False),
        ("Cook a dish from a place neither of you has been, once a month.", False),
        ("Share one thing you learned today over dinner.", False),
    ]),
    Pillar.PHYSICAL: _pool("ritual-phy", [
        ("A six-second hug when you say hello or goodbye, every day.", False),
        ("Hold hands for the first ten minutes of an evening walk.", False),
        ("A weekly screen-free evening on the sofa, close together.", False),
        ("Five minutes of shoulder rubs before sleep, taking turns.", False),
        ("Dance to one song in the kitchen every weekend.", False),
        ("A slow Sunday morning in bed with coffee, no phones.", False),
        ("Stretch together for ten minutes after work.", False),
        ("A goodnight kiss that lasts a little longer than usual.", False),
        ("A weekly bath or foot soak, one caring for the other.", False),
        ("Fall asleep touching: a hand, a foot, a back.", False),
    ]),
}  # fmt: skip

BOUNDARY_TO_DISCUSS = Text(
    "boundary_to_discuss",
    "Sit down together with the boundary that keeps coming up: does it still fit both of you, "
    "and what would help you keep it?",
)
PAUSE = Text(
    "pause",
    "Take a break from the exercises for a week; easy, unplanned time together is enough.",
)
COOL_DOWN = Text(
    "cool_down_break",
    "When an argument feels overwhelming, pause for about twenty minutes - a flooded body needs "
    "that long to settle - then come back to it.",
)
OUTSIDE_SUPPORT = Text(
    "outside_support",
    "Some patterns are easier to shift with help. A couples therapist or counsellor can offer a "
    "calm space to talk; reaching out is a sign of care, not of failure.",
)
NVC_REFRAME = Text(
    "nvc_reframe",
    "A recent shared note used 'you always' or 'you never'. Try the same message as: what you "
    "noticed, how you felt, what you need, and one thing you would like to ask for.",
)
SHARE_A_NEED = Text(
    "share_a_need",
    "Lately you often named a need for {needs}. Only you see this. Consider telling your "
    "partner(s) about one of them, with one small thing that would help.",
)


def next_from(pool: list[Text], used: list[str], allow_deep: bool) -> tuple[Text, list[str]]:
    """The next text of a pool not yet used; the pool starts over once it is used up.

    Deep texts are passed over (not used up) while they are held back."""
    fresh = [t for t in pool if t.id not in used]
    if not fresh:
        used, fresh = [], list(pool)
    choice = next((t for t in fresh if allow_deep or not t.deep), None)
    if choice is None:  # only deep ones left and they are held: take a light one again
        choice = next(t for t in pool if not t.deep)
        return choice, used
    return choice, [*used, choice.id]


def by_id(text_id: str) -> Text | None:
    for pools in (STARTERS, RITUALS_TO_TRY):
        for pool in pools.values():
            for t in pool:
                if t.id == text_id:
                    return t
    return None
