from __future__ import annotations

import pytest

from tests.demo.company import Company, generate


@pytest.fixture(scope="session")
def small(tmp_path_factory: pytest.TempPathFactory) -> Company:
    """The small company most demo tests share (generated once; do not modify it)."""
    return generate(tmp_path_factory.mktemp("small"))
