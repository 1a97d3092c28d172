"""The end-to-end recipe: configs validate, `demo --quick` runs and writes a complete report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from luxembedder.cli.main import app
from luxembedder.evaluation.report import PAIRED_TEST
from luxembedder.recipe.config import RecipeConfig
from luxembedder.recipe.demo import demo_config, packaged_config
from luxembedder.recipe.report import SECTIONS

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.mark.parametrize("name", ["demo", "offline", "paper", "best-offline"])
def test_recipe_configs_validate(name):
    cfg = RecipeConfig.from_yaml(CONFIGS / f"{name}.yaml")
    assert cfg == RecipeConfig.from_yaml(packaged_config(name))


def test_paper_config_has_the_papers_settings():
    cfg = RecipeConfig.from_yaml(CONFIGS / "paper.yaml")
    m = cfg.mining
    assert cfg.base_model == "labse"
    assert (m.matching.window_days, m.matching.article_threshold, m.matching.sentence_stage_threshold) == (1, 0.5, 0.65)
    assert (m.scoring.method, m.scoring.cosine_threshold) == ("cosine", 0.70)
    assert (m.filters.length_ratio, m.filters.overlap, m.filters.one_to_one) == (1.5, 0.8, True)


def test_other_configs_validate():
    from luxembedder.analysis.experiment import ExperimentConfig
    from luxembedder.evaluation.tasks import SuiteConfig
    from luxembedder.mining.config import MiningConfig
    from luxembedder.training.config import TrainConfig

    SuiteConfig.from_yaml(CONFIGS / "eval-train-bench.yaml")
    MiningConfig.from_yaml(CONFIGS / "mine.yaml")
    ExperimentConfig.from_yaml(CONFIGS / "experiment.yaml")
    if (CONFIGS / "train.yaml").is_file():
        TrainConfig.from_yaml(CONFIGS / "train.yaml")


def test_recipe_training_keeps_its_sources_after_the_mined_pairs(tmp_path):
    from luxembedder.recipe.run import recipe_train_config

    cfg = RecipeConfig.from_yaml(CONFIGS / "best-offline.yaml")
    cfg.training.sources = RecipeConfig.from_dict(
        {"training": {"sources": [{"type": "letz", "max_rows": 10}]}}).training.sources
    train_cfg = recipe_train_config(cfg, tmp_path / "mine", {"lb-en": 5, "lb-fr": 0}, tmp_path / "model")
    assert [p.pair for p in train_cfg.pairs] == ["lb-en"]  # an empty mined file is not a source
    assert [s.type for s in train_cfg.all_sources] == ["pairs", "letz"]
    assert train_cfg.model == cfg.base_model and train_cfg.output_dir == tmp_path / "model"


def test_ablation_plan_arms_validate():
    """Every arm of the quality ablation is a valid training-section override of best-offline.yaml."""
    from luxembedder.training.config import TrainConfig

    plan = yaml.safe_load((CONFIGS / "quality-ablation.yaml").read_text())
    base = RecipeConfig.from_yaml(CONFIGS.parent / plan["recipe"]).training.model_dump(mode="json")
    assert plan["seeds"] and len(plan["seeds"]) >= 3
    for arm, overrides in plan["arms"].items():
        assert arm in plan["descriptions"], arm
        TrainConfig.from_dict({**base, **overrides})


def test_quick_config_is_smaller():
    full, quick = demo_config(), demo_config(quick=True)
    assert quick.collection.max_documents and quick.training.max_steps > 0
    assert set(quick.evaluation.tasks) < set(full.evaluation.tasks)


def _loose_sample_config(tmp_path: Path) -> Path:
    """The demo recipe on the bundled sample with thresholds a random tiny model can pass."""
    raw = yaml.safe_load(packaged_config("demo").read_text())
    raw["collection"]["source"] = "sample"
    raw["mining"]["matching"].update(article_threshold=-1.0, sentence_stage_threshold=-1.0, mutual_best=False)
    raw["mining"]["scoring"] = {"method": "cosine", "cosine_threshold": -1.0}
    path = tmp_path / "loose.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_demo_quick_end_to_end_on_bundled_sample(tmp_path, tiny_model_dir):
    out = tmp_path / "demo"
    args = ["demo", "--quick", "--model", str(tiny_model_dir), "--out", str(out),
            "--config", str(_loose_sample_config(tmp_path))]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text()
    md = (out / "report.md").read_text()
    for section in SECTIONS:
        assert f"<h2>{section}</h2>" in html and f"## {section}" in md, section
    assert "bundled sample" in md and "bundled evaluation sets" in md
    assert "data:image/png;base64," in html  # charts inlined: opens without a server
    # one number convention (percent, one decimal, CI in brackets, Δ with the named paired test), the data
    # folder actually used, and a warning for the 2-pair dev split of the tiny sample
    assert re.search(r"\| \d+\.\d \[\d+\.\d, \d+\.\d\] \| \d+\.\d \[\d+\.\d, \d+\.\d\] \| [+-]\d+\.\d ", md)
    assert PAIRED_TEST in md and "(200 resamples)" in md
    assert "**Data folder used:** none found" in md and "../shared/data" not in md
    assert "tiny dev split" in md and "unreliable" in md and '<p class="warning">' in html
    assert "{'" not in md and '{"' not in md  # no raw dicts
    assert (out / "report_assets" / "scores_lb-en.png").is_file()
    run = json.loads((out / "run.json").read_text())
    assert {r["task"] for r in run["headline"]} and all("delta" in r for r in run["headline"])
    assert (out / "mine" / "pairs" / "lb-en.jsonl").stat().st_size > 0
    assert (out / "demo-quick-finetuned" / "modules.json").is_file()
    card = (out / "demo-quick-finetuned" / "README.md").read_text()
    assert "model-index:" in card and "/tmp" not in card  # the scores go into the model card, file names only
    assert "counts:" in (out / "mine" / "pairs" / "README.md").read_text()  # the dataset card
    # re-running resumes: mining stages skipped, the model reused, evaluation rows kept
    mtime = (out / "demo-quick-finetuned" / "model.safetensors").stat().st_mtime
    mined = {p: p.stat().st_mtime_ns for p in (out / "mine").rglob("*")}
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0, again.output
    assert (out / "demo-quick-finetuned" / "model.safetensors").stat().st_mtime == mtime
    # every mining stage skipped: the no-op mining run writes nothing (not even report.json)
    assert {p: p.stat().st_mtime_ns for p in (out / "mine").rglob("*")} == mined
    # other mined pairs (a stricter length filter): the model is retrained, the report shows only this run
    from luxembedder.models.registry import model_name

    old_name = model_name(out / "demo-quick-finetuned")
    raw = yaml.safe_load(Path(args[-1]).read_text())
    raw["mining"]["filters"] = {"length_ratio": 1.1}
    Path(args[-1]).write_text(yaml.safe_dump(raw))
    third = CliRunner().invoke(app, args)
    assert third.exit_code == 0, third.output
    assert (out / "demo-quick-finetuned" / "model.safetensors").stat().st_mtime != mtime
    new_name = model_name(out / "demo-quick-finetuned")
    assert new_name != old_name
    md = (out / "report.md").read_text()
    assert new_name in md and old_name not in md


@pytest.mark.slow
def test_demo_quick_with_real_me5_small(tmp_path, me5_dir, data_dir):
    """One path through the real base model and the real data (NTREX collection, SIB-200, ParaLux-dev)."""
    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["--data-dir", str(data_dir), "demo", "--quick", "--out", str(out)])
    assert result.exit_code == 0, result.output
    run = json.loads((out / "run.json").read_text())
    assert run["collection"]["kind"] == "ntrex"
    quality = run["mining_quality"]["pairs"]
    assert quality["lb-en"]["precision"] > 0.5 and quality["lb-fr"]["precision"] > 0.5
    zeroshot = [r for r in run["headline"] if r["task"] == "sib200-zeroshot"]
    assert zeroshot and all(0.2 < r["base"] < 0.7 for r in zeroshot)
