"""Article text cleaning: HTML to text, mojibake repair, whitespace normalisation.

The output keeps paragraph structure as single ``"\\n"`` between paragraphs (no empty lines), single
spaces inside paragraphs, NFC. HTML is parsed only when the text looks like HTML (tags or entities), with
BeautifulSoup on lxml: block elements (``p``, ``div``, ``li``, ``h1``-``h6``, ``br``, ...) become line
breaks, ``script``/``style``/``noscript``/``template`` are dropped, the text of links and inline markup is
kept. Mojibake (UTF-8 read as latin-1/cp1252, e.g. ``LÃ«tzebuerg``) is repaired with ftfy restricted to
encoding fixes: quotes, ligatures and character widths stay as written.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from functools import cache

_BLOCK_TAGS = (
    "p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "section", "article",
    "header", "footer", "aside", "figure", "figcaption", "table", "tr", "td", "th", "dd", "dt", "dl",
    "pre", "address", "hr", "main", "nav", "caption", "title",
)
_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "svg", "head")


@cache
def _regexes() -> dict[str, re.Pattern[str]]:
    return {
        "html": re.compile(
            r"<\s*/?\s*(?:p|br|div|span|a|li|ul|ol|h[1-6]|strong|em|b|i|u|script|style|table|tr|td|th|"
            r"blockquote|figure|figcaption|img|section|article|header|footer|sup|sub|small|html|body)\b[^>]*>"
            r"|&(?:amp|nbsp|quot|lt|gt|apos|shy|ndash|mdash|laquo|raquo|[a-z]uml|[a-z]acute|[a-z]grave"
            r"|[a-z]circ|#\d{2,5}|#x[0-9a-f]{2,4});",
            re.IGNORECASE,
        ),
        "spaces": re.compile(r"[^\S\n]+"),
        "invisible": re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]"),
        "newlines": re.compile(r"\s*\n\s*"),
        # a UTF-8 lead byte read as latin-1/cp1252 followed by a continuation byte read the same way, or
        # control/surrogate characters: only then can ftfy change anything we ask it to fix
        "suspect": re.compile(
            "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6"
            "\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
            "|[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ud800-\udfff\x1b]"
        ),
    }


def looks_like_html(text: str) -> bool:
    """True when the text contains HTML tags or entities."""
    return _regexes()["html"].search(text) is not None


def html_to_text(html: str) -> str:
    """Visible text of an HTML fragment; block elements and ``<br>`` become line breaks."""
    from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(html, "lxml")
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    return soup.get_text()


@cache
def _ftfy_config():
    from ftfy import TextFixerConfig

    return TextFixerConfig(
        unescape_html=False, remove_terminal_escapes=True, fix_encoding=True, restore_byte_a0=True,
        replace_lossy_sequences=True, decode_inconsistent_utf8=True, fix_c1_controls=True,
        fix_latin_ligatures=False, fix_character_width=False, uncurl_quotes=False, fix_line_breaks=True,
        fix_surrogates=True, remove_control_chars=True, normalization="NFC", explain=False,
    )


def fix_mojibake(text: str) -> str:
    """Repair text decoded with the wrong encoding (``LÃ«tzebuerg`` -> ``Lëtzebuerg``); nothing else."""
    if _regexes()["suspect"].search(text) is None:
        return text  # fast path: nothing ftfy could repair (most clean text)
    from ftfy import fix_text

    return fix_text(text, config=_ftfy_config())


def normalize_whitespace(text: str) -> str:
    """NFC; no invisible characters; single spaces; paragraphs separated by one ``\\n``; stripped."""
    r = _regexes()
    text = unicodedata.normalize("NFC", text)
    text = r["invisible"].sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = r["spaces"].sub(" ", text)
    return r["newlines"].sub("\n", text).strip()


def clean_text(text: str) -> str:
    """Clean one article field: mojibake repair, HTML to text (when it looks like HTML), whitespace."""
    if not text:
        return ""
    text = fix_mojibake(text)
    if looks_like_html(text):
        text = html_to_text(text)
    return normalize_whitespace(text)
