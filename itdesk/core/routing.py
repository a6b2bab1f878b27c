"""Routing: which team handles a ticket and which member gets it.

``assign --auto`` takes the team whose categories include the ticket's category, then
that team's member with the fewest open tickets assigned (ties: the order in the team).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import UsageError
from .model import Status, Ticket
from .policy import Policy

# Statuses in which a ticket counts towards its assignee's load.
LOAD_STATUSES = frozenset(
    {
        Status.ASSIGNED,
        Status.IN_PROGRESS,
        Status.PENDING_USER,
        Status.PENDING_VENDOR,
        Status.REOPENED,
    }
)


def load_by_member(tickets: Iterable[Mapping[str, Any]]) -> Counter[str]:
    """Open tickets per assignee, from ticket data (the YAML's keys)."""
    statuses = {s.value for s in LOAD_STATUSES}
    return Counter(
        str(d["assignee"]) for d in tickets if d.get("assignee") and d["status"] in statuses
    )


def choose_assignee(policy: Policy, ticket: Ticket, load: Mapping[str, int]) -> tuple[str, str]:
    """(team, member) for ``ticket`` by the routing rules, given each member's ``load``."""
    if ticket.category is None:
        raise UsageError(
            f"{ticket.id} has no category to route by; classify it first "
            f"(itdesk classify {ticket.id} --category ...) or use --to NAME"
        )
    team = policy.team_for(ticket.category)
    if team is None:
        raise UsageError(
            f"no team handles {ticket.category.value}; add it to a team's categories "
            "in itdesk.yaml, or use --to NAME"
        )
    if not team.members:
        raise UsageError(f"team {team.name} has no members in itdesk.yaml; add some")
    own = ticket.assignee if ticket.status in LOAD_STATUSES else None

    def key(member: str) -> tuple[int, int]:
        # The ticket itself does not count towards its current assignee's load.
        return load.get(member, 0) - (member == own), team.members.index(member)

    member = min(team.members, key=key)
    return team.name, member


def team_for_member(policy: Policy, member: str, ticket: Ticket) -> str | None:
    """The team ``member`` works for on ``ticket``; refuses names outside every team."""
    teams = policy.teams_of(member)
    if not teams:
        known = ", ".join(policy.members) or "(none: add members to teams in itdesk.yaml)"
        raise UsageError(f"{member!r} is not a member of any team; members: {known}")
    if ticket.category is not None:
        for team in teams:
            if ticket.category in team.categories:
                return team.name
    return teams[0].name
