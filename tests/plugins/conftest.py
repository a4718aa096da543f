from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _forget_admins() -> Iterator[None]:
    """The router caches who is a group admin; each test starts with an empty cache."""
    from plugins.router import _admin_cache

    _admin_cache.clear()
    yield
    _admin_cache.clear()
