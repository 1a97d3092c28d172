"""Model cards: Hugging Face metadata that huggingface_hub parses, licences and attribution, no local paths,
evaluation results as a model-index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from luxembedder.evaluation.results import ResultRecord, save_results
from luxembedder.training.card import (
    add_results,
    combined_license,
    model_card,
    strip_local_paths,
)
from luxembedder.utils.licenses import hf_license_id

LETZ_ATTR = "LETZ (Philippy, Haddadan, Bissyandé 2024), built from the Luxembourg Online Dictionary"


def make_meta(tmp_path: Path) -> dict:
    mined = tmp_path / "runs" / "mine" / "pairs"
    mined.mkdir(parents=True)
    (mined / "README.md").write_text("---\nlicense: cc-by-sa-4.0\nmining:\n  source:\n    attribution: RTL archive\n"
                                     "---\n# pairs\n")
    work = tmp_path / "runs" / ".model.train-work" / "checkpoints" / "checkpoint-6"
    src = dict(rows_read=20, rows_kept=18, dropped_low_score=1, dropped_duplicate=1, dropped_leakage=0)
    return {
        "kind": "luxembedder-trained-model", "base_model": "me5-small", "base_model_ref": "me5-small",
        "created": "2026-12-01T05:00:00+00:00", "loss": "mnrl-symmetric", "prompt": "query: ",
        "data": [
            {"path": str(mined / "lb-en.jsonl"), "pair": "lb-en", "sha256": "a" * 64, **src},
            {"path": str(tmp_path / "data" / "letz" / "lb-fr.jsonl"), "pair": "lb-fr", "sha256": "b" * 64,
             "license": "CC BY 4.0", "attribution": LETZ_ATTR, **src},
        ],
        "pair_counts": {"lb-en": {"train": 17, "dev": 1}, "lb-fr": {"train": 17, "dev": 1}},
        "hard_negatives": None, "leakage_dropped": {},
        "metrics": {"dev": {"dev_lb-en_mean_accuracy": 0.9}, "train": {
            "global_step": 6, "train_loss": 1.2, "best_checkpoint": str(work)}},
        "config": {"model": "me5-small", "output_dir": str(tmp_path / "runs" / "model"), "loss": "mnrl-symmetric",
                   "batch_size": 4, "lr": 2e-5, "pairs": [{"path": str(mined.parent)}],
                   "exclude_files": [str(tmp_path / "data" / "paralux.txt")]},
        "versions": {"sentence-transformers": "6.2.0"},
    }


def parse(card: str):
    from huggingface_hub import ModelCard

    return ModelCard(card)


def test_card_has_full_hub_metadata_and_no_local_paths(tmp_path: Path) -> None:
    text = model_card(make_meta(tmp_path))
    data = parse(text).data
    assert data.base_model == "intfloat/multilingual-e5-small"
    assert data.language == ["lb", "en", "fr"]
    assert data.pipeline_tag == "sentence-similarity" and data.library_name == "sentence-transformers"
    assert "sentence-transformers" in data.tags and "luxembourgish" in data.tags
    # mit base + CC BY data + CC BY-SA mined data (licence read from the dataset card beside the file)
    assert data.license == "other" and data.license_name == "mit-and-cc-by-sa-4.0-and-cc-by-4.0"
    assert data.datasets == ["lb-en.jsonl", "lb-fr.jsonl"]
    td = data.to_dict()["training_data"]
    assert [t["sha256"] for t in td] == ["a" * 64, "b" * 64]
    assert td[1]["license"] == "CC BY 4.0" and td[1]["attribution"] == LETZ_ATTR
    assert str(tmp_path) not in text and "/runs/" not in text and ".train-work" not in text
    assert "best_checkpoint_step | 6" in text  # the deleted checkpoint's path is not listed
    assert LETZ_ATTR in text and "credit the source" in text
    assert 'SentenceTransformer("model")' in text and "query: " in text
    assert "model-index" not in text  # no results yet


def test_card_licence_is_the_base_licence_for_attribution_only_data(tmp_path: Path) -> None:
    meta = make_meta(tmp_path)
    meta["data"] = meta["data"][1:]
    data = parse(model_card(meta, repo_id="me/lux")).data
    assert data.license == "mit" and data.license_name is None
    assert 'SentenceTransformer("me/lux")' in model_card(meta, repo_id="me/lux")


def test_card_with_letz_and_ntrex_sources(tmp_path: Path) -> None:
    meta = make_meta(tmp_path)
    meta["data"] = [
        {"path": "LETZ-WoT/train.jsonl", "pair": "lb-wot", "sha256": "d" * 64, "rows_read": 9, "rows_kept": 9,
         "source": "letz", "license": "CC BY 4.0", "attribution": LETZ_ATTR},
        {"path": "deu_Latn.txt, ltz_Latn.txt", "pair": "lb-de", "sha256": "e" * 64, "rows_read": 5,
         "rows_kept": 5, "source": "ntrex", "license": "CC BY-SA 4.0"},
    ]
    meta["pair_counts"] = {"letz:wot": {"train": 9, "dev": 0}, "ntrex:lb-de/distill": {"train": 5, "dev": 0}}
    text = model_card(meta)
    data = parse(text).data
    assert data.language == ["lb", "de"]  # LETZ's lb-wot is no language pair
    assert data.license == "other" and data.license_name == "mit-and-cc-by-4.0-and-cc-by-sa-4.0"
    td = data.to_dict()["training_data"]
    assert [t["file"] for t in td] == ["LETZ-WoT/train.jsonl", "deu_Latn.txt, ltz_Latn.txt"]
    assert [t["source"] for t in td] == ["letz", "ntrex"]
    assert "adaptations under the same licence" in text and LETZ_ATTR in text


def test_licence_helpers() -> None:
    assert hf_license_id("CC BY 4.0") == "cc-by-4.0" and hf_license_id("MIT") == "mit"
    assert hf_license_id("CC BY-NC-SA 4.0") == "cc-by-nc-sa-4.0" and hf_license_id("my licence") is None
    assert combined_license("apache-2.0", ["cc-by-4.0", None]) == ("apache-2.0", None)
    assert combined_license("mit", ["CC BY-NC 4.0"]) == ("other", "mit-and-cc-by-nc-4.0")
    assert combined_license(None, ["cc-by-4.0"]) == ("unknown", None)
    assert strip_local_paths({"path": "runs/a/b.jsonl", "model": "sentence-transformers/LaBSE",
                              "x": ["/home/u/f.txt"], "n": 3}) == \
        {"path": "b.jsonl", "model": "sentence-transformers/LaBSE", "x": ["f.txt"], "n": 3}


def _record(model: str, task: str, subset: str, score: float, protocol: str = "top1/mean") -> ResultRecord:
    return ResultRecord(model=model, task=task, subset=subset, protocol=protocol, main_score=score,
                        ci95=(score - 0.05, score + 0.05), n=100, items=[1.0, 0.0],
                        data=[{"path": "/data/flores/devtest.ltz", "sha256": "c" * 64}])


def test_add_results_writes_model_index_with_protocols(tmp_path: Path) -> None:
    model_dir = tmp_path / "runs" / "model"
    model_dir.mkdir(parents=True)
    (model_dir / "luxembedder.json").write_text(json.dumps(make_meta(tmp_path)))
    records = [_record("model@0123", "bitext-ltz", "flores:ltz-eng", 0.9),
               _record("me5-small", "bitext-ltz", "flores:ltz-eng", 0.8),
               _record("model@0123", "paralux", "paralux_dev", 0.3, "triplet-accuracy(ties-wrong)"),
               _record("other@9", "paralux", "paralux_dev", 0.1)]
    save_results(tmp_path / "results.json", records)
    add_results(model_dir, tmp_path / "results.json")  # the model found by its folder name
    text = (model_dir / "README.md").read_text()
    card = parse(text)
    ev = card.data.eval_results
    assert [(e.task_type, e.dataset_type, e.metric_config, e.metric_value) for e in ev] == [
        ("BitextMining", "facebook/flores", "top1/mean", 90.0),
        ("PairClassification", "fredxlpy/ParaLux", "triplet-accuracy(ties-wrong)", 30.0)]
    assert ev[0].dataset_config == "flores:ltz-eng" and ev[0].metric_args == {"n": 100, "ci95": [85.0, 95.0]}
    assert "| 90.0 [85.0–95.0] | 80.0 (+10.0) |" in text  # difference to the base model
    assert "/data/" not in text and "devtest.ltz" in text
    stored = json.loads((model_dir / "eval_results.json").read_text())
    assert {r["model"] for r in stored["records"]} == {"model@0123", "me5-small"}
    assert all("items" not in r and r["data"][0] == {"file": "devtest.ltz", "sha256": "c" * 64}
               for r in stored["records"])


def test_add_results_unknown_model_is_a_clear_error(tmp_path: Path) -> None:
    from luxembedder.errors import ConfigError

    model_dir = tmp_path / "m"
    model_dir.mkdir()
    (model_dir / "luxembedder.json").write_text(json.dumps(make_meta(tmp_path)))
    with pytest.raises(ConfigError, match="no records for model 'm'"):
        add_results(model_dir, [_record("x@1", "paralux", "d", 0.5)])
    with pytest.raises(ConfigError, match="not a model folder"):
        add_results(tmp_path, [])
