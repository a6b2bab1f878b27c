"""Three-way merge of one ticket, on plain data (the YAML's keys), for git's merge driver.

Why a driver of our own: two technicians who act on one ticket on their own clones
both append to ``log:`` at the same place, and git's line merge calls that a conflict
(issue #11). A ticket knows more than its lines do:

- ``log``, ``escalations``, ``kb`` and ``attachments`` only grow: the two sides' entries
  are united, without duplicates, and the log and the escalations ordered by time;
- a field changed on one side takes that side's value;
- a field changed on both sides takes the later change, by the time of the log entry
  that made it (or the side's latest new entry), and the conflict is recorded as a
  ``system`` log entry, so nobody's work disappears unseen;
- what cannot be merged (one number given to two different tickets, a status that does
  not follow from the merged log) raises :class:`MergeConflict` naming the field.

Pure: the command (``itdesk merge-driver``) reads the files, validates the result
against the schema, and writes it. The merge is symmetric but for the conflict entry's
wording: ``merge(b, x, y)`` and ``merge(b, y, x)`` keep the same values, which matters
because a rebase calls the driver with the sides swapped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..errors import UsageError

# Append-only lists: united, never resolved as values.
TIMED_LISTS = ("log", "escalations")
SET_LISTS = ("kb", "attachments")
# Nested mappings whose keys are merged one by one (intake fields edited separately).
NESTED = ("requester", "impact")
MERGE_BY = "itdesk"  # who the conflict entry says acted


class MergeConflict(UsageError):
    """A ticket the merge cannot settle: the field and why."""

    def __init__(self, ticket: str, field_name: str, reason: str):
        self.ticket = ticket
        self.field = field_name
        super().__init__(f"{ticket}: {field_name}: {reason}")


@dataclass
class MergeResult:
    data: dict[str, Any]
    # (field, kept value, other value) for each field changed on both sides
    conflicts: list[tuple[str, Any, Any]] = field(default_factory=list)


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def _key(value: Any) -> str:
    """A value as text that identifies it (entries compared and ordered by it)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _unite(base: list[Any], ours: list[Any], theirs: list[Any], timed: bool) -> list[Any]:
    """Every entry of either side once (an entry one side removed comes back from the
    other: these lists only grow). A timed list is the two sides merged by ``at``, each
    side's own order kept, entries of one instant ordered by their content; any other
    list keeps the base's order, then the new entries by their content. Either way the
    result does not depend on which side is "ours"."""
    if timed:
        return _merge_timed(ours, theirs)
    new = {_key(e): e for e in [*ours, *theirs]}
    kept = [e for e in base if _key(e) in new]
    for e in kept:
        new.pop(_key(e), None)
    return [*kept, *(new[k] for k in sorted(new))]


def _when(entry: Any) -> tuple[float, str]:
    at = _time(entry.get("at")) if isinstance(entry, Mapping) else None
    return (at.timestamp() if at is not None else float("-inf"), _key(entry))


def _merge_timed(ours: list[Any], theirs: list[Any]) -> list[Any]:
    out: list[Any] = []
    emitted: set[str] = set()
    i = j = 0
    while i < len(ours) or j < len(theirs):
        o = ours[i] if i < len(ours) else None
        t = theirs[j] if j < len(theirs) else None
        if o is not None and _key(o) in emitted:
            i += 1
            continue
        if t is not None and _key(t) in emitted:
            j += 1
            continue
        if t is None or (o is not None and _when(o) <= _when(t)):
            out.append(o)
            emitted.add(_key(o))
            i += 1
        else:
            out.append(t)
            emitted.add(_key(t))
            j += 1
    return out


def _new_entries(
    base: Mapping[str, Any] | None, side: Mapping[str, Any]
) -> list[Mapping[str, Any]]:
    known = {_key(e) for e in (base or {}).get("log") or []}
    return [e for e in side.get("log") or [] if isinstance(e, Mapping) and _key(e) not in known]


def _changed_at(new: list[Mapping[str, Any]], name: str) -> datetime | None:
    """When a side changed field ``name``: its latest new log entry that names the field
    (status, priority, assignee), else its latest new entry of any kind."""
    naming = [t for e in new if name in e and (t := _time(e.get("at"))) is not None]
    if naming:
        return max(naming)
    times = [t for e in new if (t := _time(e.get("at"))) is not None]
    return max(times) if times else None


