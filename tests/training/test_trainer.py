"""Training on the tiny random model: each loss lowers its loss, determinism, resume, the saved folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from luxembedder.errors import DataError
from luxembedder.training import TrainConfig, train


def make_config(tiny: Path, fixtures: Path, out: Path, **kw) -> TrainConfig:
    base = dict(
        model=str(tiny), output_dir=str(out),
        pairs=[{"path": str(fixtures / "pairs" / "lb-en.jsonl"), "min_score": 0.5},
               {"path": str(fixtures / "pairs" / "lb-fr.jsonl")}],
        batch_size=4, lr=3e-3, warmup_ratio=0.0, max_steps=6, dev_size=3, save_steps=3, seed=7,
        logging_steps=1, threads=1,
    )
    base.update(kw)
    return TrainConfig.from_dict(base)


def weights(model_dir: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    files = sorted(model_dir.glob("**/*.safetensors"))
    assert files, f"no weights in {model_dir}"
    out: dict[str, torch.Tensor] = {}
    for f in files:
        out.update({f"{f.relative_to(model_dir)}:{k}": v for k, v in load_file(str(f)).items()})
    return out


def same_weights(a: Path, b: Path) -> bool:
    wa, wb = weights(a), weights(b)
    return wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


def fixed_batch_loss(model_dir: Path, config: TrainConfig, pairs: list[tuple[str, str]]) -> float:
    """The configured loss on one fixed batch (all pairs), with the model's prompt, no gradient."""
    from sentence_transformers import SentenceTransformer

    from luxembedder.training.trainer import build_loss

    model = SentenceTransformer(str(model_dir), device="cpu")
    model.eval()
    loss = build_loss(config, model)
    prompt = model.prompts.get(model.default_prompt_name, "")
    feats = [model.tokenize([prompt + t for t in col]) for col in zip(*pairs, strict=True)]
    with torch.no_grad():
        return float(loss(feats, None))


