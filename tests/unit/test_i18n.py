"""The message catalogue: every key the code uses is in English, every English key is used, another
language falls back to English key by key, and the widget fetches its texts from GET /v1/messages."""

import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant import i18n
from assistant.api.app import create_app
from assistant.config import Settings

ROOT = Path(__file__).resolve().parents[2]
PY_KEY = re.compile(r"""\bt\(\s*["']([a-z0-9_.]+)["']""")  # t("handoff.started", ...)
JS_KEY = re.compile(r"""\bT\(\s*["']([a-z0-9_.]+)["']""")  # T("widget.send")


def _keys(pattern: re.Pattern, files) -> dict[str, str]:
    return {key: str(f.relative_to(ROOT)) for f in files for key in pattern.findall(f.read_text(encoding="utf-8"))}


def used_keys() -> dict[str, str]:
    return {**_keys(PY_KEY, (ROOT / "assistant").rglob("*.py")), **_keys(JS_KEY, [ROOT / "web" / "widget.js"])}


def test_every_key_the_code_uses_is_in_english():
    english = i18n.catalogue("en")
    used = used_keys()
    assert len(used) > 100
    assert {k: f for k, f in used.items() if k not in english} == {}


def test_every_english_key_is_used():
    assert sorted(i18n.catalogue("en").keys() - used_keys().keys()) == []


def test_texts_are_unchanged():
    from assistant.channels.voice_types import VoicePrompts
    from assistant.core.guardrails import REPLIES
    from assistant.llm import prompts

    assert prompts.TALK_TO_AGENT == "Talk to an agent"
    assert prompts.EXTRACTIVE_LEAD == "Here is what our {title} information says: "  # the trailing space included
    assert prompts.HANDOFF_STARTED.format(position=2, minutes=5).startswith(
        "I'm connecting you with one of our agents. You're number 2 in the queue; the expected wait is about 5 minutes.")
    assert REPLIES["language"].startswith("I'm sorry, I can only help in English for now.")
    assert VoicePrompts().csat_ask == ("Before you go: how satisfied are you with this call? On your keypad, press 1 "
                                      "for very dissatisfied, up to 5 for very satisfied.")
    assert i18n.t("widget.online") == "Virtual assistant · online"


def test_t_fills_fields_and_unknown_keys_fail():
    assert i18n.t("voice.greeting_bank", bank_name="Larkspur Bank").startswith("Thank you for calling Larkspur Bank.")
    with pytest.raises(KeyError):
        i18n.t("no.such.key")
    with pytest.raises(i18n.UnknownLanguage):
        i18n.catalogue("xx")


def _locales(tmp_path: Path, es_po: str) -> Path:
    shutil.copytree(i18n.LOCALES / "en", tmp_path / "en")
    (tmp_path / "es" / "LC_MESSAGES").mkdir(parents=True)
    (tmp_path / "es" / "LC_MESSAGES" / "messages.po").write_text(
        'msgid ""\nmsgstr ""\n"Language: es\\n"\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n' + es_po, encoding="utf-8")
    return tmp_path


def test_a_second_language_falls_back_to_english_key_by_key(tmp_path):
    es_po = ('msgid "widget.send"\nmsgstr "Enviar"\n\n'
             '#, python-brace-format\nmsgid "widget.open_chat"\nmsgstr "Abrir el chat con {title}"\n\n'
             'msgid "widget.skip"\nmsgstr ""\n\n'  # not yet translated: English
             '#, fuzzy\nmsgid "widget.end_chat"\nmsgstr "Terminar"\n')  # fuzzy: not trusted, English
    loaded = i18n.load(_locales(tmp_path, es_po))
    es, en = loaded["es"], loaded["en"]
    assert es["widget.send"] == "Enviar" and es["widget.open_chat"] == "Abrir el chat con {title}"
    assert es["widget.skip"] == en["widget.skip"] == "Skip" and es["widget.end_chat"] == "End chat"
    assert es.keys() == en.keys()


@pytest.mark.parametrize(("es_po", "problem"), [
    ('msgid "widget.sendd"\nmsgstr "Enviar"\n', "keys English lacks"),
    ('msgid "widget.open_chat"\nmsgstr "Abrir el chat con {titulo}"\n', "placeholders differ"),
])
def test_a_broken_catalogue_fails_at_load(tmp_path, es_po, problem):
    with pytest.raises(ValueError, match=problem):
        i18n.load(_locales(tmp_path, es_po))


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    settings = Settings(_env_file=None, storage={"data_dir": tmp_path_factory.mktemp("data")})
    return TestClient(create_app(settings, None))  # no lifespan: the models never load; the texts need none


def test_widget_texts_route(api):
    r = api.get("/v1/messages", params={"lang": "en"})
    assert r.status_code == 200 and "max-age" in r.headers["cache-control"]
    assert r.headers["access-control-allow-origin"] == "*"  # a widget embedded on another origin reads them
    body = r.json()
    assert body["language"] == "en"
    assert body["messages"]["chip.talk_to_agent"] == "Talk to an agent"
    assert body["messages"]["widget.placeholder"] == "Ask a question…"
    assert all(k.startswith(i18n.WIDGET_PREFIXES) for k in body["messages"]) and "answer.dont_know" not in body["messages"]
    assert _keys(JS_KEY, [ROOT / "web" / "widget.js"]).keys() <= body["messages"].keys()
    assert api.get("/v1/messages").json() == body  # English by default
    assert api.get("/v1/messages", params={"lang": "en-GB"}).json()["language"] == "en"  # the primary subtag


def test_widget_texts_route_rejects_unknown_languages(api):
    r = api.get("/v1/messages", params={"lang": "xx"})
    assert r.status_code == 404 and "available: en" in r.json()["detail"]
    for bad in ("../en", "EN", "english", ""):
        assert api.get("/v1/messages", params={"lang": bad}).status_code == 422, bad
