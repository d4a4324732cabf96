"""The dependency rules of the layout (docs/design.md, "Layout"), read from every import in the tree,
including the ones inside functions and under TYPE_CHECKING: a lazy import is still a dependency.

- the core (`server/` but the composition root `server/app.py`, `server/cli.py`) imports no capability,
  resource, prompt, eval or bench module, and neither the demo generator nor the provider fakes;
- a capability (`tools/<name>/`) imports no other capability, and no `resources/`, `prompts/`, `evals/`
  or `bench/`; `resources/` and `prompts/` import no capability, `evals/` or `bench/`;
- the conversation harness (`evals/harness/`) imports no capability: it talks to the server through the
  protocol and the CLI's public functions;
- the layout map in docs/design.md names every package of `server/` and `tools/`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("server", "tools", "resources", "prompts", "evals", "bench")
COMPOSITION_ROOT = frozenset({"server/app.py", "server/cli.py"})
NOT_CORE = ("server/demo/", "server/fakes/")  # run-time helpers of the CLI, outside the core


@dataclass(frozen=True)
class Import:
    source: str  # path of the importing file, relative to the root
    line: int
    target: str  # the dotted module name

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: imports {self.target}"


def imports_of(path: Path, root: Path = ROOT) -> Iterator[Import]:
    relative = path.relative_to(root).as_posix()
    package = relative.removesuffix(".py").split("/")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=relative)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(relative, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            # `from tools import expenses` depends on tools.expenses, not only on tools.
            for alias in node.names:
                yield Import(relative, node.lineno, f"{module}.{alias.name}" if module else alias.name)


def tree_imports(root: Path = ROOT) -> list[Import]:
    return [
        found
        for top in SOURCES
        for path in sorted((root / top).rglob("*.py"))
        if ".venv" not in path.parts
        for found in imports_of(path)
    ]


def capability(dotted_or_path: str) -> str | None:
    """`tools.categorize.model` or `tools/categorize/model.py` → `categorize`."""
    parts = re.split(r"[./]", dotted_or_path)
    return parts[1] if parts[0] == "tools" and len(parts) > 2 else None


def _under(target: str, *packages: str) -> bool:
    return any(target == p or target.startswith(p + ".") for p in packages)


def broken_rule(found: Import) -> str | None:
    """Which rule an import breaks, or None."""
    source, target = found.source, found.target
    if source.startswith("server/") and source not in COMPOSITION_ROOT and not source.startswith(NOT_CORE):
        if _under(target, "tools", "resources", "prompts", "evals", "bench"):
            return "the core imports no capability, resource, prompt, eval or bench module"
        if _under(target, "server.demo", "server.fakes"):
            return "the core never imports the demo generator or the provider fakes"
    if source.startswith("tools/"):
        own = capability(source)
        if _under(target, "tools") and capability(target) not in (None, own):
            return "a capability never imports another capability"
        if _under(target, "evals", "bench", "resources", "prompts"):
            return "a capability never imports evals/, bench/, resources/ or prompts/"
    if source.startswith(("resources/", "prompts/")) and _under(target, "tools", "evals", "bench"):
        return "resources/ and prompts/ import no capability, evals/ or bench/"
    if source.startswith("evals/harness/") and _under(target, "tools"):
        return "the conversation harness reaches the server only through the protocol and the CLI"
    return None


def test_every_import_keeps_the_dependency_rules() -> None:
    broken = [f"{found} ({rule})" for found in tree_imports() if (rule := broken_rule(found))]
    assert broken == []


@pytest.mark.parametrize(
    ("source", "target", "broken"),
    [
        ("server/calls.py", "tools.expenses.logic", True),
        ("server/db/models.py", "evals.categorize", True),
        ("server/gateway/llm.py", "server.fakes.anthropic", True),
        ("server/cli.py", "tools.categorize.commands", False),
        ("server/demo/writer.py", "server.kit.money", False),
        ("tools/approvers/service.py", "tools.expenses.logic", True),
        ("tools/approvers/service.py", "tools.approvers.queries", False),
        ("tools/categorize/commands.py", "evals.categorize", True),
        ("resources/handlers.py", "tools.expenses", True),
        ("prompts/workflows/handlers.py", "bench.run", True),
        ("evals/harness/fixtures.py", "tools.categorize.commands", True),
        ("evals/categorize.py", "tools.categorize.learn", False),
    ],
)
def test_the_rules_catch_what_they_forbid(source: str, target: str, broken: bool) -> None:
    assert (broken_rule(Import(source, 1, target)) is not None) is broken


def test_relative_and_from_imports_name_the_module_they_reach(tmp_path: Path) -> None:
    package = tmp_path / "tools" / "spend"
    package.mkdir(parents=True)
    module = package / "logic.py"
    module.write_text(
        "from tools import expenses\nfrom ..approvers import engine\ndef f():\n    import evals.forecast\n"
    )
    assert sorted((i.line, i.target) for i in imports_of(module, tmp_path)) == [
        (1, "tools.expenses"),
        (2, "tools.approvers.engine"),
        (4, "evals.forecast"),
    ]


def test_the_design_docs_layout_map_names_every_package() -> None:
    design = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    layout = design.split("## Layout", 1)[1].split("\n## ", 1)[0]
    packages = sorted(
        f"{path.parent.relative_to(ROOT).as_posix()}/"
        for top in ("server", "tools")
        for path in (ROOT / top).glob("*/__init__.py")
    )
    assert [p for p in packages if p not in layout] == []
