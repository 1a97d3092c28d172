"""Pair loading: formats, pair-name inference, filtering, dedup, dev split, leakage, and bad-input errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from luxembedder.errors import ConfigError, DataError
from luxembedder.training.config import PairSource, TrainConfig
from luxembedder.training.data import (
    drop_leakage,
    infer_pair,
    load_exclusion_texts,
    load_pair_sets,
    split_dev,
)


@pytest.fixture()
def pairs_dir(fixtures_dir: Path) -> Path:
    return fixtures_dir / "pairs"


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_infer_pair_from_names():
    assert infer_pair(Path("lb-en.jsonl")) == "lb-en"
    assert infer_pair(Path("/x/luxalign_lb_fr.parquet")) == "lb-fr"
    assert infer_pair(Path("en-fr.csv")) == "en-fr"
    assert infer_pair(Path("pairs.jsonl")) is None


def test_load_filters_scores_and_duplicates(pairs_dir: Path):
    sets = load_pair_sets([PairSource(path=pairs_dir / "lb-en.jsonl", min_score=0.5),
                           PairSource(path=pairs_dir / "lb-fr.jsonl")])
    assert set(sets) == {"lb-en", "lb-fr"}
    rec = sets["lb-en"].sources[0]
    assert (rec.rows_read, rec.rows_kept, rec.dropped_low_score, rec.dropped_duplicate) == (22, 20, 1, 1)
    assert len(rec.sha256) == 64
    assert len(sets["lb-fr"]) == 19
    assert sets["lb-en"].first[1] == "Lëtzebuerg gewënnt 3-1 géint Belgien."


def test_mining_run_dir_csv_parquet_and_datasets_dir(tmp_path: Path, pairs_dir: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from datasets import Dataset

    run = tmp_path / "run"
    (run / "pairs").mkdir(parents=True)
    rows = [json.loads(x) for x in (pairs_dir / "lb-fr.jsonl").read_text().splitlines()]
    _write_jsonl(run / "pairs" / "lb-fr.jsonl", [{**r, "margin": 1.2, "id_1": i} for i, r in enumerate(rows)])
    pq.write_table(pa.Table.from_pylist(rows[:5]), run / "pairs" / "en-fr.parquet")
    sets = load_pair_sets([PairSource(path=run)])
    assert {k: len(v) for k, v in sets.items()} == {"lb-fr": 19, "en-fr": 5}

    csv = tmp_path / "any.csv"
    csv.write_text('text_1,text_2\n"Moien, wéi geet et?","Hello, how are you?"\nMerci,Thanks\n', encoding="utf-8")
    assert len(load_pair_sets([PairSource(path=csv, pair="lb-en")])["lb-en"]) == 2

    ds_dir = tmp_path / "lb-en-ds"
    Dataset.from_list(rows[:4]).save_to_disk(str(ds_dir))
    sets = load_pair_sets([PairSource(path=ds_dir)])
    assert len(sets["lb-en"]) == 4 and len(sets["lb-en"].sources[0].sha256) == 64


def test_bad_input_names_file_line_and_field(tmp_path: Path, pairs_dir: Path):
    with pytest.raises(DataError) as e:
        load_pair_sets([PairSource(path=pairs_dir / "lb-en_missing.jsonl")])
    assert "lb-en_missing.jsonl" in str(e.value) and e.value.line == 1 and e.value.field == "text_2"
    with pytest.raises(DataError) as e:
        load_pair_sets([PairSource(path=pairs_dir / "empty_text.csv", pair="lb-en")])
    assert e.value.field == "text_2" and e.value.line == 2
    with pytest.raises(DataError) as e:
        load_pair_sets([PairSource(path=pairs_dir / "lb-en.jsonl", min_score=0.99)])
    assert "no rows left after filtering" in str(e.value) and e.value.field == "cos_sim"
    nums = _write_jsonl(tmp_path / "lb-en.jsonl", [{"text_1": "a b", "text_2": "c d", "cos_sim": "high"}])
    with pytest.raises(DataError, match="not a number"):
        load_pair_sets([PairSource(path=nums, min_score=0.5)])
    noname = _write_jsonl(tmp_path / "pairs.jsonl", [{"text_1": "a", "text_2": "b"}])
    with pytest.raises(DataError) as e:
        load_pair_sets([PairSource(path=noname)])
    assert e.value.field == "pair"
    with pytest.raises(DataError, match="not found"):
        load_pair_sets([PairSource(path=tmp_path / "nope.jsonl")])
    with pytest.raises(ConfigError, match="pair"):
        PairSource.from_dict({"path": "x.jsonl", "pair": "lb-lb"})
    with pytest.raises(ConfigError, match="pair"):
        PairSource.from_dict({"path": "x.jsonl", "pair": "luxembourgish"})
    with pytest.raises(ConfigError, match="loss"):
        TrainConfig.from_dict({"loss": "triplet-margin"})
    with pytest.raises(ConfigError, match="guide_model"):
        TrainConfig.from_dict({"loss": "gist"})


def test_dev_split_is_seeded_and_disjoint(pairs_dir: Path):
    sets = load_pair_sets([PairSource(path=pairs_dir / "lb-en.jsonl"), PairSource(path=pairs_dir / "lb-fr.jsonl")])
    t1, d1 = split_dev(sets, 0.2, None, 100, seed=3)
    t2, d2 = split_dev(sets, 0.2, None, 100, seed=3)
    _, d3 = split_dev(sets, 0.2, None, 100, seed=4)
    assert d1["lb-en"].first == d2["lb-en"].first and t1["lb-fr"].second == t2["lb-fr"].second
    assert d1["lb-en"].first != d3["lb-en"].first
    assert len(d1["lb-en"]) == 4 and len(t1["lb-en"]) == len(sets["lb-en"]) - 4
    assert not set(d1["lb-en"].first) & set(t1["lb-en"].first)
    _, d_fixed = split_dev(sets, 0.0, 3, 100, seed=3)
    assert len(d_fixed["lb-fr"]) == 3


def test_leakage_guard_drops_paralux_texts(tmp_path: Path, pairs_dir: Path, data_dir: Path):
    paralux = data_dir / "paralux_dev" / "paralux_dev.jsonl"
    anchor = json.loads(paralux.read_text(encoding="utf-8").splitlines()[0])["anchor"]
    leak = _write_jsonl(tmp_path / "lb-en.jsonl", [
        {"text_1": "  " + anchor.upper() + " ", "text_2": "G7 countries want to keep financing Ukraine."},
        {"text_1": "Eng ganz aner Noriicht.", "text_2": "Completely different news."},
        {"text_1": "Nach eng Noriicht.", "text_2": "Another piece of news."},
    ])
    sets = load_pair_sets([PairSource(path=leak)])
    excluded = load_exclusion_texts([paralux, data_dir / "paralux_texts" / "benchmark_texts.txt"])
    assert len(excluded) > 300
    dropped = drop_leakage(sets, excluded)
    assert dropped == {"lb-en": 1} and len(sets["lb-en"]) == 2
    assert sets["lb-en"].sources[0].dropped_leakage == 1
