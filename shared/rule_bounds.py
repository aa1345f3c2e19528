"""Limits on the rules a ritual may use, so that reading one never scans without end.

dateutil looks for occurrences one period at a time, and it stops only when it yields one,
when COUNT runs out, or at the year 9999. A rule that never occurs (31 February) therefore
scans thousands of years, and UNTIL does not stop that scan. So a ritual may use only the rule
parts it needs, month days that cannot happen are refused with arithmetic, and the first
occurrence is looked for over a bounded number of days.

Pure functions. They read the parsed rule's fields (dateutil keeps them private).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from itertools import islice, takewhile
from typing import Any

from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrule

from shared.problems import InvalidInput

# A ritual must first happen within this many days of its start (four years and a leap day).
LOOKAHEAD_DAYS = 4 * 366
# One step of the rule (its frequency times its interval) can be at most about four years long.
# A longer step also makes dateutil count through every month up to the year 9999.
MAX_INTERVAL = {DAILY: LOOKAHEAD_DAYS, WEEKLY: LOOKAHEAD_DAYS // 7, MONTHLY: 48, YEARLY: 4}
# Parts no ritual needs. With them, working out whether a rule ever occurs takes a calendar.
UNNEEDED = {"BYYEARDAY": "_byyearday", "BYWEEKNO": "_byweekno", "BYSETPOS": "_bysetpos",
            "BYEASTER": "_byeaster"}  # fmt: skip
LONGEST_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def check_shape(parsed: rrule) -> None:
    """Refuse a rule that uses parts a ritual has no need for, or month days that never occur."""
    rule = vars(parsed)
    unneeded = [name for name, field in UNNEEDED.items() if rule[field]]
    if unneeded:
        raise InvalidInput(f"a ritual's rule cannot use {', '.join(unneeded)}", field="rrule")
    if rule["_interval"] < 1:
        raise InvalidInput("the interval is a whole number from 1 up", field="rrule")
    if rule["_interval"] > MAX_INTERVAL[rule["_freq"]]:
        raise InvalidInput("a ritual comes round at least once every four years", field="rrule")
    # dateutil fails with an IndexError on a 20th Monday of a month, so that is refused here.
    in_month = rule["_freq"] == MONTHLY or bool(rule["_bymonth"])
    most, within = (5, "month") if in_month else (53, "year")
    if any(abs(n) > most for _, n in rule["_bynweekday"] or ()):
        raise InvalidInput(f"a weekday comes at most {most} times in a {within}", field="rrule")
    month_days = rule["_bymonthday"] + rule["_bynmonthday"]
    if not month_days:
        return
    if rule["_byweekday"] or rule["_bynweekday"]:
        raise InvalidInput("give days of the month or days of the week, not both", field="rrule")
    # A daily or weekly rule kept to some month days is a monthly rule written the long way;
    # with an interval, its occurrences can be centuries apart.
    if rule["_freq"] in (DAILY, WEEKLY):
        raise InvalidInput("days of the month belong in a monthly or yearly rule", field="rrule")
    months = rule["_bymonth"] or range(1, 13)
    if not any(abs(day) <= LONGEST_MONTH[month - 1] for month in months for day in month_days):
        raise InvalidInput("no month in this rule has that day", field="rrule")


def first_occurrence(parsed: rrule, start_local: datetime) -> datetime | None:
    """The rule's first occurrence within LOOKAHEAD_DAYS of its start, or None.

    At most LOOKAHEAD_DAYS + 1 days are looked at, whatever the rule. Call check_shape first:
    the day filter below covers only the parts it lets through.
    """
    rule = vars(parsed)
    if rule["_count"] is not None and rule["_count"] < 1:
        return None
    for day in _days_in_periods(parsed, start_local):
        if not on_rule_day(rule, day):
            continue
        for moment in (datetime.combine(day, at) for at in rule["_timeset"]):
            if moment >= start_local:
                until = rule["_until"]
                return None if until is not None and moment > until else moment
    return None


def _days_in_periods(parsed: rrule, start_local: datetime) -> Iterator[date]:
    """Every day in the rule's periods from its start, in order, for LOOKAHEAD_DAYS at most.

    The same frequency, interval and week start with no filter: every period yields days, so
    the walk always moves on (the rule itself can go thousands of years without yielding)."""
    rule = vars(parsed)
    midnight = datetime.combine(start_local.date(), time())
    try:
        last = midnight + timedelta(days=LOOKAHEAD_DAYS)
    except OverflowError:
        last = datetime.max
    every_day = rrule(
        rule["_freq"], dtstart=midnight, interval=rule["_interval"], wkst=rule["_wkst"],
        byweekday=tuple(range(7)), byhour=0, byminute=0, bysecond=0,
    )  # fmt: skip
    within = takewhile(lambda moment: moment <= last, every_day)
    return (moment.date() for moment in islice(within, LOOKAHEAD_DAYS + 1))


def on_rule_day(rule: dict[str, Any], day: date) -> bool:
    """dateutil's filter inside a period, for the parts check_shape allows."""
    if rule["_bymonth"] and day.month not in rule["_bymonth"]:
        return False
    if rule["_byweekday"] and day.weekday() not in rule["_byweekday"]:
        return False
    nth = rule["_bynweekday"]
    if nth and not any(wd == day.weekday() and _is_nth(rule, day, n) for wd, n in nth):
        return False
    if rule["_bymonthday"] or rule["_bynmonthday"]:
        from_end = day.day - calendar.monthrange(day.year, day.month)[1] - 1
        if day.day not in rule["_bymonthday"] and from_end not in rule["_bynmonthday"]:
            return False
    return True


def _is_nth(rule: dict[str, Any], day: date, n: int) -> bool:
    """Whether `day` is the nth of its weekday (from the end when n < 0): in its month for a
    monthly rule or a yearly one with months, otherwise in its year."""
    if rule["_freq"] == MONTHLY or rule["_bymonth"]:  # as dateutil counts them
        position, length = day.day, calendar.monthrange(day.year, day.month)[1]
    else:
        position, length = day.timetuple().tm_yday, 365 + calendar.isleap(day.year)
    if n > 0:
        return (position - 1) // 7 + 1 == n
    return (length - position) // 7 + 1 == -n
