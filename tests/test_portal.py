"""The employees' portal over real HTTP: waitress on 127.0.0.1, a cookie-keeping client.

Each test serves a desk made in tmp_path (``create_app`` with a fixed clock) and
checks what an employee's browser would get back, and what the desk records: commits,
their author and trailers, ticket files."""

from __future__ import annotations

import http.cookiejar
import json
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
import yaml
from conftest import SHANGHAI, Itdesk, git, git_state

from itdesk.web.app import create_app

NOW = datetime(2024, 5, 6, 9, 30, tzinfo=SHANGHAI)
FORM = {
    "title": "VPN连不上",
    "requester": "王小明",
    "employee_id": "E1001",
    "department": "财务部",
    "contact": "13912345678",
    "description": "在家连VPN报错809",
    "blocks_work": "on",
    "scope": "本人",
    "devices": "ThinkPad X1, 手机",
    "expected_by": "今日下班前",
}


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    text: str

    @property
    def location(self) -> str:
        return self.headers.get("location", "")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Browser:
    """Keeps cookies like a browser; redirects are returned, not followed."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )

    def _send(self, req: urllib.request.Request) -> Reply:
        try:
            with self.opener.open(req, timeout=30) as resp:
                body = resp.read()
                status = resp.status
                headers = {k.lower(): v for k, v in resp.headers.items()}
        except urllib.error.HTTPError as exc:
            body, status = exc.read(), exc.code
            headers = {k.lower(): v for k, v in exc.headers.items()}
        return Reply(status, headers, body.decode("utf-8", "replace"))

    def get(self, path: str) -> Reply:
        return self._send(urllib.request.Request(self.base + path))

    def csrf(self, path: str = "/") -> str:
        m = re.search(r'name="csrf_token" value="([^"]+)"', self.get(path).text)
        assert m, "no CSRF token in the page"
        return m.group(1)

    def post(
        self, path: str, fields: dict[str, str], files: dict[str, tuple[str, bytes]] | None = None
    ) -> Reply:
        boundary = uuid.uuid4().hex
        parts: list[bytes] = []
        for name, value in fields.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
                + value.encode("utf-8")
                + b"\r\n"
            )
        for name, (filename, data) in (files or {}).items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: image/png\r\n\r\n'.encode()
                + data
                + b"\r\n"
            )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        req = urllib.request.Request(self.base + path, data=body, method="POST")
        req.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
        return self._send(req)

    def report(self, **changes: str) -> Reply:
        fields = {**FORM, **changes, "csrf_token": self.csrf(), "action": "report"}
        return self.post("/", {k: v for k, v in fields.items() if v is not None})


@dataclass
class Portal:
    desk: Itdesk
    base: str

    def browser(self) -> Browser:
        return Browser(self.base)


@pytest.fixture
def serve() -> Iterator[Callable[[Itdesk], Portal]]:
    from waitress import create_server

    servers = []

    def start(desk: Itdesk) -> Portal:
        app = create_app(desk.desk, clock=lambda: NOW, env={})
        server = create_server(app, host="127.0.0.1", port=0, threads=4)

        def run() -> None:
            try:
                server.run()
            except OSError:  # its socket closed by the teardown below, mid-select
                pass

        threading.Thread(target=run, daemon=True).start()
        servers.append(server)
        return Portal(desk, f"http://127.0.0.1:{server.effective_port}")

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def portal(desk: Itdesk, serve: Callable[[Itdesk], Portal]) -> Portal:
    return serve(desk)


def ticket_of(portal: Portal, reply: Reply) -> tuple[str, str]:
    """(the token, the ticket number) of a report's redirect."""
    assert reply.status == 303, (reply.status, reply.text[:300])
    m = re.fullmatch(r"/t/([0-9a-f]{32})\?new=1", reply.location)
    assert m, reply.location
    page = portal.browser().get(f"/t/{m.group(1)}")
    number = re.search(r'id="number">([^<]+)<', page.text)
    assert number
    return m.group(1), number.group(1)


# ------------------------------------------------------------------ the form


