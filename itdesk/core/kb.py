"""The knowledge base's core: articles, slugs, drafting from a ticket, and ranked search.

An article is ``kb/<slug>.md``: YAML front matter (title, category, tags, source
tickets, created, updated) and a Markdown body with the sections Symptom, Cause,
Solution and Self-help. This module only works on text and values; reading, writing
and YAML are the shell's (:mod:`itdesk.service.kb`), so everything here is testable
without a desk.

Search is BM25 over title, tags and body, the title and tags counting more. Chinese
has no spaces between words and a word segmenter (jieba) would cost a dictionary and
~1 s of start-up, so CJK text is split into overlapping character bigrams, the usual
trick of full-text engines (Lucene's CJKAnalyzer): ``打印机共享`` -> 打印 印机 机共 共享,
which a title ``打印机共享设置`` contains. Latin text is lowercase words.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ..errors import InvalidTicket, InvalidTransition, UsageError
from .ids import ID_PATTERN
from .model import CONTACT_KINDS, ZH_LABELS, Category, LogKind, Status, Ticket, format_time
from .privacy import redact

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
SLUG_MAX = 80
FRONT_KEYS = ("title", "category", "tags", "tickets", "created", "updated")
PROMOTABLE = frozenset({Status.RESOLVED, Status.CLOSED})

# A ticket's fix "is" an article's when they share the category and at least this share
# of the distinct search terms of the ticket's title and solution is in the article.
SAME_FIX_COVERAGE = 0.6
# `itdesk new` suggests an article only when this share of the report's terms matches.
SUGGEST_COVERAGE = 0.25

TITLE_BOOST = 3.0
TAG_BOOST = 2.0
_K1 = 1.2
_B = 0.75


class InvalidArticle(InvalidTicket):
    """A KB article whose file name, front matter or fields are wrong (path and line)."""


class UnknownArticle(UsageError):
    """No article with that slug."""


# ------------------------------------------------------------------------ slugs


def check_slug(slug: str) -> str:
    """Return ``slug`` if it is safe as a file name under ``kb/``."""
    if not SLUG_PATTERN.fullmatch(slug):
        raise UsageError(
            f"{slug!r} is not a valid article name; use 1-80 lowercase letters, digits and "
            "'-', starting with a letter or digit (like wifi-certificate)"
        )
    return slug


def is_slug(text: str) -> bool:
    return bool(SLUG_PATTERN.fullmatch(text))


def _ascii_words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", unicodedata.normalize("NFKC", text).lower())


def _has_cjk(text: str) -> bool:
    return any(_is_cjk(c) for c in text)


def _join_words(words: Iterable[str], limit: int) -> str:
    out = ""
    for w in words:
        candidate = f"{out}-{w}" if out else w
        if len(candidate) > limit:
            break
        out = candidate
    return out


def slug_for(title: str, category: str, ticket_id: str) -> str:
    """The article name for a title: its English words (``wifi-certificate-expired``).

    A title with Chinese in it gets ``<category>[-<its Latin words>]-<ticket>`` instead
    (``network-it-20231025-001``, ``network-wifi-it-20231025-001``): pinyin would need a
    dictionary and mostly reads worse than the ticket number it points to.
    """
    ticket_part = ticket_id.lower()
    words = _ascii_words(title)
    if words and not _has_cjk(title):
        slug = _join_words(words, SLUG_MAX)
        if slug:
            return check_slug(slug)
    cat = _ascii_words(category)[:1] or ["kb"]
    room = SLUG_MAX - len(ticket_part) - len(cat[0]) - 2
    middle = _join_words([w for w in words if w not in _STOPWORDS][:3], room)
    parts = [cat[0], middle, ticket_part] if middle else [cat[0], ticket_part]
    return check_slug("-".join(parts)[:SLUG_MAX].strip("-"))


def unique_slug(base: str, taken: Iterable[str]) -> str:
    """``base``, or ``base-2``, ``base-3``... whichever is not ``taken``."""
    used = set(taken)
    if base not in used:
        return base
    n = 2
    while True:
        tail = f"-{n}"
        candidate = base[: SLUG_MAX - len(tail)].rstrip("-") + tail
        if candidate not in used:
            return check_slug(candidate)
        n += 1


# --------------------------------------------------------------------- articles


@dataclass(frozen=True, slots=True)
class Article:
    slug: str
    title: str
    category: str
    tags: tuple[str, ...] = ()
    tickets: tuple[str, ...] = ()
    created: str | None = None  # ISO 8601, as written in the front matter
    updated: str | None = None
    body: str = ""

    @property
    def path(self) -> str:
        return f"kb/{self.slug}.md"


def article_meta(a: Article) -> dict[str, Any]:
    """The front matter, keys in file order."""
    return {
        "title": a.title,
        "category": a.category,
        "tags": list(a.tags),
        "tickets": list(a.tickets),
        "created": a.created,
        "updated": a.updated,
    }


def article_to_dict(a: Article, body: bool = True) -> dict[str, Any]:
    """The article for ``--format json``: slug, the front matter, and the body."""
    out: dict[str, Any] = {"slug": a.slug, **article_meta(a)}
    if body:
        out["body"] = a.body
    return out


def split_front_matter(text: str, path: str) -> tuple[str, str, int]:
    """(front matter YAML, body, line where the YAML starts) of an article's text."""
    text = text.removeprefix("\ufeff")
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip() != "---":
        raise InvalidArticle(
            "no front matter: an article starts with a line '---', then title, category, "
            "tags, tickets, created, updated, then '---' and the Markdown body",
            path,
            1,
        )
    for i, line in enumerate(lines[1:], start=1):
        if line.rstrip() in ("---", "..."):
            return "".join(lines[1:i]), "".join(lines[i + 1 :]).lstrip("\n"), 2
    raise InvalidArticle("the front matter has no closing '---' line", path, 1)


