from conftest import Itdesk, git


def test_walk_to_close(desk: Itdesk) -> None:
    tid = desk.new()
    assert tid == "IT-20231025-001"
    desk.walk(tid, "close")
    assert desk.ticket(tid)["status"] == "closed"
    subjects = git(desk.desk, "log", "--format=%s", "--", f"tickets/{tid}.yaml").splitlines()
    assert subjects[0] == f"{tid}: close"
    assert len(subjects) == 9