def test_the_form_has_the_contracts_fields_and_a_csrf_token(portal: Portal) -> None:
    page = portal.browser().get("/")
    assert page.status == 200 and "text/html" in page.headers["content-type"]
    for name in (*FORM, "screenshot", "csrf_token"):
        assert f'name="{name}"' in page.text, name
    assert 'type="file" id="screenshot" name="screenshot"' in page.text
    assert 'type="hidden" name="csrf_token"' in page.text
    assert 'name="viewport"' in page.text  # usable on a phone
    assert portal.browser().get("/healthz").status == 200


def test_a_report_is_one_commit_by_the_portal_naming_the_employee(portal: Portal) -> None:
    before = int(git(portal.desk.desk, "rev-list", "--count", "HEAD"))
    token, number = ticket_of(portal, portal.browser().report())
    assert number == "IT-20240506-001" and number not in token
    assert int(git(portal.desk.desk, "rev-list", "--count", "HEAD")) == before + 1
    author = git(portal.desk.desk, "log", "-1", "--format=%an <%ae>")
    assert author.startswith("itdesk-portal <")
    trailers = git(portal.desk.desk, "log", "-1", "--format=%(trailers)")
    assert f"Ticket: {number}" in trailers and "Employee: 王小明 (E1001)" in trailers
    t = portal.desk.ticket(number)
    assert t["channel"] == "portal" and t["title"] == "VPN连不上"
    assert t["requester"] == {"name": "王小明", "employee_id": "E1001", "department": "财务部",
                              "contact": "13912345678"}  # fmt: skip
    assert t["impact"] == {"blocks_work": True, "scope": "本人", "devices": ["ThinkPad X1", "手机"]}
    assert t["expected_by"] == "2024-05-06T18:00:00+08:00"
    assert portal.desk.ok("validate").exit_code == 0


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_a_screenshot_is_stored_under_the_ticket_in_the_same_commit(portal: Portal) -> None:
    b = portal.browser()
    before = int(git(portal.desk.desk, "rev-list", "--count", "HEAD"))
    fields = {**FORM, "csrf_token": b.csrf(), "action": "report"}
    reply = b.post("/", fields, files={"screenshot": ("../../etc/截图 1.png", PNG)})
    _, number = ticket_of(portal, reply)
    assert int(git(portal.desk.desk, "rev-list", "--count", "HEAD")) == before + 1
    rel = f"attachments/{number}/screenshot.png"
    assert portal.desk.ticket(number)["attachments"] == [rel]
    assert (portal.desk.desk / rel).read_bytes() == PNG
    assert rel in git(portal.desk.desk, "show", "--name-only", "--format=", "HEAD")
    assert "Employee: 王小明 (E1001)" in git(portal.desk.desk, "log", "-1", "--format=%B")
    assert portal.desk.ok("validate").exit_code == 0


def test_an_empty_file_field_is_no_screenshot_and_a_non_image_is_refused(portal: Portal) -> None:
    b = portal.browser()
    fields = {**FORM, "csrf_token": b.csrf(), "action": "report"}
    _, number = ticket_of(portal, b.post("/", fields, files={"screenshot": ("", b"")}))
    assert portal.desk.ticket(number)["attachments"] == []
    before = git_state(portal.desk.desk)
    page = b.post("/", fields, files={"screenshot": ("x.png", b"<html><script>")})
    assert page.status == 400 and "The screenshot must be an image" in page.text
    assert git_state(portal.desk.desk) == before


def test_a_form_without_its_csrf_token_is_refused_and_records_nothing(portal: Portal) -> None:
    before = git_state(portal.desk.desk)
    b = portal.browser()
    b.get("/")  # a cookie, but no token sent back
    assert b.post("/", {**FORM, "action": "report"}).status == 400
    assert b.post("/", {**FORM, "action": "report", "csrf_token": "x" * 43}).status == 400
    other = portal.browser()  # a token from another visitor's page
    assert b.post("/", {**FORM, "action": "report", "csrf_token": other.csrf()}).status == 400
    assert git_state(portal.desk.desk) == before


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"requester": ""}, "Please give your name."),
        ({"contact": ""}, "Please give a mobile number"),
        ({"title": "", "description": ""}, "Please say in a few words"),
        ({"contact": "a@b.com, c@d.com"}, "is not one phone number"),
        ({"title": "VPN\nTicket: IT-20240101-001"}, "line break"),
        ({"title": "x" * 201}, "at most 200"),
        ({"expected_by": "someday"}, "bad time"),
        ({"expected_by": "2024-05-01T09:00"}, "before the report"),
    ],
)
def test_bad_input_shows_the_form_again_with_one_message_and_records_nothing(
    portal: Portal, changes: dict[str, str], says: str
) -> None:
    before = git_state(portal.desk.desk)
    reply = portal.browser().report(**changes)
    assert reply.status == 400
    assert says in reply.text
    assert 'name="requester"' in reply.text  # the form, with what was typed
    assert git_state(portal.desk.desk) == before