def join_front_matter(front_yaml: str, body: str) -> str:
    front = front_yaml if front_yaml.endswith("\n") else front_yaml + "\n"
    return f"---\n{front}---\n\n{body.strip()}\n"


def _strings(
    value: Any, key: str, path: str, line: Callable[[list[str | int]], int | None]
) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(
        isinstance(v, str | int) and not isinstance(v, bool) for v in value
    ):
        raise InvalidArticle(f"{key}: expected a list of text", path, line([key]))
    return tuple(str(v).strip() for v in value if str(v).strip())


def article_from_meta(
    slug: str,
    meta: Any,
    body: str,
    path: str,
    line: Callable[[list[str | int]], int | None] = lambda keys: None,
) -> Article:
    """Build an article from parsed front matter; ``line(keys)`` locates a bad field."""
    if not isinstance(meta, Mapping):
        raise InvalidArticle("the front matter must be a mapping (title: ..., ...)", path, 2)
    unknown = [k for k in meta if k not in FRONT_KEYS]
    if unknown:
        raise InvalidArticle(
            f"unknown key {unknown[0]!r}; accepted: {', '.join(FRONT_KEYS)}",
            path,
            line([str(unknown[0])]),
        )
    title = meta.get("title")
    if not isinstance(title, str | int) or not str(title).strip():
        raise InvalidArticle("title: missing or empty", path, line(["title"]))
    category = meta.get("category")
    if category not in {c.value for c in Category}:
        accepted = ", ".join(c.value for c in Category)
        raise InvalidArticle(
            f"category: {category!r} is not one of {accepted}", path, line(["category"])
        )
    tickets = _strings(meta.get("tickets"), "tickets", path, line)
    for i, tid in enumerate(tickets):
        if not ID_PATTERN.fullmatch(tid):
            raise InvalidArticle(
                f"tickets: {tid!r} is not a ticket number (like IT-20231025-001)",
                path,
                line(["tickets", i]),
            )
    times: dict[str, str | None] = {}
    for key in ("created", "updated"):
        value = meta.get(key)
        if value is not None:
            try:
                datetime.fromisoformat(str(value))
            except ValueError:
                raise InvalidArticle(
                    f"{key}: {value!r} is not an ISO 8601 time", path, line([key])
                ) from None
        times[key] = None if value is None else str(value)
    return Article(
        slug=slug,
        title=str(title).strip(),
        category=str(category),
        tags=_strings(meta.get("tags"), "tags", path, line),
        tickets=tickets,
        created=times["created"],
        updated=times["updated"],
        body=body,
    )


