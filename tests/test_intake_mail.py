"""itdesk intake mail over a real Maildir, with a real SMTP server on 127.0.0.1 taking the
numbers mailed back: new reports, replies, auto-replies, bounces, the desk's own mail, a
broken message, a second run and overlapping runs."""

from __future__ import annotations

import email
import email.policy
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import SHANGHAI, Itdesk, git
from servers import HOST, SmtpServer

NOW = "2023-10-25T10:00"
SENDER = "helpdesk@corp.example"


def configure(desk: Path, **intake: Any) -> None:
    path = desk / "itdesk.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if intake:
        data["intake"] = {"mail": intake}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    git(desk, "commit", "-qam", "intake")


@pytest.fixture
def smtp(desk: Itdesk) -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        path = desk.desk / "itdesk.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["notify"] = {"smtp": {"host": HOST, "port": server.port, "sender": SENDER}}
        data["sla"].pop("quiet_hours", None)
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
        git(desk.desk, "commit", "-qam", "notify")
        yield server


def maildir(tmp_path: Path) -> Path:
    root = tmp_path / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    return root


def deliver(box: Path, name: str, data: bytes | EmailMessage) -> None:
    raw = data if isinstance(data, bytes) else data.as_bytes()
    (box / "tmp" / name).write_bytes(raw)
    (box / "tmp" / name).rename(box / "new" / name)


def mail(
    subject: str = "打印机卡纸",
    body: str = "三楼打印机一直卡纸，无法打印。",
    sender: str = "王小明 <wang@corp.example>",
    msgid: str = "<a1@mail.corp.example>",
    html: str | None = None,
    **headers: str,
) -> EmailMessage:
    m = EmailMessage()
    m["From"] = sender
    m["To"] = SENDER
    m["Subject"] = subject
    m["Message-ID"] = msgid
    for key, value in headers.items():
        m[key.replace("_", "-")] = value
    m.set_content(body)
    if html is not None:
        m.add_alternative(html, subtype="html")
    return m


def run(desk: Itdesk, box: Path, now: str = NOW) -> Any:
    return desk.runner.invoke(
        __import__("itdesk.cli", fromlist=["cli"]).cli,
        ["intake", "mail", "--desk", str(desk.desk), "--maildir", str(box), "--now", now],
        catch_exceptions=False,
    )


def commits(desk: Itdesk) -> int:
    return int(git(desk.desk, "rev-list", "--count", "HEAD"))


def test_a_new_mail_is_a_ticket_and_its_number_goes_back(
    desk: Itdesk, smtp: SmtpServer, tmp_path: Path
) -> None:
    box = maildir(tmp_path)
    deliver(box, "1.msg", mail())
    before = commits(desk)
    result = run(desk, box)
    assert result.exit_code == 0, result.output
    assert "IT-20231025-001: new ticket from wang@corp.example" in result.stdout
    assert commits(desk) == before + 1
    t = desk.ticket("IT-20231025-001")
    assert t["channel"] == "mail" and t["title"] == "打印机卡纸"
    assert t["requester"]["name"] == "王小明"
    assert t["requester"]["contact"] == "wang@corp.example"
    assert "三楼打印机一直卡纸" in t["description"]
    assert git(desk.desk, "log", "-1", "--format=%an").strip() == "itdesk-mail"
    trailers = git(desk.desk, "log", "-1", "--format=%(trailers)")
    assert "Employee: 王小明 <wang@corp.example>" in trailers
    assert "Intake-Key: mail:" in trailers
    assert "Message-Id: <a1@mail.corp.example>" in trailers
    # handled: out of new/, into cur/ as seen
    assert list((box / "new").iterdir()) == []
    assert [p.name for p in (box / "cur").iterdir()] == ["1.msg:2,S"]
    # the number, mailed back once, to the sender
    assert len(smtp.mails) == 1
    back = email.message_from_bytes(smtp.mails[0].data, policy=email.policy.default)
    assert smtp.mails[0].rcpt_to == ["wang@corp.example"]
    assert "IT-20231025-001" in str(back["Subject"])


