"""The package's layers, read from its own imports (function-level imports included).

    core      pure rules: imports only core and errors
    store     the desk on disk and git: core, store
    channels  what leaves the desk (notifications, reports, tables): core, store, channels
    service   acting on a desk without a command line: all of the above
    web       the employees' portal (Flask): all of the above
    cli       the command line: anything

Outside the layers are the entry point (``__main__``) and its short paths for a
scripted ``new`` (``quicknew``, the store only) and ``list --all`` into a pipe
(``quicklist``: quicknew's helpers only). Nothing imports the CLI but the CLI
(and ``__main__``), click is imported only by the CLI, and no module reaches itself
again through its imports. The service layer is also imported and used in a fresh
interpreter in which click cannot be imported.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "itdesk"
LAYERS = ("core", "store", "channels", "service", "web", "cli")
# Which layers each layer may import (besides itself and the shared root modules).
ALLOWED = {
    "core": set(),
    "store": {"core"},
    "channels": {"core", "store"},
    "service": {"core", "store", "channels"},
    "web": {"core", "store", "channels", "service"},
    "cli": {"core", "store", "channels", "service", "web"},
}
SHARED = {"itdesk", "itdesk.errors"}  # the package's API and its exceptions


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[str, int]]:
    """Every module ``path`` imports (absolute names), with the line, at any depth."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            out.append((target, node.lineno))
            # `from . import git` imports the module itdesk.store.git
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if _is_module(sub):
                    out.append((sub, node.lineno))
    return out


def _is_module(name: str) -> bool:
    rel = Path(*name.split("."))
    return (PACKAGE.parent / rel).with_suffix(".py").is_file() or (
        PACKAGE.parent / rel / "__init__.py"
    ).is_file()


def _graph() -> dict[str, list[tuple[str, int]]]:
    graph = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        graph[_module_name(path)] = [
            (target, line) for target, line in _imports(path) if target.split(".")[0] == "itdesk"
        ]
    return graph


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def test_every_module_is_in_a_layer() -> None:
    loose = [m for m in _graph() if _layer(m) is None and m not in SHARED | ENTRY]
    assert loose == []


ENTRY = {"itdesk.__main__", "itdesk.quicknew", "itdesk.quicklist"}


def test_the_short_path_of_new_reads_only_the_store() -> None:
    """quicknew is the entry point's: it may use the store, never the model, the service
    or the CLI (whose imports it exists to avoid)."""
    reached = {_layer(target) for target, _ in _graph()["itdesk.quicknew"]}
    assert reached <= {"store", None}


def test_the_short_path_of_list_reads_no_layer() -> None:
    """quicklist reads kept rows with quicknew's helpers (and says a machine's error
    with core's words for it): no other layer."""
    reached = {target for target, _ in _graph()["itdesk.quicklist"]}
    assert reached <= {"itdesk", "itdesk.quicknew", "itdesk.core.i18n"} | SHARED


def test_each_layer_imports_only_the_layers_below_it() -> None:
    broken = []
    for module, targets in _graph().items():
        layer = _layer(module)
        if layer is None:
            continue
        for target, line in targets:
            other = _layer(target)
            if other is not None and other != layer and other not in ALLOWED[layer]:
                broken.append(f"{module}:{line} imports {target} ({layer} -> {other})")
    assert broken == []


def test_only_the_cli_imports_click() -> None:
    users = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        if _layer(module) == "cli":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            users += [f"{module}:{node.lineno}" for n in names if n.split(".")[0] == "click"]
    assert users == []


