"""Rule-based hard negatives: Luxembourgish, English and French cases; determinism; leakage guard."""

from __future__ import annotations

import random

import pytest

from luxembedder.training.negatives import (
    HardNegativeGenerator,
    change_date,
    change_number,
    negation,
    swap_entities,
    swap_numbers,
    swap_sides,
)


def rng() -> random.Random:
    return random.Random(0)


def test_swap_sides_lb_en_fr():
    assert swap_sides("Lëtzebuerg gewënnt 3-1 géint Belgien.", "lb", rng()) == "Belgien gewënnt 3-1 géint Lëtzebuerg."
    assert swap_sides("Luxembourg beat Belgium 3-1 on Tuesday.", "en", rng()) == "Belgium beat Luxembourg 3-1 on Tuesday."
    assert swap_sides("Le Luxembourg bat la Belgique.", "fr", rng()) == "Le Belgique bat la Luxembourg."
    assert swap_sides("D'Wieder ass haut schéin.", "lb", rng()) is None


def test_swap_numbers_score_and_pairs():
    assert swap_numbers("De Match ass 3-1 ausgaang.", "lb", rng()) == "De Match ass 1-3 ausgaang."
    assert swap_numbers("Vun 20 Leit koumen der 5.", "lb", rng()) == "Vun 5 Leit koumen der 20."
    assert swap_numbers("2-2 nom Match.", "lb", rng()) is None  # equal numbers: no change possible
    assert swap_numbers("Keng Zuel hei.", "lb", rng()) is None


def test_change_number_keeps_a_valid_day_of_month():
    for seed in range(20):
        out = change_number("D'Bréck gëtt den 12. Juni opgemaach.", "lb", random.Random(seed))
        assert out is not None and out != "D'Bréck gëtt den 12. Juni opgemaach."
        day = int(out.split("den ")[1].split(".")[0])
        assert 1 <= day <= 28 and day != 12


def test_change_number_words_and_years():
    out = change_number("Et goufen dräi Blesséierter.", "lb", rng())
    assert out is not None and "dräi" not in out and out.startswith("Et goufen ")
    out = change_number("The law dates from 2019.", "en", rng())
    assert out is not None and "2019" not in out and out[-5:-1].isdigit()
    assert change_number("Keen Zuelewuert hei.", "lb", rng()) is None


def test_change_date_months_weekdays_relative_days():
    out = change_date("De Concert ass e Samschdeg.", "lb", rng())
    assert out is not None and "Samschdeg" not in out and out.endswith(".")
    out = change_date("Muer gëtt et Reen.", "lb", rng())
    assert out in {"Haut gëtt et Reen.", "Gëschter gëtt et Reen."}
    assert change_date("Il part en juin.", "fr", rng()) not in (None, "Il part en juin.")


def test_negation_lb_verb_second():
    assert negation("Hien ass haut doheem.", "lb", rng()) == "Hien ass net haut doheem."
    # the unstressed pronoun after the finite verb stays before "net" (V2 word order)
    assert negation("Haut ass hien doheem.", "lb", rng()) == "Haut ass hien net doheem."
    assert negation("De Minister huet net ënnerschriwwen.", "lb", rng()) == "De Minister huet ënnerschriwwen."
    assert negation("D'Regierung huet keen Accord fonnt.", "lb", rng()) == "D'Regierung huet en Accord fonnt."


def test_negation_en_fr():
    assert negation("The company has opened an office.", "en", rng()) == "The company has not opened an office."
    assert negation("She doesn't agree.", "en", rng()) == "She does agree."
    assert negation("Le ministre a signé l'accord.", "fr", rng()) == "Le ministre n'a pas signé l'accord."
    assert negation("Le ministre n'a pas signé l'accord.", "fr", rng()) == "Le ministre a signé l'accord."
    assert negation("Le ministre s'est rendu à Paris.", "fr", rng()) == "Le ministre ne s'est pas rendu à Paris."
    assert negation("Il y a trois blessés.", "fr", rng()) == "Il n'y a pas trois blessés."
    assert negation("Something in Welsh.", "cy", rng()) is None


def test_swap_entities_uses_the_translation_to_find_names_in_lb():
    lb = "De Xavier Bettel huet mam Emmanuel Macron geschwat."
    en = "Xavier Bettel spoke with Emmanuel Macron."
    assert swap_entities(lb, "lb", rng(), other=en) == "De Emmanuel Macron huet mam Xavier Bettel geschwat."
    # without the translation, capitalised Luxembourgish nouns are not taken for names
    assert swap_entities("De Minister huet mat der Regierung geschwat.", "lb", rng()) is None
    assert swap_entities("Yesterday Merkel met Macron in Paris.", "en", rng()) is not None


def test_generator_is_deterministic_and_seeded():
    texts = ["Lëtzebuerg gewënnt 3-1 géint Belgien.", "Den 12. Juni ass d'Bréck zou.", "Hien ass doheem.",
             "Muer gëtt et Reen am Éislek."]
    a = [HardNegativeGenerator(seed=1).generate(t, "lb") for t in texts]
    b = [HardNegativeGenerator(seed=1).generate(t, "lb") for t in texts]
    assert a == b
    assert all(n is not None and n.text != t for n, t in zip(a, texts, strict=True))
    outs = {HardNegativeGenerator(seed=s).generate(texts[0], "lb").text for s in range(12)}
    assert len(outs) > 1  # the seed changes which edit applies
    only = HardNegativeGenerator(edits=["negation"], seed=0).generate(texts[0], "lb")
    assert only is not None and only.edit == "negation"
    assert HardNegativeGenerator(edits=["negation"]).generate("D'Wieder am Summer.", "lb") is None
    with pytest.raises(ValueError, match="unknown edit"):
        HardNegativeGenerator(edits=["paraphrase"])
