from __future__ import annotations

import pytest

from scanwise.domain.kb import KnowledgeBase, default_kb


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return default_kb()
