"""A batch of events' contributions merged into one update per aggregate document.

Pure: counters add up, `$min`/`$max` keep the extreme, later `$set` values win (events
arrive in stream order), first-insert fields come from the first contribution that has
them, and pushed entries are appended together (the list stays sorted and capped, so the
result is the same as applying them one by one).
"""

from __future__ import annotations

from typing import Any

from services.insights.domain import ANSWER_ORDER, KEEP_ANSWERS, Contribution

Update = dict[str, Any]


def merged_updates(found: list[Contribution]) -> dict[str, list[tuple[str, Update]]]:
    """collection -> [(document key, update)], one update per document, in first-seen order."""
    merged: dict[tuple[str, str], Contribution] = {}
    pushed: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = {}
    for c in found:
        where = (c.collection, c.key)
        into = merged.setdefault(where, Contribution(c.collection, c.key))
        for name, value in c.on_insert.items():
            into.on_insert.setdefault(name, value)
        for name, amount in c.inc.items():
            into.inc[name] = into.inc.get(name, 0) + amount
        into.set.update(c.set)
        for name, value in c.min.items():
            into.min[name] = value if name not in into.min else min(into.min[name], value)
        for name, value in c.max.items():
            into.max[name] = value if name not in into.max else max(into.max[name], value)
        for name, entry in c.push.items():
            pushed.setdefault(where, {}).setdefault(name, []).append(entry)
    result: dict[str, list[tuple[str, Update]]] = {}
    for (collection, key), c in merged.items():
        update: Update = {}
        # A field set by $set cannot also be in $setOnInsert (MongoDB refuses the conflict).
        on_insert = {k: v for k, v in c.on_insert.items() if k not in c.set}
        if on_insert:
            update["$setOnInsert"] = on_insert
        for operator, values in (("$inc", c.inc), ("$set", c.set), ("$min", c.min),
                                 ("$max", c.max)):  # fmt: skip
            if values:
                update[operator] = values
        if (collection, key) in pushed:
            order = dict.fromkeys(ANSWER_ORDER, 1)
            update["$push"] = {
                name: {"$each": entries, "$sort": order, "$slice": -KEEP_ANSWERS}
                for name, entries in pushed[(collection, key)].items()
            }
        result.setdefault(collection, []).append((key, update))
    return result