def test_html_only_mail_becomes_text_without_markup_or_script(desk: Itdesk, tmp_path: Path) -> None:
    box = maildir(tmp_path)
    m = EmailMessage()
    m["From"] = "li@corp.example"
    # an encoded subject that carries a line break
    m["Subject"] = "=?utf-8?b?T3V0bG9vayBjcmFzaGVzDQpCY2M6IHg=?="
    m["Message-ID"] = "<h1@corp.example>"
    m.set_content(
        "<html><head><style>p{color:red}</style></head><body><p>Outlook &amp; Teams"
        "</p><script>alert(1)</script><p>crash <b>daily</b></p></body></html>",
        subtype="html",
    )
    deliver(box, "h.msg", m)
    assert run(desk, box).exit_code == 0
    t = desk.ticket("IT-20231025-001")
    assert t["description"] == "Outlook & Teams\n\ncrash daily"
    assert "\n" not in t["title"]
    assert t["requester"]["name"] == "li"


def test_a_reply_with_the_number_is_logged_and_reopens_a_resolved_ticket(
    desk: Itdesk, smtp: SmtpServer, tmp_path: Path
) -> None:
    box = maildir(tmp_path)
    deliver(box, "1.msg", mail())
    assert run(desk, box).exit_code == 0
    number = "IT-20231025-001"
    desk.walk(number, "resolve", start=datetime(2023, 10, 25, 10, 0, tzinfo=SHANGHAI))
    reply = mail(
        subject=f"Re: [{number.lower()}] Your request has been received",
        body="还是卡纸。\n\nOn Wed, the desk wrote:\n> old text",
        msgid="<a2@mail.corp.example>",
    )
    deliver(box, "2.msg", reply)
    before = commits(desk)
    result = run(desk, box, now="2023-10-25T11:00")
    assert result.exit_code == 0, result.output
    assert f"{number}: reply from wang@corp.example logged" in result.stdout
    assert commits(desk) == before + 1
    t = desk.ticket(number)
    assert t["status"] == "reopened"
    assert t["log"][-1]["text"] == "mail from 王小明 <wang@corp.example>: 还是卡纸。"
    assert len(list((desk.desk / "tickets").glob("IT-*.yaml"))) == 1


def test_a_reply_does_not_reopen_when_the_policy_says_no_or_from_someone_else(
    desk: Itdesk, tmp_path: Path
) -> None:
    configure(desk.desk, reopen=False)
    box = maildir(tmp_path)
    deliver(box, "1.msg", mail())
    run(desk, box)
    number = "IT-20231025-001"
    desk.walk(number, "resolve", start=datetime(2023, 10, 25, 10, 0, tzinfo=SHANGHAI))
    deliver(box, "2.msg", mail(subject=f"RE: {number}", body="thanks", msgid="<r2@x>"))
    assert run(desk, box, now="2023-10-25T11:00").exit_code == 0
    t = desk.ticket(number)
    assert t["status"] == "resolved" and t["log"][-1]["text"].endswith(": thanks")


def test_auto_replies_bounces_and_the_desks_own_mail_make_no_ticket(
    desk: Itdesk, smtp: SmtpServer, tmp_path: Path
) -> None:
    box = maildir(tmp_path)
    deliver(box, "a.msg", mail(msgid="<o1@x>", Auto_Submitted="auto-replied"))
    deliver(box, "b.msg", mail(msgid="<o2@x>", Precedence="bulk"))
    deliver(box, "c.msg", mail(msgid="<o3@x>", X_Autoreply="yes"))
    deliver(box, "d.msg", mail(msgid="<o4@x>", sender="MAILER-DAEMON@corp.example"))
    deliver(box, "e.msg", mail(msgid="<o5@x>", Return_Path="<>"))
    deliver(box, "f.msg", mail(msgid="<o6@x>", sender=SENDER))
    deliver(box, "g.msg", mail(msgid="<170000.1.2@corp.example>", sender="x@other.example"))
    report = EmailMessage()
    report["From"] = "postmaster@other.example"
    report["Subject"] = "Undelivered"
    report.set_content("failed")
    report.make_mixed()
    report.replace_header("Content-Type", "multipart/report; report-type=delivery-status")
    deliver(box, "h.msg", report)
    deliver(box, "i.msg", mail(msgid="<o7@x>", Auto_Submitted="no", subject="real one"))
    before = commits(desk)
    result = run(desk, box)
    assert result.exit_code == 0, result.output
    assert commits(desk) == before + 1  # only the Auto-Submitted: no one
    assert desk.ticket("IT-20231025-001")["title"] == "real one"
    assert result.stdout.count("ignored") == 8
    assert list((box / "new").iterdir()) == []
    assert len(smtp.mails) == 1


