"""Rule-based sentence splitting that works for Luxembourgish (and German, English, French).

Why rules and not a trained splitter: the paper's scripts used NLTK Punkt with *German* parameters for
Luxembourgish, and spaCy's ``lb`` pipeline has no trained sentence model (its sentencizer splits at every
period, including "Z. B.", "Nr." and "den 12. Juni"). Luxembourgish news needs three things a generic
splitter gets wrong, each handled by one rule below:

1. abbreviations, many followed by a capitalised noun ("z. B. Kanner", "Nr. 5", "Dr. Weber",
   "ca. 300 Leit", "3 Mio. Euro"); single letters are initials ("J.-C. Juncker", "Z. B.");
2. ordinals are written with a period ("den 12. Juni", "de 16. Abrëll", "den 3. Tour"); a number plus
   period ends a sentence only when the next word is a typical sentence opener ("... 3-1. Den Trainer");
3. nouns are capitalised, so "period + capital" is weak evidence; abbreviations that may also end a
   sentence ("asw.", "etc.", "usw.") split only before a typical sentence opener (``De``, ``Den``,
   ``D'``, ``Et``, ``Hien``, ...).

A boundary needs terminal punctuation (``.``, ``!``, ``?``, ``…``, ``...``), optional closing quotes or
brackets (``“ ” " » ’ ) ]``, French ``»`` after a space), whitespace, then a word starting with a capital
letter or digit (after optional opening quotes ``„ “ " « ‘ (``). Paragraph breaks (``\\n``) always end a
sentence. :func:`fix_glued_periods` adds the missing space in "Regierung.Den" (not in URLs, e-mail
addresses, dotted abbreviations or numbers).
"""

from __future__ import annotations

import re
from functools import cache


@cache
def _rules() -> dict[str, frozenset[str]]:
    # Abbreviations never ending a sentence (matched exactly on the token before the period).
    never_final = {
        # Luxembourgish / German
        "z", "Z", "z.B", "Z.B", "d.h", "D.h", "u.a", "U.a", "o.ä", "bzw", "Bzw", "resp", "Resp", "ca", "Ca",
        "Mio", "Mrd", "Dr", "Prof", "Mme", "Mlle", "Nr", "St", "Hr", "Fr", "Jh", "vgl", "Vgl", "inkl",
        "Inkl", "exkl", "max", "min", "evtl", "Evtl", "ggf", "sog", "Tel", "Tél", "Abb", "Bd", "Kap",
        "Art", "Abs", "Std", "Min", "Sek", "Dir", "Gebr", "Hrsg", "lt", "zw", "Zt", "geb", "gest", "Nummer",
        # English
        "Mr", "Mrs", "Ms", "Mx", "Jr", "Sr", "vs", "No", "Nos", "e.g", "i.e", "approx", "Gen", "Gov",
        "Sen", "Rep", "Sgt", "Capt", "Lt", "Col", "Mt", "Ft", "Rev", "Hon", "Dept", "Univ", "Fig", "fig",
        "cf", "Cf", "Ave", "Blvd", "Rd",
        # French
        "M", "MM", "Me", "Mgr", "Ste", "Cie", "env", "av", "apr", "J.-C", "p", "pp", "n°", "N°", "bd",
        "vol", "éd", "chap", "art", "al",
    }
    # Abbreviations that often end a sentence: split only before a typical sentence opener.
    maybe_final = {
        "asw", "Asw", "etc", "usw", "a.m", "p.m", "U.S", "U.K", "U.N", "E.U", "Inc", "Ltd", "Co", "Corp",
        "Bros", "Jan", "Feb", "Aug", "Sept", "Oct", "Nov", "Dec",
    }
    months = {
        "Januar", "Jänner", "Februar", "Mäerz", "März", "Abrëll", "April", "Mee", "Mai", "Juni", "Juli",
        "August", "September", "Oktober", "November", "Dezember",
        # abbreviated
        "Jan", "Feb", "Mär", "Abr", "Apr", "Aug", "Sep", "Sept", "Okt", "Nov", "Dez",
    }
    openers_lb_de = {
        "De", "Den", "Dem", "Der", "D'", "D’", "Dat", "Déi", "Dee", "Dës", "Dëst", "Dësen", "Dëser", "Dësem",
        "Et", "'t", "’t", "Es", "E", "En", "Eng", "Hien", "Hatt", "Si", "Se", "Mir", "Dir", "Ech", "Do",
        "Och", "Awer", "Well", "Wéi", "Wat", "Wou", "Wann", "Ma", "Mä", "An", "Am", "Um", "Op", "Fir",
        "Mat", "Bei", "No", "Virun", "Zanter", "Ausserdeem", "Duerno", "Dono", "Elo", "Haut", "Gëschter",
        "Muer", "Dofir", "Domat", "Trotzdem", "Allerdéngs", "Esou", "Sou", "Dunn", "Nach", "Net", "Keen",
        "Kee", "All", "Vill", "Ee", "Eent", "Ënner", "Iwwer", "Bis", "Dobäi", "Doriwwer", "Zum", "Zu",
        "Die", "Das", "Ein", "Eine", "Er", "Sie", "Wir", "Ich", "Ihr", "Auch", "Aber", "Dann", "Danach",
        "Im", "Auf", "Für", "Mit", "Seit", "Vor", "Heute", "Gestern", "Damit", "Deshalb", "Dabei",
        "Diese", "Dieser", "Dieses", "Laut", "Wie", "Was", "Wo", "Wenn", "Als",
    }
    openers_en = {
        "The", "A", "An", "He", "She", "It", "They", "We", "I", "You", "In", "On", "At", "But", "And", "This",
        "That", "There", "These", "Those", "His", "Her", "Their", "Our", "Its", "After", "Before", "When",
        "While", "However", "Meanwhile", "According", "Some", "Many", "Most", "If", "As", "For",
    }
    openers_fr = {
        "Le", "La", "Les", "L'", "L’", "Il", "Elle", "Ils", "Elles", "On", "Nous", "Vous", "Je", "Un", "Une",
        "Des", "Ce", "Cet", "Cette", "Ces", "Mais", "Et", "En", "Dans", "Pour", "Selon", "Après", "Avant",
        "Depuis", "Par", "Lors", "Au", "Aux", "Du", "De", "D'", "D’", "Son", "Sa", "Ses", "Leur", "Leurs",
        "Cependant", "Toutefois", "Ainsi", "Puis", "Enfin",
    }
    return {
        "never_final": frozenset(never_final),
        "maybe_final": frozenset(maybe_final),
        "months": frozenset(months),
        "openers_lb": frozenset(openers_lb_de),
        "openers_de": frozenset(openers_lb_de),
        "openers_en": frozenset(openers_en),
        "openers_fr": frozenset(openers_fr),
    }


