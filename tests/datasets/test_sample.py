"""The bundled sample: loads strictly, gold is consistent with what sentence preparation produces."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from luxembedder.datasets import sample_dir
from luxembedder.datasets.articles import load_articles
from luxembedder.datasets.ntrex import (
    evaluate_article_matches,
    evaluate_mined_pairs,
    load_gold,
    normalize_for_match,
)
from luxembedder.text.clean import clean_text
from luxembedder.text.sentences import prepare_sentences
from luxembedder.utils.io import read_table


@pytest.fixture(scope="module")
def sample():
    d = sample_dir()
    load = load_articles([d / "articles.jsonl"])
    prepared = {}
    for a in load.articles:
        b = prepare_sentences(clean_text(a.title), clean_text(a.lead), clean_text(a.body), a.lang)
        prepared[a.id] = b.texts
    return d, {a.id: a for a in load.articles}, load_gold(d / "gold.jsonl"), prepared


def test_articles_and_gold_structure(sample) -> None:
    _, arts, gold, _ = sample
    assert Counter(a.lang for a in arts.values()) == {"lb": 25, "en": 20, "fr": 20}
    assert len({a.published for a in arts.values()}) == 10
    pairs = [g for g in gold if g["type"] == "article_pair"]
    assert len({g["lb_id"] for g in pairs}) == 12 and Counter(g["pair"] for g in pairs) == {"lb-en": 9, "lb-fr": 9}
    for g in pairs:
        assert 0 <= (arts[g["other_id"]].published - arts[g["lb_id"]].published).days <= 1
    # every lb article has exactly one gold answer per pair; every other article is paired or unpaired
    for pair in ("lb-en", "lb-fr"):
        answered = [g["lb_id"] for g in pairs if g["pair"] == pair] + [
            g["id"] for g in gold if g["type"] == "unpaired_article" and g["lang"] == "lb" and pair in g["pairs"]]
        assert sorted(answered) == sorted(a.id for a in arts.values() if a.lang == "lb")


def test_gold_sentences_survive_cleaning_and_preparation(sample) -> None:
    _, _, gold, prepared = sample
    sp = [g for g in gold if g["type"] == "sentence_pair"]
    assert Counter(g["pair"] for g in sp) == {"lb-en": 56, "lb-fr": 54}
    for g in sp:
        assert normalize_for_match(g["lb"]) in {normalize_for_match(t) for t in prepared[g["lb_article"]]}
        assert normalize_for_match(g["other"]) in {normalize_for_match(t) for t in prepared[g["other_article"]]}
    perfect = [{"text_1": g["lb"], "text_2": g["other"]} for g in sp if g["pair"] == "lb-en"]
    assert evaluate_mined_pairs(perfect, gold, "lb-en")["f1"] == 1.0
    matches = [{"lb_id": g["lb_id"], "other_id": g["other_id"]} for g in gold
               if g["type"] == "article_pair" and g["pair"] == "lb-fr"]
    assert evaluate_article_matches(matches, gold, "lb-fr")["accuracy"] == 1.0


def test_html_and_mojibake_articles_clean_up(sample) -> None:
    _, arts, _, prepared = sample
    html = [a for a in arts.values() if "<p>" in a.body]
    moji = [a for a in arts.values() if "Ã" in a.body]
    assert len(html) == 1 and len(moji) == 1
    assert "<" not in clean_text(html[0].body) and "analytics" not in clean_text(html[0].body)
    assert "école" in clean_text(moji[0].title) and "Ã" not in " ".join(prepared[moji[0].id])


def test_eval_sets(sample) -> None:
    d, _, _, prepared = sample
    article_sents = {normalize_for_match(t) for ts in prepared.values() for t in ts}
    for name, other in (("bitext_lb_en.tsv", "en"), ("bitext_lb_fr.tsv", "fr")):
        rows = read_table(d / "eval" / name)
        assert len(rows) == 40 and set(rows[0]) == {"lb", other}
        assert len({r["lb"] for r in rows}) == 40 and len({r[other] for r in rows}) == 40
        assert not {normalize_for_match(r["lb"]) for r in rows} & article_sents
    train, test = read_table(d / "eval" / "topics_train.tsv"), read_table(d / "eval" / "topics_test.tsv")
    train_en = read_table(d / "eval" / "topics_train_en.tsv")
    assert len(train) == len(train_en) == 36 and len(test) == 24
    assert [r["label"] for r in train] == [r["label"] for r in train_en]
    assert set(Counter(r["label"] for r in train)) == set(Counter(r["label"] for r in test)) and len(
        set(r["label"] for r in test)) == 6
    assert len(read_table(d / "eval" / "topics_lb.tsv")) == 60
    rows = [json.loads(x) for x in (d / "eval" / "paraphrase_lb.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 30 and all(set(r) == {"anchor", "paraphrase", "not_paraphrase"} for r in rows)
    assert all(len({r["anchor"], r["paraphrase"], r["not_paraphrase"]}) == 3 for r in rows)
