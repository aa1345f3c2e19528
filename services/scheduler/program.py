"""The trust-rebuilding program: its stages, the words of its prompts, and when it runs.

Pure rules: time is passed in. A program is proposed by one member, starts only once every
member has accepted, moves through four stages and ends six months after it started.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta

from shared.messages.vocabulary import ProgramStage

LENGTH = relativedelta(months=6)


@dataclass(frozen=True)
class Prompt:
    text_key: str
    text: str


@dataclass(frozen=True)
class Stage:
    stage: ProgramStage
    title: str
    starts_after: timedelta
    prompts: tuple[Prompt, ...]

    @property
    def prompt_codes(self) -> tuple[str, ...]:
        return tuple(p.text_key for p in self.prompts)


# Naming the breach in week 1, seeking help and new agreements in weeks 2-4, weekly check-ins
# and small daily wins in weeks 5-12, gradual restoration over months 3-6.
STAGES = (
    Stage(ProgramStage.NAME_THE_BREACH, "Say what happened", timedelta(0), (
        Prompt("trust.name.1", "In your own words, what happened, and what did it break "
                               "between you? Describe it without softening or blaming."),
        Prompt("trust.name.2", "What did finding out feel like for you, then and now? "
                               "Listen to each other's answer to the end before replying."),
        Prompt("trust.name.3", "What does each of you need to hear said out loud this week, "
                               "so that it is no longer something you talk around?"),
    )),
    Stage(ProgramStage.HELP_AND_AGREEMENTS, "Find support and new agreements", timedelta(weeks=1), (
        Prompt("trust.help.1", "Who could walk this path with you: a counsellor, a therapist, "
                               "a trusted group? Pick one step to take towards them this week."),
        Prompt("trust.agree.1", "Write down one agreement that would help you feel safe again, "
                                "in words both of you can say yes to."),
        Prompt("trust.agree.2", "What will openness look like from now on, day to day? Agree "
                                "on something small and concrete, not a promise about forever."),
    )),
    Stage(ProgramStage.WEEKLY_CHECKINS, "Weekly check-ins and small wins", timedelta(weeks=4), (
        Prompt("trust.weekly.1", "How did this week feel between you? Name one moment that "
                                 "helped and one that hurt, without reopening the whole story."),
        Prompt("trust.wins.1", "Notice one small promise kept today, however ordinary, "
                               "and tell each other you saw it."),
        Prompt("trust.wins.2", "Which agreement was easy to keep this week, and which one "
                               "needs another look together?"),
    )),
    Stage(ProgramStage.GRADUAL_RESTORATION, "Rebuilding, slowly", timedelta(weeks=12), (
        Prompt("trust.restore.1", "What can you do together again now that felt impossible "
                                  "a few months ago?"),
        Prompt("trust.restore.2", "Where does doubt still show up? Talk about it as something "
                                  "you face side by side, not as a verdict."),
        Prompt("trust.restore.3", "Looking back over these months, what has each of you learned "
                                  "about what you need to feel close and safe?"),
    )),
)  # fmt: skip


def ends_at(started_at: datetime) -> datetime:
    return started_at + LENGTH


def stage_index(started_at: datetime, now: datetime) -> int:
    """The stage running at `now` (the first one before the program started)."""
    index = 0
    for position, stage in enumerate(STAGES):
        if now >= started_at + stage.starts_after:
            index = position
    return index


def status(accepted: set[str], members: frozenset[str], started_at: datetime | None,
           now: datetime) -> str:  # fmt: skip
    """proposed until every current member accepted, then active, ended after six months."""
    if started_at is None:
        return "active" if members and members <= accepted else "proposed"
    return "ended" if now >= ends_at(started_at) else "active"