def test_what_is_typed_is_escaped_in_the_page(portal: Portal) -> None:
    title = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    token, number = ticket_of(portal, portal.browser().report(title=title))
    page = portal.browser().get(f"/t/{token}").text
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    again = portal.browser().report(title=title, contact="")  # shown again in the form
    assert "<script>alert(1)" not in again.text


def test_an_oversized_form_is_refused(portal: Portal) -> None:
    before = git_state(portal.desk.desk)
    b = portal.browser()
    reply = b.post("/", {**FORM, "csrf_token": b.csrf(), "description": "x" * 200_000})
    assert reply.status == 413
    assert git_state(portal.desk.desk) == before


def test_parallel_reports_get_different_numbers(portal: Portal) -> None:
    def one(i: int) -> str:
        return ticket_of(portal, portal.browser().report(title=f"问题 {i}"))[1]

    with ThreadPoolExecutor(4) as pool:
        numbers = list(pool.map(one, range(8)))
    assert sorted(numbers) == [f"IT-20240506-{i:03d}" for i in range(1, 9)]


# ----------------------------------------------------------- the private page


def test_the_private_page_shows_status_and_progress_but_not_internal_notes(
    portal: Portal,
) -> None:
    token, number = ticket_of(portal, portal.browser().report())
    d = portal.desk
    d.ok("ack", number, "--now", "2024-05-06T09:35")
    d.ok("log", number, "--via", "note", "内部备注：账号在黑名单", "--now", "2024-05-06T09:36")
    d.ok("assign", number, "--to", "wang", "--now", "2024-05-06T09:40")
    page = portal.browser().get(f"/t/{token}").text
    assert 'id="status">assigned<' in page and "wang" in page
    assert "内部备注" not in page
    d.ok("accept", number, "--as", "wang", "--now", "2024-05-06T09:41")
    d.ok("resolve", number, "--summary", "重装证书", "--as", "wang", "--now", "2024-05-06T10:00")
    page = portal.browser().get(f"/t/{token}").text
    assert 'id="status">resolved<' in page and 'id="solution">重装证书<' in page


def test_a_comment_is_a_note_by_the_portal_and_shows_on_the_page(portal: Portal) -> None:
    token, number = ticket_of(portal, portal.browser().report())
    b = portal.browser()
    reply = b.post(
        f"/t/{token}", {"csrf_token": b.csrf(f"/t/{token}"), "comment": "下午2点后在工位"}
    )
    assert reply.status == 303 and reply.location == f"/t/{token}?done=1"
    last = portal.desk.ticket(number)["log"][-1]
    assert last["kind"] == "note" and last["by"] == "itdesk-portal"
    assert last["text"] == "王小明 (portal): 下午2点后在工位"
    assert "Employee: 王小明 (E1001)" in git(portal.desk.desk, "log", "-1", "--format=%(trailers)")
    assert "下午2点后在工位" in b.get(f"/t/{token}").text


def test_no_comment_on_a_closed_ticket_and_none_empty(portal: Portal) -> None:
    token, number = ticket_of(portal, portal.browser().report())
    b = portal.browser()
    before = git_state(portal.desk.desk)
    reply = b.post(f"/t/{token}", {"csrf_token": b.csrf(f"/t/{token}"), "comment": "  "})
    assert reply.status == 400 and "Please write a comment." in reply.text
    portal.desk.ok("cancel", number, "--reason", "重复", "--now", "2024-05-06T09:40")
    before = git_state(portal.desk.desk)
    page = b.get(f"/t/{token}").text
    assert 'name="comment"' not in page and "This ticket is closed." in page
    reply = b.post(f"/t/{token}", {"csrf_token": b.csrf("/"), "comment": "还在吗"})
    assert reply.status == 400 and "closed" in reply.text
    assert git_state(portal.desk.desk) == before


