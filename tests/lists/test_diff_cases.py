"""Field-diff cases as data (cases/field_diff.yaml): the one rule of what counts as a change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.lists.diff import field_changes

CASES: list[dict[str, Any]] = yaml.safe_load((Path(__file__).parent / "cases" / "field_diff.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_field_diff_case(case: dict[str, Any]) -> None:
    found = field_changes(case["old"], case["new"], case.get("ignore", ()))
    assert {column: [c["old"], c["new"]] for column, c in found.items()} == case["changes"]
    assert list(found) == list(case["changes"]), "changes keep the new list's column order"
