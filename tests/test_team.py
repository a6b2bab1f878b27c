"""Several technicians, one desk: clones of a bare remote, the merge driver, sync."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from conftest import Itdesk, git
from hypothesis import given, settings
from hypothesis import strategies as st

from itdesk.core.merge import MergeConflict, merge_ticket


@pytest.fixture
def team(make_desk: Callable[..., Itdesk], tmp_path: Path) -> Callable[[int], list[Itdesk]]:
    """Factory: ``team(n)`` -> n clones of one desk, pushed to a bare remote
    (``tmp_path/remote.git``); the first is the desk ``init`` made."""

    def factory(n: int = 2) -> list[Itdesk]:
        first = make_desk()
        remote = tmp_path / "remote.git"
        git(tmp_path, "init", "-q", "--bare", str(remote))
        git(first.desk, "remote", "add", "origin", str(remote))
        git(first.desk, "push", "-q", "-u", "origin", "main")
        clones = [first]
        for i in range(1, n):
            path = tmp_path / f"clone{i}"
            git(tmp_path, "clone", "-q", str(remote), str(path))
            other = Itdesk(path)
            other.ok("setup")
            clones.append(other)
        return clones

    return factory


def _data(runner: Itdesk, ticket_id: str) -> dict:
    return yaml.safe_load((runner.desk / "tickets" / f"{ticket_id}.yaml").read_text("utf-8"))


def _share(a: Itdesk, *others: Itdesk) -> None:
    git(a.desk, "push", "-q")
    for o in others:
        git(o.desk, "pull", "-q", "--no-rebase")


def _pull(runner: Itdesk, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "pull", "-q", *args], cwd=runner.desk,
                          capture_output=True, text=True)  # fmt: skip


# ------------------------------------------------------------------ the pure merge


def _ticket(**kw: object) -> dict:
    base = {
        "id": "IT-20231025-001",
        "status": "new",
        "priority": None,
        "assignee": None,
        "log": [{"at": "2023-10-25T09:30:00+08:00", "by": "desk", "kind": "status",
                 "text": "reported", "status": "new"}],  # fmt: skip
        "kb": [],
    }
    base.update(kw)
    return base


def _entry(at: str, **kw: object) -> dict:
    return {"at": f"2023-10-25T{at}:00+08:00", "by": "li", "kind": "note", "text": at, **kw}


def test_merge_unites_logs_in_time_order() -> None:
    base = _ticket()
    ours = _ticket(log=[*base["log"], _entry("10:05")])
    theirs = _ticket(log=[*base["log"], _entry("10:00"), _entry("10:10")])
    result = merge_ticket(base, ours, theirs)
    assert [e["text"] for e in result.data["log"]] == ["reported", "10:00", "10:05", "10:10"]
    assert result.conflicts == []


def test_merge_takes_a_one_sided_change() -> None:
    base = _ticket()
    acked = _entry("10:00", kind="status", status="acknowledged")
    ours = _ticket(status="acknowledged", log=[*base["log"], acked])
    theirs = _ticket(log=[*base["log"], _entry("10:05")])
    result = merge_ticket(base, ours, theirs)
    assert result.data["status"] == "acknowledged"
    assert len(result.data["log"]) == 3


def test_merge_takes_the_later_change_and_records_the_conflict() -> None:
    base = _ticket()
    ours = _ticket(priority="P1", log=[*base["log"], _entry("10:10", priority="P1")])
    theirs = _ticket(priority="P3", log=[*base["log"], _entry("10:00", priority="P3")])
    for a, b in ((ours, theirs), (theirs, ours)):
        result = merge_ticket(base, a, b)
        assert result.data["priority"] == "P1"
        last = result.data["log"][-1]
        assert last["kind"] == "system" and "priority" in last["text"]
        assert last["at"] == "2023-10-25T10:10:00+08:00"
    assert merge_ticket(base, ours, theirs).data == merge_ticket(base, theirs, ours).data


def test_merge_of_equal_sides_is_that_side() -> None:
    base = _ticket()
    ours = _ticket(log=[*base["log"], _entry("10:10")])
    assert merge_ticket(base, ours, ours).data == ours


def test_merge_refuses_two_tickets_with_one_number() -> None:
    ours = _ticket(reported_at="a")
    theirs = _ticket(reported_at="b", log=[_entry("09:31")])
    with pytest.raises(MergeConflict, match="IT-20231025-001: id: .*two different tickets"):
        merge_ticket(None, ours, theirs)


# ------------------------------------------------------------------ under git


def test_init_declares_and_registers_the_driver(desk: Itdesk) -> None:
    assert "merge=itdesk" in (desk.desk / ".gitattributes").read_text()
    assert "merge-driver %O %A %B %P" in git(desk.desk, "config", "merge.itdesk.driver")


@pytest.mark.parametrize("pull", [["--no-rebase"], ["--rebase"]])
def test_log_and_ack_on_two_clones_merge(team: Callable[[int], list[Itdesk]],
                                         pull: list[str]) -> None:  # fmt: skip
    a, b = team(2)
    tid = a.new()
    _share(a, b)
    a.ok("log", tid, "--via", "phone", "called the requester", "--now", "2023-10-25T09:40")
    b.ok("ack", tid, "--now", "2023-10-25T09:35")
    git(a.desk, "push", "-q")
    result = _pull(b, *pull)
    assert result.returncode == 0, result.stderr
    data = _data(b, tid)
    assert data["status"] == "acknowledged"
    assert [e["at"][11:16] for e in data["log"]] == ["09:30", "09:35", "09:40"]
    assert data["log"][2]["text"] == "called the requester"
    assert len(data["log"]) == 3
    b.ok("validate")


def test_reassigned_on_both_clones_keeps_the_later(team: Callable[[int], list[Itdesk]]) -> None:
    a, b = team(2)
    tid = a.new()
    a.ok("ack", tid, "--now", "2023-10-25T09:31")
    _share(a, b)
    a.ok("assign", tid, "--to", "wang", "--now", "2023-10-25T09:50")
    b.ok("assign", tid, "--to", "li", "--now", "2023-10-25T09:40")
    git(a.desk, "push", "-q")
    result = _pull(b, "--no-rebase")
    assert result.returncode == 0, result.stderr
    data = _data(b, tid)
    assert data["assignee"] == "wang"
    assert data["log"][-1]["kind"] == "system" and "assignee" in data["log"][-1]["text"]
    b.ok("validate")


def test_a_merge_that_cannot_be_made_stops_naming_the_ticket(
    team: Callable[[int], list[Itdesk]],
) -> None:
    a, b = team(2)
    ta = a.new(title="on a")
    tb = b.new(title="on b")
    assert ta == tb
    git(a.desk, "push", "-q")
    result = _pull(b, "--no-rebase")
    assert result.returncode != 0
    assert f"{ta}: id:" in result.stderr
    listed = b("list")
    assert listed.exit_code == 2 and "middle of a merge" in listed.stderr
    check = b("check")
    assert check.exit_code == 2


# ------------------------------------------------------------------ identity, trailers


def test_a_technician_has_one_identity_across_commits(
    make_desk: Callable[..., Itdesk],
) -> None:
    d = make_desk(members=None)
    tid = d.new(**{"as": "zhang"})
    d.ok("ack", tid, "--as", "zhang", "--now", "2023-10-25T09:31")
    authors = set(git(d.desk, "log", "--format=%an <%ae>").splitlines())
    assert authors == {"zhang <zhang@itdesk.invalid>"}


def test_init_as_the_git_user_keeps_gits_address(make_desk: Callable[..., Itdesk]) -> None:
    d = make_desk(members=None, as_name="Test Tech")
    assert "tech@example.com" in (d.desk / "itdesk.yaml").read_text()
    d.new()
    assert set(git(d.desk, "log", "--format=%ae").split()) == {"tech@example.com"}


def test_init_without_a_git_identity_gives_the_clone_one(
    no_identity: None, make_desk: Callable[..., Itdesk]
) -> None:
    d = make_desk(members=None)
    assert git(d.desk, "config", "user.email").strip() == "zhang@itdesk.invalid"


def test_a_purged_or_removed_number_is_never_given_again(desk: Itdesk) -> None:
    first = desk.new()
    second = desk.new()
    git(desk.desk, "rm", "-q", f"tickets/{second}.yaml")
    git(desk.desk, "commit", "-qm", "remove by hand")
    third = desk.new()
    assert third not in (first, second) and third.endswith("-003")


# ------------------------------------------------------------------ sync


def test_sync_renumbers_a_number_minted_on_both_clones(
    team: Callable[[int], list[Itdesk]],
) -> None:
    a, b, c = team(3)
    ids = [x.new(title=f"on {i}", now="2023-10-25T09:3" + str(i)) for i, x in enumerate((a, b, c))]
    assert len(set(ids)) == 1
    first = ids[0]
    a.ok("sync")
    out_b = b.ok("sync").stdout
    assert f"renumbered {first} -> IT-20231025-002" in out_b
    out_c = c.ok("sync").stdout
    assert f"renumbered {first} -> IT-20231025-003" in out_c
    a.ok("sync")
    b.ok("sync")
    for x in (a, b, c):
        names = sorted(p.name for p in (x.desk / "tickets").glob("*.yaml"))
        assert names == [f"IT-20231025-00{i}.yaml" for i in (1, 2, 3)]
        x.ok("validate")
    moved = _data(c, "IT-20231025-003")
    assert moved["title"] == "on 2"
    assert moved["log"][-1]["kind"] == "system" and first in moved["log"][-1]["text"]
    assert _data(a, first)["title"] == "on 0"
    assert git(a.desk, "rev-parse", "HEAD") == git(c.desk, "rev-parse", "HEAD")


@pytest.mark.parametrize("order", ["ab", "ba"])
def test_concurrent_changes_sync_in_either_order(
    team: Callable[[int], list[Itdesk]], order: str
) -> None:
    a, b = team(2)
    tid = a.new()
    a.ok("ack", tid, "--now", "2023-10-25T09:31")
    a.ok("sync")
    b.ok("sync")
    a.ok("assign", tid, "--to", "wang", "--now", "2023-10-25T09:50")
    a.ok("log", tid, "--via", "note", "on a", "--now", "2023-10-25T09:51")
    b.ok("classify", tid, "--priority", "P1", "--now", "2023-10-25T09:40")
    b.ok("assign", tid, "--to", "li", "--now", "2023-10-25T09:45")
    first, second = (a, b) if order == "ab" else (b, a)
    first.ok("sync")
    second.ok("sync")
    first.ok("sync")
    da, db = _data(a, tid), _data(b, tid)
    assert da == db
    assert da["assignee"] == "wang" and da["priority"] == "P1"
    texts = [e["text"] for e in da["log"]]
    assert "on a" in texts and any("assignee changed on both sides" in t for t in texts)
    a.ok("validate")


def test_sync_reports_what_came_in_and_went_out(team: Callable[[int], list[Itdesk]]) -> None:
    a, b = team(2)
    tid = a.new()
    out = a.ok("sync", "--format", "json").stdout
    assert '"outgoing"' in out and tid in out
    result = b.ok("sync")
    assert f"{tid}: new" in result.stdout and "in from origin/main: 1 commit(s)" in result.stdout


def test_sync_retries_when_the_remote_moves(team: Callable[[int], list[Itdesk]]) -> None:
    a, b, c = team(3)
    tid = a.new()
    a.ok("sync")
    b.ok("sync")
    c.ok("sync")
    c.ok("log", tid, "--via", "note", "from c", "--now", "2023-10-25T09:50")
    # b's first push meets a remote that c pushed to after b fetched
    hook = b.desk / ".git" / "hooks" / "pre-push"
    marker = b.desk / ".git" / "pushed-c"
    hook.write_text(
        f"#!/bin/sh\n[ -e '{marker}' ] && exit 0\ntouch '{marker}'\n"
        f"cd '{c.desk}' && env -u GIT_DIR git push -q origin main\n"
    )
    hook.chmod(0o755)
    b.ok("log", tid, "--via", "note", "from b", "--now", "2023-10-25T09:55")
    result = b.ok("sync", "--format", "json")
    assert '"tries": 2' in result.stdout
    texts = [e["text"] for e in _data(b, tid)["log"]]
    assert "from b" in texts and "from c" in texts
    a.ok("sync")
    assert git(a.desk, "rev-parse", "HEAD") == git(b.desk, "rev-parse", "HEAD")


def test_sync_that_cannot_merge_leaves_the_clone_as_it_was(
    team: Callable[[int], list[Itdesk]],
) -> None:
    from conftest import git_state

    a, b = team(2)
    for x, zone in ((a, "Asia/Tokyo"), (b, "Europe/Berlin")):
        policy = x.desk / "itdesk.yaml"
        policy.write_text(policy.read_text().replace("Asia/Shanghai", zone))
        git(x.desk, "commit", "-qam", f"zone {zone}")
    a.ok("sync")
    before = git_state(b.desk)
    result = b("sync")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "itdesk.yaml" in result.stderr
    assert git_state(b.desk) == before
    assert not (b.desk / ".git" / "MERGE_HEAD").exists()


def test_sync_without_a_remote_is_one_line(desk: Itdesk) -> None:
    result = desk("sync")
    assert result.exit_code == 2
    assert "no remote" in result.stderr and result.stderr.count("\n") == 1




def test_sync_with_an_unreachable_remote_is_one_line(desk: Itdesk, tmp_path: Path) -> None:
    git(desk.desk, "remote", "add", "origin", str(tmp_path / "nowhere.git"))
    result = desk("sync")
    assert result.exit_code == 3
    assert result.stderr.startswith("itdesk: error: cannot fetch from origin")
    assert result.stderr.count("\n") == 1


def test_sync_during_an_unresolved_merge_names_it(team: Callable[[int], list[Itdesk]]) -> None:
    a, b = team(2)
    a.new(title="a")
    b.new(title="b")
    a.ok("sync")
    assert _pull(b, "--no-rebase").returncode != 0  # git pull: the add/add stops
    for argv in (["sync"], ["check"], ["list"]):
        result = b(*argv)
        assert result.exit_code == 2 and "middle of a merge" in result.stderr, argv
# ------------------------------------------------------------------ audit


def _audit(d: Itdesk) -> tuple[int, list[dict]]:
    import json

    result = d("audit", "--format", "json")
    return result.exit_code, json.loads(result.stdout)


def test_audit_of_itdesks_own_work_is_clean(team: Callable[[int], list[Itdesk]]) -> None:
    a, b = team(2)
    ta, tb = a.new(title="on a"), b.new(title="on b")
    a.ok("ack", ta, "--now", "2023-10-25T09:40")
    b.ok("log", tb, "--via", "note", "x", "--now", "2023-10-25T09:41")
    a.ok("sync")
    b.ok("sync")
    a.ok("sync")
    code, findings = _audit(a)
    assert (code, findings) == (0, [])
    assert a.ok("audit").stdout == "No findings.\n"


def test_audit_finds_a_hand_edit_of_an_old_log_entry(desk: Itdesk) -> None:
    tid = desk.new()
    desk.ok("ack", tid, "--now", "2023-10-25T09:31")
    path = desk.desk / "tickets" / f"{tid}.yaml"
    path.write_text(path.read_text().replace("reported via chat", "reported by phone"))
    git(desk.desk, "commit", "-qam", "fix a typo")
    code, findings = _audit(desk)
    assert code == 1
    kinds = {(f["kind"], f["ticket"]) for f in findings}
    assert kinds == {("hand-edit", tid), ("log-rewritten", tid)}
    head = git(desk.desk, "rev-parse", "HEAD").strip()
    assert all(f["commit"] == head for f in findings)


def test_audit_finds_a_closed_ticket_changed_and_times_backwards(desk: Itdesk) -> None:
    tid = desk.new()
    desk.walk(tid, "close")
    path = desk.desk / "tickets" / f"{tid}.yaml"
    data = yaml.safe_load(path.read_text())
    data["title"] = "changed after close"
    data["log"].append({"at": "2023-10-25T08:00:00+08:00", "by": "zhang", "kind": "note",
                        "text": "late note"})  # fmt: skip
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    git(desk.desk, "commit", "-qam", f"edit\n\nTicket: {tid}\nAction: edit")
    code, findings = _audit(desk)
    assert code == 1
    assert {f["kind"] for f in findings} == {"closed-changed", "time-backwards"}


def test_audit_finds_a_number_reused_after_a_hand_rm(desk: Itdesk) -> None:
    tid = desk.new()
    text = (desk.desk / "tickets" / f"{tid}.yaml").read_text()
    git(desk.desk, "rm", "-q", f"tickets/{tid}.yaml")
    git(desk.desk, "commit", "-qm", f"rm\n\nTicket: {tid}\nAction: edit")
    (desk.desk / "tickets" / f"{tid}.yaml").write_text(
        text.replace("2023-10-25T09:30:00", "2023-10-25T09:45:00")
    )
    git(desk.desk, "add", ".")
    git(desk.desk, "commit", "-qm", f"again\n\nTicket: {tid}\nAction: new")
    code, findings = _audit(desk)
    assert code == 1 and [f["kind"] for f in findings] == ["number-reused"]


def test_audit_asks_for_signatures_where_the_policy_does(desk: Itdesk) -> None:
    tid = desk.new()
    assert _audit(desk) == (0, [])
    policy = desk.desk / "itdesk.yaml"
    policy.write_text(policy.read_text() + "team: {signed: true}\n")
    git(desk.desk, "commit", "-qam", "sign from now on")
    code, findings = _audit(desk)
    assert code == 1 and {(f["kind"], f["ticket"]) for f in findings} == {("unsigned", tid)}


def test_audit_since_skips_older_commits(desk: Itdesk) -> None:
    tid = desk.new()
    path = desk.desk / "tickets" / f"{tid}.yaml"
    path.write_text(path.read_text().replace("Printer jams", "Printer jams often"))
    git(desk.desk, "commit", "-qam", "hand edit")
    assert _audit(desk)[0] == 1
    result = desk("audit", "--since", "2030-01-01")
    assert (result.exit_code, result.stdout) == (0, "No findings.\n")


# ------------------------------------------------------------------ history


def test_history_is_a_timeline_field_by_field(desk: Itdesk) -> None:
    import json

    tid = desk.new()
    desk.ok("ack", tid, "--now", "2023-10-25T09:31")
    desk.ok("classify", tid, "--priority", "P1", "--now", "2023-10-25T09:32")
    lines = desk.ok("history", tid).stdout.splitlines()
    assert len(lines) == 3
    assert "ack" in lines[1] and "status: new -> acknowledged" in lines[1] and "log +1" in lines[1]
    assert "priority: - -> P1" in lines[2]
    entries = json.loads(desk.ok("history", tid, "--format", "json").stdout)
    assert {"field": "priority", "before": None, "after": "P1"} in entries[2]["changes"]


# ------------------------------------------------------------------ guard


@pytest.fixture
def guarded(team: Callable[[int], list[Itdesk]], tmp_path: Path) -> list[Itdesk]:
    a, b = team(2)
    result = a.ok("guard", "--install", str(tmp_path / "remote.git"))
    assert "pre-receive" in result.stdout
    return [a, b]


def _push(runner: Itdesk, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "push", "-q", *args], cwd=runner.desk,
                          capture_output=True, text=True)  # fmt: skip


def test_the_guard_lets_itdesks_work_through(guarded: list[Itdesk]) -> None:
    a, b = guarded
    ta, tb = a.new(title="on a"), b.new(title="on b")
    a.ok("ack", ta, "--now", "2023-10-25T09:40")
    a.ok("sync")
    b.ok("sync")  # renumbers tb, merges, pushes through the guard
    a.ok("sync")
    assert tb == ta and (a.desk / "tickets" / "IT-20231025-002.yaml").exists()


def test_the_guard_refuses_a_rewritten_log_entry(guarded: list[Itdesk]) -> None:
    a, b = guarded
    tid = a.new()
    a.ok("sync")
    path = a.desk / "tickets" / f"{tid}.yaml"
    path.write_text(path.read_text().replace("reported via chat", "reported by phone"))
    git(a.desk, "commit", "-qam", f"tidy\n\nTicket: {tid}\nAction: edit")
    result = _push(a)
    assert result.returncode != 0
    assert "itdesk guard: refused" in result.stderr and "log-rewritten" in result.stderr
    synced = a("sync")
    assert synced.exit_code == 3 and "refused the push" in synced.stderr


def test_the_guard_refuses_a_force_push_and_an_invalid_ticket(guarded: list[Itdesk]) -> None:
    a, b = guarded
    tid = a.new()
    a.ok("sync")
    git(a.desk, "reset", "-q", "--hard", "HEAD~1")
    result = _push(a, "--force")
    assert result.returncode != 0 and "force push" in result.stderr
    git(a.desk, "reset", "-q", "--hard", "origin/main")
    path = a.desk / "tickets" / f"{tid}.yaml"
    path.write_text(path.read_text().replace("status: new", "status: exploded"))
    git(a.desk, "commit", "-qam", f"break\n\nTicket: {tid}\nAction: edit")
    result = _push(a)
    assert result.returncode != 0 and "invalid ticket" in result.stderr
    assert f"tickets/{tid}.yaml" in result.stderr


def test_guard_install_wants_a_bare_repository(desk: Itdesk) -> None:
    result = desk("guard", "--install", str(desk.desk))
    assert result.exit_code == 2 and "not a bare git repository" in result.stderr


# ------------------------------------------------------------------ merge properties

_MINUTES = st.integers(min_value=31, max_value=59)
_EDIT = st.tuples(
    _MINUTES,
    st.sampled_from(["priority", "assignee", "title", None]),
    st.sampled_from(["P1", "P2", "wang", "li", "x"]),
)


def _side(base: dict, edits: list[tuple[int, str | None, str]]) -> dict:
    out = {**base, "log": list(base["log"])}
    for minute, name, value in sorted(edits, key=lambda e: e[0]):
        entry = _entry(f"09:{minute:02d}", text=f"{name}={value}")
        if name is not None:
            out[name] = value
            if name in ("priority", "assignee"):
                entry[name] = value
        out["log"].append(entry)
    return out


@settings(max_examples=150, deadline=None)
@given(st.lists(_EDIT, max_size=4), st.lists(_EDIT, max_size=4))
def test_merge_is_symmetric_and_idempotent(ours_edits: list, theirs_edits: list) -> None:
    base = _ticket(title="t")
    ours, theirs = _side(base, ours_edits), _side(base, theirs_edits)
    assert merge_ticket(base, ours, ours).data == ours
    one = merge_ticket(base, ours, theirs).data
    assert one == merge_ticket(base, theirs, ours).data
    assert all(e in one["log"] for e in [*ours["log"], *theirs["log"]])
    times = [e["at"] for e in one["log"]]
    assert times == sorted(times)
    assert merge_ticket(ours, ours, one).data == one  # merging the result again: no change


def test_sync_tells_the_requester_the_new_number(team: Callable[[int], list[Itdesk]]) -> None:
    from servers import HttpRecorder

    a, b = team(2)
    with HttpRecorder() as hook:
        policy = a.desk / "itdesk.yaml"
        data = yaml.safe_load(policy.read_text())
        data["notify"] = {"webhooks": [{"url": hook.url(), "style": "generic"}]}
        policy.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
        git(a.desk, "commit", "-qam", "notify")
        a.ok("sync")
        b.ok("sync")
        a.new(title="on a")
        tid = b.new(title="on b")
        a.ok("sync")
        hook.requests.clear()
        b.ok("sync")
        (notice,) = [r.json for r in hook.requests]
        assert notice["event"] == "renumbered" and notice["ticket"] == "IT-20231025-002"
        assert tid in notice["text"] and "IT-20231025-002" in notice["text"]


def test_a_desk_can_make_new_sync_first(team: Callable[[int], list[Itdesk]]) -> None:
    a, b = team(2)
    policy = a.desk / "itdesk.yaml"
    policy.write_text(policy.read_text() + "team: {sync_new: true}\n")
    git(a.desk, "commit", "-qam", "numbers are final when printed")
    a.ok("sync")
    b.ok("sync")
    first = a.new(title="on a")
    second = b.new(title="on b")  # b fetched a's ticket before numbering its own
    assert (first, second) == ("IT-20231025-001", "IT-20231025-002")
    assert git(b.desk, "rev-parse", "HEAD") == git(b.desk, "rev-parse", "origin/main")
    git(a.desk, "remote", "set-url", "origin", str(a.desk.parent / "gone.git"))
    result = a("new", "--title", "offline", "--requester", "x", "--now", "2023-10-25T09:40")
    assert result.exit_code == 3 and "cannot fetch" in result.stderr  # nothing recorded


def test_the_guard_refuses_a_reused_number(guarded: list[Itdesk]) -> None:
    a, _b = guarded
    tid = a.new(title="first")
    a.ok("sync")
    text = (a.desk / "tickets" / f"{tid}.yaml").read_text()
    git(a.desk, "rm", "-q", f"tickets/{tid}.yaml")
    git(a.desk, "commit", "-qm", f"rm\n\nTicket: {tid}\nAction: edit")
    (a.desk / "tickets" / f"{tid}.yaml").write_text(
        text.replace("2023-10-25T09:30:00", "2023-10-25T09:45:00").replace("first", "second")
    )
    git(a.desk, "add", ".")
    git(a.desk, "commit", "-qm", f"again\n\nTicket: {tid}\nAction: new")
    result = _push(a)
    assert result.returncode != 0 and "number-reused" in result.stderr


def test_git_rebase_uses_the_driver(team: Callable[[int], list[Itdesk]]) -> None:
    a, b = team(2)
    tid = a.new()
    _share(a, b)
    a.ok("classify", tid, "--priority", "P2", "--now", "2023-10-25T09:50")
    b.ok("classify", tid, "--priority", "P1", "--now", "2023-10-25T09:40")
    b.ok("log", tid, "--via", "note", "from b", "--now", "2023-10-25T09:41")
    git(a.desk, "push", "-q")
    git(b.desk, "fetch", "-q")
    result = subprocess.run(["git", "rebase", "origin/main"], cwd=b.desk,
                            capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = _data(b, tid)
    assert data["priority"] == "P2"  # a's change is the later one
    assert "from b" in [e["text"] for e in data["log"]]
    b.ok("validate")
    assert b.ok("audit").stdout == "No findings.\n"


def test_setup_as_gives_a_clone_without_identity_the_technicians(
    team: Callable[[int], list[Itdesk]], no_identity: None
) -> None:
    a, b = team(2)
    result = b.ok("setup", "--as", "wang")
    assert "user.email = wang@example.com" in result.stdout
    assert "itdesk.technician = wang" in result.stdout
    tid = b.new()  # wang is this clone's technician
    git(b.desk, "commit", "-q", "--allow-empty", "-m", "by hand")
    authors = git(b.desk, "log", "-2", "--format=%an <%ae>").splitlines()
    assert authors == ["wang <wang@example.com>"] * 2 and tid


def test_the_guard_lets_archive_and_reopen_through(guarded: list[Itdesk]) -> None:
    a, _b = guarded
    tid = a.new()
    a.walk(tid, "close")
    a.ok("sync")
    a.ok("archive", "--now", "2023-11-05T09:00")
    a.ok("sync")
    a.ok("reopen", tid, "--reason", "again", "--now", "2023-11-06T09:00")
    a.ok("sync")
    assert a.ok("audit").stdout == "No findings.\n"


def test_setup_declares_the_driver_for_a_desk_made_before_it(desk: Itdesk) -> None:
    attributes = desk.desk / ".gitattributes"
    attributes.write_text(attributes.read_text().replace(" merge=itdesk", ""))
    git(desk.desk, "commit", "-qam", "an older desk")
    out = desk.ok("setup").stdout
    assert "tickets/**/*.yaml merge=itdesk" in out
    info = (desk.desk / ".git" / "info" / "attributes").read_text()
    assert "tickets/**/*.yaml merge=itdesk" in info
    assert desk.ok("setup").stdout.count("\n") == 1  # once is enough
    check = git(desk.desk, "check-attr", "merge", "--", "tickets/IT-20231025-001.yaml")
    assert check.strip().endswith("merge: itdesk")


def test_history_of_a_renumbered_ticket_starts_at_its_first_number(
    team: Callable[[int], list[Itdesk]],
) -> None:
    import json

    a, b = team(2)
    a.new(title="on a")
    old = b.new(title="on b")
    b.ok("log", old, "--via", "note", "before the sync", "--now", "2023-10-25T09:40")
    a.ok("sync")
    b.ok("sync")
    entries = json.loads(b.ok("history", "IT-20231025-002", "--format", "json").stdout)
    assert [e["action"] for e in entries] == ["new", "log", "renumber"]
    assert {"field": "id", "before": old, "after": "IT-20231025-002"} in entries[2]["changes"]
    mine = json.loads(b.ok("history", old, "--format", "json").stdout)
    assert [e["action"] for e in mine] == ["new"]  # a's ticket, which kept the number


def test_the_same_step_on_two_clones_merges(team: Callable[[int], list[Itdesk]]) -> None:
    a, b = team(2)
    tid = a.new()
    _share(a, b)
    a.ok("ack", tid, "--now", "2023-10-25T09:35")
    b.ok("ack", tid, "--now", "2023-10-25T09:36", "--as", "li")
    a.ok("sync")
    b.ok("sync")
    assert _data(b, tid)["status"] == "acknowledged"
    b.ok("validate")


def test_steps_that_cannot_follow_each_other_stop_the_merge(
    team: Callable[[int], list[Itdesk]],
) -> None:
    from conftest import git_state

    a, b = team(2)
    tid = a.new()
    a.walk(tid, "log")
    a.ok("sync")
    b.ok("sync")
    a.ok("resolve", tid, "--summary", "fixed", "--as", "wang", "--now", "2023-10-25T10:30")
    b.ok("cancel", tid, "--reason", "duplicate", "--now", "2023-10-25T10:35")
    a.ok("sync")
    before = git_state(b.desk)
    result = b("sync")
    assert result.exit_code == 2
    assert f"{tid}: log[" in result.stderr and "resolved -> cancelled" in result.stderr
    assert git_state(b.desk) == before


def test_renumbering_moves_the_knowledge_bases_links(team: Callable[[int], list[Itdesk]]) -> None:
    a, b = team(2)
    a.new(title="on a")
    old = b.new(title="VPN drops")
    b.walk(old, "resolve")
    b.ok("kb", "promote", old, "--now", "2023-10-25T12:00")
    (article,) = [
        p for p in (b.desk / "kb").glob("*.md") if p.name != "README.md"
    ]
    assert f"- {old}" in article.read_text()
    a.ok("sync")
    b.ok("sync")
    text = article.read_text()
    assert "- IT-20231025-002" in text and f"- {old}" not in text
    b.ok("validate")
    assert b.ok("kb", "show", article.stem).exit_code == 0


def test_archived_on_one_clone_reopened_on_another(team: Callable[[int], list[Itdesk]]) -> None:
    a, b = team(2)
    tid = a.new()
    a.walk(tid, "close")
    a.ok("sync")
    b.ok("sync")
    a.ok("archive", "--now", "2023-11-05T09:00")
    b.ok("reopen", tid, "--reason", "again", "--now", "2023-11-04T09:00")
    a.ok("sync")
    b.ok("sync")
    assert _data(b, tid)["status"] == "reopened"  # in tickets/, not hidden in the archive
    assert not list((b.desk / "tickets" / "archive").rglob("*.yaml"))
    assert tid in b.ok("list").stdout
    a.ok("sync")
    assert tid in a.ok("list").stdout
    assert b.ok("audit").stdout == "No findings.\n"


def test_validate_finds_an_open_ticket_left_in_the_archive(
    team: Callable[[int], list[Itdesk]],
) -> None:
    a, b = team(2)
    tid = a.new()
    a.walk(tid, "close")
    _share(a, b)
    a.ok("archive", "--now", "2023-11-05T09:00")
    b.ok("reopen", tid, "--reason", "again", "--now", "2023-11-04T09:00")
    git(a.desk, "push", "-q")
    assert _pull(b, "--no-rebase").returncode == 0  # plain git: the rename wins
    result = b("validate")
    assert result.exit_code == 1 and "in the archive" in result.stdout + result.stderr
    b.ok("sync")
    b.ok("validate")


def test_the_cron_job_syncs_without_a_git_identity(
    team: Callable[[int], list[Itdesk]], no_identity: None
) -> None:
    a, b = team(2)
    tid = a.new(**{"as": "zhang"})
    _share(a, b)
    a.ok("log", tid, "--via", "note", "from a", "--as", "zhang", "--now", "2023-10-25T09:40")
    b.ok("log", tid, "--via", "note", "from b", "--as", "li", "--now", "2023-10-25T09:41")
    a.ok("sync")
    b.ok("sync", "--as", "itdesk-bot")
    merge = git(b.desk, "log", "-1", "--format=%an|%cn|%P").split("|")
    assert merge[0] == "itdesk-bot" and merge[1] == "itdesk-bot" and len(merge[2].split()) == 2