def test_a_broken_message_is_set_aside_and_reported_never_lost(
    desk: Itdesk, tmp_path: Path
) -> None:
    box = maildir(tmp_path)
    broken = b"\x00\xff\xfe garbage without headers\n\x01\x02"
    deliver(box, "bad.msg", broken)
    deliver(box, "nohost.msg", mail(sender="root@localhost", msgid="<nh@x>"))
    deliver(box, "ok.msg", mail())
    result = run(desk, box)
    assert result.exit_code == 0
    assert "set aside nohost.msg" in result.stderr
    assert "set aside bad.msg" in result.stderr and ".itdesk-failed" in result.stderr
    assert (box / ".itdesk-failed" / "new" / "bad.msg").read_bytes() == broken
    assert desk.ticket("IT-20231025-001")["title"] == "打印机卡纸"
    before = commits(desk)
    again = run(desk, box)
    assert again.exit_code == 0 and again.stdout == "" and again.stderr == ""
    assert commits(desk) == before


def test_a_second_run_and_a_redelivered_message_change_nothing(
    desk: Itdesk, tmp_path: Path
) -> None:
    box = maildir(tmp_path)
    deliver(box, "1.msg", mail())
    run(desk, box)
    state = git(desk.desk, "rev-parse", "HEAD")
    assert run(desk, box).stdout == ""
    deliver(box, "1-again.msg", mail())  # the same Message-ID delivered twice
    assert run(desk, box).exit_code == 0
    assert git(desk.desk, "rev-parse", "HEAD") == state
    assert list((box / "new").iterdir()) == []


def test_a_run_killed_after_its_commit_does_not_record_the_message_again(
    desk: Itdesk, tmp_path: Path
) -> None:
    box = maildir(tmp_path)
    deliver(box, "1.msg", mail())
    run(desk, box)
    # as if killed before the message left new/ and before "done" was noted
    (box / "cur" / "1.msg:2,S").rename(box / "new" / "1.msg")
    seen = desk.desk / ".git" / "itdesk" / "intake-seen"
    lines = seen.read_text().splitlines()
    seen.write_text("\n".join(line for line in lines if "\tdone\t" not in line) + "\n")
    state = git(desk.desk, "rev-parse", "HEAD")
    assert run(desk, box).exit_code == 0
    assert git(desk.desk, "rev-parse", "HEAD") == state
    assert list((box / "new").iterdir()) == []


def test_two_overlapping_runs_record_each_message_once(desk: Itdesk, tmp_path: Path) -> None:
    box = maildir(tmp_path)
    for i in range(6):
        deliver(box, f"{i}.msg", mail(subject=f"problem {i}", msgid=f"<m{i}@corp.example>"))
    argv = [sys.executable, "-m", "itdesk", "intake", "mail", "--desk", str(desk.desk),
            "--maildir", str(box), "--now", NOW]  # fmt: skip
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(2)]  # fmt: skip
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    titles = sorted(desk.ticket(p.stem)["title"] for p in (desk.desk / "tickets").glob("IT-*.yaml"))
    assert titles == [f"problem {i}" for i in range(6)]
    assert list((box / "new").iterdir()) == []
    assert len(list((box / "cur").iterdir())) == 6


