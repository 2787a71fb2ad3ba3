"""The console's words in English and Simplified Chinese. The language is the one chosen
(``?lang=``, kept in a cookie), else the browser's first acceptable one, else Chinese,
the desk's own. A word without a translation falls back to English, then to the key
made readable, so a new command or field never shows as a blank."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request

from aftercare_ticket.console.texts_en import EN
from aftercare_ticket.console.texts_zh import ZH_CN

LANGUAGES = ("zh-CN", "en")
LANG_COOKIE = "aftercare_lang"

TEXTS: Mapping[str, Mapping[str, str]] = {"en": EN, "zh-CN": ZH_CN}


def language_of(request: Request) -> str:
    chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    for part in request.headers.get("accept-language", "").split(",")[:10]:
        tag = part.split(";", 1)[0].strip().lower()
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return "zh-CN"


class Words:
    """``words("queue")`` in the page's language; ``words("state", "raised")`` for a
    value of the vocabulary."""

    def __init__(self, language: str) -> None:
        self.language = language
        self._texts = TEXTS.get(language, EN)

    def __call__(self, key: str, value: str | None = None) -> str:
        if value is not None:
            key = f"{key}.{value}"
        found = self._texts.get(key) or EN.get(key)
        if found:
            return found
        last = key.rsplit(".", 1)[-1]
        return last.replace("_", " ").capitalize()
