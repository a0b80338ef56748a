"""Size limits of the runtime packages (issue 28): a module <= 300 lines, a function <= 50 lines.

A long data table (a list of cases, a mapping of words) may be declared below with the reason it reads
better whole; a function that is long because it does several things is split instead.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("assistant", "knowledge_base", "voice", "finetune", "sandbox_bank")
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 50

# "path" (the module may run long) or "path::function" -> why it is a data table, in one line.
DECLARED_DATA_TABLES: dict[str, str] = {}


def _sources() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def _functions(tree: ast.AST) -> list[tuple[str, int]]:
    """Every function and method (nested ones too) with its length in lines, decorators left out."""
    return [(node.name, (node.end_lineno or node.lineno) - node.lineno + 1) for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]


def _oversized() -> list[tuple[str, str, int]]:
    """(key, what, lines) for each module and function over its limit; key as in DECLARED_DATA_TABLES."""
    found = []
    for path in _sources():
        rel = path.relative_to(ROOT).as_posix()
        text = path.read_text(encoding="utf-8")
        if (n := len(text.splitlines())) > MAX_MODULE_LINES:
            found.append((rel, "module", n))
        for name, n in _functions(ast.parse(text, filename=rel)):
            if n > MAX_FUNCTION_LINES:
                found.append((f"{rel}::{name}", "function", n))
    return found


def test_modules_and_functions_within_limits():
    over = [(key, what, n) for key, what, n in _oversized()
            if key not in DECLARED_DATA_TABLES]
    assert not over, (f"over the limits (module {MAX_MODULE_LINES}, function {MAX_FUNCTION_LINES} lines); split them, "
                      "or declare a data table in DECLARED_DATA_TABLES with its reason:\n"
                      + "\n".join(f"  {key}: {what} of {n} lines" for key, what, n in over))


def test_exemptions_name_real_files_and_are_still_needed():
    missing = [key for key in DECLARED_DATA_TABLES if not (ROOT / key.split("::")[0]).is_file()]
    assert not missing, f"exempted files that do not exist: {missing}"
    over = {key for key, _, _ in _oversized()}
    stale = [key for key in DECLARED_DATA_TABLES if key not in over]
    assert not stale, f"declared data tables now within the limits: drop them from DECLARED_DATA_TABLES: {stale}"
    assert all(reason.strip() for reason in DECLARED_DATA_TABLES.values())


def test_the_check_sees_a_long_function():
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    assert _functions(ast.parse(f"@decorator\ndef f():\n{body}\n")) == [("f", MAX_FUNCTION_LINES + 1)]
