"""``luxembedder push`` against a mocked hub (HfApi replaced; no network) and ``luxembedder card``."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import ClassVar

import pytest
import yaml

from luxembedder.errors import ConfigError
from luxembedder.hub import HubError, push
from luxembedder.settings import Settings


class FakeApi:
    calls: ClassVar[list[tuple[str, tuple, dict]]] = []
    fail: ClassVar[Exception | None] = None

    def create_repo(self, *args, **kwargs):
        FakeApi.calls.append(("create_repo", args, kwargs))
        return f"https://huggingface.co/{args[0]}"

    def create_commit(self, *args, **kwargs):
        FakeApi.calls.append(("create_commit", args, kwargs))
        if FakeApi.fail is not None:
            raise FakeApi.fail

        class Info:
            commit_url = f"https://huggingface.co/{args[0]}/commit/0123"
        return Info()


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch):
    import huggingface_hub

    FakeApi.calls, FakeApi.fail = [], None
    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    return FakeApi


@pytest.fixture
def online(tmp_path: Path) -> Settings:
    return Settings(data_dir=None, models_home=tmp_path / "home", online=True)


def make_meta(tmp_path: Path) -> dict:
    src = {"path": str(tmp_path / "data" / "lb-en.jsonl"), "pair": "lb-en", "sha256": "a" * 64, "rows_read": 3,
           "rows_kept": 3, "dropped_low_score": 0, "dropped_duplicate": 0, "dropped_leakage": 0,
           "license": "CC BY 4.0", "attribution": "the luxembedder authors"}
    return {"kind": "luxembedder-trained-model", "base_model": "me5-small", "base_model_ref": "me5-small",
            "created": "2026-12-01T05:00:00+00:00", "loss": "mnrl", "prompt": "query: ", "data": [src],
            "pair_counts": {"lb-en": {"train": 2, "dev": 1}}, "metrics": {"dev": {}, "train": {}},
            "config": {"model": "me5-small", "output_dir": str(tmp_path / "runs" / "model"),
                       "pairs": [{"path": src["path"]}]}, "versions": {}}


def _record(model: str, task: str, subset: str, score: float):
    from luxembedder.evaluation.results import ResultRecord

    return ResultRecord(model=model, task=task, subset=subset, protocol="triplet-accuracy(ties-wrong)",
                        main_score=score, n=10, data=[{"path": "/data/paralux/dev.jsonl", "sha256": "c" * 64}])


def _payload(op) -> bytes:
    src = op.path_or_fileobj
    return Path(src).read_bytes() if isinstance(src, str) else bytes(src)


@pytest.fixture
def model_dir(tiny_model_dir: Path, tmp_path: Path) -> Path:
    out = tmp_path / "runs" / "model"
    shutil.copytree(tiny_model_dir, out)
    meta = make_meta(tmp_path)
    (out / "luxembedder.json").write_text(json.dumps(meta))
    (out / "train_config.yaml").write_text(yaml.safe_dump(meta["config"]))
    (out / ".hidden").mkdir()
    (out / ".hidden" / "secret.txt").write_text("x")
    return out


def test_push_model_folder(hub, online: Settings, model_dir: Path, tmp_path: Path) -> None:
    res = push(model_dir, "me/lux", settings=online, private=True)
    (name, args, kw), (name2, args2, kw2) = hub.calls
    assert name == "create_repo" and args == ("me/lux",) and kw == {"repo_type": "model", "private": True,
                                                                      "exist_ok": True}
    assert name2 == "create_commit" and args2 == ("me/lux",) and kw2["repo_type"] == "model"
    ops = {op.path_in_repo: op for op in kw2["operations"]}
    assert {"modules.json", "README.md", "luxembedder.json", "train_config.yaml"} <= set(ops)
    assert any(p.endswith(".safetensors") for p in ops) and "1_Pooling/config.json" in ops
    assert not any(p.startswith(".hidden") for p in ops)
    card = _payload(ops["README.md"]).decode()
    assert 'SentenceTransformer("me/lux")' in card and "name: me/lux" not in card  # no results: no model-index
    for name in ("README.md", "luxembedder.json", "train_config.yaml"):
        assert str(tmp_path) not in _payload(ops[name]).decode(), name
    assert json.loads(_payload(ops["luxembedder.json"]))["config"]["output_dir"] == "model"
    assert res.url.endswith("/commit/0123") and res.repo_type == "model" and len(res.files) == len(ops)
    assert str(tmp_path) in (model_dir / "luxembedder.json").read_text()  # the local folder is unchanged


def test_push_model_with_results_adds_model_index(hub, online: Settings, model_dir: Path, tmp_path: Path) -> None:
    from huggingface_hub import ModelCard

    from luxembedder.evaluation.results import save_results

    save_results(tmp_path / "results.json", [_record("model@1", "paralux", "paralux_dev", 0.25)])
    push(model_dir, "me/lux", settings=online, results=tmp_path / "results.json")
    ops = {op.path_in_repo: op for op in hub.calls[1][2]["operations"]}
    ev = ModelCard(_payload(ops["README.md"]).decode()).data.eval_results
    assert [(e.dataset_type, e.metric_value) for e in ev] == [("fredxlpy/ParaLux", 25.0)]
    assert "eval_results.json" in ops and "/data/" not in _payload(ops["eval_results.json"]).decode()


def _pairs_run(root: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from luxembedder.mining import MiningConfig

    run = root / "run"
    (run / "pairs").mkdir(parents=True)
    rows = [{"text_1": "Moien.", "text_2": "Hello.", "cos_sim": 0.9}, {"text_1": "Äddi.", "text_2": "Bye.", "cos_sim": 0.8}]
    (run / "pairs" / "lb-en.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    pq.write_table(pa.Table.from_pylist(rows), run / "pairs" / "lb-en.parquet")
    (run / "report.json").write_text(json.dumps({"pipeline": "luxalign", "inputs": [],
                                                 "selection": {"lb-en": {"final": 2, "steps": []}}}))
    MiningConfig(pairs=["lb-en"]).save(run / "config.yaml")
    (run / "stages").mkdir()
    (run / "stages" / "x.parquet").write_text("")
    return run


def test_push_pairs_writes_the_card_and_uploads_a_dataset(hub, online: Settings, tmp_path: Path) -> None:
    run = _pairs_run(tmp_path)
    res = push(run, "me/pairs", settings=online)
    kw = hub.calls[1][2]
    assert hub.calls[0][2]["repo_type"] == "dataset" and kw["repo_type"] == "dataset"
    ops = {op.path_in_repo: op for op in kw["operations"]}
    assert set(ops) == {"README.md", "lb-en.jsonl", "lb-en.parquet"}
    assert 'load_dataset("me/pairs", "lb-en"' in _payload(ops["README.md"]).decode()
    assert (run / "pairs" / "README.md").is_file() and res.repo_type == "dataset"


def test_push_errors(hub, online: Settings, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="neither a sentence-transformers model folder"):
        push(tmp_path, "me/x", settings=online)
    with pytest.raises(ConfigError, match="OWNER/NAME"):
        push(tmp_path, "nope", settings=online)
    hub.fail = RuntimeError("401 Client Error: Unauthorized\nmore details")
    with pytest.raises(HubError, match=r"^push to me/pairs failed: 401 Client Error: Unauthorized$"):
        push(_pairs_run(tmp_path), "me/pairs", settings=online)
    with pytest.raises(HubError, match="online access is off"):
        push(tmp_path, "me/x", settings=Settings(data_dir=None, models_home=tmp_path, online=False))


def test_push_offline_cli_is_one_line_and_exit_2(hub, model_dir: Path, monkeypatch, capsys) -> None:
    from luxembedder.cli.main import main

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(sys, "argv", ["luxembedder", "--online", "push", str(model_dir), "--repo-id", "me/lux"])
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "online access is off" in err and "Traceback" not in err
    assert hub.calls == []


def test_card_command_rewrites_model_and_dataset_cards(model_dir: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from luxembedder.cli.main import app
    from luxembedder.evaluation.results import save_results

    save_results(tmp_path / "results.json", [_record("model@1", "paralux", "paralux_dev", 0.25)])
    r = CliRunner().invoke(app, ["card", str(model_dir), "--results", str(tmp_path / "results.json")])
    assert r.exit_code == 0, r.output
    assert "model-index" in (model_dir / "README.md").read_text()
    run = _pairs_run(tmp_path / "p")
    r = CliRunner().invoke(app, ["card", str(run)])
    assert r.exit_code == 0, r.output
    assert "size_categories" in (run / "pairs" / "README.md").read_text()
