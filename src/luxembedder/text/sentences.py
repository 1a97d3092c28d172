"""Sentence preparation for mining: split title, lead and body separately, then filter with counters.

Defaults follow the paper's mining scripts (``../shared/docs/paper-notes.md``): placeholders for e-mails,
URLs and phones before splitting; a final period for titles; the glued-period fix; keep sentences longer
than 10 characters with at least 4 words that do not end in a 1–2 digit number plus period. Every split
sentence is either kept or counted under one drop reason, so ``kept + sum(dropped) == split``.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache

from pydantic import Field

from luxembedder.config import BaseConfig
from luxembedder.text.placeholders import apply_placeholders
from luxembedder.text.split import split_sentences

SECTIONS = ("title", "lead", "body")


class SentenceFilterConfig(BaseConfig):
    """Sentence splitting and filtering options (defaults: the paper's mining scripts)."""

    min_chars: int = Field(10, ge=0, description="keep sentences with MORE than this many characters (paper: > 10)")
    min_words: int = Field(4, ge=0, description="keep sentences with at least this many words (paper: >= 4)")
    max_chars: int | None = Field(None, ge=1, description="drop sentences longer than this (not in the paper)")
    drop_trailing_number: bool = Field(
        True, description="drop sentences ending in a 1-2 digit number plus period, e.g. '... den 12.' "
                          "(paper; such fragments are splitting errors on ordinals)")
    placeholders: bool = Field(True, description="replace e-mails, URLs, phones by [email], [url], [phone]")
    title_period: bool = Field(True, description="add a final period to titles without terminal punctuation")
    glued_period_fix: bool = Field(True, description="split 'Regierung.Den' into two sentences")


@dataclass
class SentenceBatch:
    """Kept sentences as ``(section, position, text)`` (position: index among the section's split
    sentences) and a Counter of drop reasons; ``n_split`` is the number of sentences before filtering."""

    sentences: list[tuple[str, int, str]] = field(default_factory=list)
    dropped: Counter = field(default_factory=Counter)
    n_split: int = 0

    @property
    def texts(self) -> list[str]:
        return [t for _, _, t in self.sentences]


@cache
def _regexes() -> dict[str, re.Pattern[str]]:
    return {
        "terminal": re.compile(r"[.!?…][\s”“\"’'»)\]]*$"),
        "trailing_number": re.compile(r"(?:^|[\s(])\d{1,2}\.$"),
    }


def ensure_final_period(title: str) -> str:
    """``"Nei Mesuren"`` -> ``"Nei Mesuren."``; titles ending in ``. ! ? …`` (maybe + quote) are kept."""
    t = title.rstrip()
    if not t or _regexes()["terminal"].search(t):
        return t
    return t.rstrip(":;,-–— ") + "."


def drop_reason(text: str, cfg: SentenceFilterConfig) -> str | None:
    """The first filter a sentence fails (``too_short``, ``too_long``, ``too_few_words``,
    ``trailing_number``), or None when it is kept."""
    if len(text) <= cfg.min_chars:
        return "too_short"
    if cfg.max_chars is not None and len(text) > cfg.max_chars:
        return "too_long"
    if len(text.split()) < cfg.min_words:
        return "too_few_words"
    if cfg.drop_trailing_number and _regexes()["trailing_number"].search(text):
        return "trailing_number"
    return None


def prepare_sentences(
    title: str, lead: str, body: str, lang: str, cfg: SentenceFilterConfig | None = None
) -> SentenceBatch:
    """Split title, lead and body separately (placeholders first), filter, and count every drop."""
    cfg = cfg or SentenceFilterConfig()
    batch = SentenceBatch()
    for section, text in zip(SECTIONS, (title, lead, body), strict=True):
        if not text or not text.strip():
            continue
        if cfg.placeholders:
            text = apply_placeholders(text)
        if section == "title":
            # a title is one paragraph, even if the source broke its line
            text = " ".join(text.split())
            if cfg.title_period:
                text = ensure_final_period(text)
        sents = split_sentences(text, lang, glued_period_fix=cfg.glued_period_fix)
        batch.n_split += len(sents)
        for pos, s in enumerate(sents):
            reason = drop_reason(s, cfg)
            if reason is None:
                batch.sentences.append((section, pos, s))
            else:
                batch.dropped[reason] += 1
    return batch