def link_ticket(a: Article, ticket_id: str, now: datetime) -> Article:
    """The article with ``ticket_id`` among its source tickets, updated ``now``."""
    if ticket_id in a.tickets:
        return a
    return replace(a, tickets=a.tickets + (ticket_id,), updated=format_time(now))


# --------------------------------------------------------------------- drafting

WORK_KINDS = CONTACT_KINDS | {LogKind.NOTE}

SELF_HELP: dict[Category, tuple[str, ...]] = {
    Category.NETWORK: (
        "Turn Wi-Fi off and on again, or unplug and replug the network cable "
        "(关闭再打开WiFi，或重新插拔网线).",
        "Restart the computer and try again (重启电脑后重试).",
        "Ask a colleague nearby whether their connection works; if not, tell the desk that "
        "several people are affected (询问周围同事是否也无法连接).",
    ),
    Category.HARDWARE: (
        "Check that the device is switched on and its cables are firmly plugged in "
        "(检查电源和线缆是否连接牢固).",
        "Switch the device off and on again (重启设备).",
        "Note the error message or indicator lights; a photo helps the technician "
        "(记录报错信息或指示灯状态，拍照更佳).",
    ),
    Category.SOFTWARE: (
        "Close the program and open it again; if that does not help, restart the computer "
        "(关闭程序后重新打开，仍不行则重启电脑).",
        "Note the exact error text or code and what you did just before "
        "(记录完整的报错信息和操作步骤).",
        "Ask whether colleagues see the same error (确认同事是否遇到相同报错).",
    ),
    Category.ACCOUNT: (
        "Check Caps Lock and the input method, then type the password again "
        "(检查大小写锁定和输入法后重新输入密码).",
        "Use the self-service password reset if your company has one "
        "(如有自助重置，可先自行重置密码).",
        "Never send your password to anyone, the desk included (不要把密码发给任何人).",
    ),
    Category.OTHER: (
        "Restart the program or device and try again (重启程序或设备后重试).",
        "Note the exact error text and when it happens (记录报错内容和出现时间).",
    ),
}
ESCALATE_STEP = (
    "If it still fails, report it to the IT service desk with the error text "
    "(仍无法解决请联系IT服务台并提供报错信息)."
)
CAUSE_PLACEHOLDER = (
    "Not recorded in the source ticket; describe the root cause here (工单未记录根本原因，请补充)."
)

# Ticket numbers and ISO dates look like phone numbers to the masking of free text.
# The module's patterns are compiled when first used (functools.cache): ``new`` imports
# this module for its suggestions and, on a desk without articles, uses none of them.


@functools.cache
def _keep() -> re.Pattern[str]:
    return re.compile(r"[A-Z][A-Z0-9]{0,15}-\d{8}-\d{1,9}|\d{4}-\d{2}-\d{2}(?:[T ][\d:.+-]+)?")


@functools.cache
def _numbering() -> re.Pattern[str]:
    return re.compile(r"^\s*(?:\d{1,2}\s*[.、)）]|[-*•]\s)\s*")


def scrubber(t: Ticket) -> Callable[[str], str]:
    """Masks the requester's name, employee number and contact, and any phone number or
    e-mail address, in free text that goes into an article (never revealed: articles
    are read by everyone)."""
    names = [t.requester.name, t.requester.employee_id]
    contacts = [t.requester.contact]

    def scrub(text: str) -> str:
        out, last = [], 0
        for m in _keep().finditer(text):
            out += [redact(text[last : m.start()], names, contacts), m.group(0)]
            last = m.end()
        out.append(redact(text[last:], names, contacts))
        return "".join(out)

    return scrub


