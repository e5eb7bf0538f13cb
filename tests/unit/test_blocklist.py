"""The common-password blocklist is zxcvbn's list, read without importing all six of its lists."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from usercore.adapters.zxcvbn import blocklist


def test_reads_the_same_words_the_module_defines() -> None:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    expected = {word.casefold() for word in FREQUENCY_LISTS["passwords"] if len(word) >= 8}
    assert blocklist.common_passwords() == expected
    assert "password123" in blocklist.common_passwords()


def test_does_not_import_the_frequency_lists() -> None:
    script = (
        "import sys\n"
        "from usercore.adapters.zxcvbn import common_passwords\n"
        "assert len(common_passwords()) > 10_000\n"
        "print(sorted(m for m in sys.modules if m.startswith('zxcvbn')))\n"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_falls_back_to_the_import_when_the_source_is_laid_out_otherwise(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "frequency_lists.py").write_text("FREQUENCY_LISTS = build()\n", encoding="utf-8")
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda _name: type("Spec", (), {"origin": str(tmp_path / "__init__.py")})(),
    )
    assert blocklist._passwords_from_source() is None
    blocklist.common_passwords.cache_clear()
    try:
        assert len(blocklist.common_passwords()) > 10_000
    finally:
        blocklist.common_passwords.cache_clear()
