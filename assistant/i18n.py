"""Words a customer reads: one gettext catalogue per language, keyed, read once when this module loads.

A catalogue is `assistant/locales/<lang>/LC_MESSAGES/messages.po` (read by Babel, no compile step).
msgid is a stable key named by where the words are used ("handoff.started"); msgstr is the text, with
`{name}` placeholders (python-brace-format): `t("handoff.started", position=2, minutes=5)`.
English (`en`) holds every key. Another language may hold some of them: each key it lacks falls back to
English. A key the code asks for and English lacks is a KeyError when the module using it loads (the
texts are module constants) and in tests/unit/test_i18n.py, never at a customer.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from babel.messages.pofile import read_po

DEFAULT_LANGUAGE = "en"
LOCALES = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"
# What the widget fetches (GET /v1/messages): its own texts, the suggestion chips it recognises, the
# hand-off notes it shows or reads back from the stored conversation, the survey scale's ends.
WIDGET_PREFIXES = ("widget.", "chip.", "handoff.", "csat.")
_LANGUAGE = re.compile(r"[a-z]{2,3}(?:_[A-Z]{2})?")  # a folder name: "en", "es", "pt_BR"


class UnknownLanguage(LookupError):
    """No catalogue for this language."""


def _po(locales: Path, lang: str) -> Path:
    return locales / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def _read(path: Path) -> dict[str, str]:
    """The translated, non-fuzzy messages of one catalogue (the header and empty msgstrs left out)."""
    with path.open("rb") as f:
        catalog = read_po(f, domain=DOMAIN)
    return {m.id: m.string for m in catalog if isinstance(m.id, str) and m.id and isinstance(m.string, str)
            and m.string and not m.fuzzy}


def placeholders(template: str) -> frozenset[str]:
    """The `{name}` fields of a text: "You're number {position}" -> {"position"}."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


def load(locales: Path = LOCALES) -> dict[str, Mapping[str, str]]:
    """Every language's catalogue under `locales`, each key falling back to English; ValueError for a
    language whose key English lacks, or whose text has other {fields} than the English one."""
    english = _read(_po(locales, DEFAULT_LANGUAGE))
    loaded: dict[str, Mapping[str, str]] = {DEFAULT_LANGUAGE: MappingProxyType(english)}
    for folder in sorted(locales.iterdir()):
        lang, path = folder.name, _po(locales, folder.name)
        if lang == DEFAULT_LANGUAGE or not _LANGUAGE.fullmatch(lang) or not path.is_file():
            continue
        own = _read(path)
        if stray := sorted(own.keys() - english.keys()):
            raise ValueError(f"{path}: keys English lacks (a typo?): {stray}")
        if differ := sorted(k for k, v in own.items() if placeholders(v) != placeholders(english[k])):
            raise ValueError(f"{path}: placeholders differ from English in {differ}")
        loaded[lang] = MappingProxyType(english | own)
    return loaded


_CATALOGUES = load()


def languages() -> tuple[str, ...]:
    return tuple(_CATALOGUES)


def resolve(lang: str) -> str:
    """The catalogue that serves `lang`: itself, else its primary subtag ("pt_PT" -> "pt"); else UnknownLanguage."""
    for candidate in (lang, lang.split("_")[0]):
        if candidate in _CATALOGUES:
            return candidate
    raise UnknownLanguage(lang)


def catalogue(lang: str = DEFAULT_LANGUAGE) -> Mapping[str, str]:
    """Every key's text in `lang`: its own where it has one, English otherwise."""
    return _CATALOGUES[resolve(lang)]


def t(key: str, lang: str = DEFAULT_LANGUAGE, /, **values: object) -> str:
    """The text of `key` in `lang`, its placeholders filled from `values`; without values, the template as is."""
    template = catalogue(lang)[key]
    return template.format(**values) if values else template


def widget_messages(lang: str) -> dict[str, str]:
    """The texts the chat widget shows, in `lang` (English where `lang` lacks one)."""
    return {k: v for k, v in catalogue(lang).items() if k.startswith(WIDGET_PREFIXES)}