def solution_steps(t: Ticket) -> list[str]:
    """The handling steps of the log (phone, remote, on-site, notes) up to the resolution."""
    until = t.resolution.at if t.resolution else None
    steps: list[str] = []
    for e in t.log:
        if e.kind not in WORK_KINDS or (until is not None and e.at > until):
            continue
        if e.text.startswith("follow-up call:"):
            continue
        text = _numbering().sub("", " ".join(e.text.split()))
        if text and text not in steps:
            steps.append(text)
    return steps


def tags_for(t: Ticket, category: Category) -> tuple[str, ...]:
    """The category (in English and Chinese) and the Latin words of the title (VPN, WiFi)."""
    words = [w for w in _ascii_words(t.title) if w not in _STOPWORDS and not w.isdigit()]
    tags = [category.value, ZH_LABELS[category], *words]
    return tuple(dict.fromkeys(tags))[:8]


def promotable(t: Ticket) -> None:
    """Raise unless ``t`` is resolved or closed and has a solution to tell."""
    if t.status not in PROMOTABLE:
        raise InvalidTransition(
            f"{t.id} is {t.status.value}: only a resolved or closed ticket can become a KB "
            f"article; resolve it first (itdesk resolve {t.id} --summary TEXT)"
        )
    if t.resolution is None and not solution_steps(t):
        raise InvalidTransition(
            f"{t.id} was closed without a resolution or handling steps: there is no "
            "solution to write up"
        )


@functools.cache
def _zh_part() -> re.Pattern[str]:
    return re.compile(r"^(?P<en>.*?)\s*\((?P<zh>[^()]*[\u4e00-\u9fff][^()]*)\)(?P<end>[.:]?)$")


def _said(text: str, lang: str) -> str:
    """A bilingual template line (``Restart the computer (重启电脑后重试).``) as it is,
    or, for a zh desk, its Chinese alone (``重启电脑后重试。``)."""
    if lang != "zh":
        return text
    heading = "## " if text.startswith("## ") else ""
    m = _zh_part().match(text.removeprefix(heading))
    if m is None:
        return text
    end = {".": "。", ":": "：", "": ""}[m["end"]]
    return heading + m["zh"] + end


def draft_article(t: Ticket, slug: str, now: datetime, lang: str = "en") -> Article:
    """A new article from a resolved or closed ticket, personal data masked; its
    template words in English with Chinese (``lang`` en) or in Chinese alone (zh)."""
    promotable(t)
    scrub = scrubber(t)
    category = t.category or Category.OTHER
    title = scrub(t.title)

    def said(text: str) -> str:
        return _said(text, lang)

    lines = [f"# {title}", "", said("## Symptom (现象)"), ""]
    lines.append(scrub(t.description.strip()) if t.description.strip() else title)
    details = []
    if t.impact.devices:
        devices = ", ".join(scrub(d) for d in t.impact.devices)
        details.append(f"- {said('Devices (设备):')} {devices}")
    if t.impact.blocks_work:
        details.append("- 影响工作：是" if lang == "zh" else "- Blocks work (影响工作): yes")
    if details:
        lines += ["", *details]
    lines += ["", said("## Cause (原因)"), "", said(CAUSE_PLACEHOLDER), ""]
    lines += [said("## Solution (解决方法)"), ""]
    from .i18n import log_text  # what itdesk wrote in the log, said in the article's language

    steps = [scrub(log_text(s, lang)) for s in solution_steps(t)]
    lines += [f"{i}. {s}" for i, s in enumerate(steps, 1)]
    if t.resolution is not None:
        if steps:
            lines.append("")
        lines.append(f"{said('Result (结果):')} {scrub(t.resolution.summary)}")
    lines += [
        "",
        said("## Self-help (自助排查)"),
        "",
        said("Try these before calling the desk (报修前可先尝试):"),
        "",
    ]
    help_steps = [said(x) for x in (*SELF_HELP[category], ESCALATE_STEP)]
    lines += [f"{i}. {s}" for i, s in enumerate(help_steps, 1)]
    stamp = format_time(now)
    return Article(
        slug=check_slug(slug),
        title=title,
        category=category.value,
        tags=tags_for(t, category),
        tickets=(t.id,),
        created=stamp,
        updated=stamp,
        body="\n".join(lines) + "\n",
    )


