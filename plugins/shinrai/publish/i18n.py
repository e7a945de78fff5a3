"""Report labels in English and Japanese; ``reporting.languages`` picks which are shown, in order.

``[en, ja]`` shows "Incidents / インシデント", ``[ja]`` only "インシデント". Names that come from
the data (products, severities, detection routes, development categories, objectives) have their
Japanese form in the published reference tables and marts, and are joined the same way.

A counted noun is a mapping of CLDR plural categories (``{one: "{n} change", other: "{n} changes"}``);
``Count("count_changes", 1)`` as a value picks the form each language's plural rule asks for (Babel's
CLDR data: English "1 change" / "2 changes", Japanese one form), so no label hard-codes an English "s".
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from babel import Locale

from shinrai.config import REPORT_LANGUAGES as SUPPORTED_LANGUAGES  # validated with the configuration

LABELS_FILE = Path(__file__).with_name("labels.yaml")


@lru_cache(maxsize=1)
def labels() -> dict[str, dict[str, str]]:
    with open(LABELS_FILE, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    missing = [key for key, entry in data.items() if set(SUPPORTED_LANGUAGES) - set(entry)]
    if missing:
        raise ValueError(f"{LABELS_FILE}: labels without every language: {', '.join(missing)}")
    no_other = [key for key, entry in data.items()
                if any(isinstance(text, dict) and "other" not in text for text in entry.values())]
    if no_other:
        raise ValueError(f"{LABELS_FILE}: counted labels without an 'other' form: {', '.join(no_other)}")
    return data


class Count(NamedTuple):
    """A number with the counted label it is shown with: ``Count("count_changes", 3)`` -> "3 changes"."""

    key: str
    n: int


@cache
def _locale(lang: str) -> Locale:
    return Locale.parse(lang)


def text(key: str, lang: str, values: dict[str, Any] | None = None) -> str:
    """One label in one language, its placeholders filled (a ``Count`` value in its plural form)."""
    entry = labels()[key][lang]
    values = values or {}
    if isinstance(entry, dict):
        count = values.get("n")
        category = _locale(lang).plural_form(abs(count)) if isinstance(count, int | float) else "other"
        entry = entry.get(category, entry["other"])
    filled = {name: text(v.key, lang, {"n": v.n}) if isinstance(v, Count) else v for name, v in values.items()}
    return entry.format(**filled) if filled else entry


class Labeler:
    """Joins the configured languages' labels: ``t("title")`` -> "Monthly reliability report / 月次信頼性レポート"."""

    def __init__(self, languages: Sequence[str], separator: str = " / "):
        langs = tuple(languages)
        unknown = [lang for lang in langs if lang not in SUPPORTED_LANGUAGES]
        if not langs or unknown:
            raise ValueError(
                f"config reporting.languages: expected a non-empty list of {', '.join(SUPPORTED_LANGUAGES)}, "
                f"got {list(langs)!r}"
            )
        self.languages = langs
        self.separator = separator

    @property
    def html_lang(self) -> str:
        return self.languages[0]

    def t(self, key: str, **values: object) -> str:
        parts = [text(key, lang, values) for lang in self.languages]
        return self.separator.join(dict.fromkeys(parts))

    def lines(self, key: str, **values: object) -> list[str]:
        """One text per configured language (for sentences, which read badly joined by a slash)."""
        return list(dict.fromkeys(text(key, lang, values) for lang in self.languages))

    def pair(self, en: str | None, ja: str | None) -> str:
        """A name that exists in both languages in the data (either may be missing)."""
        by_lang = {"en": en, "ja": ja}
        parts = [by_lang[lang] for lang in self.languages if by_lang[lang]]
        if not parts:
            parts = [v for v in (en, ja) if v]
        return self.separator.join(dict.fromkeys(parts)) if parts else ""
