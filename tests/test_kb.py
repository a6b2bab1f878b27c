"""The knowledge base's pure core: tokens, slugs, ranking, drafting articles from tickets."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from conftest import T0, make_ticket

from itdesk.core.kb import (
    Article,
    Index,
    InvalidArticle,
    article_from_meta,
    article_meta,
    check_slug,
    draft_article,
    join_front_matter,
    link_ticket,
    same_fix,
    slug_for,
    solution_steps,
    split_front_matter,
    suggestions,
    tokenize,
    unique_slug,
)
from itdesk.core.lifecycle import accept, acknowledge, assign, classify, followup, log_work, resolve
from itdesk.core.model import Category, Priority, Requester, Satisfaction, Ticket
from itdesk.errors import InvalidTransition, UsageError
from itdesk.store.yamlio import dump_yaml, parse


def resolved_ticket(
    ticket_id: str = "IT-20231025-001",
    *,
    title: str = "电脑无法连接公司WiFi",
    description: str = "提示“网络身份验证失败”",
    steps: tuple[str, ...] = ("1.检查电脑无线网卡驱动", "2.重置网络配置", "3.更新公司WiFi证书"),
    summary: str = "更新公司WiFi证书后恢复连接",
    category: Category = Category.NETWORK,
    requester: Requester | None = None,
    followed_up: bool = False,
) -> Ticket:
    """A ticket taken through the lifecycle's own functions up to resolved."""
    t = make_ticket(
        ticket_id,
        title=title,
        description=description,
        **({"requester": requester} if requester else {}),
    )
    clock = iter(T0 + timedelta(minutes=5 * i) for i in range(1, 100))
    t = acknowledge(t, now=next(clock), by="desk").ticket
    t = classify(t, now=next(clock), by="desk", priority=Priority.P2, category=category).ticket
    t = assign(t, now=next(clock), by="desk", to="zhang", team="network").ticket
    t = accept(t, now=next(clock), by="zhang").ticket
    for step in steps:
        t = log_work(t, now=next(clock), by="zhang", via="remote", text=step).ticket
    t = resolve(t, now=next(clock), by="zhang", summary=summary, verified=True).ticket
    if followed_up:
        s = Satisfaction.SATISFIED
        t = followup(
            t, now=next(clock), by="desk", speed=s, attitude=s, overall=s, comment="好"
        ).ticket
    return t


def article(
    slug: str, title: str, body: str = "", tags: tuple[str, ...] = (), **kw: str
) -> Article:
    return Article(
        slug=slug,
        title=title,
        category=kw.get("category", "network"),
        tags=tags,
        tickets=("IT-20231025-001",),
        body=body,
    )