def test_unknown_tokens_are_404_and_numbers_are_no_tokens(portal: Portal) -> None:
    _, number = ticket_of(portal, portal.browser().report())
    b = portal.browser()
    for path in (f"/t/{number}", "/t/" + "0" * 32, "/t/../itdesk.yaml", "/t/x"):
        assert b.get(path).status == 404, path


def test_a_ticket_made_on_the_command_line_has_a_private_link_too(portal: Portal) -> None:
    from itdesk.service.portal import load_secret, token_of
    from itdesk.store.desk import Desk

    number = portal.desk.new(now="2024-05-06T09:00")
    token = token_of(load_secret(Desk.open(portal.desk.desk), {}), number)
    assert number in portal.browser().get(f"/t/{token}").text


# ------------------------------------------------------------- self-help


@pytest.fixture
def with_article(portal: Portal) -> Portal:
    d = portal.desk
    tid = d.new(now="2024-05-06T08:00", title="VPN连接报错809", description="VPN 报错 809")
    d.walk(tid, "resolve", start=datetime(2024, 5, 6, 8, 0, tzinfo=SHANGHAI))
    d.ok("kb", "promote", tid, "--now", "2024-05-06T08:59")
    return portal


def test_matching_articles_are_shown_before_submitting(with_article: Portal) -> None:
    b = with_article.browser()
    before = git_state(with_article.desk.desk)
    page = b.post("/", {**FORM, "csrf_token": b.csrf(), "action": "look"})
    assert page.status == 200
    slugs = re.findall(r'href="/kb/([a-z0-9-]+)"', page.text)
    assert slugs, page.text[-800:]
    assert git_state(with_article.desk.desk) == before  # looking records nothing
    found = json.loads(b.get("/kb/suggest?q=" + urllib.parse.quote("VPN连不上")).text)
    assert [a["slug"] for a in found][:1] == slugs[:1]
    article = b.get(f"/kb/{slugs[0]}")
    assert article.status == 200 and "VPN" in article.text
    assert b.get("/kb/no-such-article").status == 404
    assert b.get("/kb/..%2Fitdesk").status == 404


def test_a_solved_by_article_click_is_counted(with_article: Portal) -> None:
    b = with_article.browser()
    page = b.post("/", {**FORM, "csrf_token": b.csrf(), "action": "look"})
    slug = re.findall(r'href="/kb/([a-z0-9-]+)"', page.text)[0]
    assert b.post(f"/kb/{slug}/solved", {}).status == 400  # no token
    for _ in range(2):
        reply = b.post(f"/kb/{slug}/solved", {"csrf_token": b.csrf(f"/kb/{slug}")})
        assert reply.status == 200 and 'id="thanks"' in reply.text
    counts = json.loads((with_article.desk.desk / ".git/itdesk/kb-solved.json").read_text())
    assert counts == {slug: 2}


# ------------------------------------------------------------- languages


def test_pages_follow_the_desks_locale_and_switch(
    desk: Itdesk, serve: Callable[..., Portal]
) -> None:
    path = desk.desk / "itdesk.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["locale"] = "zh"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    git(desk.desk, "commit", "-qam", "zh")
    portal = serve(desk)
    b = portal.browser()
    assert "报告IT问题" in b.get("/").text
    assert "Report an IT problem" in b.get("/?lang=en").text
    assert "Report an IT problem" in b.get("/").text  # remembered
    token, _ = ticket_of(portal, b.report())
    assert 'id="status">已提交<' in portal.browser().get(f"/t/{token}").text


# ------------------------------------------------------------- serve


def test_serve_refuses_a_desk_that_does_not_know_the_portal(desk: Itdesk) -> None:
    path = desk.desk / "itdesk.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data["robots"][:2] == ["itdesk-bot", "itdesk-portal"]  # what init writes
    data["robots"] = ["itdesk-bot"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    git(desk.desk, "commit", "-qam", "no portal")
    result = desk("serve", "--port", "1")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "does not know 'itdesk-portal'" in result.stderr


def test_the_secret_is_kept_private_in_git(portal: Portal) -> None:
    key = portal.desk.desk / ".git/itdesk/portal.key"
    assert key.stat().st_mode & 0o077 == 0 and len(key.read_bytes()) >= 32
    assert "portal.key" not in git(portal.desk.desk, "ls-files")
