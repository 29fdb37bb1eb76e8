"""Modules stay small enough to read in one sitting: over 400 lines, a module says why.

A module of the package longer than `LIMIT` lines must carry a comment starting with
`# Longer than 400 lines:` that says why it is not split (one table that belongs together,
a generated file ...). The test names every module over the limit without one.
"""

from __future__ import annotations

from pathlib import Path

import ainimal_zookeeper

LIMIT = 400
MARKER = "# Longer than 400 lines:"


def long_modules_without_a_reason(package: Path) -> list[str]:
    """Modules under `package` over LIMIT lines that do not say why, with their sizes."""
    found = []
    for path in sorted(package.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) > LIMIT and not any(line.strip().startswith(MARKER) for line in lines):
            found.append(f"{path.relative_to(package.parent)} ({len(lines)} lines)")
    return found


def test_every_module_over_400_lines_says_why_it_is_not_split() -> None:
    assert long_modules_without_a_reason(Path(ainimal_zookeeper.__file__).parent) == []


def test_the_size_check_names_a_long_module_until_it_says_why(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "short.py").write_text("x = 1\n" * LIMIT)
    long_module = package / "long.py"
    long_module.write_text("x = 1\n" * (LIMIT + 1))
    assert long_modules_without_a_reason(package) == [f"pkg/long.py ({LIMIT + 1} lines)"]
    long_module.write_text(f"{MARKER} one table that belongs together\n" + "x = 1\n" * LIMIT)
    assert long_modules_without_a_reason(package) == []