# ------------------------------------------------------------------ tokens


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("VPN cannot connect", ["vpn", "连接"]),  # failure is no term; English reads as 中文
        ("Sign-in failed", ["登录"]),
        ("VPN连不上", ["vpn", "连接"]),  # a negated verb reads as the verb
        ("邮箱登录不了，报错0x800", ["邮箱", "箱登", "登录", "0x800"]),
        ("上不了网", ["上网"]),
        ("打印机共享", ["打印", "印机", "机共", "共享"]),
        ("网 VPN", ["网", "vpn"]),
        ("公司WiFi证书", ["公司", "wifi", "证书"]),
        ("ＶＰＮ连接", ["vpn", "连接"]),  # full-width letters are folded
        ("How to fix the printers", ["fix", "打印", "印机"]),  # stopwords out, plurals folded
        ("“网络身份验证失败”！", ["网络", "络身", "身份", "份验", "验证"]),
        ("", []),
        ("--- !!", []),
    ],
)
def test_tokenize(text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens


# ------------------------------------------------------------------- slugs


@pytest.mark.parametrize("slug", ["wifi-certificate", "a", "0vpn", "network-it-20231025-001"])
def test_valid_slugs(slug: str) -> None:
    assert check_slug(slug) == slug


@pytest.mark.parametrize(
    "slug", ["", "-wifi", "WiFi", "../etc/passwd", "wifi/cert", "wifi cert", "打印机", "a" * 81]
)
def test_invalid_slugs_are_refused(slug: str) -> None:
    with pytest.raises(UsageError, match="not a valid article name"):
        check_slug(slug)


def test_slug_from_an_english_title() -> None:
    assert slug_for("WiFi certificate expired!", "network", "IT-20231025-001") == (
        "wifi-certificate-expired"
    )


def test_slug_of_a_chinese_title_is_category_and_ticket() -> None:
    assert slug_for("打印机共享设置", "hardware", "IT-20231025-001") == "hardware-it-20231025-001"


def test_slug_of_a_mixed_title_keeps_its_latin_words() -> None:
    assert slug_for("电脑无法连接公司WiFi", "network", "IT-20231025-001") == (
        "network-wifi-it-20231025-001"
    )


def test_long_titles_give_valid_slugs() -> None:
    slug = slug_for("word " * 60, "other", "IT-20231025-001")
    assert check_slug(slug) and len(slug) <= 80 and not slug.endswith("-")
    slug = slug_for("长" * 50 + " alpha" * 40, "other", "IT-20231025-001")
    assert check_slug(slug) and slug.endswith("it-20231025-001")


def test_unique_slug() -> None:
    assert unique_slug("vpn", []) == "vpn"
    assert unique_slug("vpn", ["vpn", "vpn-2"]) == "vpn-3"
    assert len(unique_slug("a" * 80, ["a" * 80])) == 80


# ----------------------------------------------------------------- ranking

ARTICLES = [
    article("vpn-client", "VPN cannot connect from home", "Reinstall the VPN client.", ("vpn",)),
    article(
        "printer-share",
        "打印机共享设置",
        "在控制面板中添加共享打印机。",
        ("打印机",),
        category="hardware",
    ),
    article("wifi-cert", "电脑无法连接公司WiFi", "更新公司WiFi证书。", ("wifi",)),
    article("outlook", "Outlook keeps asking for a password", "Mention VPN once in the body."),
]


def test_vpn_finds_the_vpn_article_first() -> None:
    hits = Index(ARTICLES).search("VPN")
    assert [h.article.slug for h in hits] == ["vpn-client", "outlook"]
    assert hits[0].score > hits[1].score > 0


def test_chinese_without_spaces_finds_the_printer_article() -> None:
    hits = Index(ARTICLES).search("打印机共享")
    assert hits[0].article.slug == "printer-share"
    assert hits[0].coverage == 1.0


def test_chinese_query_in_a_sentence() -> None:
    hits = Index(ARTICLES).search("连不上公司的WiFi怎么办")
    assert hits[0].article.slug == "wifi-cert"


def test_title_counts_more_than_body() -> None:
    a = article("a", "Printer offline", "nothing")
    b = article("b", "Something else", "printer offline printer")
    assert [h.article.slug for h in Index([b, a]).search("printer offline")] == ["a", "b"]


def test_no_match_and_empty_index() -> None:
    assert Index(ARTICLES).search("蓝屏 bluescreen") == []
    assert Index([]).search("vpn") == []
    assert Index(ARTICLES).search("the") == []


def test_limit() -> None:
    assert len(Index(ARTICLES).search("vpn", limit=1)) == 1


def test_suggestions_need_a_fair_share_of_the_words() -> None:
    index = Index(ARTICLES)
    hits = suggestions(index, "VPN 连不上")  # vpn and 连接: the VPN article says both
    assert [h.article.slug for h in hits][:1] == ["vpn-client"] and hits[0].coverage == 1.0
    long_text = "my monitor flickers after lunch every day and also the vpn"
    assert suggestions(index, long_text) == []


# ---------------------------------------------------------------- drafting

NOW = datetime.fromisoformat("2023-10-25T12:00:00+08:00")


def test_draft_has_front_matter_and_the_four_sections() -> None:
    t = resolved_ticket(followed_up=True)
    a = draft_article(t, "wifi-cert", NOW)
    assert (a.slug, a.title, a.category) == ("wifi-cert", "电脑无法连接公司WiFi", "network")
    assert a.tickets == ("IT-20231025-001",)
    assert a.created == a.updated == "2023-10-25T12:00:00+08:00"
    assert a.tags == ("network", "网络", "wifi")
    heads = [line for line in a.body.splitlines() if line.startswith("## ")]
    assert [h.split()[1] for h in heads] == ["Symptom", "Cause", "Solution", "Self-help"]
    solution = a.body.split("## Solution", 1)[1].split("## Self-help")[0]
    assert "1. 检查电脑无线网卡驱动\n2. 重置网络配置\n3. 更新公司WiFi证书" in solution
    assert "Result (结果): 更新公司WiFi证书后恢复连接" in solution
    assert "follow-up" not in a.body and "accepted" not in a.body  # only the work done
    assert "网络身份验证失败" in a.body.split("## Cause")[0]
    self_help = a.body.split("## Self-help", 1)[1]
    assert "1. Turn Wi-Fi off and on again" in self_help


def test_solution_steps_skip_status_entries_and_repeats() -> None:
    t = resolved_ticket(steps=("reset the adapter", "note: reset the adapter", "reset the adapter"))
    assert solution_steps(t) == ["reset the adapter", "note: reset the adapter"]


def test_draft_masks_personal_data() -> None:
    requester = Requester("王小明", "E1001", "研发部", "13956785678")
    t = resolved_ticket(
        requester=requester,
        description="王小明的电脑无法上网, 回电 13956785678, mail wang.xm@example.com",
        steps=("called 王小明 on 13956785678", "see IT-20231024-007, since 2023-10-24 09:30"),
        summary="E1001 account fixed",
    )
    a = draft_article(t, "wifi", NOW)
    text = a.title + a.body
    for secret in ("王小明", "13956785678", "wang.xm@example.com", "E1001"):
        assert secret not in text
    assert "王*明" in text and "139****5678" in text and "w******@example.com" in text
    # Ticket numbers and dates are no phone numbers.
    assert "IT-20231024-007" in text and "2023-10-24 09:30" in text


def test_only_resolved_or_closed_tickets_are_drafted() -> None:
    with pytest.raises(InvalidTransition, match="only a resolved or closed ticket"):
        draft_article(make_ticket(), "x", NOW)


def test_front_matter_round_trip() -> None:
    a = draft_article(resolved_ticket(), "wifi-cert", NOW)
    text = join_front_matter(dump_yaml(article_meta(a)), a.body)
    assert text.startswith("---\ntitle: 电脑无法连接公司WiFi\ncategory: network\n")
    front, body, first = split_front_matter(text, "kb/wifi-cert.md")
    assert first == 2
    assert article_from_meta("wifi-cert", parse(front), body, "kb/wifi-cert.md") == a


def test_text_without_front_matter_is_refused_with_its_line() -> None:
    with pytest.raises(InvalidArticle, match=r"^kb/x.md:1: no front matter"):
        split_front_matter("# Title\n", "kb/x.md")
    with pytest.raises(InvalidArticle, match="no closing"):
        split_front_matter("---\ntitle: x\n", "kb/x.md")


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ([], "must be a mapping"),
        ({"category": "network"}, "title: missing"),
        ({"title": "x", "category": "printers"}, "category: 'printers' is not one of"),
        ({"title": "x", "category": "network", "tickets": ["IT-1"]}, "not a ticket number"),
        ({"title": "x", "category": "network", "tags": "vpn"}, "tags: expected a list"),
        ({"title": "x", "category": "network", "author": "me"}, "unknown key 'author'"),
        ({"title": "x", "category": "network", "updated": "yesterday"}, "not an ISO 8601"),
    ],
)
def test_bad_front_matter_is_refused(meta: object, message: str) -> None:
    with pytest.raises(InvalidArticle, match=message):
        article_from_meta("x", meta, "", "kb/x.md")


