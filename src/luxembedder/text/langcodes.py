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
    "cy": ("cym", "cym_Latn"),
    "gd": ("gla", "gla_Latn"),
    "oc": ("oci", "oci_Latn"),
    "br": ("bre", "bre_Latn"),
    "la": ("lat", "lat_Latn"),
    "mt": ("mlt", "mlt_Latn"),
    "yi": ("yid", "ydd_Hebr"),
    "li": ("lim", "lim_Latn"),
    "sc": ("srd", "srd_Latn"),
}

# ISO 639-2/B (bibliographic) spellings still met in file names -> ISO 639-1
_ISO639_2B: dict[str, str] = {"fre": "fr", "ger": "de", "dut": "nl"}

# Languages without an ISO 639-1 code: ISO 639-3 -> FLORES-200 code (Tatoeba v1 and FLORES evaluation sets).
_ISO3_ONLY: dict[str, str] = {
    "gsw": "gsw_Latn", "nds": "nds_Latn", "hsb": "hsb_Latn", "dsb": "dsb_Latn", "swg": "swg_Latn",
    "ast": "ast_Latn", "fur": "fur_Latn", "lmo": "lmo_Latn", "vec": "vec_Latn", "scn": "scn_Latn",
    "szl": "szl_Latn",
}


def known_languages() -> list[str]:
    """The ISO 639-1 codes this table maps."""
    return list(_CODES)


def mteb_language(code: str) -> str:
    """MTEB's ``xxx-Scrp`` language tag (``lb`` / ``ltz`` / ``ltz_Latn`` -> ``ltz-Latn``)."""
    return to_flores(code).replace("_", "-")


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
    if base in _ISO639_2B:
        return _ISO639_2B[base]
    for iso1, (iso3, flores) in _CODES.items():
        if low == flores.lower() or base == iso3:
            return iso1
    if len(base) == 2 and base.isalpha():
        return base
    if base in _ISO3_ONLY:
        raise ConfigError(f"language '{code}' has no ISO 639-1 code (use '{base}' where ISO 639-3 is accepted)")
    raise ConfigError(f"unknown language code '{code}' (use ISO 639-1, e.g. {', '.join(list(_CODES)[:4])})")


def _iso3_only(code: str) -> str | None:
    base = code.strip().replace("-", "_").lower().split("_")[0]
    return base if base in _ISO3_ONLY else None


def to_iso639_3(code: str) -> str:
    """``lb`` -> ``ltz`` (any accepted spelling of the language; ``gsw``/``gsw_Latn`` -> ``gsw``)."""
    if (iso3 := _iso3_only(code)) is not None:
        return iso3
    iso1 = to_iso639_1(code)
    if iso1 not in _CODES:
        raise ConfigError(f"no ISO 639-3 code known for '{code}'")
    return _CODES[iso1][0]


def to_flores(code: str) -> str:
    """``lb`` -> ``ltz_Latn`` (FLORES-200 / SIB-200 / NLLB code)."""
    if (iso3 := _iso3_only(code)) is not None:
        return _ISO3_ONLY[iso3]
    iso1 = to_iso639_1(code)
    if iso1 not in _CODES:
        raise ConfigError(f"no FLORES-200 code known for '{code}'")
    return _CODES[iso1][1]