def scrub_article(a: Article, t: Ticket) -> Article:
    """``a`` with the requester's data masked again (after a technician edited it)."""
    scrub = scrubber(t)
    return replace(
        a,
        title=scrub(a.title),
        tags=tuple(scrub(x) for x in a.tags),
        body=scrub(a.body),
    )


def fix_text(t: Ticket) -> str:
    """What a ticket's fix is about, for finding an article with the same fix."""
    return " ".join([t.title, t.resolution.summary if t.resolution else ""])


# ----------------------------------------------------------------------- search

_STOPWORDS = frozenset(
    "a an and are as at be by can do does for from how i in is it its my no not of on or "
    "the to was what when why with".split()
)


def _is_cjk(c: str) -> bool:
    o = ord(c)
    return (
        0x4E00 <= o <= 0x9FFF  # CJK unified ideographs
        or 0x3400 <= o <= 0x4DBF  # extension A
        or 0xF900 <= o <= 0xFAFF  # compatibility ideographs
        or 0x3040 <= o <= 0x30FF  # kana
        or 0xAC00 <= o <= 0xD7AF  # hangul
        or 0x20000 <= o <= 0x2FFFF  # extensions B+
    )


def _stem(word: str) -> str:
    # Just plurals, so "printers" finds "printer"; both sides go through it.
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


# Words that only say "it does not work" (失败, 报错, 无法, error, cannot: nearly every
# ticket's) are not terms, and a negated verb is read as the verb (连不上 as 连接, 登录不了 as
# 登录), so VPN连接失败, VPN连不上 and VPN连接报错809 share their terms (vpn, 连接) where the
# bigrams of the raw text (接失, 连不, 接报) would keep them apart.
_NEGATED_VERB = {
    "连": "连接",
    "登": "登录",
    "打": "打开",
    "开": "打开",
    "进": "进入",
    "收": "接收",
    "发": "发送",
    "装": "安装",
    "用": "使用",
    "上": "上网",
}


@functools.cache
def _symptom_pattern() -> re.Pattern[str]:
    return re.compile(
        "上不了网|上不去网|"
        f"([{''.join(_NEGATED_VERB)}])不(?:上去|进去|上|了|到|开|出|进|动)|"
        "无法|不能|没法|不了|失败|报错|出错|错误|异常|故障|不正常|不好用|没反应|无响应|"
        r"\b(?:cannot|can't|can not|unable|fail(?:ed|s|ure|ing)?|errors?|broken"
        r"|not working|doesn't work|does not work)\b"
    )


# The commonest English words of a desk's titles read as their Chinese term, so a ticket
# and an article that say the same in the two languages share their terms.
_ENGLISH = {
    "connect": "连接",
    "login": "登录",
    "logon": "登录",
    "signin": "登录",
    "password": "密码",
    "print": "打印",
    "printer": "打印机",
    "network": "网络",
    "install": "安装",
}


@functools.cache
def _english_word() -> re.Pattern[str]:
    return re.compile(
        r"\b(?:(connect)(?:s|ed|ing|ion|ions)?|(log|sign)[ -]?(in|on)s?|(password)s?"
        r"|(print)(?:s|ed|ing)?|(printer)s?|(network)s?|(install)(?:s|ed|ing|ation)?)\b"
    )


def _symptom(m: re.Match[str]) -> str:
    verb = m.group(1)
    if verb is not None:
        return f" {_NEGATED_VERB[verb]} "
    return " 上网 " if m.group().startswith("上") else " "


def _english(m: re.Match[str]) -> str:
    word = "".join(g for g in m.groups() if g)
    return f" {_ENGLISH[word]} " if word in _ENGLISH else m.group()