def _pick(
    name: str,
    b: Any,
    o: Any,
    t: Any,
    new_o: list[Mapping[str, Any]],
    new_t: list[Mapping[str, Any]],
    conflicts: list[tuple[str, Any, Any]],
) -> Any:
    if _key(o) == _key(t):
        return o
    if _key(o) == _key(b):
        return t
    if _key(t) == _key(b):
        return o
    at_o, at_t = _changed_at(new_o, name), _changed_at(new_t, name)
    if at_o is not None and at_t is not None and at_o != at_t:
        ours_wins = at_o > at_t
    elif (at_o is None) != (at_t is None):
        ours_wins = at_o is not None  # only one side says when: that one is the later
    else:  # one instant: decided by the values, the same whichever side is "ours"
        ours_wins = _key(o) > _key(t)
    kept, lost = (o, t) if ours_wins else (t, o)
    conflicts.append((name, kept, lost))
    return kept


def _show(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return repr(value)
    return _key(value)


def merge_ticket(
    base: Mapping[str, Any] | None, ours: Mapping[str, Any], theirs: Mapping[str, Any]
) -> MergeResult:
    """The ticket that keeps both sides' work (see the module's docstring)."""
    ticket = str(ours.get("id") or theirs.get("id") or "(ticket)")
    if _key(ours) == _key(theirs):
        return MergeResult(dict(ours))
    if ours.get("id") != theirs.get("id"):
        raise MergeConflict(ticket, "id", f"one side calls it {theirs.get('id')!r}")
    if base is None:  # added on both sides, and not the same: two tickets, one number
        raise MergeConflict(
            ticket,
            "id",
            "the number was given to two different tickets, one on each side; "
            "itdesk sync renumbers the one that has not reached the remote",
        )
    new_o, new_t = _new_entries(base, ours), _new_entries(base, theirs)
    conflicts: list[tuple[str, Any, Any]] = []
    out: dict[str, Any] = {}
    for name in dict.fromkeys([*ours, *theirs]):
        b, o, t = base.get(name), ours.get(name), theirs.get(name)
        if name in TIMED_LISTS or name in SET_LISTS:
            out[name] = _unite(list(b or []), list(o or []), list(t or []), name in TIMED_LISTS)
        elif name in NESTED and isinstance(o, Mapping) and isinstance(t, Mapping):
            bm = b if isinstance(b, Mapping) else {}
            out[name] = {
                k: _pick(f"{name}.{k}", bm.get(k), o.get(k), t.get(k), new_o, new_t, conflicts)
                for k in dict.fromkeys([*o, *t])
            }
        else:
            out[name] = _pick(name, b, o, t, new_o, new_t, conflicts)
    if conflicts:
        timed = [(t, e["at"]) for e in out.get("log") or []
                 if isinstance(e, Mapping) and (t := _time(e.get("at"))) is not None]  # fmt: skip
        if timed:
            at = max(timed, key=lambda pair: pair[0].timestamp())[1]
            text = "; ".join(
                f"{name} changed on both sides: kept {_show(kept)} (the later change), "
                f"not {_show(lost)}"
                for name, kept, lost in conflicts
            )
            entry = {"at": at, "by": MERGE_BY, "kind": "system", "text": f"merged: {text}"}
            if _key(entry) not in {_key(e) for e in out["log"]}:
                out["log"] = [*out["log"], entry]
    _check_status(ticket, out)
    return MergeResult(out, conflicts)


def _check_status(ticket: str, data: Mapping[str, Any]) -> None:
    """The merged status is the one the merged log last recorded."""
    recorded = [e["status"] for e in data.get("log") or [] if isinstance(e, Mapping)
                and e.get("status")]  # fmt: skip
    if recorded and data.get("status") != recorded[-1]:
        raise MergeConflict(
            ticket,
            "status",
            f"the merged log ends in {recorded[-1]!r} but the sides leave it "
            f"{data.get('status')!r}; merge it by hand, then itdesk validate",
        )
