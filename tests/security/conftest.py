"""The security suite runs against the real app, with the e2e harness's fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import (  # noqa: F401 (fixtures, used by name)
    contest_config,
    faq_embeddings,
    onebot,
    start_app,
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.e2e)
