"""Replace e-mail addresses, URLs and phone numbers by ``[email]``, ``[url]`` and ``[phone]``.

As in the paper's mining scripts, these are replaced before sentence splitting (their periods would
otherwise split sentences) and so that pairs do not carry personal contact data.
Phone numbers: international (``+352 621 123 456``, ``00352 26 12 34 56``, ``+33 1 23 45 67 89``,
``+1 (555) 123-4567``; at least 8 digits), Luxembourg mobiles without prefix (``621 123 456``,
``691123456``: 6x1/6x8 operator prefixes), Luxembourg landlines of 8 digits in pairs (``26 12 34 56``), and
6-digit landlines in pairs (``22 33 44``) when preceded by a phone label (``Tel.``, ``Tél.``,
``Telefon``, ``phone``, ...). Scores (``3-1``), dates, years and amounts are left alone.
"""

from __future__ import annotations

import re
from functools import cache


@cache
def _patterns() -> dict[str, re.Pattern[str]]:
    return {
        "email": re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])"),
        "url": re.compile(
            r"(?:\b(?:https?|ftp)://|\bwww\.)[^\s<>\"«»“”]+"
            r"|\b(?:[a-z0-9-]+\.)+(?:lu|com|org|net|eu|de|fr|be|info|io)/[^\s<>\"«»“”]*",
            re.IGNORECASE,
        ),
        "intl_phone": re.compile(
            r"(?<![\w+])(?:\+|00)\d{1,3}(?:[\s./-]?\(\d{1,4}\))?(?:[\s./-]?\d{1,4}){2,6}(?![\w])"
        ),
        "lu_mobile": re.compile(r"(?<![\d+])6[2679][18][ .]?\d{3}[ .]?\d{3}(?![\d])"),
        "lu_landline8": re.compile(r"(?<![\d+.,:-])\d{2}(?:[ .]\d{2}){3}(?![\d.,:-]?\d)"),
        "labelled6": re.compile(
            r"(?i)(\b(?:tel|tél|telefon|telephone|téléphone|phone|fax|gsm|handy)\.?:?\s?)"
            r"\d{2}(?:[ .]?\d{2}){2,3}(?!\d)"
        ),
    }


def _strip_trailing(match: re.Match[str], token: str) -> str:
    """Keep sentence punctuation that a URL pattern swallowed at its end outside the placeholder."""
    s = match.group(0)
    core = s.rstrip(".,;:!?)]'’")
    return token + s[len(core):]


def _phone(match: re.Match[str]) -> str:
    digits = sum(ch.isdigit() for ch in match.group(0))
    return "[phone]" if digits >= 8 else match.group(0)


def apply_placeholders(text: str, email: bool = True, url: bool = True, phone: bool = True) -> str:
    """Replace e-mails, URLs and phone numbers by placeholders (in that order)."""
    p = _patterns()
    if email:
        text = p["email"].sub("[email]", text)
    if url:
        text = p["url"].sub(lambda m: _strip_trailing(m, "[url]"), text)
    if phone:
        text = p["intl_phone"].sub(_phone, text)
        text = p["lu_mobile"].sub("[phone]", text)
        text = p["lu_landline8"].sub("[phone]", text)
        text = p["labelled6"].sub(lambda m: m.group(1) + "[phone]", text)
    return text
