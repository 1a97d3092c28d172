"""Rule-based hard negatives: minimal, meaning-changing edits in the style of ParaLux.

A ParaLux negative keeps nearly every word of the anchor and changes what it says: two roles or numbers
swapped, a number or date changed, a negation inserted or removed. Training on (anchor, positive,
edited-anchor) triplets teaches the encoder that such small edits matter. Rules exist for Luxembourgish
(``lb``), English (``en``) and French (``fr``); number edits work in any language.

Every edit is a function ``edit(text, lang, rng, other=None) -> str | None`` that returns the edited text,
or ``None`` when it does not apply (the result never equals the input). ``other`` is the pair partner
(a translation), used to recognise names: in Luxembourgish every noun is capitalised, so a capitalised
word counts as a name only when it also appears in the translation, is an acronym, or holds a digit.
:class:`HardNegativeGenerator` tries the edits in a seeded order per text, so output is deterministic.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from luxembedder.errors import ConfigError
from luxembedder.text.langcodes import to_iso639_1

EditFn = Callable[[str, str, random.Random, "str | None"], "str | None"]

def normalize_lang(lang: str | None) -> str:
    """``ltz``/``ltz_Latn`` → ``lb`` etc. (:mod:`luxembedder.text.langcodes`); unknown languages pass through
    lower-cased (only number edits apply)."""
    code = (lang or "").split("_")[0].lower()
    try:
        return to_iso639_1(code) if code else code
    except ConfigError:
        return code


def _lexicon() -> dict[str, dict[str, tuple[str, ...]]]:
    """Word lists per language (in a function, not module constants, and cheap to rebuild)."""
    return {
        "months": {
            "lb": ("Januar", "Februar", "Mäerz", "Abrëll", "Mee", "Juni", "Juli", "August", "September",
                   "Oktober", "November", "Dezember"),
            "en": ("January", "February", "March", "April", "June", "July", "August", "September", "October",
                   "November", "December"),
            "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
                   "octobre", "novembre", "décembre"),
        },
        "weekdays": {
            "lb": ("Méindeg", "Dënschdeg", "Mëttwoch", "Donneschdeg", "Freideg", "Samschdeg", "Sonndeg"),
            "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
            "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
        },
        "relative_days": {
            "lb": ("haut", "muer", "gëschter"),
            "en": ("today", "tomorrow", "yesterday"),
            "fr": ("aujourd'hui", "demain", "hier"),
        },
        "number_words": {
            "lb": ("zwee", "zwou", "dräi", "véier", "fënnef", "sechs", "siwen", "aacht", "néng", "zéng",
                   "eelef", "zwielef", "zwanzeg", "drësseg", "honnert", "dausend"),
            "en": ("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
                   "twenty", "thirty", "hundred", "thousand"),
            "fr": ("deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix", "onze", "douze",
                   "vingt", "trente", "cent", "mille"),
        },
        "finite_verbs": {
            "lb": ("ass", "sinn", "war", "waren", "wier", "wieren", "huet", "hunn", "hat", "haten", "hätt",
                   "hätten", "gëtt", "ginn", "gouf", "goufen", "géif", "géifen", "wäert", "wäerten", "kann",
                   "kënnen", "konnt", "konnten", "kéint", "kéinten", "muss", "mussen", "musst", "sollt",
                   "soll", "sollen", "wëll", "wëllen", "wollt", "wollten", "däerf", "dierfen", "duerft",
                   "bleift", "bleiwen", "bleiwt", "koum", "koumen", "kënnt", "kommen", "geet", "ginn",
                   "gewënnt", "verléiert", "spillt", "spillen", "schafft", "schaffen", "mécht", "maachen",
                   "steet", "stinn", "léit", "leien", "wunnt", "wunnen", "hëlt", "huelen"),
            "en": ("is", "are", "was", "were", "has", "have", "had", "will", "would", "can", "could",
                   "should", "must", "may", "might", "does", "do", "did", "shall"),
            "fr": ("est", "sont", "était", "étaient", "a", "ont", "avait", "avaient", "sera", "seront",
                   "serait", "seraient", "aura", "auront", "peut", "peuvent", "pouvait", "doit", "doivent",
                   "devait", "va", "vont", "allait", "fait", "font", "veut", "veulent", "sait", "savent",
                   "reste", "restent", "vient", "viennent", "gagne", "gagnent", "perd", "perdent"),
        },
        "pronouns": {
            "lb": ("hien", "hatt", "si", "se", "mir", "mer", "dir", "der", "ech", "du", "et", "en", "'t",
                   "sech", "mech", "dech", "eis", "iech", "him", "hir", "hinnen", "dat", "dëst"),
            "fr": ("se", "s'", "le", "la", "les", "l'", "lui", "leur", "y", "en", "me", "m'", "te", "t'",
                   "nous", "vous"),
        },
        "connectors": {
            "lb": (r"géint", r"bezwéngt", r"schléit", r"besiegt", r"iwwerhëlt"),
            "en": (r"beats?", r"beaten", r"defeats?", r"defeated", r"against", r"vs\.?", r"versus",
                   r"overtakes?", r"overtook", r"overtaken"),
            "fr": (r"bat", r"battu", r"battent", r"contre", r"face à", r"devance", r"domine", r"dominé"),
        },
    }


_WORD = re.compile(r"[^\W\d_][\w'’\-]*|\d[\w.,:\-–]*", re.UNICODE)
_NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*(?![\w])")
_SCORE = re.compile(r"(?<![\w.,])(\d{1,2})(\s*[-:–]\s*)(\d{1,2})(?![\w.,:\-–]*\d)")
_ELISION = re.compile(r"^(?:[dDlLsSnNjJmMtTcC]|qu|Qu)['’]")


def _is_cap(word: str) -> bool:
    core = _ELISION.sub("", word)
    return bool(core) and (core[0].isupper() or (core[0].isdigit() and any(c.isalpha() for c in core)))


def _core_span(m: re.Match[str]) -> tuple[int, int]:
    """Span of a word without an elided article (``d'Belsch`` → ``Belsch``) or trailing apostrophes."""
    word = m.group(0)
    el = _ELISION.match(word)
    start = m.start() + (el.end() if el else 0)
    end = m.end()
    while end > start and word[end - m.start() - 1] in "'’-":
        end -= 1
    return start, end


def _replace(text: str, start: int, end: int, new: str) -> str:
    return text[:start] + new + text[end:]


def _match_case(template: str, word: str) -> str:
    return word[:1].upper() + word[1:] if template[:1].isupper() else word[:1].lower() + word[1:]


def _sentence_initial(text: str, start: int) -> bool:
    before = text[:start].rstrip()
    return not before or before[-1] in ".!?:;«»\"“”(" or before.endswith("-")


def _name_like(text: str, start: int, end: int, lang: str, other: str | None) -> bool:
    word = text[start:end]
    if not word or not _is_cap(word):
        return False
    if sum(c.isupper() for c in word) >= 2 or any(c.isdigit() for c in word):
        return True
    lex = _lexicon()
    if any(word in lex[k].get(lang, ()) for k in ("months", "weekdays")):
        return False
    if other is not None and re.search(rf"(?<!\w){re.escape(word)}(?!\w)", other):
        return True
    if lang == "lb":
        return False
    return not _sentence_initial(text, start) and word not in ("I", "Mr", "Mrs", "Dr", "M", "Mme")


def _entity_runs(text: str, lang: str, other: str | None) -> list[tuple[int, int]]:
    """Spans of runs of name-like words (``Xavier Bettel``, ``Real Madrid``)."""
    runs: list[tuple[int, int]] = []
    current: tuple[int, int] | None = None
    for m in _WORD.finditer(text):
        s, e = _core_span(m)
        if _name_like(text, s, e, lang, other):
            if current is not None and s == m.start() and not text[current[1]:s].strip():
                current = (current[0], e)
            else:
                if current is not None:
                    runs.append(current)
                current = (s, e)
        elif current is not None:
            runs.append(current)
            current = None
    if current is not None:
        runs.append(current)
    return runs


def _swap_spans(text: str, a: tuple[int, int], b: tuple[int, int]) -> str | None:
    (s1, e1), (s2, e2) = sorted([a, b])
    x, y = text[s1:e1], text[s2:e2]
    if x == y or e1 > s2:
        return None
    return text[:s1] + y + text[e1:s2] + x + text[e2:]


# ---------------------------------------------------------------------------------------------- edits


def swap_numbers(text: str, lang: str, rng: random.Random, other: str | None = None) -> str | None:
    """Swap a score (``3-1`` → ``1-3``) or two different numbers."""
    m = _SCORE.search(text)
    if m and m.group(1) != m.group(3):
        return _replace(text, m.start(), m.end(), m.group(3) + m.group(2) + m.group(1))
    nums = list(_NUMBER.finditer(text))
    for i, a in enumerate(nums):
        for b in nums[i + 1:]:
            if a.group(0) != b.group(0):
                return _swap_spans(text, a.span(), b.span())
    return None


def _new_number(value: str, rng: random.Random, day: bool) -> str:
    if day:
        old = int(value)
        choices = [d for d in range(1, 29) if d != old]
        return str(rng.choice(choices))
    if re.fullmatch(r"(19|20)\d\d", value):
        return str(int(value) + rng.choice([-3, -2, -1, 1, 2, 3]))
    digits = re.sub(r"\D", "", value)
    if not digits:
        return value
    n = int(digits)
    candidates = [n + 1, n + 2, n * 2, n * 10, max(0, n - 1), n + 10]
    candidates = [c for c in candidates if c != n]
    new = str(rng.choice(candidates))
    if not re.fullmatch(r"\d+", value):  # keep thousands separators / decimals shape roughly
        sep = re.search(r"[.,]", value)
        if sep and len(value.split(sep.group(0))[-1]) == 3 and len(new) > 3:
            new = f"{int(new):,}".replace(",", sep.group(0))
    return new


def change_number(text: str, lang: str, rng: random.Random, other: str | None = None) -> str | None:
    """Change one number (a day of the month stays a valid day: ``den 12. Juni`` → ``den 14. Juni``)."""
    lex = _lexicon()
    months = "|".join(m for ms in lex["months"].values() for m in ms)
    nums = list(_NUMBER.finditer(text))
    if nums:
        m = rng.choice(nums)
        after = text[m.end():m.end() + 14]
        before = text[max(0, m.start() - 12):m.start()]
        day = bool(re.match(rf"\.?\s*(?:{months})\b", after, re.IGNORECASE)
                   or re.search(rf"(?:{months})\s*$", before, re.IGNORECASE)) and int(m.group(0)) <= 31 \
            if m.group(0).isdigit() else False
        new = _new_number(m.group(0), rng, day)
        return _replace(text, m.start(), m.end(), new) if new != m.group(0) else None
    words = lex["number_words"].get(lang, ())
    hits = [m for m in _WORD.finditer(text) if m.group(0).lower() in words]
    if not hits:
        return None
    m = rng.choice(hits)
    new = rng.choice([w for w in words if w != m.group(0).lower()])
    return _replace(text, m.start(), m.end(), _match_case(m.group(0), new))


def change_date(text: str, lang: str, rng: random.Random, other: str | None = None) -> str | None:
    """Replace a month, weekday or relative day (``haut`` → ``muer``) with another one."""
    lex = _lexicon()
    hits: list[tuple[re.Match[str], tuple[str, ...]]] = []
    for kind in ("months", "weekdays", "relative_days"):
        words = lex[kind].get(lang, ())
        if not words:
            continue
        pattern = re.compile(r"(?<!\w)(" + "|".join(re.escape(w) for w in words) + r")(?!\w)",
                             re.IGNORECASE if kind != "months" or lang == "fr" else 0)
        hits.extend((m, words) for m in pattern.finditer(text))
    if not hits:
        return None
    m, words = rng.choice(hits)
    current = m.group(0).lower()
    new = rng.choice([w for w in words if w.lower() != current])
    return _replace(text, m.start(), m.end(), _match_case(m.group(0), new))


def _negation_lb(text: str, rng: random.Random) -> str | None:
    m = re.search(r"\s+net(?!\w)", text)
    if m:
        return text[:m.start()] + text[m.end():]
    m = re.search(r"(?<!\w)([Kk])(een|eng|ee|ent)(?!\w)", text)
    if m:
        new = {"een": "en", "eng": "eng", "ee": "e", "ent": "eent"}[m.group(2)]
        return _replace(text, m.start(), m.end(), _match_case(m.group(0), new))
    lex = _lexicon()
    verbs, pronouns = lex["finite_verbs"]["lb"], lex["pronouns"]["lb"]
    words = list(_WORD.finditer(text))
    for i, w in enumerate(words):
        if i == 0 or w.group(0).lower() not in verbs:
            continue
        # verb-second: "net" follows the finite verb and any unstressed pronouns right after it
        j = i
        while j + 1 < len(words) and words[j + 1].group(0).lower() in pronouns \
                and not text[words[j].end():words[j + 1].start()].strip():
            j += 1
        end = words[j].end()
        return text[:end] + " net" + text[end:]
    return None


def _negation_en(text: str, rng: random.Random) -> str | None:
    irregular = {"won't": "will", "can't": "can", "cannot": "can", "shan't": "shall", "ain't": "is"}
    for neg, pos in irregular.items():
        m = re.search(rf"(?<!\w){neg}(?!\w)", text, re.IGNORECASE)
        if m:
            return _replace(text, m.start(), m.end(), _match_case(m.group(0), pos))
    m = re.search(r"(?<!\w)(\w+)n['’]t(?!\w)", text)
    if m:
        return _replace(text, m.start(), m.end(), m.group(1))
    m = re.search(r"\s+(?:not|never)(?!\w)", text)
    if m:
        return text[:m.start()] + text[m.end():]
    verbs = _lexicon()["finite_verbs"]["en"]
    for i, w in enumerate(_WORD.finditer(text)):
        if i > 0 and w.group(0).lower() in verbs:
            return text[:w.end()] + " not" + text[w.end():]
    return None


def _negation_fr(text: str, rng: random.Random) -> str | None:
    m = re.search(r"(?<!\w)n(?:e\s+|['’])((?:\S+\s+){0,2}?\S+?)\s+(?:pas|plus|jamais)(?!\w)", text, re.IGNORECASE)
    if m:
        return _replace(text, m.start(), m.end(), m.group(1))
    lex = _lexicon()
    verbs, clitics = lex["finite_verbs"]["fr"], lex["pronouns"]["fr"]
    m = re.search(r"(?<!\w)y a(?!\w)", text)
    if m and m.start() > 0:
        return _replace(text, m.start(), m.end(), "n'y a pas")
    words = list(_WORD.finditer(text))
    for i, w in enumerate(words):
        word = w.group(0)
        el = _ELISION.match(word)
        core = word[el.end():] if el else word
        if i == 0 or core.lower() not in verbs:
            continue
        # move left across clitic pronouns (se, le, lui, ...)
        k = i
        while k - 1 > 0 and words[k - 1].group(0).lower() in clitics:
            k -= 1
        start = words[k].start()
        head = text[start:w.end()]
        neg = ("n'" if head[:1].lower() in "aeiouhéèêàâôy" else "ne ") + head
        return text[:start] + neg + " pas" + text[w.end():]
    return None


def negation(text: str, lang: str, rng: random.Random, other: str | None = None) -> str | None:
    """Insert or remove a negation (``net``/``keen`` in lb, ``not``/``n't`` in en, ``ne ... pas`` in fr)."""
    fn = {"lb": _negation_lb, "en": _negation_en, "fr": _negation_fr}.get(lang)
    return fn(text, rng) if fn else None


def swap_sides(text: str, lang: str, rng: random.Random, other: str | None = None) -> str | None:
    """Swap the two sides of a contest: ``X gewënnt géint Y`` / ``X beats Y`` / ``X bat Y``."""
    connectors = _lexicon()["connectors"].get(lang)
    if not connectors:
        return None
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(connectors) + r")(?!\w)")
    words = list(_WORD.finditer(text))
    for m in pattern.finditer(text):
        left = [w for w in words if w.end() <= m.start()]
        right = [w for w in words if w.start() >= m.end()]
        lspan = _run_near(text, list(reversed(left)), lang, other, max_skip=3)
        rspan = _run_near(text, right, lang, other, max_skip=1)
        if lspan and rspan:
            out = _swap_spans(text, lspan, rspan)
            if out:
                return out
    return None