def test_oversized_mail_and_too_many_attachments_are_set_aside(
    desk: Itdesk, tmp_path: Path
) -> None:
    configure(desk.desk, max_bytes=5000, max_attachments=1)
    box = maildir(tmp_path)
    deliver(box, "big.msg", mail(body="x" * 6000, msgid="<big@x>"))
    m = mail(msgid="<att@x>")
    m.add_attachment(b"a", maintype="application", subtype="octet-stream", filename="a.bin")
    m.add_attachment(b"b", maintype="application", subtype="octet-stream", filename="b.bin")
    deliver(box, "att.msg", m)
    one = mail(msgid="<one@x>", subject="with a log")
    one.add_attachment(b"log", maintype="text", subtype="plain", filename="../../etc/x.log")
    deliver(box, "one.msg", one)
    result = run(desk, box)
    assert result.exit_code == 0
    assert sorted(p.name for p in (box / ".itdesk-failed" / "new").iterdir()) == [
        "att.msg", "big.msg"
    ]  # fmt: skip
    t = desk.ticket("IT-20231025-001")
    assert t["title"] == "with a log"
    assert t["attachments"] == ["attachments/IT-20231025-001/x.log"]
    assert (desk.desk / "attachments/IT-20231025-001/x.log").read_bytes() == b"log"
    assert not (desk.desk.parent / "etc").exists()


def test_attachments_are_stored_under_the_ticket_in_its_one_commit(
    desk: Itdesk, tmp_path: Path
) -> None:
    box = maildir(tmp_path)
    m = mail()
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    m.add_attachment(png, maintype="image", subtype="png", filename="屏幕 截图.png")
    m.add_attachment(png, maintype="image", subtype="png", filename="屏幕 截图.png")
    m.add_attachment(b"<script>", maintype="text", subtype="html", filename=".htaccess")
    deliver(box, "1.msg", m)
    before = commits(desk)
    assert run(desk, box).exit_code == 0
    assert commits(desk) == before + 1
    number = "IT-20231025-001"
    t = desk.ticket(number)
    assert t["attachments"] == [
        f"attachments/{number}/屏幕 截图.png",
        f"attachments/{number}/屏幕 截图-2.png",
        f"attachments/{number}/htaccess",
    ]
    assert (desk.desk / t["attachments"][0]).read_bytes() == png
    shown = git(desk.desk, "show", "--stat", "--format=%s%n%(trailers)", "HEAD")
    assert shown.startswith(f"{number}: new via mail, 3 attachments")
    assert "Intake-Key: mail:" in shown and "Employee: 王小明" in shown
    assert git(desk.desk, "status", "--porcelain") == ""
    # a reply with a file: the log entry and the file in one commit
    reply = mail(subject=f"Re: {number}", body="one more", msgid="<r9@x>")
    reply.add_attachment(b"more", maintype="text", subtype="plain", filename="more.txt")
    deliver(box, "2.msg", reply)
    assert run(desk, box, now="2023-10-25T10:30").exit_code == 0
    assert commits(desk) == before + 2
    t = desk.ticket(number)
    assert t["attachments"][-1] == f"attachments/{number}/more.txt"
    assert any(e["text"].endswith(": one more") for e in t["log"])
    audit = desk("audit")
    assert audit.exit_code == 0, audit.output  # intake's commits are itdesk's own
    assert desk("validate").exit_code == 0


def test_the_desk_must_know_the_mail_robot(desk: Itdesk, tmp_path: Path) -> None:
    path = desk.desk / "itdesk.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["robots"] = ["itdesk-bot"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    git(desk.desk, "commit", "-qam", "robots")
    box = maildir(tmp_path)
    deliver(box, "1.msg", mail())
    result = run(desk, box)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "itdesk-mail" in result.stderr
    assert list((box / "new").iterdir()) != []