def test_core_is_pure() -> None:
    """The rules do no I/O: no subprocess, os, yaml, click or network in core/."""
    impure = {"subprocess", "os", "yaml", "click", "socket", "smtplib", "urllib", "http"}
    found = []
    for path in sorted((PACKAGE / "core").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found += [
                    f"{path.name}:{node.lineno} {a.name}"
                    for a in node.names
                    if a.name.split(".")[0] in impure
                ]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                if node.module.split(".")[0] in impure:
                    found.append(f"{path.name}:{node.lineno} {node.module}")
    assert found == []


def _cycle(graph: dict[str, list[tuple[str, int]]]) -> list[str] | None:
    edges = {m: sorted({t for t, _ in ts if t in graph and t != m}) for m, ts in graph.items()}
    # A package's __init__ re-exporting its own modules is not a cycle of the design;
    # importing a submodule runs its package first, which python handles.
    for m in edges:
        edges[m] = [t for t in edges[m] if not m.startswith(t + ".") and t != "itdesk"]
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in edges[node]:
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in edges:
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_no_import_cycles() -> None:
    assert _cycle(_graph()) is None


def test_the_cycle_finder_finds_one() -> None:
    graph = {
        "itdesk.core.a": [("itdesk.core.b", 1)],
        "itdesk.core.b": [("itdesk.core.c", 1)],
        "itdesk.core.c": [("itdesk.core.a", 3)],
    }
    assert _cycle(graph) == ["itdesk.core.a", "itdesk.core.b", "itdesk.core.c", "itdesk.core.a"]


# Runs in a fresh interpreter where `import click` fails: the service layer opens a
# desk made by `itdesk init`, records a ticket, acknowledges and logs it in one
# commit, and reads it back.
NO_CLICK = """
import sys
class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name == "click" or name.startswith("click."):
            raise ImportError("click is not installed here")
        return None
sys.meta_path.insert(0, Refuse())
from itdesk.service.session import Session
s = Session.open(sys.argv[1], as_name="zhang", now="2023-10-25T09:30")
change = s.new({"title": "VPN drops", "requester": "王小明", "channel": "chat"})
tid = change.ticket.id
with s.batch() as b:
    b.apply(tid, __import__("itdesk.core.lifecycle", fromlist=["x"]).acknowledge)
s.log(tid, "called back", via="phone")
print(tid, s.read(tid).status.value, len(s.read(tid).log), "click" in sys.modules)
"""


def test_the_service_layer_works_without_click(tmp_path: Path, itdesk_cli: object) -> None:
    desk = tmp_path / "desk"
    subprocess.run(
        [sys.executable, "-m", "itdesk", "init", str(desk), "--timezone", "Asia/Shanghai",
         "--as", "zhang", "--now", "2023-10-25T09:00"],
        check=True, capture_output=True,
    )  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-c", NO_CLICK, str(desk)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    tid, status, entries, loaded = proc.stdout.split()
    assert tid == "IT-20231025-001"
    assert status == "acknowledged"
    assert int(entries) >= 3
    assert loaded == "False"
    log = subprocess.run(
        ["git", "log", "--format=%s"], cwd=desk, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert len(log) == 4  # init, new, the batch, the log step


@pytest.fixture
def itdesk_cli() -> None:
    """Nothing to set up: the subprocesses run this checkout's package."""


def test_session_steps_inside_a_batch_join_its_commit(tmp_path: Path) -> None:
    """Policy-aware steps (classify, assign...) called inside batch() are one commit with
    the rest, not a second transaction that would wait for the first."""
    from itdesk.service.session import Session

    desk = tmp_path / "desk"
    subprocess.run(
        [sys.executable, "-m", "itdesk", "init", str(desk), "--timezone", "Asia/Shanghai",
         "--as", "zhang", "--now", "2023-10-25T09:00"],
        check=True, capture_output=True,
    )  # fmt: skip
    s = Session.open(desk, as_name="zhang", now="2023-10-25T09:30")
    with s.batch(subject="triage"):
        tid = s.new({"title": "VPN drops", "requester": "王小明"}).ticket.id
        s.ack(tid)
        s.classify(tid, priority="P2", category="network")
        s.assign(tid, to="zhang")
    log = subprocess.run(
        ["git", "log", "--format=%s"], cwd=desk, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert log == ["triage", "init desk (Asia/Shanghai)"]
    assert s.read(tid).status.value == "assigned"


def test_session_new_refuses_an_unknown_field(tmp_path: Path) -> None:
    from itdesk.errors import UsageError
    from itdesk.service.session import Session

    desk = tmp_path / "desk"
    subprocess.run(
        [sys.executable, "-m", "itdesk", "init", str(desk), "--as", "zhang", "--timezone", "UTC"],
        check=True, capture_output=True,
    )  # fmt: skip
    s = Session.open(desk, as_name="zhang", now="2023-10-25T09:30")
    with pytest.raises(UsageError, match="unknown intake field 'phone'"):
        s.new({"title": "x", "requester": "y", "phone": "123"})
