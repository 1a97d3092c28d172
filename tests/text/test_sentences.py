"""Sentence preparation: sections, title period, placeholders, filters and drop counters."""

from __future__ import annotations

import pytest

from luxembedder.errors import ConfigError
from luxembedder.text.sentences import (
    SentenceFilterConfig,
    drop_reason,
    ensure_final_period,
    prepare_sentences,
)


def test_sections_title_period_and_counters() -> None:
    b = prepare_sentences(
        title="Nei Mesuren géint d'Wunnengsnout",
        lead="D'Regierung huet haut e Pak presentéiert. Kontakt: info@gouv.lu",
        body=("Den Ament gëtt den 12. Juni gestëmmt.Dat ass wichteg fir d'Land. Jo. Hien ass den 12.\n"
              "Rufft +352 621 123 456 un fir méi Informatiounen."),
        lang="lb",
    )
    assert b.sentences == [
        ("title", 0, "Nei Mesuren géint d'Wunnengsnout."),
        ("lead", 0, "D'Regierung huet haut e Pak presentéiert."),
        ("body", 0, "Den Ament gëtt den 12. Juni gestëmmt."),
        ("body", 1, "Dat ass wichteg fir d'Land."),
        ("body", 4, "Rufft [phone] un fir méi Informatiounen."),
    ]
    assert b.dropped == {"too_few_words": 1, "too_short": 1, "trailing_number": 1}
    assert len(b.sentences) + sum(b.dropped.values()) == b.n_split == 8
    assert b.texts[0].endswith(".")


def test_title_handling() -> None:
    assert ensure_final_period("Wat elo?") == "Wat elo?"
    assert ensure_final_period("„Mir sinn zefridden“") == "„Mir sinn zefridden“."
    assert ensure_final_period("Hie sot „Nee!“") == "Hie sot „Nee!“"
    assert ensure_final_period("Interview: ") == "Interview."
    b = prepare_sentences("Chamber stëmmt iwwer\nd'Budget of", "", "", "lb")
    assert b.texts == ["Chamber stëmmt iwwer d'Budget of."]
    no = prepare_sentences("Chamber stëmmt iwwer d'Budget of", "", "", "lb",
                           SentenceFilterConfig(title_period=False))
    assert no.texts == ["Chamber stëmmt iwwer d'Budget of"]


def test_filters_boundaries() -> None:
    cfg = SentenceFilterConfig()
    assert drop_reason("Eent zwee.", cfg) == "too_short"  # 10 characters: paper keeps > 10
    assert drop_reason("Eent zwee dräi.", cfg) == "too_few_words"
    assert drop_reason("Eent zwee dräi véier.", cfg) is None
    assert drop_reason("Dat war de 1. Dezember vum Joer 12.", cfg) == "trailing_number"
    assert drop_reason("Dat war am Joer 2012 am Dezember 123.", cfg) is None  # 3 digits: kept
    assert drop_reason("Eent zwee dräi véier.", SentenceFilterConfig(max_chars=10)) == "too_long"
    loose = SentenceFilterConfig(min_chars=0, min_words=1, drop_trailing_number=False)
    assert drop_reason("Jo.", loose) is None


def test_placeholders_off_and_config_validation() -> None:
    b = prepare_sentences("", "", "Schreift un info@gemeng.lu fir méi Detailer.", "lb",
                          SentenceFilterConfig(placeholders=False))
    assert b.texts == ["Schreift un info@gemeng.lu fir méi Detailer."]
    with pytest.raises(ConfigError, match="min_words"):
        SentenceFilterConfig.from_dict({"min_words": -1})
    with pytest.raises(ConfigError, match="min_char"):
        SentenceFilterConfig.from_dict({"min_char": 3})


def test_empty_sections() -> None:
    b = prepare_sentences("", " ", "", "lb")
    assert b.sentences == [] and b.n_split == 0 and not b.dropped
