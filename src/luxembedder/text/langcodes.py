"""Language codes: ISO 639-1 (the toolkit's own codes), ISO 639-3 and FLORES-200 (``xxx_Scrp``)."""

from __future__ import annotations

from luxembedder.errors import ConfigError

# ISO 639-1 -> (ISO 639-3, FLORES-200 code). A lookup table, not a threshold.
_CODES: dict[str, tuple[str, str]] = {
    "lb": ("ltz", "ltz_Latn"),
    "en": ("eng", "eng_Latn"),
    "fr": ("fra", "fra_Latn"),
    "de": ("deu", "deu_Latn"),
    "nl": ("nld", "nld_Latn"),
    "pt": ("por", "por_Latn"),
    "it": ("ita", "ita_Latn"),
    "es": ("spa", "spa_Latn"),
    "da": ("dan", "dan_Latn"),
    "sv": ("swe", "swe_Latn"),
    "nb": ("nob", "nob_Latn"),
    "fy": ("fry", "fry_Latn"),
    "fo": ("fao", "fao_Latn"),
    "is": ("isl", "isl_Latn"),
    "pl": ("pol", "pol_Latn"),
    "cs": ("ces", "ces_Latn"),
    "ru": ("rus", "rus_Cyrl"),
    "uk": ("ukr", "ukr_Cyrl"),
    "tr": ("tur", "tur_Latn"),
    "ar": ("arb", "arb_Arab"),
    "zh": ("zho", "zho_Hans"),
}


def known_languages() -> list[str]:
    """The ISO 639-1 codes this table maps."""
    return list(_CODES)


def to_iso639_1(code: str) -> str:
    """Normalise ``lb``/``LB``/``ltz``/``ltz_Latn``/``lb-LU`` to the ISO 639-1 code ``lb``.

    Unknown two-letter codes pass through lower-cased; unknown longer codes raise :class:`ConfigError`.
    """
    c = code.strip().replace("-", "_")
    if not c:
        raise ConfigError("empty language code")
    low = c.lower()
    base = low.split("_")[0]
    if base in _CODES:
        return base
    for iso1, (iso3, flores) in _CODES.items():
        if low == flores.lower() or base == iso3:
            return iso1
    if len(base) == 2 and base.isalpha():
        return base
    raise ConfigError(f"unknown language code '{code}' (use ISO 639-1, e.g. {', '.join(list(_CODES)[:4])})")


def to_iso639_3(code: str) -> str:
    """``lb`` -> ``ltz`` (any accepted spelling of the language)."""
    iso1 = to_iso639_1(code)
    if iso1 not in _CODES:
        raise ConfigError(f"no ISO 639-3 code known for '{code}'")
    return _CODES[iso1][0]


def to_flores(code: str) -> str:
    """``lb`` -> ``ltz_Latn`` (FLORES-200 / SIB-200 / NLLB code)."""
    iso1 = to_iso639_1(code)
    if iso1 not in _CODES:
        raise ConfigError(f"no FLORES-200 code known for '{code}'")
    return _CODES[iso1][1]