def test_usage_errors_are_one_line(desk: Itdesk, tmp_path: Path) -> None:
    from itdesk.cli import cli

    for argv in (
        ["intake", "mail", "--desk", str(desk.desk)],
        ["intake", "mail", "--desk", str(desk.desk), "--maildir", str(tmp_path)],
        ["intake", "mail", "--desk", str(desk.desk), "--imap", "h", "--user", "u"],
    ):
        result = desk.runner.invoke(cli, argv)
        assert result.exit_code == 2, argv
        assert result.stderr.count("\n") == 1, result.stderr


def test_watch_runs_until_told_to_stop_without_the_wall_clock() -> None:
    from itdesk.service.mailin import watch

    runs: list[int] = []
    slept: list[float] = []
    assert watch(lambda: runs.append(1), slept.append, lambda: len(runs) >= 3, 30) == 3
    assert slept == [30, 30]


def test_a_bad_intake_setting_is_one_clear_line(desk: Itdesk, tmp_path: Path) -> None:
    configure(desk.desk, reopen="sometimes")
    result = run(desk, maildir(tmp_path))
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "intake.mail.reopen" in result.stderr


# ------------------------------------------------------------------ IMAPS


class ImapsServer:
    """Enough IMAP4rev1 over TLS on 127.0.0.1 for imaplib: LOGIN, SELECT, UID SEARCH
    UNSEEN, UID FETCH, UID STORE +FLAGS, CREATE, UID COPY, LOGOUT."""

    def __init__(self, context: Any, messages: dict[int, bytes], password: str) -> None:
        import socketserver
        import threading

        self.messages = messages
        self.seen: set[int] = set()
        self.copied: list[tuple[int, str]] = []
        owner = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                owner._session(self, password)

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

            def get_request(self) -> Any:
                sock, addr = super().get_request()
                return context.wrap_socket(sock, server_side=True), addr

        self._server = Server((HOST, 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> ImapsServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _session(self, h: Any, password: str) -> None:
        def say(line: bytes) -> None:
            h.wfile.write(line + b"\r\n")
            h.wfile.flush()

        say(b"* OK IMAP4rev1 ready")
        while line := h.rfile.readline():
            tag, _, rest = line.decode().strip().partition(" ")
            verb, _, args = rest.partition(" ")
            verb = verb.upper()
            if verb == "CAPABILITY":
                say(b"* CAPABILITY IMAP4rev1")
            elif verb == "LOGIN":
                if password not in args:
                    say(f"{tag} NO bad password".encode())
                    continue
            elif verb == "SELECT":
                say(f"* {len(self.messages)} EXISTS".encode())
            elif verb == "UID":
                sub, _, rest2 = args.partition(" ")
                sub = sub.upper()
                if sub == "SEARCH":
                    uids = [str(u) for u in sorted(self.messages) if u not in self.seen]
                    say(("* SEARCH " + " ".join(uids)).strip().encode())
                elif sub == "FETCH":
                    uid = int(rest2.split()[0])
                    raw = self.messages[uid]
                    if "RFC822.SIZE" in rest2:
                        say(f"* {uid} FETCH (UID {uid} RFC822.SIZE {len(raw)})".encode())
                    else:
                        h.wfile.write(
                            f"* {uid} FETCH (UID {uid} BODY[] {{{len(raw)}}}\r\n".encode()
                        )
                        h.wfile.write(raw + b")\r\n")
                elif sub == "STORE":
                    self.seen.add(int(rest2.split()[0]))
                elif sub == "COPY":
                    uid, folder = rest2.split(" ", 1)
                    self.copied.append((int(uid), folder.strip('"')))
            elif verb == "LOGOUT":
                say(b"* BYE")
                say(f"{tag} OK done".encode())
                return
            say(f"{tag} OK done".encode())


def test_imaps_mailbox_new_mail_and_an_unreadable_one(
    desk: Itdesk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from servers import self_signed_cert, server_context

    cert, key = self_signed_cert(tmp_path)
    messages = {1: mail().as_bytes(), 2: b"\x00\x01 not mail", 3: mail(msgid="<i3@x>",
                subject="Re: nothing", Precedence="junk").as_bytes()}  # fmt: skip
    with ImapsServer(server_context(cert, key), messages, "s3cret") as server:
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the default context trusts it
        monkeypatch.setenv("IMAP_PW", "s3cret")
        from itdesk.cli import cli

        argv = ["intake", "mail", "--desk", str(desk.desk), "--imap", f"127.0.0.1:{server.port}",
                "--user", "helpdesk", "--password-env", "IMAP_PW", "--now", NOW]  # fmt: skip
        result = desk.runner.invoke(cli, argv)
        assert result.exit_code == 0, (result.output, result.stderr)
        assert "IT-20231025-001: new ticket from wang@corp.example" in result.stdout
        assert server.seen == {1, 2, 3}
        assert server.copied == [(2, "itdesk-failed")]
        assert "set aside 2" in result.stderr
        again = desk.runner.invoke(cli, argv)
        assert again.exit_code == 0 and again.stdout == ""
        monkeypatch.setenv("IMAP_PW", "wrong")
        refused = desk.runner.invoke(cli, argv)
        assert refused.exit_code == 2 and refused.stderr.count("\n") == 1


def test_a_reply_the_desk_cannot_take_now_stays_for_the_next_run(
    desk: Itdesk, tmp_path: Path
) -> None:
    box = maildir(tmp_path)
    deliver(box, "1.msg", mail())
    run(desk, box)
    number = "IT-20231025-001"
    path = desk.desk / "tickets" / f"{number}.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # a hand edit
    deliver(box, "2.msg", mail(subject=f"Re: {number}", body="any news?", msgid="<q2@x>"))
    deliver(box, "3.msg", mail(subject="另一个问题", msgid="<q3@x>"))
    result = run(desk, box, now="2023-10-25T10:30")
    assert result.exit_code == 1
    assert "left 2.msg" in result.stderr and "uncommitted" in result.stderr
    assert "IT-20231025-002: new ticket" in result.stdout  # the others are taken
    assert [p.name for p in (box / "new").iterdir()] == ["2.msg"]
    git(desk.desk, "checkout", "--", f"tickets/{number}.yaml")
    again = run(desk, box, now="2023-10-25T10:40")
    assert again.exit_code == 0 and f"{number}: reply from" in again.stdout
    assert list((box / "new").iterdir()) == []


def test_a_report_and_the_reply_to_it_in_one_run_are_taken_in_arrival_order(
    desk: Itdesk, tmp_path: Path
) -> None:
    import os

    box = maildir(tmp_path)
    deliver(box, "z-report.eml", mail())
    deliver(box, "a-reply.eml", mail(subject="Re: IT-20231025-001", body="更新", msgid="<z2@x>"))
    os.utime(box / "new" / "z-report.eml", ns=(1_000_000_000, 1_000_000_000))
    os.utime(box / "new" / "a-reply.eml", ns=(2_000_000_000, 2_000_000_000))
    result = run(desk, box)
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "IT-20231025-001: new ticket from wang@corp.example",
        "IT-20231025-001: reply from wang@corp.example logged",
    ]
    assert len(list((desk.desk / "tickets").glob("IT-*.yaml"))) == 1


def test_a_run_reports_in_chinese_with_lang_zh(desk: Itdesk, tmp_path: Path) -> None:
    box = maildir(tmp_path)
    deliver(box, "1.msg", mail())
    deliver(box, "2.msg", mail(msgid="<o1@x>", Auto_Submitted="auto-replied"))
    result = desk.runner.invoke(
        __import__("itdesk.cli", fromlist=["cli"]).cli,
        ["intake", "mail", "--desk", str(desk.desk), "--maildir", str(box), "--now", NOW,
         "--lang", "zh"],
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any(line.endswith("：新工单，来自 wang@corp.example") for line in lines), lines
    assert any("未受理，自动发送的邮件（Auto-Submitted: auto-replied）" in line for line in lines)
