"""NTREX reader on the real data, the comparable benchmark generator, and P/R/F1 scoring."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from luxembedder.datasets.articles import load_articles
from luxembedder.datasets.ntrex import (
    NtrexCorpus,
    _local_shuffle,
    build_comparable_benchmark,
    evaluate_article_matches,
    evaluate_mined_pairs,
    load_gold,
    normalize_for_match,
    read_ntrex,
)
from luxembedder.errors import DataError, MissingDataError
from luxembedder.text.sentences import prepare_sentences


@pytest.fixture(scope="module")
def corpus(data_dir: Path) -> NtrexCorpus:
    return read_ntrex(data_dir)


@pytest.fixture(scope="module")
def bench(corpus: NtrexCorpus, tmp_path_factory: pytest.TempPathFactory):
    return build_comparable_benchmark(corpus, tmp_path_factory.mktemp("ntrex") / "b", seed=0)


def test_reader(corpus: NtrexCorpus, data_dir: Path) -> None:
    assert set(corpus.sentences) == {"lb", "en", "fr", "de", "nl"}
    assert all(len(v) == 1997 for v in corpus.sentences.values()) and len(corpus.doc_ids) == 1997
    docs = corpus.documents()
    assert len(docs) == 123 and sum(len(v) for v in docs.values()) == 1997
    assert corpus.sentences["lb"][0].startswith("Walisesch Deputéierter")
    assert corpus.files["lb"].name == "newstest2019-ref.ltz.txt"
    assert read_ntrex(data_dir / "ntrex128", langs=("lb",)).doc_ids == corpus.doc_ids


def test_reader_errors(tmp_path: Path, data_dir: Path) -> None:
    with pytest.raises(MissingDataError, match=str(tmp_path)):
        read_ntrex(tmp_path)
    root = tmp_path / "ntrex128"
    (root / "NTREX-128").mkdir(parents=True)
    src = data_dir / "ntrex128"
    (root / "DOCUMENT_IDS.tsv").write_bytes((src / "DOCUMENT_IDS.tsv").read_bytes())
    with pytest.raises(MissingDataError, match=r"newstest2019-ref\.ltz\.txt"):
        read_ntrex(tmp_path, langs=("lb",))
    lines = (src / "NTREX-128" / "newstest2019-ref.ltz.txt").read_text(encoding="utf-8").splitlines()
    (root / "NTREX-128" / "newstest2019-ref.ltz.txt").write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match="1996 lines"):
        read_ntrex(tmp_path, langs=("lb",))


def test_local_shuffle_bounded() -> None:
    import numpy as np

    perm = _local_shuffle(200, 3, np.random.default_rng(1))
    assert sorted(perm.tolist()) == list(range(200))
    assert np.abs(perm - np.arange(200)).max() < 3 and (perm != np.arange(200)).any()


def test_benchmark_structure(bench, corpus: NtrexCorpus) -> None:
    meta = json.loads(bench.meta_path.read_text())
    assert meta["seed"] == 0 and meta["source"]["lb"]["sha256"] == corpus.sha256()["lb"]
    load = load_articles([bench.articles_path])  # our own article format, strict
    arts = {a.id: a for a in load.articles}
    counts = meta["counts"]
    assert len(arts) == sum(counts["articles"].values())
    gold = load_gold(bench.gold_path)
    kinds = Counter(g["type"] for g in gold)
    assert kinds["article_pair"] == sum(counts["article_pairs"].values())
    assert kinds["sentence_pair"] == sum(counts["sentence_pairs"].values())
    for g in gold:
        if g["type"] == "article_pair":
            lb, other = arts[g["lb_id"]], arts[g["other_id"]]
            assert lb.lang == "lb" and other.lang == g["pair"][3:]
            assert 0 <= (other.published - lb.published).days <= 1
            assert lb.category == other.category == "news"  # nothing in the article reveals the pairing
        elif g["type"] == "sentence_pair":
            lb, other = arts[g["lb_article"]], arts[g["other_article"]]
            assert g["lb"] in f"{lb.title}\n{lb.lead}\n{lb.body}"
            assert g["other"] in f"{other.title}\n{other.lead}\n{other.body}"
            assert corpus.sentences["lb"][g["lb_line"]] == g["lb"]
            assert corpus.sentences[g["pair"][3:]][g["other_line"]] == g["other"]
    # distractors: an article of a held-out document appears in one language only
    docs_by_lang = Counter()
    for g in gold:
        if g["type"] == "unpaired_article":
            docs_by_lang[g["doc"]] += 1
    held = [g for g in gold if g["type"] == "unpaired_article" and g["pairs"] == ["lb-en", "lb-fr"]]
    assert held and all(docs_by_lang[g["doc"]] == 1 for g in held)
    # drop fraction: non-pivot versions are shorter, pivot versions complete
    n_lb = sum(1 for g in gold if g["type"] == "sentence_pair" and g["pair"] == "lb-en")
    lb_paired_lines = sum(len(corpus.documents()[g["doc"]]) for g in gold
                          if g["type"] == "article_pair" and g["pair"] == "lb-en")
    assert 0.8 < n_lb / lb_paired_lines < 0.9


def test_benchmark_deterministic(corpus: NtrexCorpus, bench, tmp_path: Path) -> None:
    again = build_comparable_benchmark(corpus, tmp_path / "again", seed=0)
    other = build_comparable_benchmark(corpus, tmp_path / "other", seed=1)
    assert again.articles_path.read_bytes() == bench.articles_path.read_bytes()
    assert again.gold_path.read_bytes() == bench.gold_path.read_bytes()
    assert other.gold_path.read_bytes() != bench.gold_path.read_bytes()


def test_perfect_mining_scores_one_and_prepared_text_still_matches(bench) -> None:
    gold = load_gold(bench.gold_path)
    sp = [g for g in gold if g["type"] == "sentence_pair" and g["pair"] == "lb-fr"]
    perfect = [{"text_1": g["lb"], "text_2": g["other"]} for g in sp]
    r = evaluate_mined_pairs(perfect, bench.gold_path, "lb-fr")
    assert r["precision"] == r["recall"] == r["f1"] == 1.0
    # sentences as the mining stage prepares them (title period, placeholders, splitting) still match
    prepared = []
    for g in sp[:150]:
        a = prepare_sentences(g["lb"], "", "", "lb").texts
        b = prepare_sentences(g["other"], "", "", "fr").texts
        if len(a) == 1 and len(b) == 1:
            prepared.append({"text_1": a[0], "text_2": b[0]})
    r = evaluate_mined_pairs(prepared, gold, "lb-fr")
    assert r["mined"] > 100 and r["precision"] == 1.0


def test_scoring_hand_cases() -> None:
    gold = [
        {"type": "sentence_pair", "pair": "lb-en", "lb": "Den Ament gouf gestëmmt.",
         "other": "The bill was passed.", "lb_article": "lb-1", "other_article": "en-1"},
        {"type": "sentence_pair", "pair": "lb-en", "lb": "Kontakt: info@gemeng.lu an den Dokter.",
         "other": "Contact: info@gemeng.lu and the doctor.", "lb_article": "lb-1", "other_article": "en-1"},
        {"type": "sentence_pair", "pair": "lb-en", "lb": "Et reent. Et ass kal.",
         "other": "It is raining. It is cold.", "lb_article": "lb-1", "other_article": "en-1"},
        {"type": "sentence_pair", "pair": "lb-en", "lb": "D'Schoul fänkt un.",
         "other": "School starts.", "lb_article": "lb-2", "other_article": "en-2"},
        {"type": "sentence_pair", "pair": "lb-fr", "lb": "D'Schoul fänkt un.",
         "other": "L'école commence.", "lb_article": "lb-2", "other_article": "fr-2"},
    ]
    mined = [
        {"text_1": "den ament gouf gestëmmt", "text_2": "The  bill was passed."},  # case/space/period
        {"text_1": "Kontakt: [email] an den Dokter.", "text_2": "Contact: [email] and the doctor."},
        {"text_1": "Et reent.", "text_2": "It is raining."},  # fragments of one gold line
        {"text_1": "D'Schoul fänkt un.", "text_2": "The bill was passed."},  # wrong pair
        {"text_1": "D'Schoul fänkt un.", "text_2": "L'école commence."},  # right text, other language pair
    ]
    r = evaluate_mined_pairs(mined, gold, "lb-en")
    assert (r["mined"], r["true_positives"], r["exact_matches"], r["gold"], r["gold_found"]) == (5, 3, 2, 4, 3)
    assert r["precision"] == pytest.approx(3 / 5) and r["recall"] == pytest.approx(3 / 4)
    assert r["f1"] == pytest.approx(2 * 0.6 * 0.75 / 1.35)
    empty = evaluate_mined_pairs([], gold, "lb-en")
    assert empty["precision"] == empty["recall"] == empty["f1"] == 0.0
    assert normalize_for_match("  „Den Titel“. ") == normalize_for_match("den titel")


def test_article_match_accuracy_hand_case() -> None:
    gold = [
        {"type": "article_pair", "pair": "lb-en", "lb_id": "a", "other_id": "x"},
        {"type": "article_pair", "pair": "lb-en", "lb_id": "b", "other_id": "y"},
        {"type": "unpaired_article", "lang": "lb", "id": "c", "pairs": ["lb-en", "lb-fr"]},
        {"type": "unpaired_article", "lang": "lb", "id": "d", "pairs": ["lb-en"]},
        {"type": "unpaired_article", "lang": "en", "id": "z", "pairs": ["lb-en"]},
    ]
    matches = [{"lb_id": "a", "other_id": "x"}, {"lb_id": "b", "other_id": "z"},
               {"lb_id": "c", "other_id": None}, {"lb_id": "d", "other_id": "y"}]
    r = evaluate_article_matches(matches, gold, "lb-en")
    assert (r["articles"], r["correct"]) == (4, 2) and r["accuracy"] == 0.5
    assert r["precision"] == pytest.approx(1 / 3) and r["recall"] == 0.5
    both = evaluate_article_matches([{**m, "pair": "lb-en"} for m in matches], gold)
    assert both["lb-en"] == r and both["lb-fr"]["articles"] == 1 and both["lb-fr"]["accuracy"] == 1.0
