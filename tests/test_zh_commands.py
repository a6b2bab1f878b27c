"""Every command of the CLI, driven on zh desks (two clones of a bare remote), says what
it says in Chinese (issue #14). The commands are enumerated from the click group, as
test_docs.py does: a new command that this test does not drive fails it.

What a person reads is scanned for English words that are not names: the desk's people
and teams, ticket numbers, commit ids, paths, URLs and the fixed technical tokens
(option names, git config keys, file formats). JSON and the completion script are for
programs and are not scanned; completion's refusal of an unknown shell is."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import Itdesk, git
from servers import closed_port
from test_zh import english

from itdesk.cli import all_commands, cli

COMMANDS = {" ".join(path) for path in all_commands()}

# Technical tokens a Chinese line may carry: options, config keys, file and repository
# words git itself prints, and names this test gives.
TOKENS = {"merge", "itdesk", "driver", "technician", "user", "name", "email", "yaml", "tickets",
          "info", "attributes", "python", "m", "O", "A", "B", "P", "origin", "main", "pre",
          "receive", "hooks", "git", "remote", "lang", "guard", "webhook", "example", "com",
          "outbox", "list", "generic", "sync", "Ctrl", "C", "http", "ID", "bash", "zsh", "fish",
          "ksh", "completion", "help", "clone1", "d", "printer", "jam", "tech", "ok", "GIT",
          "DIR", "P2", "network", "printer-jam", "records", "URL",
          "cli", "merge-driver", "Ctrl-C", "validate", "exploded", "NAME", "TEXT",
          "FILE", "YYYY-MM", "ISO", "today", "tomorrow", "now", "eod", "h",
          "itdesk-portal"}  # fmt: skip
# (cli: the test runner's name for itdesk; exploded: a status this test writes)
TOKENS |= {"PATH", "HOST", "PORT", "intake", "mail"}  # metavars; `itdesk intake mail --help`


_COMMAND_NAMES = re.compile(
    r"\bitdesk (?:{})\b".format("|".join(sorted(COMMANDS, key=len, reverse=True)))
)


def leaks(text: str) -> list[str]:
    text = re.sub(r"\S*[/\\]\S*", " ", text)  # paths and URLs
    text = re.sub(r"\b[0-9a-f]{7,40}\b", " ", text)  # commit ids
    text = re.sub(r"--[a-z-]+", " ", text)  # option names
    text = re.sub(r"\.[a-z]{2,8}\b", " ", text)  # file suffixes (.csv, .xlsx)
    text = re.sub(r"\bgit [a-z-]+( -\w+)*", " ", text)  # a git command to run
    text = _COMMAND_NAMES.sub(" ", text)  # a command's name: `itdesk resolve ...`
    return [w for w in english(text) if w not in TOKENS]


def _locale_zh(desk: Path) -> None:
    path = desk / "itdesk.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["locale"] = "zh"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    git(desk, "commit", "-qam", "locale zh")


@pytest.fixture
def zh_team(make_desk: Callable[..., Itdesk], tmp_path: Path) -> tuple[Itdesk, Itdesk, Path]:
    """Two clones of a zh desk and their bare remote; the second is set up by hand."""
    a = make_desk()
    _locale_zh(a.desk)
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(a.desk, "remote", "add", "origin", str(remote))
    git(a.desk, "push", "-q", "-u", "origin", "main")
    path = tmp_path / "clone1"
    git(tmp_path, "clone", "-q", str(remote), str(path))
    return a, Itdesk(path), remote


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(var, raising=False)


def test_every_command_speaks_chinese(
    zh_team: tuple[Itdesk, Itdesk, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b, remote = zh_team
    said: dict[str, list[str]] = {}

    def record(name: str, *texts: str) -> None:
        said.setdefault(name, []).extend(texts)

    def run(
        runner: Itdesk, *argv: str, codes: tuple[int, ...] = (0,), name: str = "", desk: bool = True
    ) -> str:
        result = runner(*argv, desk=desk)
        assert result.exit_code in codes, (argv, result.output, result.stderr)
        key = name or (" ".join(argv[:2]) if " ".join(argv[:2]) in COMMANDS else argv[0])
        record(key, result.stdout, result.stderr)
        return result.stdout

    # init and setup
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "d"), "--locale", "zh",
                                      "--as", "zhang", "--timezone", "Asia/Shanghai"])  # fmt: skip
    assert result.exit_code == 0, result.output
    record("init", result.output)
    run(b, "setup", "--as", "li")

    # a ticket's life, and the everyday commands
    tid = run(a, "new", "--title", "打印机卡纸", "--requester", "王小明", "--channel", "电话",
              "--now", "2023-10-25T09:30").strip()  # fmt: skip
    run(a, "ack", tid, "--now", "2023-10-25T09:31")
    run(a, "classify", tid, "--priority", "P2", "--category", "硬件", "--now", "2023-10-25T09:32")
    run(a, "assign", tid, "--to", "zhao", "--now", "2023-10-25T09:33")
    run(a, "accept", tid, "--as", "zhao", "--now", "2023-10-25T09:34")
    run(a, "log", tid, "--via", "现场", "更换硒鼓", "--as", "zhao", "--now", "2023-10-25T09:40")
    run(a, "edit", tid, "--scope", "三楼", "--now", "2023-10-25T09:41")
    shot = tmp_path / "照片.png"
    shot.write_bytes(b"\x89PNG")
    run(a, "attach", tid, str(shot), "--now", "2023-10-25T09:42")
    run(a, "escalate", tid, "--vendor", "某厂商", "--reason", "换件", "--now", "2023-10-25T09:45")
    run(a, "pending", tid, "--on", "user", "--reason", "等用户", "--now", "2023-10-25T09:50")
    run(a, "resolve", tid, "--summary", "已换硒鼓", "--as", "zhao", "--now", "2023-10-25T10:00")
    run(a, "followup", tid, "--speed", "满意", "--attitude", "满意", "--overall", "满意",
        "--now", "2023-10-25T10:10")  # fmt: skip
    run(a, "kb", "promote", tid, "--slug", "printer-jam", "--now", "2023-10-25T10:20")
    run(a, "kb", "list")
    run(a, "kb", "search", "打印机")
    kb_show = run(a, "kb", "show", "printer-jam").split("\n---\n", 1)[1]  # after the front matter
    said["kb show"] = [kb_show]
    run(a, "close", tid, "--now", "2023-10-25T10:30")
    run(a, "reopen", tid, "--reason", "又卡纸", "--now", "2023-10-25T11:00")
    other = run(a, "new", "--title", "重复报修", "--requester", "李雷",
                "--now", "2023-10-25T11:05").strip()  # fmt: skip
    run(a, "cancel", other, "--reason", "重复", "--now", "2023-10-25T11:06")
    late = run(a, "new", "--title", "网络中断", "--requester", "韩梅梅",
               "--now", "2023-10-25T11:10").strip()  # fmt: skip
    run(a, "check", "--now", "2023-10-27T11:10", codes=(1,))
    run(a, "list", "--all")
    run(a, "show", tid)
    run(a, "report", tid)
    run(a, "history", tid)
    run(a, "sla", "explain", late, "--now", "2023-10-25T12:00")
    run(a, "stats", "--month", "2023-10")
    run(a, "validate")
    sheet = tmp_path / "records.csv"
    run(a, "export", "--reveal", "--output", str(sheet))
    imported = Itdesk(tmp_path / "d")
    run(imported, "import", str(sheet))

    # the team: sync both ways, a hand edit for audit, the merge driver, the guard
    run(a, "sync")
    run(b, "sync")
    mine = run(b, "new", "--title", "显示器闪烁", "--requester", "王小明",
               "--now", "2023-10-25T11:20").strip()  # fmt: skip
    run(b, "sync")
    run(a, "sync")
    run(a, "audit")  # no findings
    path = a.desk / "tickets" / f"{mine}.yaml"
    path.write_text(path.read_text("utf-8").replace("显示器闪烁", "显示器黑屏"), "utf-8")
    git(a.desk, "commit", "-qam", "hand edit")
    run(a, "audit", codes=(1,))
    git(a.desk, "reset", "-q", "--hard", "HEAD~1")
    monkeypatch.chdir(a.desk)  # git runs the merge driver in the desk's working tree
    base = yaml.safe_load(path.read_text("utf-8"))
    files = {}
    for side, title in (("base", base["title"]), ("ours", "甲"), ("theirs", "乙")):
        files[side] = tmp_path / f"{side}.yaml"
        files[side].write_text(yaml.safe_dump({**base, "title": title}, allow_unicode=True))
    run(a, "merge-driver", *(str(files[s]) for s in ("base", "ours", "theirs")),
        f"tickets/{mine}.yaml", name="merge-driver", desk=False)  # fmt: skip
    assert "两边都修改了标题" in said["merge-driver"][-1]
    files["theirs"].write_text(yaml.safe_dump({**base, "status": "exploded"}))
    run(a, "merge-driver", *(str(files[s]) for s in ("base", "ours", "theirs")),
        f"tickets/{mine}.yaml", codes=(1,), name="merge-driver", desk=False)  # fmt: skip
    run(a, "guard", "--install", str(remote))
    git(a.desk, "reset", "-q", "--hard", "HEAD~1")
    pushed = subprocess.run(["git", "push", "-q", "--force"], cwd=a.desk,
                            capture_output=True, text=True)  # fmt: skip
    assert pushed.returncode != 0 and "拒绝" in pushed.stderr, pushed.stderr
    record("guard", "\n".join(x.removeprefix("remote: ") for x in pushed.stderr.splitlines()
                              if x.startswith("remote: itdesk")))  # fmt: skip
    git(a.desk, "reset", "-q", "--hard", "origin/main")

    # the outbox: a webhook that fails, then moves, leaves dead letters
    data = yaml.safe_load((a.desk / "itdesk.yaml").read_text("utf-8"))
    for port in (closed_port(), closed_port()):
        data["notify"] = {"webhooks": [{"url": f"http://127.0.0.1:{port}/hook",
                                        "style": "generic"}]}  # fmt: skip
        (a.desk / "itdesk.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
        git(a.desk, "commit", "-qam", "notify")
        if "outbox list" not in said:
            run(a, "outbox", "list")  # empty
            for title in ("邮件发不出", "邮箱满了"):
                run(a, "new", "--title", title, "--requester", "李雷", "--now",
                    "2023-10-25T11:30", name="new")  # fmt: skip
    run(a, "check", "--now", "2023-10-25T11:35", codes=(0, 1))
    run(a, "outbox", "list")
    letters = json.loads(a.ok("outbox", "list", "--format", "json").stdout)
    ids = [str(x["id"]) for x in letters if x["state"] == "dead"]
    assert len(ids) == 2, letters
    run(a, "outbox", "retry", ids[0])
    run(a, "outbox", "discard", ids[1])
    run(a, "outbox", "discard", "99", codes=(2,))

    # the archive and serve (its start-up line; the server itself is not started)
    run(a, "archive", "--now", "2023-12-01T09:00")
    import waitress.server

    class Server:  # listens nowhere; stops at once
        effective_port = 8089

        def run(self) -> None: ...

        def close(self) -> None: ...

    monkeypatch.setattr(waitress.server, "create_server", lambda *args, **kwargs: Server())
    run(a, "serve", "--port", "8089")
    assert "门户已在 http://127.0.0.1:8089/ 上运行" in said["serve"][-1]
    # mail intake: a look at an empty Maildir says nothing; its refusal is read (what it
    # prints for each message is in Chinese too: tests/test_intake_mail.py)
    box = tmp_path / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (box / sub).mkdir(parents=True)
    run(a, "intake", "mail", "--desk", str(a.desk), "--maildir", str(box), desk=False)
    run(a, "intake", "mail", "--desk", str(a.desk), codes=(2,), desk=False)
    assert "请给出 --maildir PATH 或 --imap" in said["intake mail"][-1]
    # completion prints a script for the shell (not read here); its refusal is read
    script = a("completion", "bash", desk=False)
    assert script.exit_code == 0 and "_ITDESK_COMPLETE" in script.stdout
    run(a, "completion", "ksh", codes=(2,), desk=False)

    assert COMMANDS <= set(said), f"not driven in zh: {sorted(COMMANDS - set(said))}"
    found = {name: leaks("\n".join(texts)) for name, texts in said.items()}
    leaking = {k: v for k, v in found.items() if v}
    shown = "\n".join(f"{k}: {v}" for k, v in leaking.items())
    assert leaking == {}, (shown, {k: said[k] for k in leaking})


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["list", "--bogus"], "没有选项 --bogus"),
        (["lisst"], "没有命令 lisst"),
        (["show"], "缺少参数 ID"),
        (["list", "--sort", "x"], "的值无效"),
        (["check", "--now"], "选项 --now 需要一个值"),
        (["show", "a", "b"], "多余的参数"),
        (["completion", "ksh"], "不是可用的值"),
        (["outbox", "retry", "x"], "不是有效的整数"),
    ],
)
def test_click_usage_errors_in_chinese(
    zh_team: tuple[Itdesk, Itdesk, Path], argv: list[str], words: str
) -> None:
    a, _, _ = zh_team
    result = a("--desk", str(a.desk), *argv, desk=False)  # the desk option before the command
    assert result.exit_code == 2
    assert result.stderr.startswith("itdesk: 错误：") and words in result.stderr, result.stderr
    typed = re.sub("|".join(re.escape(w) for w in argv), " ", result.stderr)  # as typed
    typed = re.sub(r"可用：[^（]*", " ", typed)  # the accepted values, as one types them
    assert result.stderr.count("\n") == 1 and leaks(typed) == [], result.stderr


def test_click_usage_errors_follow_lang(desk: Itdesk) -> None:
    """An English desk: English, unless --lang zh is on the line (before or after)."""
    assert "No such option '--bogus'" in desk("list", "--bogus").stderr
    assert "没有选项 --bogus" in desk("list", "--lang", "zh", "--bogus").stderr
    assert "缺少参数 ID" in CliRunner().invoke(cli, ["--lang", "zh", "show"]).stderr


def test_less_common_refusals_in_chinese(make_desk: Callable[..., Itdesk], tmp_path: Path) -> None:
    """What a technician runs into past the usual steps: each one line, exit 2, Chinese."""
    zh = make_desk()
    _locale_zh(zh.desk)
    tid = zh.new(title="打印机卡纸", now="2023-10-25T09:30")
    zh.walk(tid, "assign")
    shot = tmp_path / "a.png"
    shot.write_bytes(b"x")
    zh.ok("attach", tid, str(shot), "--now", "2023-10-25T12:00")
    now = ("--now", "2023-10-25T12:30")
    cases = [
        (["list", "--mine", "--assignee", "zhang"], "只能给一个"),
        (["classify", tid, *now], "请给出 --priority 和/或 --category"),
        (["classify", tid, "--priority", "P2", "--category", "network", *now], "没有需要修改"),
        (["assign", tid, *now], "二选一"),
        (["assign", tid, "--to", "wang", *now], "已分配给 wang"),
        (["close", tid, "--reason", "x", *now], "--reason 需与 --force 一起使用"),
        (["ack", tid, "--now", "2099-01-01T00:00"], "比本机时钟快一天以上"),
        (["edit", tid, *now], "请至少给出一个要修改的字段"),
        (["edit", tid, "--expected-by", "2023-10-20T00:00", *now], "早于提交时间"),
        (["attach", tid, str(shot), *now], "已存在"),
        (["kb", "search", " "], "查询为空"),
        (["kb", "show", "nope"], "没有文章"),
        (["kb", "promote", tid, *now], "只有处理完成或已关闭的工单"),
        (["archive", "--month", "2023-13"], "无法识别的月份"),
        (["archive", "--month", "2023-10", *now], "尚未结束"),
        (["archive", "--purge", "--month", "2023-09", *now], "未满保留期"),
        (["export", "--all", "--status", "new"], "只能给一个"),
        (["export", "--output", str(tmp_path / "x.txt")], "无法从 .txt 判断格式"),
        (["export", "--format", "xlsx"], "写出的是工作簿"),
        (["import", str(tmp_path / "none.csv")], "无法读取"),
        (["stats", "--month", "2023-10", "--since", "2023-10-01"], "只能给一种"),
        (["stats", "--since", "2023-10-05", "--until", "2023-10-01"], "时间段为空"),
        (["show", tid, "--now", "bogus"], "无法识别的时间"),
        (["report", tid, "--output", str(tmp_path / "r.csv")], "请给出 .md"),
        (["sync"], "没有可同步的远程仓库"),
        (["outbox", "discard", "7"], "没有死信 7"),
        (["serve", "--as", "zhang"], "这里不接受 --as"),
    ]
    for argv, words in cases:
        result = zh(*argv)
        assert result.exit_code == 2, (argv, result.output)
        assert result.stderr.startswith("itdesk: 错误：") and words in result.stderr, (
            argv, result.stderr)  # fmt: skip
        assert result.stderr.count("\n") == 1, result.stderr
        typed = re.sub("|".join(re.escape(w) for w in argv), "", result.stderr)
        assert leaks(typed) == [], (argv, result.stderr)


def test_validate_says_a_broken_ticket_s_problems_in_chinese(
    make_desk: Callable[..., Itdesk],
) -> None:
    zh = make_desk()
    _locale_zh(zh.desk)
    tid = zh.new(title="打印机卡纸", now="2023-10-25T09:30")
    path = zh.desk / "tickets" / f"{tid}.yaml"
    text = path.read_text("utf-8").replace("title:", "bogus:", 1)
    path.write_text(text.replace("status: new", "status: exploded", 1), "utf-8")
    result = zh("validate")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert f"tickets/{tid}.yaml:1: （顶层）：缺少必填项 title" in lines, lines
    assert f"tickets/{tid}.yaml:1: （顶层）：不允许的字段 bogus" in lines, lines
    assert any(line.startswith(f"tickets/{tid}.yaml:") and "状态：'exploded' 不是可用的值" in line
               for line in lines), lines  # fmt: skip
    refused = zh("ack", tid, "--now", "2023-10-25T09:40")
    assert refused.exit_code == 2 and "itdesk: 错误：tickets/" in refused.stderr


def test_a_full_disk_and_a_bug_are_said_in_chinese(
    make_desk: Callable[..., Itdesk], monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    import itdesk.store.transaction as files

    zh = make_desk()
    _locale_zh(zh.desk)
    tid = zh.new(now="2023-10-25T09:30")

    def full(path: Path, data: str | bytes, **kw: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(files, "write_atomic", full)
    result = zh("log", tid, "--now", "2023-10-25T09:40", "已电话联系")
    assert result.exit_code == 3 and result.stderr.startswith("itdesk: 错误：磁盘已满（")
    assert result.stderr.rstrip().endswith("；未做任何更改") and result.stderr.count("\n") == 1

    def bug(*args: object, **kw: object) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(files, "write_atomic", bug)
    result = zh("log", tid, "--now", "2023-10-25T09:40", "已电话联系")
    assert result.exit_code == 3 and result.stderr.startswith("itdesk: 内部错误：ZeroDivisionError")
    assert "--debug" in result.stderr and result.stderr.count("\n") == 1


# A shell's script and an article's file are no labels; init speaks its --locale; mail
# intake's lines are #13's module's (not yet translated).
NO_LANG = {"completion", "kb show", "init"}


@pytest.mark.parametrize("name", sorted(COMMANDS - NO_LANG))
def test_every_command_that_speaks_takes_lang(name: str) -> None:
    result = CliRunner().invoke(cli, [*name.split(), "--help"])
    assert "--lang [en|zh]" in result.output, f"{name} has no --lang"


def test_lang_after_the_command_decides(make_desk: Callable[..., Itdesk]) -> None:
    en = make_desk()
    tid = en.new(now="2023-10-25T09:30")
    assert en.ok("ack", tid, "--lang", "zh", "--now", "2023-10-25T09:31").stdout == (
        f"{tid}：已受理\n")
    said = en.ok("archive", "--lang", "zh", "--now", "2023-10-26T09:00").stdout
    assert said == "没有需要归档的内容：没有本月之前的已关闭或已取消工单\n"
    zh = make_desk()
    _locale_zh(zh.desk)
    other = zh.new(now="2023-10-25T09:30")
    result = zh("ack", other, "--lang", "en", "--now", "2023-10-25T09:31")
    assert result.stdout == f"{other}: acknowledge\n"