def symptom_words(text: str) -> str:
    """``text`` (already lowercase) with the words of failure blanked, negated verbs read
    as their verb and common English words as their Chinese term: the pass
    :func:`tokenize` and the stats' grouping share."""
    return _english_word().sub(_english, _symptom_pattern().sub(_symptom, text))


def tokenize(text: str) -> list[str]:
    """Search terms of ``text``: lowercase Latin words (minus a few stopwords and the
    words of failure, see :func:`symptom_words`), and for CJK runs their overlapping
    character bigrams (a one-character run stays itself)."""
    text = symptom_words(unicodedata.normalize("NFKC", text).lower())
    tokens: list[str] = []
    run: list[str] = []
    word: list[str] = []

    def flush_run() -> None:
        if len(run) == 1:
            tokens.append(run[0])
        else:
            tokens.extend(run[i] + run[i + 1] for i in range(len(run) - 1))
        run.clear()

    def flush_word() -> None:
        w = "".join(word)
        if w and w not in _STOPWORDS:
            tokens.append(_stem(w))
        word.clear()

    for c in text:
        if _is_cjk(c):
            flush_word()
            run.append(c)
        elif c.isalnum():
            flush_run()
            word.append(c)
        else:
            flush_run()
            flush_word()
    flush_run()
    flush_word()
    return tokens


@dataclass(frozen=True, slots=True)
class Hit:
    article: Article
    score: float
    coverage: float  # share of the query's distinct terms found in the article


@dataclass(frozen=True, slots=True)
class _Doc:
    article: Article
    tf: dict[str, float]  # term frequencies, boosted by field
    length: float


class Index:
    """BM25 over the knowledge base, a term in the title worth 3 in the body, a tag 2."""

    def __init__(self, articles: Sequence[Article]):
        self.docs: list[_Doc] = []
        df: Counter[str] = Counter()
        for a in articles:
            tf: dict[str, float] = {}
            for boost, text in (
                (TITLE_BOOST, a.title),
                (TAG_BOOST, " ".join(a.tags)),
                (1.0, a.body),
            ):
                for tok in tokenize(text):
                    tf[tok] = tf.get(tok, 0.0) + boost
            self.docs.append(_Doc(a, tf, sum(tf.values())))
            df.update(tf.keys())
        self.df = df
        n = len(self.docs)
        self.avg_length = sum(d.length for d in self.docs) / n if n else 0.0

    def idf(self, term: str) -> float:
        n, df = len(self.docs), self.df.get(term, 0)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def search(self, query: str, limit: int | None = None) -> list[Hit]:
        """Articles matching ``query``, best first (ties by slug)."""
        terms = Counter(tokenize(query))
        if not terms or not self.docs:
            return []
        hits = []
        for doc in self.docs:
            score = 0.0
            matched = 0
            norm = _K1 * (1 - _B + _B * doc.length / (self.avg_length or 1.0))
            for term, qtf in terms.items():
                f = doc.tf.get(term, 0)
                if not f:
                    continue
                matched += 1
                score += qtf * self.idf(term) * f * (_K1 + 1) / (f + norm)
            if matched:
                hits.append(Hit(doc.article, score, matched / len(terms)))
        hits.sort(key=lambda h: (-h.score, h.article.slug))
        return hits[:limit] if limit is not None else hits


def same_fix(index: Index, t: Ticket) -> Hit | None:
    """The article that already describes ``t``'s fix: one that lists the ticket or
    that its ``kb`` names, else the best match of its title and solution in its category."""
    for doc in index.docs:
        if t.id in doc.article.tickets or doc.article.slug in t.kb:
            return Hit(doc.article, math.inf, 1.0)
    category = (t.category or Category.OTHER).value
    for hit in index.search(fix_text(t)):
        if hit.article.category == category and hit.coverage >= SAME_FIX_COVERAGE:
            return hit
    return None


def suggestions(index: Index, text: str, limit: int = 3) -> list[Hit]:
    """Articles worth showing to someone who reports ``text``, best first."""
    return [h for h in index.search(text) if h.coverage >= SUGGEST_COVERAGE][:limit]