def _run_near(text: str, words: Sequence[re.Match[str]], lang: str, other: str | None,
              max_skip: int) -> tuple[int, int] | None:
    """The run of capitalised words nearest to a connector (walking away from it), skipping ≤ max_skip."""
    span: tuple[int, int] | None = None
    skipped = 0
    for w in words:
        s, e = _core_span(w)
        word = text[s:e]
        if (_is_cap(word) and lang == "lb") or _name_like(text, s, e, lang, other) or (
                _is_cap(word) and other is None and not _sentence_initial(text, s)) or (
                _is_cap(word) and span is None and _sentence_initial(text, s)):
            span = (min(s, span[0]), max(e, span[1])) if span else (s, e)
            if _ELISION.match(w.group(0)):
                break
        elif span is not None:
            break
        else:
            skipped += 1
            if skipped > max_skip:
                return None
    return span


def swap_entities(text: str, lang: str, rng: random.Random, other: str | None = None) -> str | None:
    """Swap two different names (people, places, teams, organisations)."""
    runs = _entity_runs(text, lang, other)
    distinct = [r for i, r in enumerate(runs) if text[r[0]:r[1]] not in {text[q[0]:q[1]] for q in runs[:i]}]
    if len(distinct) < 2:
        return None
    i, j = sorted(rng.sample(range(len(distinct)), 2))
    return _swap_spans(text, distinct[i], distinct[j])


