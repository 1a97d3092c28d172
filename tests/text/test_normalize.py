"""One matching key: what mining's leakage filter excludes, training's leakage check excludes too."""

from __future__ import annotations

from pathlib import Path

import pytest

from luxembedder.datasets.ntrex import normalize_for_match as ntrex_key
from luxembedder.mining.filters import LeakageIndex
from luxembedder.text.normalize import match_key
from luxembedder.training.data import PairSet, drop_leakage, load_exclusion_texts, normalize_for_match

BENCHMARK = "De Minister huet um 10 Auer op www.gouvernement.lu geschwat."
VARIANTS = [
    BENCHMARK,
    "de minister huet um 10 auer op www.gouvernement.lu geschwat",  # case, final period
    "„De Minister huet um 10 Auer op www.gouvernement.lu geschwat.“",  # quotes
    "De  Minister huet\tum 10 Auer op www.gouvernement.lu geschwat!",  # whitespace, other punctuation
    "De Minister huet um １０ Auer op www.gouvernement.lu geschwat.",  # full-width digits (NFKC)
    "De Minister huet um 10 Auer op [url] geschwat.",  # a prepared sentence with its URL placeholder
    "— De Minister huet um 10 Auer op www.gouvernement.lu geschwat …",  # dash, ellipsis
]


def test_one_key_everywhere() -> None:
    assert normalize_for_match is not None and ntrex_key is match_key
    for v in VARIANTS:
        assert normalize_for_match(v) == match_key(v) == match_key(BENCHMARK), v
    assert match_key("De Minister huet geschwat.") != match_key(BENCHMARK)
    assert match_key("?!") == ""


def test_what_mining_excludes_training_excludes(tmp_path: Path) -> None:
    bench = tmp_path / "benchmark_texts.txt"
    bench.write_text(BENCHMARK + "\n", encoding="utf-8")
    mining = LeakageIndex()
    mining.add_file(bench)
    mined_out = [v for v in VARIANTS if v in mining]
    assert mined_out == VARIANTS
    clean = "Eng ganz aner Phrase."
    sets = {"lb-en": PairSet("lb-en", first=[*VARIANTS, clean], second=["x"] * len(VARIANTS) + ["y"])}
    dropped = drop_leakage(sets, load_exclusion_texts([bench]))
    assert dropped == {"lb-en": len(VARIANTS)} and sets["lb-en"].first == [clean]


@pytest.mark.parametrize("text", VARIANTS)
def test_training_drops_exactly_what_mining_filters(text: str, tmp_path: Path) -> None:
    bench = tmp_path / "b.txt"
    bench.write_text(BENCHMARK + "\n", encoding="utf-8")
    mining = LeakageIndex()
    mining.add_file(bench)
    excluded = load_exclusion_texts([bench])
    assert (text in mining) == (normalize_for_match(text) in excluded)