@pytest.fixture(scope="module")
def reference_run(tiny_model_dir: Path, fixtures_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("ref") / "model"
    cfg = make_config(tiny_model_dir, fixtures_dir, out)
    return cfg, train(cfg)


def test_saved_folder_loads_keeps_prompts_and_records_provenance(reference_run, tiny_model_dir: Path):
    from sentence_transformers import SentenceTransformer

    from luxembedder.models.registry import load_encoder

    cfg, result = reference_run
    out = result.out_dir
    st = SentenceTransformer(str(out), device="cpu")
    assert st.default_prompt_name == "query" and st.prompts["query"] == "query: "
    enc = load_encoder(out)
    emb = enc.encode(["Moien, wéi geet et?", "Hello, how are you?"])
    assert emb.shape == (2, st.get_embedding_dimension())
    meta = json.loads((out / "luxembedder.json").read_text())
    assert meta["pair_counts"] == {"lb-en": {"train": 17, "dev": 3}, "lb-fr": {"train": 16, "dev": 3}}
    assert {d["pair"] for d in meta["data"]} == {"lb-en", "lb-fr"} and all(len(d["sha256"]) == 64 for d in meta["data"])
    assert meta["prompt"] == "query: " and "sentence-transformers" in meta["versions"]
    assert set(result.metrics["dev"]) >= {"dev_lb-en_mean_accuracy", "dev_lb-fr_mean_accuracy", "sequential_score"}
    assert result.metrics["train"]["global_step"] == 6
    assert result.metrics["train"]["max_candidates_per_anchor"] == 4  # batch 4, one process
    log = json.loads((out / "training_log.json").read_text())
    assert sum("loss" in e for e in log) >= 5
    assert TrainConfig.from_yaml(out / "train_config.yaml") == cfg
    card = (out / "README.md").read_text()
    assert "sha256" in card and "mnrl-symmetric" in card and "dev_lb-en_mean_accuracy" in card
    assert not (out.parent / f".{out.name}.train-work").exists()  # checkpoints cleaned up after success
    assert not same_weights(out, tiny_model_dir)


def test_default_loss_lowers_its_loss(reference_run, tiny_model_dir: Path, fixtures_dir: Path):
    from luxembedder.training.config import PairSource
    from luxembedder.training.data import load_pair_sets

    cfg, result = reference_run
    ps = load_pair_sets([PairSource(path=fixtures_dir / "pairs" / "lb-fr.jsonl")])["lb-fr"]
    pairs = list(zip(ps.first, ps.second, strict=True))
    assert fixed_batch_loss(result.out_dir, cfg, pairs) < fixed_batch_loss(tiny_model_dir, cfg, pairs) - 0.01


def test_same_seed_same_weights(reference_run, tiny_model_dir: Path, fixtures_dir: Path, tmp_path: Path):
    cfg, ref = reference_run
    again = train(cfg.with_overrides(output_dir=str(tmp_path / "again")))
    assert same_weights(ref.out_dir, again.out_dir)


class _Interrupt(Exception):
    pass


def test_resume_after_interruption_gives_the_same_weights(reference_run, tiny_model_dir: Path,
                                                          fixtures_dir: Path, tmp_path: Path):
    from transformers import TrainerCallback

    class StopAt4(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == 4:
                raise _Interrupt

    cfg, ref = reference_run
    out = tmp_path / "resumed"
    cfg = cfg.with_overrides(output_dir=str(out))
    with pytest.raises(_Interrupt):
        train(cfg, callbacks=[StopAt4()])
    assert not out.exists()  # the final folder appears only when complete
    assert (tmp_path / ".resumed.train-work" / "checkpoints" / "checkpoint-3").is_dir()
    result = train(cfg.with_overrides(resume=True))
    assert result.metrics["train"]["global_step"] == 6
    assert same_weights(ref.out_dir, out)


@pytest.mark.parametrize("loss", ["mnrl", "cached-mnrl", "gist"])  # mnrl-symmetric: reference run
def test_each_loss_lowers_its_loss(loss: str, tiny_model_dir: Path, fixtures_dir: Path, tmp_path: Path):
    from luxembedder.training.config import PairSource
    from luxembedder.training.data import load_pair_sets

    extra = {"guide_model": str(tiny_model_dir)} if loss == "gist" else {}
    cfg = make_config(tiny_model_dir, fixtures_dir, tmp_path / loss, loss=loss, max_steps=6, dev_size=0,
                      save_steps=None, cached_mini_batch_size=2, **extra)
    ps = load_pair_sets([PairSource(path=fixtures_dir / "pairs" / "lb-en.jsonl", min_score=0.5)])["lb-en"]
    pairs = list(zip(ps.first, ps.second, strict=True))
    before = fixed_batch_loss(tiny_model_dir, cfg, pairs)
    result = train(cfg)
    after = fixed_batch_loss(result.out_dir, cfg, pairs)
    assert after < before - 0.01, (loss, before, after)


def test_hard_negatives_frozen_embeddings_and_round_robin(tiny_model_dir: Path, fixtures_dir: Path, tmp_path: Path):
    cfg = make_config(tiny_model_dir, fixtures_dir, tmp_path / "hn", max_steps=4, dev_size=0, save_steps=None,
                      hard_negatives={"enabled": True}, freeze_embeddings=True, multi_dataset_sampler="round_robin",
                      bf16=True)
    result = train(cfg)
    meta = json.loads((result.out_dir / "luxembedder.json").read_text())
    hn = meta["hard_negatives"]
    assert hn["lb-en"]["with_negative"] > 5 and sum(hn["lb-en"]["by_edit"].values()) == hn["lb-en"]["with_negative"]
    assert result.metrics["train"]["frozen_parameters"] > 0
    w0, w1 = weights(tiny_model_dir), weights(result.out_dir)
    emb = [k for k in w0 if "word_embeddings" in k]
    assert emb and all(torch.equal(w0[k], w1[k]) for k in emb)  # frozen table unchanged
    assert any(not torch.equal(w0[k], w1[k]) for k in w0 if k not in emb)
    from luxembedder.training.trainer import bf16_supported

    assert result.metrics["train"]["bf16"] == bf16_supported()


def test_bad_input_fails_before_training(tiny_model_dir: Path, fixtures_dir: Path, tmp_path: Path):
    cfg = make_config(tiny_model_dir, fixtures_dir, tmp_path / "bad",
                      pairs=[{"path": str(fixtures_dir / "pairs" / "lb-en_missing.jsonl")}])
    with pytest.raises(DataError) as e:
        train(cfg)
    assert e.value.field == "text_2" and "lb-en_missing.jsonl" in str(e.value)
    assert not (tmp_path / "bad").exists()


def test_freeze_layers_keeps_embeddings_and_lower_layers(tiny_model_dir: Path, fixtures_dir: Path, tmp_path: Path):
    cfg = make_config(tiny_model_dir, fixtures_dir, tmp_path / "fl", max_steps=3, dev_size=0, save_steps=None,
                      freeze_layers=1, length_grouping=True, length_group_batches=2)
    result = train(cfg)
    w0, w1 = weights(tiny_model_dir), weights(result.out_dir)
    name = {k: k.split(":", 1)[1] for k in w0}
    frozen = [k for k in w0 if name[k].startswith("embeddings.") or ".layer.0." in name[k]]
    upper = [k for k in w0 if ".layer.1." in name[k]]
    assert frozen and upper
    assert all(torch.equal(w0[k], w1[k]) for k in frozen)
    assert any(not torch.equal(w0[k], w1[k]) for k in upper)
    assert result.metrics["train"]["frozen_parameters"] == sum(w0[k].numel() for k in frozen)


def test_freeze_layers_beyond_the_stack_is_a_config_error(tiny_model_dir: Path, fixtures_dir: Path, tmp_path: Path):
    from luxembedder.errors import ConfigError

    cfg = make_config(tiny_model_dir, fixtures_dir, tmp_path / "fl99", freeze_layers=99)
    with pytest.raises(ConfigError, match="freeze_layers: 99 requested"):
        train(cfg)
