"""The policy document: what docs/approval-policy.md shows parses, and mistakes are refused on import."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from server.importer.dataset import read_folder
from server.importer.problems import Problems
from server.kit.approval_policy import Policy
from tests.approvers.conftest import NORTHWIND

DOC = Path(__file__).resolve().parents[2] / "docs" / "approval-policy.md"


def test_the_documented_example_is_a_valid_policy() -> None:
    example = re.search(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)

    assert example is not None
    policy = Policy.model_validate_json(example.group(1))
    assert [len(rule.steps) for rule in policy.rules] == [1, 2, 1, 1, 1, 1, 1]


def test_a_step_repeated_in_a_rule_is_refused_on_import(tmp_path: Path) -> None:
    folder = Path(shutil.copytree(NORTHWIND, tmp_path / "northwind"))
    document = folder / "approval_policy.json"
    document.write_text(
        document.read_text().replace('["role:cfo"]', '["role:cfo", "finance_team", "role:cfo"]'),
        encoding="utf-8",
    )
    problems = Problems()

    read_folder(folder, problems)

    assert [str(problem) for problem in problems] == [
        "approval_policy.json:0: rules[2].steps: steps[2] repeats 'role:cfo' (steps[0])"
    ]
