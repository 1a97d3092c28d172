"""Training sources beyond pair files: LETZ, NTREX/SIB-200 parallel data, distillation, weights, leakage."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from luxembedder.datasets.letz import read_letz
from luxembedder.errors import ConfigError, DataError
from luxembedder.training.config import TrainConfig
from luxembedder.training.data import load_training_sets, normalize_for_match


def _cfg(**kw) -> TrainConfig:
    return TrainConfig.from_dict(kw)


# ---------------------------------------------------------------- config validation


@pytest.mark.parametrize(("raw", "message"), [
    ({"sources": [{"type": "wikipedia"}]}, "sources.0"),
    ({"sources": [{"type": "letz", "weight": 0}]}, "weight"),
    ({"sources": [{"type": "letz", "weight": -1}]}, "weight"),
    ({"teacher": None, "sources": [{"type": "ntrex", "objective": "distill"}]}, "no teacher"),
    ({"sources": [{"type": "letz", "objective": "distill"}]}, "only objective 'contrastive'"),
    ({"sources": [{"type": "ntrex", "pairs": ["en-fr"]}]}, "lb-xx"),
    ({"sources": [{"type": "sib200", "splits": ["test"]}]}, "splits"),
])
def test_bad_sources_are_refused_with_the_key(raw, message):
    with pytest.raises(ConfigError, match=message):
        _cfg(**raw)


def test_teacher_base_is_the_base_model():
    assert _cfg(model="me5-small").teacher_model == "me5-small"
    assert _cfg(model="me5-small", teacher="/models/labse").teacher_model == "/models/labse"


# ---------------------------------------------------------------- LETZ


def test_letz_loader_counts_every_row(fixtures_dir: Path):
    syn = read_letz(fixtures_dir / "letz", "SYN")
    assert syn.read == 16 and len(syn.positives) == 8 and len(syn.negatives) == 8
    assert {r.lang for r in syn.positives} == {"lb"}
    wot = read_letz(fixtures_dir / "letz", "WoT")
    assert wot.read == len(wot.positives) + len(wot.negatives) == 20
    assert {r.lang for r in wot.positives} == {"en", "fr", "de", "pt"}


@pytest.mark.parametrize(("row", "field"), [
    ({"text": "", "label": "x", "class": 1}, "text"),
    ({"text": "E Saz.", "label": None, "class": 1}, "label"),
    ({"text": "E Saz.", "label": "x", "class": 2}, "class"),
    ({"text": "E Saz.", "label": "x", "class": True}, "class"),
])
def test_letz_bad_rows_name_file_line_field(tmp_path: Path, row, field):
    d = tmp_path / "LETZ-SYN"
    d.mkdir()
    good = {"text": "E gudde Saz.", "label": "Wuert", "class": 1}
    (d / "train.jsonl").write_text(json.dumps(good) + "\n" + json.dumps(row) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        read_letz(tmp_path, "SYN")
    assert err.value.line == 2 and err.value.field == field and "train.jsonl" in str(err.value)


def test_letz_source_sets_languages_and_negatives(fixtures_dir: Path):
    cfg = _cfg(sources=[{"type": "letz", "languages": ["en", "de"], "negatives": True}])
    sets = load_training_sets(cfg.all_sources, fixtures_dir)
    syn, wot = sets["letz:syn"], sets["letz:wot"]
    assert len(syn) == 8 and syn.negatives is not None and len(syn.negatives) == 8
    assert ("Mäi Bopa huet en neien Auto kaaft.", "Won", "Kéis") in zip(syn.first, syn.second, syn.negatives,
                                                                        strict=True)
    assert sorted(wot.second) == sorted(["garden", "car", "Wagen", "school", "parliament", "Stau"])
    rec = syn.sources[0]
    assert rec.license == "CC BY 4.0" and "LETZ" in rec.attribution and rec.rows_read == 16


def test_max_rows_keeps_a_seeded_subset_and_counts_it(fixtures_dir: Path):
    from luxembedder.training.data import limit_rows, source_limits

    cfg = _cfg(sources=[{"type": "letz", "subsets": ["WoT"], "max_rows": 4}])
    sets = load_training_sets(cfg.all_sources, fixtures_dir)
    full = list(zip(sets["letz:wot"].first, sets["letz:wot"].second, strict=True))
    dropped = limit_rows(sets, source_limits(cfg.all_sources, sets), seed=13)
    kept = list(zip(sets["letz:wot"].first, sets["letz:wot"].second, strict=True))
    assert dropped == {"letz:wot": len(full) - 4} and len(kept) == 4 and set(kept) <= set(full)
    rec = sets["letz:wot"].sources[0]
    assert rec.rows_kept == 4 and rec.dropped_max_rows == len(full) - 4
    again = load_training_sets(cfg.all_sources, fixtures_dir)
    limit_rows(again, source_limits(cfg.all_sources, again), seed=13)
    assert again["letz:wot"].first == sets["letz:wot"].first  # the same seed gives the same subset


def test_builtin_source_without_data_dir_is_a_clear_error():
    with pytest.raises(ConfigError, match="data directory"):
        load_training_sets(_cfg(sources=[{"type": "ntrex"}]).all_sources, None)


# ---------------------------------------------------------------- real data: sources and leakage


def test_ntrex_holdout_is_disjoint_and_complete(data_dir: Path):
    from luxembedder.datasets.parallel import ntrex_parallel

    train = ntrex_parallel(data_dir, ["lb-en"], holdout_documents=10)[0]
    held = ntrex_parallel(data_dir, ["lb-en"], holdout_documents=10, heldout=True)[0]
    assert len(train) + len(held) == 1997 and len(held) > 0
    assert not set(train.first) & set(held.first)


def test_sib200_pairs_are_row_aligned(data_dir: Path):
    from luxembedder.datasets import benchmarks as B
    from luxembedder.datasets.parallel import sib200_parallel

    rows = sib200_parallel(data_dir, ["lb-en"])[0]
    lb = B.read_sib200(data_dir, "ltz_Latn", "train")
    en = {r.index_id: r.text for r in B.read_sib200(data_dir, "eng_Latn", "train")}
    assert rows.first[5] == lb[5].text and rows.second[5] == en[lb[5].index_id]


def test_no_training_text_equals_an_evaluation_text(data_dir: Path):
    """Every built-in source, after the leakage check, shares no normalised text with any evaluation set."""
    from luxembedder.datasets.parallel import evaluation_texts
    from luxembedder.training.trainer import prepare_data

    cfg = _cfg(sources=[{"type": "ntrex"}, {"type": "sib200", "splits": ["train", "dev"]},
                        {"type": "letz", "negatives": True}, {"type": "letz", "split": "val"}],
               dev_fraction=0.0)
    with pytest.raises(ConfigError, match="configured twice"):
        prepare_data(cfg)
    cfg = _cfg(sources=[{"type": "ntrex"}, {"type": "sib200", "splits": ["train", "dev"]},
                        {"type": "letz", "negatives": True}], dev_fraction=0.0)
    data = prepare_data(cfg)
    assert data.leakage_dropped["sib200:lb-en"] > 0  # SIB-200 rows taken from FLORES devtest
    evaluation = evaluation_texts(data_dir, ["lb", "en", "fr", "de", "nl", "pt"])
    assert {"flores200:ltz_Latn", "sib200-test:ltz_Latn", "tatoeba-ltz", "paralux", "paralux-dev",
            "tatoeba-v1:deu-eng"} <= set(evaluation)
    training = set()
    for ps in data.train.values():
        for col in (ps.first, ps.second, ps.negatives or []):
            training.update(normalize_for_match(t) for t in col)
    for name, texts in evaluation.items():
        shared = training & {normalize_for_match(t) for t in texts}
        assert not shared, f"{name}: {len(shared)} training texts are evaluation texts, e.g. {sorted(shared)[:2]}"


def test_mining_exclusion_is_a_training_exclusion():
    """A text the mining leakage filter removes is also removed by the training leakage check."""
    from luxembedder.training.data import PairSet, drop_leakage

    paralux = "D'Regierung huet e neie Budget virgestallt."
    variants = ["  d'regierung huet e neie  Budget virgestallt.", "D'REGIERUNG huet e neie Budget virgestallt."]
    sets = {"lb-en": PairSet("lb-en", [*variants, "En anere Saz."], ["a", "b", "c"])}
    drop_leakage(sets, {normalize_for_match(paralux)})
    assert sets["lb-en"].first == ["En anere Saz."]


# ---------------------------------------------------------------- distillation and mixed training


def test_teacher_cache_gives_the_direct_encoding(tiny_model_dir: Path, tmp_path: Path):
    from luxembedder.models.registry import load_encoder
    from luxembedder.settings import get_settings
    from luxembedder.training.distill import distillation_rows, load_teacher

    settings = get_settings()
    texts = ["The government presented a budget.", "Luxembourg beat Belgium.", "Rain is expected."]
    direct = load_encoder(str(tiny_model_dir), settings).encode(texts)
    teacher = load_teacher(str(tiny_model_dir), settings, tmp_path / "cache")
    first = distillation_rows(["a", "b", "c"], texts, teacher)
    again = load_teacher(str(tiny_model_dir), settings, tmp_path / "cache")  # a new process would read the disk
    second = distillation_rows(["a", "b", "c"], texts, again)
    assert again.misses == 0 and again.hits == 3
    labels = np.asarray(first["label"], dtype=np.float32)
    np.testing.assert_allclose(labels[1::2], direct, atol=1e-6)
    np.testing.assert_allclose(labels[0::2], direct, atol=1e-6)  # lb row learns the teacher's xx embedding
    np.testing.assert_array_equal(labels, np.asarray(second["label"], dtype=np.float32))
    assert first["text"] == ["a", texts[0], "b", texts[1], "c", texts[2]]


def _mse(model_dir: Path, teacher_dir: Path, pairs: list[tuple[str, str]]) -> float:
    from sentence_transformers import SentenceTransformer

    student = SentenceTransformer(str(model_dir), device="cpu")
    teacher = SentenceTransformer(str(teacher_dir), device="cpu")
    lb = student.encode([a for a, _ in pairs], prompt_name=student.default_prompt_name)
    target = teacher.encode([b for _, b in pairs], prompt_name=teacher.default_prompt_name)
    return float(((lb - target) ** 2).mean())


def _train(tiny: Path, fixtures: Path, out: Path, **kw):
    from luxembedder.settings import get_settings
    from luxembedder.training.trainer import train

    base = dict(model=str(tiny), output_dir=str(out / "model"), teacher_cache=str(out / "tcache"), batch_size=4,
                lr=3e-3, warmup_ratio=0.0, max_steps=12, dev_fraction=0.0, seed=3, logging_steps=1, threads=1,
                exclude_evaluation_sets=False, leakage_check=False)
    base.update(kw)
    return train(TrainConfig.from_dict(base), get_settings(data_dir=fixtures))


def test_distillation_lowers_the_mse_to_the_teacher(tiny_model_dir: Path, fixtures_dir: Path, tmp_path: Path):
    from luxembedder.utils.io import iter_table

    pairs = [(r["text_1"], r["text_2"]) for _, r in iter_table(fixtures_dir / "pairs" / "lb-en.jsonl")]
    before = _mse(tiny_model_dir, tiny_model_dir, pairs)
    result = _train(tiny_model_dir, fixtures_dir, tmp_path,
                    pairs=[{"path": str(fixtures_dir / "pairs" / "lb-en.jsonl"), "objective": "distill"}])
    assert _mse(result.out_dir, tiny_model_dir, pairs) < 0.7 * before


def test_mixed_objectives_in_one_run(tiny_model_dir: Path, fixtures_dir: Path, tmp_path: Path):
    result = _train(
        tiny_model_dir, fixtures_dir, tmp_path,
        pairs=[{"path": str(fixtures_dir / "pairs" / "lb-en.jsonl"), "objective": "distill", "weight": 2.0},
               {"path": str(fixtures_dir / "pairs" / "lb-fr.jsonl")}],
        sources=[{"type": "letz", "subsets": ["SYN"], "negatives": True}])
    meta = json.loads((result.out_dir / "luxembedder.json").read_text())
    assert meta["objectives"]["lb-en/distill"] == {"objective": "distill", "weight": 2.0, "kind": "pairs"}
    assert meta["objectives"]["lb-fr"]["objective"] == "contrastive"
    assert meta["objectives"]["letz:syn"]["kind"] == "letz"
    assert meta["teacher"] == str(tiny_model_dir)
    assert any(s.get("license") == "CC BY 4.0" and s.get("attribution") for s in meta["data"])
    losses = [e["loss"] for e in json.loads((result.out_dir / "training_log.json").read_text()) if "loss" in e]
    assert len(losses) == 12 and all(np.isfinite(losses))


def test_weighted_loss_scales_the_inner_loss():
    import torch

    from luxembedder.training.distill import WeightedLoss

    class Fixed(torch.nn.Module):
        citation = "x"

        def forward(self, features, labels):
            return torch.tensor(3.0)

    w = WeightedLoss(Fixed(), 0.25)
    assert float(w(None, None)) == 0.75 and w.citation == "x"


def test_a_config_with_only_builtin_sources_trains(tiny_model_dir: Path, fixtures_dir: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]):
    result = _train(tiny_model_dir, fixtures_dir, tmp_path, max_steps=2,
                    sources=[{"type": "letz", "subsets": ["WoT"]}])
    meta = json.loads((result.out_dir / "luxembedder.json").read_text())
    assert list(meta["objectives"]) == ["letz:wot"]
    assert "{'loss'" not in capsys.readouterr().out  # the trainer's log entries are formatted lines, not dicts
