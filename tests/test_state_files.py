"""State files: written whole, and a corrupt one quarantined (named, counted by doctor), never blocking."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from state.files import CorruptStateFile, quarantined, read_json, write_json


def _must_be_object(document: Any) -> None:
    if not isinstance(document, dict):
        raise CorruptStateFile("not a JSON object")


def test_a_written_file_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "state" / "ledger.json"
    write_json(path, {"a": 1})
    assert read_json(path, tmp_path, _must_be_object) == {"a": 1}
    assert [p.name for p in path.parent.iterdir()] == ["ledger.json"]  # no draft left behind


def test_a_missing_file_is_none_and_nothing_is_quarantined(tmp_path: Path) -> None:
    assert read_json(tmp_path / "nothing.json", tmp_path) is None
    assert quarantined(tmp_path) == []


@pytest.mark.parametrize(
    "content", [b"", b'{"a": 1', b"\xff\xfe", b"[1, 2]"], ids=["empty", "truncated", "binary", "shape"]
)
def test_a_corrupt_file_is_quarantined_with_its_reason(
    tmp_path: Path, content: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "alerts" / "ledger.json"
    path.parent.mkdir()
    path.write_bytes(content)
    with caplog.at_level(logging.WARNING):
        assert read_json(path, tmp_path, _must_be_object) is None
    assert not path.exists()
    [(moved, reason)] = quarantined(tmp_path)
    assert moved.read_bytes() == content and "ledger.json" in moved.name
    assert str(path) in reason
    assert any(str(moved) in record.getMessage() for record in caplog.records)


def test_a_failed_write_leaves_the_old_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    write_json(path, {"kept": True})
    with pytest.raises(TypeError):
        write_json(path, {"bad": object()})
    assert read_json(path, tmp_path) == {"kept": True}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.json"]