def test_link_ticket_adds_once_and_bumps_updated() -> None:
    a = draft_article(resolved_ticket(), "wifi-cert", NOW)
    later = NOW + timedelta(days=1)
    linked = link_ticket(a, "IT-20231026-001", later)
    assert linked.tickets == ("IT-20231025-001", "IT-20231026-001")
    assert linked.updated == "2023-10-26T12:00:00+08:00" and linked.created == a.created
    assert link_ticket(linked, "IT-20231026-001", later + timedelta(days=1)) is linked


# ----------------------------------------------------------------- same fix


def test_same_fix_in_the_same_category_is_found() -> None:
    first = draft_article(resolved_ticket(), "wifi-cert", NOW)
    second = resolved_ticket("IT-20231026-001", title="WiFi身份验证失败", summary="更新WiFi证书")
    hit = same_fix(Index([first]), second)
    assert hit is not None and hit.article.slug == "wifi-cert"


def test_other_fix_or_other_category_is_not_the_same() -> None:
    first = draft_article(resolved_ticket(), "wifi-cert", NOW)
    vpn = resolved_ticket("IT-20231026-001", title="VPN无法连接", summary="重新安装VPN客户端")
    assert same_fix(Index([first]), vpn) is None
    hardware = resolved_ticket(
        "IT-20231026-002",
        title="WiFi身份验证失败",
        summary="更新WiFi证书",
        category=Category.HARDWARE,
    )
    assert same_fix(Index([first]), hardware) is None


def test_an_article_that_lists_the_ticket_is_its_fix() -> None:
    t = resolved_ticket(title="Completely different", summary="nothing alike")
    a = article("other", "Unrelated", tags=("x",))
    assert same_fix(Index([a]), t) is not None  # a lists IT-20231025-001
