"""A desk whose locale is zh speaks Chinese (issue #14): a ticket is driven through
every step, and what each command prints is read for English words that are not
names (people, teams, numbers, files)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from conftest import Itdesk, git

# Names, not words: people and teams of the desk, and the fixed tokens of the output.
NAMES = {"zhang", "zhao", "wang", "li", "Test", "Tech", "hardware", "network", "desk",
         "IT", "P1", "P2", "P3", "itdesk", "kb", "show", "png", "attachments", "WiFi",
         "Asia", "Shanghai", "SLA", "P90", "csv"}  # fmt: skip
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_'-]*[A-Za-z0-9]|[A-Za-z]")


def english(text: str) -> list[str]:
    text = re.sub(r"IT-\d{8}-\d+|\b[0-9a-f]{8}\b", "", text)
    text = re.sub(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?([+-]\d{2}:\d{2})?", "", text)
    return sorted({w for w in WORD.findall(text) if w not in NAMES})


@pytest.fixture
def zh(make_desk: object) -> Itdesk:
    return zh_desk(make_desk)


def zh_desk(make_desk: object) -> Itdesk:
    desk: Itdesk = make_desk()  # type: ignore[operator]
    path = desk.desk / "itdesk.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["locale"] = "zh"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    git(desk.desk, "commit", "-qam", "locale zh")
    return desk


def test_a_ticket_s_life_in_chinese(zh: Itdesk, tmp_path: Path) -> None:
    outputs: dict[str, str] = {}

    def run(name: str, *argv: str) -> str:
        result = zh(*argv)
        assert result.exit_code in (0, 1), (argv, result.output)
        outputs[name] = result.stdout + result.stderr
        return result.stdout

    tid = run("new", "new", "--title", "电脑无法连接WiFi", "--requester", "王小明",
              "--channel", "电话", "--now", "2023-10-25T09:30").strip()  # fmt: skip
    run("ack", "ack", tid, "--now", "2023-10-25T09:35")
    run("classify", "classify", tid, "--priority", "紧急", "--category", "网络",
        "--now", "2023-10-25T09:36")  # fmt: skip
    run("assign", "assign", tid, "--to", "wang", "--now", "2023-10-25T09:40")
    run("accept", "accept", tid, "--as", "wang", "--now", "2023-10-25T09:45")
    run("log", "log", tid, "--via", "电话", "已联系用户", "--as", "wang",
        "--now", "2023-10-25T09:50")  # fmt: skip
    run("edit", "edit", tid, "--scope", "研发部全员", "--now", "2023-10-25T09:52")
    shot = tmp_path / "截图.png"
    shot.write_bytes(b"\x89PNG")
    run("attach", "attach", tid, str(shot), "--now", "2023-10-25T09:53")
    run("escalate", "escalate", tid, "--vendor", "某厂商", "--reason", "需要厂商处理",
        "--eta", "2023-10-25T18:00", "--now", "2023-10-25T09:55")  # fmt: skip
    run("accept2", "accept", tid, "--as", "wang", "--now", "2023-10-25T10:30")
    run("pending", "pending", tid, "--on", "user", "--reason", "用户开会",
        "--now", "2023-10-25T10:35")  # fmt: skip
    run("accept3", "accept", tid, "--as", "wang", "--now", "2023-10-25T10:40")
    run("check", "check", "--all-clocks", "--now", "2023-10-25T15:00")
    run("escalate-check", "check", "--escalate", "--now", "2023-10-25T15:00")
    run("resolve", "resolve", tid, "--summary", "更新证书", "--verified", "--as", "wang",
        "--now", "2023-10-25T15:10")  # fmt: skip
    run("followup", "followup", tid, "--speed", "满意", "--attitude", "满意",
        "--overall", "一般", "--comment", "还行", "--now", "2023-10-25T15:20")  # fmt: skip
    run("show", "show", tid, "--reveal")
    run("sla", "sla", "explain", tid, "--now", "2023-10-25T15:25")
    run("history", "history", tid)
    run("list", "list", "--all")
    run("close", "close", tid, "--now", "2023-10-25T15:30")
    run("report", "report", tid)
    run("show-closed", "show", tid)
    leaks = {name: english(text) for name, text in outputs.items() if english(text)}
    assert leaks == {}, leaks


def test_check_speaks_chinese(zh: Itdesk) -> None:
    tid = zh.new(now="2023-10-25T09:30", title="打印机卡纸")
    zh.ok("classify", tid, "--priority", "P1", "--now", "2023-10-25T09:31")
    result = zh("check", "--now", "2023-10-26T21:40")
    assert result.exit_code == 1
    assert "已超时" in result.stdout and "受理" in result.stdout and "1天12小时" in result.stdout
    assert english(result.stdout) == []
    escalated = zh("check", "--escalate", "--now", "2023-10-26T21:40")
    assert "已记录" in escalated.stderr
    report = zh.ok("show", tid).stdout
    assert "超时" in report and english(report) == []


def test_init_locale_and_lang_before_the_command(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from itdesk.cli import cli

    root = tmp_path / "d"
    result = CliRunner().invoke(cli, ["init", str(root), "--locale", "zh", "--as", "zhang",
                                      "--timezone", "Asia/Shanghai"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "已在" in result.output
    assert yaml.safe_load((root / "itdesk.yaml").read_text())["locale"] == "zh"
    desk = Itdesk(root)
    tid = desk.new()
    out = desk.ok("ack", tid, "--now", "2023-10-25T09:35").stdout
    assert out.strip() == f"{tid}：已受理"
    # --lang before the command; the commit stays in English
    english_out = CliRunner().invoke(cli, ["--lang", "en", "--desk", str(root), "history", tid])
    assert "ack" in english_out.output
    assert git(root, "log", "-1", "--format=%s").strip() == f"{tid}: acknowledge"


def test_yes_no_prompt_takes_shi_and_fou(desk: Itdesk) -> None:
    answers = "王小明\n\n\n\n打印机卡纸\n\n是\n\n\n\n\n"
    result = desk("new", "--interactive", "--now", "2023-10-25T09:30", input=answers)
    assert result.exit_code == 0, result.output
    tid = result.stdout.strip().splitlines()[-1]
    assert desk.ticket(tid)["impact"]["blocks_work"] is True


def test_errors_in_chinese(zh: Itdesk) -> None:
    tid = zh.new(title="打印机卡纸")
    for argv, words in (
        (["close", tid], "当前为新建，不能关闭"),
        (["accept", tid], "当前为新建，不能接单"),
        (["show", "IT-20231025-099"], "服务台上没有工单 IT-20231025-099"),
        (["show", "abc"], "不是工单编号"),
        (["classify", tid, "--priority", "P9"], "未知的问题分级"),
        (["log", tid, "--via", "飞鸽", "x"], "未知的 --via"),
        (["ack", tid, "--now", "2023-10-25T09:00"], "工单时间不能倒流"),
        (["ack", tid, "--as", "nobody"], "服务台不认识此人"),
    ):
        result = zh(*argv)
        assert result.exit_code == 2, (argv, result.output)
        assert result.stderr.startswith("itdesk: 错误："), result.stderr
        assert words in result.stderr, (argv, result.stderr)
        assert result.stderr.count("\n") == 1
    english_desk = zh("close", tid, "--lang", "en")
    assert "cannot close" in english_desk.stderr


def test_the_other_commands_in_chinese(zh: Itdesk, tmp_path: Path) -> None:
    tid = zh.new(title="打印机卡纸", now="2023-10-25T09:30")
    zh.walk(tid, "followup")
    outputs: dict[str, str] = {}

    def run(name: str, *argv: str) -> None:
        result = zh(*argv)
        assert result.exit_code in (0, 1), (argv, result.output)
        outputs[name] = result.stdout + result.stderr

    run("kb-promote", "kb", "promote", tid, "--slug", "printer-jam", "--now", "2023-10-25T10:30")
    run("kb-list", "kb", "list")
    run("kb-search", "kb", "search", "打印机")
    run("kb-show", "kb", "show", "printer-jam")
    run("close", "close", tid, "--now", "2023-10-25T11:00")
    run("stats", "stats", "--month", "2023-10")
    run("validate", "validate")
    run("export", "export", "--output", str(tmp_path / "out.csv"))
    run("archive", "archive", "--now", "2023-12-01T09:00")
    run("reopen-archived", "show", tid)
    # kb show prints the article file: its front matter's keys are the file's format
    outputs["kb-show"] = outputs["kb-show"].split("\n---\n", 1)[1]
    typed = ("reset the adapter", "new driver", "printer-jam", str(tmp_path / "out.csv"))
    for name in outputs:
        for text in typed:
            outputs[name] = outputs[name].replace(text, "")
    leaks = {name: english(text) for name, text in outputs.items() if english(text)}
    assert leaks == {}, leaks


def test_new_asks_in_chinese(zh: Itdesk) -> None:
    answers = "王小明\n\n\n\n打印机卡纸\n\n否\n\n\n\n\n"
    result = zh("new", "--interactive", "--now", "2023-10-25T09:30", input=answers)
    assert result.exit_code == 0, result.output
    assert "提交人姓名" in result.stderr and "是否影响工作" in result.stderr
    assert "Requester" not in result.stderr and "block work" not in result.stderr


def test_import_in_chinese(zh: Itdesk, make_desk: object, tmp_path: Path) -> None:
    tid = zh.new(title="打印机卡纸", now="2023-10-25T09:30")
    zh.walk(tid, "classify")
    sheet = tmp_path / "records.csv"
    zh.ok("export", "--reveal", "--output", str(sheet))
    other = zh_desk(make_desk)
    outputs = {
        "dry-run": other.ok("import", str(sheet), "--dry-run").stdout,
        "import": other.ok("import", str(sheet)).stdout,
        "again": other.ok("import", str(sheet)).stdout,
    }
    assert "导入" in outputs["import"] and "第 " in outputs["dry-run"]
    leaks = {k: english(v.replace(str(sheet), "").replace("records.csv", ""))
             for k, v in outputs.items()}  # fmt: skip
    assert all(not v for v in leaks.values()), (leaks, outputs)
