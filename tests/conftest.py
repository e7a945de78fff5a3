"""Shared fixtures. Every test gets its own SHINRAI_HOME so runs never touch the demo's data."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
logging.getLogger("great_expectations").setLevel(logging.WARNING)


@pytest.fixture
def shinrai_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "shinrai"
    monkeypatch.setenv("SHINRAI_HOME", str(home))
    yield home
