"""Scenario files → validated `Scenario`s, or errors that name the file, the line and what to fix."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from evals.harness.scenario import Scenario, ScenarioFile

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


class ScenarioError(Exception):
    """Scenario files that cannot be used; `problems` are `file:line: message` lines."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


def load_scenarios(paths: Iterable[Path] = (SCENARIOS,)) -> list[Scenario]:
    """Every scenario in the given files and folders (`*.yaml`, recursively), ids unique across them."""
    problems: list[str] = []
    scenarios: list[Scenario] = []
    where: dict[str, str] = {}
    for file in _files(paths, problems):
        for scenario, line in _load_file(file, problems):
            if scenario.id in where:
                problems.append(
                    f"{file}:{line}: scenario id {scenario.id!r} is also used at {where[scenario.id]}"
                )
            where.setdefault(scenario.id, f"{file}:{line}")
            scenarios.append(scenario)
    if problems:
        raise ScenarioError(problems)
    return scenarios


def select(
    scenarios: Sequence[Scenario], *, tags: Sequence[str] = (), ids: Sequence[str] = ()
) -> list[Scenario]:
    """Scenarios carrying any of `tags` and, when given, whose id is in `ids` (unknown ids are errors)."""
    unknown = sorted(set(ids) - {scenario.id for scenario in scenarios})
    if unknown:
        raise ScenarioError([f"no scenario has the id {identifier!r}" for identifier in unknown])
    return [
        scenario
        for scenario in scenarios
        if (not tags or set(tags) & set(scenario.tags)) and (not ids or scenario.id in ids)
    ]


def _files(paths: Iterable[Path], problems: list[str]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(path.rglob("*.yaml")))
        elif path.is_file():
            files.append(path)
        else:
            problems.append(f"{path}: no such file or folder")
    return files


def _load_file(file: Path, problems: list[str]) -> list[tuple[Scenario, int]]:
    try:
        text = file.read_text(encoding="utf-8")
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{file}: cannot read it ({exc})")
        return []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problems.append(f"{file}{line}: not valid YAML ({getattr(exc, 'problem', exc)})")
        return []
    except ValueError as exc:  # PyYAML builds dates itself: `2026-02-30` fails outside its error types
        problems.append(f"{file}:{_bad_date_line(text)}: {exc} (write a real date, YYYY-MM-DD)")
        return []
    try:
        parsed = ScenarioFile.model_validate(data)
    except ValidationError as exc:
        problems.extend(_describe(file, root, exc))
        return []
    loaded: list[tuple[Scenario, int]] = []
    for index, raw in enumerate(parsed.scenarios):
        node = _node_at(root, ("scenarios", index))
        try:
            merged = {**parsed.defaults, **raw}
            fixture = merged.get("fixture")
            if isinstance(fixture, str) and "/" in fixture:  # an import folder, relative to this file
                merged["fixture"] = str((file.parent / fixture).resolve())
            loaded.append((Scenario.model_validate(merged), _line(node)))
        except ValidationError as exc:
            problems.extend(_describe(file, node, exc))
    return loaded


def _describe(file: Path, root: yaml.Node | None, exc: ValidationError) -> list[str]:
    problems = []
    for error in exc.errors(include_url=False):
        location = ".".join(str(part) for part in error["loc"])
        node = _node_at(root, error["loc"])
        identifier = _scenario_id(root)
        label = f"scenario {identifier!r}, " if identifier else ""
        problems.append(f"{file}:{_line(node)}: {label}{location or 'file'}: {error['msg']}")
    return problems


def _node_at(node: yaml.Node | None, loc: Sequence[Any]) -> yaml.Node | None:
    """The deepest node on the path `loc` (pydantic's error location), for its line number."""
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            child = next((value for key, value in node.value if key.value == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        else:
            child = None
        if child is None:
            break
        node = child
    return node


def _bad_date_line(text: str) -> int:
    """The first line holding a date-shaped value that is no date (PyYAML does not say where)."""
    for number, line in enumerate(text.splitlines(), start=1):
        for found in re.finditer(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b", line):
            try:
                dt.date(*(int(part) for part in found.groups()))
            except ValueError:
                return number
    return 1


def _line(node: yaml.Node | None) -> int:
    return node.start_mark.line + 1 if node is not None else 1


def _scenario_id(node: yaml.Node | None) -> str | None:
    if isinstance(node, yaml.MappingNode):
        return next((str(value.value) for key, value in node.value if key.value == "id"), None)
    return None
