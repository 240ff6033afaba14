"""Real-data tests skip with a reason locally but fail when CI=true."""

from __future__ import annotations

from pathlib import Path

import pytest

import tests.geo.conftest as c


def test_missing_data_skips_locally(monkeypatch) -> None:
    monkeypatch.setattr(c, "IN_CI", False)
    with pytest.raises(pytest.skip.Exception):
        c.require_data(Path("/nonexistent"))


def test_missing_data_fails_in_ci(monkeypatch) -> None:
    monkeypatch.setattr(c, "IN_CI", True)
    with pytest.raises(pytest.fail.Exception):
        c.require_data(Path("/nonexistent"))
