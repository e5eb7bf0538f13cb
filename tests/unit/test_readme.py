"""The README's quickstart runs exactly as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).parents[2] / "README.md"


def quickstart() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Library quickstart", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "the README has no python block under 'Library quickstart'"
    return match.group(1)


def test_the_quickstart_runs_as_written_and_leaves_no_file_at_home(tmp_path: Path) -> None:
    script = tmp_path / "quickstart.py"
    script.write_text(quickstart(), encoding="utf-8")
    home = tmp_path / "home"
    home.mkdir()
    environ = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("USERCORE_") and name != "XDG_DATA_HOME"
    }
    result = subprocess.run(  # noqa: S603 - our own interpreter on our own README
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**environ, "HOME": str(home)},
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "refused: invalid email or password\n"
    # memory:// keeps everything in the process: no key file, no database, nothing.
    assert list(home.rglob("*")) == []


def test_the_readme_names_the_serve_and_test_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert "usercore serve" in text
    assert "python -m pytest" in text