def _openers(lang: str) -> frozenset[str]:
    r = _rules()
    return r.get(f"openers_{lang}") or (r["openers_lb"] | r["openers_en"] | r["openers_fr"])


@cache
def _regexes() -> dict[str, re.Pattern[str]]:
    return {
        # terminal punctuation, closing quotes/brackets, whitespace, then the next token
        "boundary": re.compile(
            r"(?P<punct>\.\.\.|…|[.!?]+)(?P<close>(?:\s?»|[”“\"’')\]])*)(?P<space>\s+)(?=(?P<next>[„“\"«‘'(\[]?\s?\S+))"
        ),
        "dotted": re.compile(r"^(?:[^\W\d_]{1,2}\.)+[^\W\d_]{1,2}$"),
        "digits": re.compile(r"^\d+$"),
        "glued": re.compile(
            r"(?<=[a-zäöüëéèêàâîïôûçß\)”“\"»]{2})([.!?])(?=[A-ZÄÖÜËÉÈÀÂÎÔÛÇ][a-zäöüëéèêàâîïôûçß])"
        ),
        "url_or_mail": re.compile(r"\S*(?:@|://|www\.)\S*|\[(?:url|email|phone)\]"),
        "lead_open": re.compile(r"^[„“\"«‘'(\[]+\s?"),
        "trail_open": re.compile(r"^[(\[„“”\"«»‘’']+|^[^\W\d_]{1,2}['’](?=\w)"),
    }


def fix_glued_periods(text: str) -> str:
    """Insert a space where sentence punctuation is glued to the next capitalised word.

    "Regierung.Den Ament" -> "Regierung. Den Ament"; URLs and e-mail addresses ("www.Example.com",
    "Jean.Muller@post.lu"), dotted abbreviations ("z.B.Kanner": the left side must be two lower-case
    letters) and numbers ("3.5") are left alone.
    """
    r = _regexes()
    protected = [m.span() for m in r["url_or_mail"].finditer(text)]

    def repl(m: re.Match[str]) -> str:
        pos = m.start()
        if any(a <= pos < b for a, b in protected):
            return m.group(0)
        return m.group(1) + " "

    return r["glued"].sub(repl, text)


def _starts_sentence(next_tok: str) -> bool:
    word = _regexes()["lead_open"].sub("", next_tok)
    return bool(word) and (word[0].isupper() or word[0].isdigit())


def _is_opener(next_tok: str, lang: str) -> bool:
    word = _regexes()["lead_open"].sub("", next_tok)
    openers = _openers(lang)
    if len(word) > 2 and word[1] in "'’" and word[:2].replace("’", "'") in openers:  # D'Regierung, L'État
        return True
    return word.rstrip(",;:.!?") in openers


def _is_boundary(prev: str, punct: str, next_tok: str, lang: str) -> bool:
    if not _starts_sentence(next_tok):
        return False
    if punct != ".":
        return True  # ! ? … ... followed by a capitalised word
    rules, rx = _rules(), _regexes()
    if not prev:
        return True
    if prev in rules["never_final"]:
        return False
    if prev in rules["maybe_final"]:
        return _is_opener(next_tok, lang)
    if len(prev) == 1 and prev.isalpha():
        return False  # initials: "J. Juncker", "Z. B."
    if rx["dotted"].match(prev):
        return _is_opener(next_tok, lang)  # z.B, U.S, e.g, d.h
    if rx["digits"].match(prev):
        word = rx["lead_open"].sub("", next_tok).rstrip(",;:.")
        if word in rules["months"]:
            return False  # den 12. Juni
        if lang in ("lb", "de") and len(prev) <= 3:
            return _is_opener(next_tok, lang)  # ordinal unless a sentence clearly starts
        return True
    return True


def split_sentences(text: str, lang: str, glued_period_fix: bool = True) -> list[str]:
    """Split text into sentences (``lang``: ISO 639-1; ``lb``/``de``/``en``/``fr`` have tuned rules).

    Paragraph breaks always end a sentence; sentences are stripped and never empty.
    """
    if glued_period_fix:
        text = fix_glued_periods(text)
    rx = _regexes()
    out: list[str] = []
    for para in text.split("\n"):
        para = para.strip()
        if not para:
            continue
        start = 0
        for m in rx["boundary"].finditer(para):
            before = para[start:m.start("punct")]
            prev = before.rsplit(None, 1)[-1] if before.strip() else ""
            prev = rx["trail_open"].sub("", prev)
            if _is_boundary(prev, m.group("punct"), m.group("next"), lang):
                sent = para[start:m.end("close")].strip()
                if sent:
                    out.append(sent)
                start = m.start("next")
        rest = para[start:].strip()
        if rest:
            out.append(rest)
    return out