def edit_functions() -> dict[str, EditFn]:
    """Every edit by name (the names used in :class:`~luxembedder.training.config.HardNegativeConfig`)."""
    return {
        "swap_sides": swap_sides,
        "negation": negation,
        "swap_numbers": swap_numbers,
        "change_date": change_date,
        "change_number": change_number,
        "swap_entities": swap_entities,
    }


@dataclass(frozen=True)
class HardNegative:
    text: str
    edit: str


class HardNegativeGenerator:
    """Deterministic minimal-edit negatives: for each text, the edits are tried in an order seeded by
    ``seed`` and the text, and the first that applies wins."""

    def __init__(self, edits: Sequence[str] | None = None, seed: int = 0) -> None:
        fns = edit_functions()
        names = list(edits) if edits is not None else list(fns)
        unknown = [e for e in names if e not in fns]
        if unknown:
            raise ValueError(f"unknown edit(s) {unknown}; known: {', '.join(fns)}")
        self.edits = names
        self.seed = seed
        self._fns = fns

    def generate(self, text: str, lang: str, other: str | None = None) -> HardNegative | None:
        """A minimal meaning-changing edit of ``text`` (in language ``lang``), or None."""
        lang = normalize_lang(lang)
        rng = random.Random(f"{self.seed}\x00{lang}\x00{text}")
        order = list(self.edits)
        rng.shuffle(order)
        for name in order:
            out = self._fns[name](text, lang, rng, other)
            if out is not None and out.strip() and out != text:
                return HardNegative(out, name)
        return None
