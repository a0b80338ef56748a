"""The settings reference is generated from the models, and no doc names a variable that does not exist."""

import re
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.config.reference import REFERENCE, reference
from assistant.config.renamed import env_name, renamed_env
from assistant.config.sections import PROJECT_ROOT, Section

# BANK_ names that are not settings: docker compose's own variables, and test knobs read by tests/.
NOT_SETTINGS = {
    "BANK_PROXY_IP": "docker-compose.yml: the proxy's fixed address on the edge network",
    "BANK_EDGE_SUBNET": "docker-compose.yml: the edge network",
    "BANK_FUZZ_EXAMPLES": "tests/fuzz_budget.py: examples per fuzzed operation",
    "BANK_FUZZ_REPORT": "tests/fuzz_budget.py: where the fuzz report goes",
}
NAME = re.compile(r"\bBANK_[A-Z0-9_]*[A-Z0-9](?:__\*)?")


def _variables() -> set[str]:
    names = {env_name(name) for name, f in Settings.model_fields.items()
             if not (isinstance(f.annotation, type) and issubclass(f.annotation, Section))}
    for section, f in Settings.model_fields.items():
        if isinstance(f.annotation, type) and issubclass(f.annotation, Section):
            names |= {env_name(f"{section}.{name}") for name in f.annotation.model_fields}
            names.add(env_name(section) + "__*")
    return names


def _documents() -> list[Path]:
    files = [PROJECT_ROOT / name for name in ("README.md", "docker-compose.yml", "Dockerfile", "Makefile", ".ci/run")]
    files += sorted((PROJECT_ROOT / "docs").rglob("*.md")) + sorted((PROJECT_ROOT / "deploy").rglob("*"))
    return [f for f in files if f.is_file() and f != REFERENCE]


def test_the_settings_reference_is_current():
    assert REFERENCE.read_text(encoding="utf-8") == reference(), \
        "docs/settings.md is stale: python -m assistant.config.reference --write"


@pytest.mark.parametrize("path", _documents(), ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_every_variable_a_document_names_exists(path):
    known = _variables() | set(NOT_SETTINGS)
    unknown = sorted(set(NAME.findall(path.read_text(encoding="utf-8"))) - known)
    hints = [f"{n} (now {renamed_env()[n]})" if n in renamed_env() else n for n in unknown]
    assert not unknown, f"{path.name} names settings that do not exist: {', '.join(hints)}"


def test_the_scan_sees_the_variables():
    names = set(NAME.findall((PROJECT_ROOT / "docker-compose.yml").read_text(encoding="utf-8")))
    assert {"BANK_STORAGE__DATABASE_URL", "BANK_REDIS__URL", "BANK_PROXY_IP"} <= names
    assert "BANK_VOICE__*" in _variables() and "BANK_VOICE__SILENCE_REPROMPT_S" in _variables()


def test_the_reference_is_the_same_on_every_machine():
    text = reference()
    assert str(PROJECT_ROOT) not in text
    assert Path.home() == Path("/") or f"{Path.home()}/" not in text
