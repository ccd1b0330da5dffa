"""Mail templates: a plain-text and an HTML part per kind and language.

Templates live in ``bot/mail/letters/`` as ``<kind>.<language>.txt`` (a
``Subject:`` line, a blank line, the body) and ``<kind>.<language>.html``,
with ``$name`` placeholders (:class:`string.Template`). Values are inserted
as given in the text part and escaped in the HTML part. A language without
its own template falls back to English.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from string import Template

LETTERS = Path(__file__).parent / "letters"
DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True)
class Letter:
    """A rendered mail: subject, plain-text body, HTML body."""

    subject: str
    text: str
    html: str


def language_of(locale: str | None) -> str:
    """The language part of a locale (``de-AT`` → ``de``); English if unknown."""
    if not locale:
        return DEFAULT_LANGUAGE
    return locale.replace("_", "-").split("-")[0].lower() or DEFAULT_LANGUAGE


@cache
def _templates(kind: str, language: str) -> tuple[Template, Template, Template]:
    text_path = LETTERS / f"{kind}.{language}.txt"
    if not text_path.is_file():
        if language == DEFAULT_LANGUAGE:
            raise LookupError(f"no mail template {kind!r}")
        return _templates(kind, DEFAULT_LANGUAGE)
    head, _, body = text_path.read_text(encoding="utf-8").partition("\n\n")
    if not head.startswith("Subject: "):
        raise LookupError(f"{text_path.name} must start with a 'Subject: ' line")
    html_text = (LETTERS / f"{kind}.{language}.html").read_text(encoding="utf-8")
    return (
        Template(head.removeprefix("Subject: ").strip()),
        Template(body),
        Template(html_text),
    )


def render(kind: str, locale: str | None, values: dict[str, str]) -> Letter:
    """Render the ``kind`` template in the locale's language.

    Args:
        kind: The template's name (``reply``, ``reminder``, ``escalation``).
        locale: The reader's locale, e.g. ``de-DE``; ``None``: English.
        values: The placeholders' values (plain text).

    Raises:
        LookupError: No such template.
        KeyError: A placeholder without a value.
    """
    subject, text, page = _templates(kind, language_of(locale))
    escaped = {
        key: html.escape(value).replace("\n", "<br>\n") for key, value in values.items()
    }
    # A subject is one line, whatever the values hold.
    one_line = {key: " ".join(value.split()) for key, value in values.items()}
    return Letter(
        subject=subject.substitute(one_line)[:255],
        text=text.substitute(values),
        html=page.substitute(escaped),
    )
