"""Routing: which team handles a ticket and which member gets it.

``assign --auto`` takes the team whose categories include the ticket's category, then
that team's member with the fewest open tickets assigned (ties: the order in the team).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from .errors import UsageError
from .model import Status, Ticket
from .policy import Policy

# Statuses in which a ticket counts towards its assignee's load.
LOAD_STATUSES = frozenset(
    {Status.ASSIGNED, Status.IN_PROGRESS, Status.PENDING_USER, Status.PENDING_VENDOR,
     Status.REOPENED}
)  # fmt: skip


def load_by_member(tickets: Iterable[Ticket]) -> Counter[str]:
    return Counter(t.assignee for t in tickets if t.assignee and t.status in LOAD_STATUSES)


def choose_assignee(policy: Policy, ticket: Ticket, tickets: Iterable[Ticket]) -> tuple[str, str]:
    """(team, member) for ``ticket`` by the routing rules."""
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
    load = load_by_member(t for t in tickets if t.id != ticket.id)
    member = min(team.members, key=lambda m: (load[m], team.members.index(m)))
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
