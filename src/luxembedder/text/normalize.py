"""The one text-matching key of the toolkit: leakage checks (mining, training, the controlled experiment),
training de-duplication, and matching mined pairs to NTREX gold pairs all compare :func:`match_key`.

``match_key`` undoes what sentence preparation changes and what does not change a sentence's identity:
placeholders (``[email]``/``[url]``/``[phone]``, applied to both sides), Unicode compatibility forms (NFKC),
case (case folding), whitespace (collapsed), and leading/trailing quotes, brackets, dashes and punctuation
(splitters differ on where a closing quote belongs; titles get a final period). So a text that mining
excludes is excluded by training too, and a prepared sentence equals its source text.
"""

from __future__ import annotations

import re
import unicodedata

from luxembedder.text.placeholders import apply_placeholders

_EDGE = "\\s.,;:!?…\"'«»„“”‚‘’()\\[\\]\\-–—"
_TRAILING = re.compile(f"[{_EDGE}]+$")
_LEADING = re.compile(f"^[{_EDGE}]+")
_SPACES = re.compile(r"\s+")


def match_key(text: str) -> str:
    """The comparison key of ``text`` (see the module docstring); empty for punctuation-only text."""
    t = unicodedata.normalize("NFKC", apply_placeholders(text)).casefold()
    t = _SPACES.sub(" ", t)
    return _LEADING.sub("", _TRAILING.sub("", t))
