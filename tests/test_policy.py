"""policy.py: itdesk.yaml checked key by key, with the process document's defaults."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
import yaml

from itdesk.core.model import Category, Priority
from itdesk.core.policy import KNOWN_KEYS, Policy, Team, default_policy_text, policy_from_dict
from itdesk.errors import InvalidPolicy


def default_data(tz: str = "Asia/Shanghai", who: str = "zhang") -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(default_policy_text(tz, who))
    return data


def test_default_policy_text_parses() -> None:
    p = policy_from_dict(default_data())
    assert p.timezone == "Asia/Shanghai"
    assert str(p.tz) == "Asia/Shanghai"
    assert (p.prefix, p.digits, p.locale) == ("IT", 3, "en")
    assert p.default_priority is Priority.P3
    assert p.categories == tuple(Category)


def test_default_sla_is_the_process_document() -> None:
    sla = policy_from_dict(default_data()).sla
    assert sla.ack == timedelta(minutes=10)
    assert sla.accept == timedelta(hours=2)
    assert sla.followup == timedelta(hours=1)
    assert sla.at_risk == 0.75
    assert sla.priorities[Priority.P1].response == timedelta(minutes=15)
    assert sla.priorities[Priority.P2].response == timedelta(hours=2)
    assert sla.priorities[Priority.P2].resolution == timedelta(hours=4)
    assert sla.priorities[Priority.P3].response == timedelta(hours=24)
    assert sla.priorities[Priority.P3].resolution == timedelta(hours=48)


def test_an_empty_policy_has_the_same_sla_defaults() -> None:
    assert policy_from_dict({}).sla == policy_from_dict(default_data()).sla


def test_default_teams_route_every_category_to_the_technician() -> None:
    p = policy_from_dict(default_data(who="zhang"))
    assert [t.name for t in p.teams] == ["hardware", "network", "desk"]
    assert p.supervisors == ("zhang",)
    assert p.members == ["zhang"]
    for category in Category:
        team = p.team_for(category)
        assert team is not None and team.members == ("zhang",)


@pytest.mark.parametrize("who", ["王小明", "O'Brien", "yes", "Tech: One", "a#b", " lead"])
def test_default_policy_text_quotes_awkward_names(who: str) -> None:
    p = policy_from_dict(default_data(who=who))
    assert p.supervisors == (who.strip(),)
    assert p.teams[0].members == (who.strip(),)
    assert who in p.people or who.strip() in p.people


def test_partial_priority_override_keeps_the_other_target() -> None:
    data = default_data()
    data["sla"]["priorities"] = {"紧急": {"resolution": "8h"}}
    p1 = policy_from_dict(data).sla.priorities[Priority.P1]
    assert p1.resolution == timedelta(hours=8)
    assert p1.response == timedelta(minutes=15)


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    keys = path.split(".")
    for k in keys[:-1]:
        data = data[k]
    data[keys[-1]] = value


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        ("timezone", "Mars/Olympus", "timezone"),
        ("timezone", "../../etc/passwd", "timezone"),
        ("ids.prefix", "it-", "ids.prefix"),
        ("ids.prefix", "../x", "ids.prefix"),
        ("ids.digits", 0, "ids.digits"),
        ("ids.digits", True, "ids.digits"),
        ("ids", "IT", "ids"),
        ("locale", "fr", "locale"),
        ("default_priority", "P7", "default_priority"),
        ("sla.at_risk", 1.5, "sla.at_risk"),
        ("sla.at_risk", 0, "sla.at_risk"),
        ("sla.at_risk", "high", "sla.at_risk"),
        ("sla.ack", "soon", "sla.ack"),
        ("sla.priorities.P2", "fast", "sla.priorities.P2"),
        ("sla", [1, 2], "sla"),
        ("categories", ["printer"], "categories"),
        ("supervisors", "zhang", "supervisors"),
        ("people", ["zhang"], "people"),
        ("teams", "everyone", "teams"),
    ],
)
def test_a_bad_key_is_named_in_one_line(path: str, value: Any, named: str) -> None:
    data = default_data()
    _set(data, path, value)
    with pytest.raises(InvalidPolicy) as info:
        policy_from_dict(data)
    message = str(info.value)
    assert message.startswith(f"itdesk.yaml: {named}: "), message
    assert "\n" not in message


def test_an_unknown_priority_under_sla_is_named() -> None:
    data = default_data()
    data["sla"]["priorities"]["P9"] = {"response": "1h", "resolution": "2h"}
    with pytest.raises(InvalidPolicy, match=r"^itdesk\.yaml: sla\.priorities\.P9: .*P1"):
        policy_from_dict(data)


def test_a_bad_target_duration_is_named_down_to_its_field() -> None:
    data = default_data()
    data["sla"]["priorities"]["P2"]["resolution"] = "four hours"
    with pytest.raises(InvalidPolicy, match=r"^itdesk\.yaml: sla\.priorities\.P2\.resolution: "):
        policy_from_dict(data)


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("categories", ["printers"], "teams[0].categories"),
        ("categories", "hardware", "teams[0].categories"),
        ("members", "zhang", "teams[0].members"),
        ("members", ["zhang", ""], "teams[0].members"),
        ("name", "", "teams[0].name"),
        ("supervisor", ["a", "b"], "teams[0].supervisor"),
    ],
)
def test_a_bad_team_field_is_named(field: str, value: Any, named: str) -> None:
    data = default_data()
    data["teams"][0][field] = value
    with pytest.raises(InvalidPolicy) as info:
        policy_from_dict(data)
    assert str(info.value).startswith(f"itdesk.yaml: {named}: "), str(info.value)


def test_a_team_listed_twice_is_named() -> None:
    data = default_data()
    data["teams"].append(copy.deepcopy(data["teams"][0]))
    with pytest.raises(InvalidPolicy, match=r"teams\[3\]\.name: team 'hardware' is listed twice"):
        policy_from_dict(data)


def test_an_unknown_top_level_key_is_named_with_the_known_ones() -> None:
    data = default_data()
    data["colour"] = "blue"
    with pytest.raises(InvalidPolicy) as info:
        policy_from_dict(data)
    message = str(info.value)
    assert message.startswith("itdesk.yaml: colour: unknown key")
    assert "\n" not in message
    for key in KNOWN_KEYS:
        assert key in message


@pytest.mark.parametrize("data", [None, [], ["timezone"], "timezone: UTC", 3])
def test_top_level_must_be_a_mapping(data: Any) -> None:
    with pytest.raises(InvalidPolicy, match="itdesk.yaml: expected a mapping"):
        policy_from_dict(data)


# -------------------------------------------------------------------- routing


def team_policy() -> Policy:
    return Policy(
        teams=(
            Team("hardware", (Category.HARDWARE,), ("zhang", "zhao"), "boss-hw"),
            Team("network", (Category.NETWORK,), ("zhang", "wang")),
            Team("desk", (Category.SOFTWARE, Category.ACCOUNT, Category.OTHER), ("li",)),
        ),
        supervisors=("chief", "deputy"),
    )


def test_team_for() -> None:
    p = team_policy()
    assert p.team_for(Category.HARDWARE).name == "hardware"  # type: ignore[union-attr]
    assert p.team_for(Category.NETWORK).name == "network"  # type: ignore[union-attr]
    assert p.team_for(Category.ACCOUNT).name == "desk"  # type: ignore[union-attr]
    assert Policy().team_for(Category.NETWORK) is None


def test_teams_of() -> None:
    p = team_policy()
    assert [t.name for t in p.teams_of("zhang")] == ["hardware", "network"]
    assert [t.name for t in p.teams_of("li")] == ["desk"]
    assert p.teams_of("nobody") == []


def test_members_are_listed_once_in_team_order() -> None:
    assert team_policy().members == ["zhang", "zhao", "wang", "li"]


def test_supervisor_for() -> None:
    p = team_policy()
    assert p.supervisor_for("hardware") == "boss-hw"  # the team's own
    assert p.supervisor_for("network") == "chief"  # team without one: the desk's first
    assert p.supervisor_for(None) == "chief"
    assert p.supervisor_for("no-such-team") == "chief"
    assert Policy().supervisor_for(None) is None


def test_policy_from_dict_reads_teams_and_chinese_categories() -> None:
    data = default_data()
    data["teams"] = [{"name": "net", "categories": ["网络"], "members": ["wang"],
                      "supervisor": "boss"}]  # fmt: skip
    p = policy_from_dict(data)
    assert p.teams == (Team("net", (Category.NETWORK,), ("wang",), "boss"),)
    assert p.supervisor_for("net") == "boss"
