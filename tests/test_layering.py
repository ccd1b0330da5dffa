"""The packages of ``bot/`` and ``actions/`` import only downwards, without circles.

Read from the source with :mod:`ast` (nothing is imported), so a new import
that runs back up fails here before it becomes a knot to untie.
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BOT = ROOT / "bot"
ACTIONS = ROOT / "actions"

#: Each top-level part of ``bot/`` and its layer: a part may import only
#: parts of a lower layer or of its own (then without a circle).
LAYERS: dict[str, int] = {
    "__init__": 0,
    "exceptions": 0,
    "contract": 0,
    "periodic": 0,
    "config": 1,
    "db": 1,
    "bus": 1,
    "knowledge": 2,
    "auth": 2,
    "canned": 2,
    "mail": 2,
    "assistant": 2,
    "nlu": 3,
    "rasa_server": 3,
    "conversations": 3,
    "accounts": 3,
    "handoff": 4,
    "relay": 5,
    "promises": 5,
    "training": 5,
    "web": 6,
    # The Rasa actions (the top-level package ``actions``) call the services of
    # bot/ below the web layer; only the action server's entry point imports
    # them.
    "actions": 6,
    # The action server's entry point starts the actions' process, as the
    # runner starts the others.
    "actions_server": 7,
    "runner": 7,
    "cli": 8,
    "__main__": 9,
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path, *, top_level_only: bool, text: str | None = None) -> set[str]:
    """The ``bot`` and ``actions`` modules a file (or ``text`` as if it stood
    at ``path``) imports, by absolute and relative imports."""
    tree = ast.parse(path.read_text(encoding="utf-8") if text is None else text)
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    package = _module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0]
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.add(module)
            # ``from bot.x import y`` may name a module y.
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] in ("bot", "actions")}


def _files() -> list[Path]:
    files = [*BOT.rglob("*.py"), *ACTIONS.rglob("*.py")]
    return sorted(p for p in files if "migrations" not in p.parts)


def _part(module: str) -> str:
    """``bot.<part>``'s part; all of ``actions`` is one part."""
    if module.split(".")[0] == "actions":
        return "actions"
    return module.split(".")[1] if "." in module else "__init__"


def test_every_part_of_bot_has_a_layer() -> None:
    parts = {_part(_module_name(path)) for path in _files()}
    assert parts <= set(LAYERS), f"give a layer to: {sorted(parts - set(LAYERS))}"


def test_no_part_imports_a_part_above_it() -> None:
    upward = []
    for path in _files():
        source = _part(_module_name(path))
        for target in {_part(m) for m in _imports(path, top_level_only=False)}:
            if LAYERS.get(target, 0) > LAYERS[source]:
                upward.append(f"{path.relative_to(ROOT)} imports {target}")
    assert not upward, "imports running upwards:\n" + "\n".join(sorted(upward))


def test_the_hub_and_the_actions_share_only_what_is_below_them() -> None:
    """``web`` and ``actions`` share a layer but run in different processes."""
    crossing = [
        f"{path.relative_to(ROOT)} imports {target}"
        for path in _files()
        for target in {_part(m) for m in _imports(path, top_level_only=False)}
        if {_part(_module_name(path)), target} == {"web", "actions"}
    ]
    assert not crossing, "\n".join(sorted(crossing))


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = itertools.count()

    def visit(node: str) -> None:
        index[node] = low[node] = next(counter)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


@pytest.mark.parametrize("top_level_only", [True, False], ids=["module", "lazy"])
def test_no_import_cycles(top_level_only: bool) -> None:
    """No circle between parts (any import), nor between modules at import time."""
    modules = {_module_name(path): path for path in _files()}
    module_graph: dict[str, set[str]] = {}
    part_graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = {
            m for m in _imports(path, top_level_only=top_level_only) if m in modules
        }
        # A package's __init__ re-exports its modules: that is not a circle.
        module_graph[name] = {t for t in targets if not name.startswith(t)}
        part_graph.setdefault(_part(name), set()).update(
            _part(t) for t in targets if _part(t) != _part(name)
        )
    graph = module_graph if top_level_only else part_graph
    assert _cycles(graph) == []


def test_the_checker_sees_an_upward_import_and_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert LAYERS["conversations"] < LAYERS["handoff"] < LAYERS["relay"]


def test_the_checker_reads_both_packages() -> None:
    """It walks bot/ and actions/, and sees their imports in both spellings."""
    files = {_module_name(path) for path in _files()}
    assert {"bot.relay", "bot.web.app", "actions.handoff", "actions.knowledge"} <= files
    assert _part("actions.knowledge") == "actions"
    assert LAYERS["handoff"] < LAYERS["actions"] < LAYERS["actions_server"]
    probe = "from actions.handoff import x\ndef later():\n    from ..web import app\n"
    found = _imports(BOT / "handoff" / "probe.py", top_level_only=False, text=probe)
    assert found >= {"actions.handoff", "actions.handoff.x", "bot.web", "bot.web.app"}
    assert _imports(BOT / "handoff" / "probe.py", top_level_only=True, text=probe) == {
        "actions.handoff",
        "actions.handoff.x",
    }
