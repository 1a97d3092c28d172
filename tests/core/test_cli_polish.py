"""The command line as a new user meets it: examples in every --help, fixed choices, short options, flags
without a type, dry runs that create nothing, the embed throughput line and sentence-counting progress bars."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import typer
import yaml
from typer.testing import CliRunner

from luxembedder.cli.main import app


def _commands(cmd, path: tuple[str, ...] = ()):
    yield path, cmd
    if hasattr(cmd, "commands"):  # a group (typer may vendor its own click)
        for name, sub in cmd.commands.items():
            yield from _commands(sub, (*path, name))


ALL = list(_commands(typer.main.get_command(app)))


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.parametrize("path", [p for p, _ in ALL], ids=lambda p: " ".join(p) or "luxembedder")
def test_every_help_has_an_example_and_no_flag_metavar(path: tuple[str, ...]) -> None:
    res = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"}, terminal_width=200)
    assert res.exit_code == 0, res.output
    assert "Example" in res.output and "$ luxembedder" in res.output, path
    assert "<bool>" not in res.output, path
    assert not re.search(r"--verbose\s+-v\s+<int>", res.output)


def _help(*path: str) -> str:
    res = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "250"}, terminal_width=250)
    assert res.exit_code == 0, res.output
    return res.output


def test_fixed_choices_are_enums_and_train_has_short_options() -> None:
    mine = _help("mine")
    assert "<parity|improved>" in mine and "<cosine|margin>" in mine and "<default|rtl>" in mine
    train = _help("train")
    assert "<mnrl|mnrl-symmetric|cached-mnrl|gist>" in train
    for short, long in (("-m", "--model"), ("-o", "--out"), ("-c", "--config")):
        assert re.search(rf"{long}\s+{short}\s", train), long
    assert "config file, else 32" in train  # defaults shown although the flags default to the config
    assert "<rich|md|csv|json|latex>" in _help("results", "table")
    res = CliRunner().invoke(app, ["mine", "-a", "x.jsonl", "-o", "out", "--preset", "best"])
    assert res.exit_code == 2 and "best" in res.output
    res = CliRunner().invoke(app, ["train", "--loss", "triplet", "--dry-run"])
    assert res.exit_code == 2 and "triplet" in res.output


def test_results_table_formats_from_the_cli(tmp_path: Path) -> None:
    from luxembedder.evaluation.results import ResultRecord, save_results

    recs = [ResultRecord(model=m, task="t", protocol="p", main_score=s, ci95=(s - 0.1, s + 0.1), n=4, items=items)
            for m, s, items in (("a", 0.5, [1, 0, 1, 0]), ("b", 0.75, [1, 1, 1, 0]))]
    path = save_results(tmp_path / "results.json", recs)
    runner = CliRunner()
    out = {f: runner.invoke(app, ["results", "table", str(path), "-f", f]) for f in ("md", "csv", "json", "latex")}
    assert all(r.exit_code == 0 for r in out.values()), {f: r.output for f, r in out.items()}
    assert out["md"].output.startswith("| task | subset | protocol | n | a | b | Δ b − a |")
    assert out["csv"].output.splitlines()[0].startswith("model,task,subset,protocol,n,")
    assert [r["score"] for r in json.loads(out["json"].output)] == [50.0, 75.0]
    assert "\\toprule" in out["latex"].output


def test_mine_dry_run_validates_and_creates_nothing(tmp_path: Path, tiny_model_dir: Path, monkeypatch) -> None:
    from luxembedder.datasets import sample_dir

    monkeypatch.chdir(tmp_path)
    (tmp_path / "home").mkdir()
    before = _files(tmp_path)
    args = ["--data-dir", str(tmp_path / "none"), "mine", "-a", str(sample_dir() / "articles.jsonl"),
            "-o", str(tmp_path / "run"), "-m", str(tiny_model_dir), "--pairs", "lb-en", "--dry-run"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "dry run" in res.output and "would be created" in res.output and "lb 25" in res.output
    assert _files(tmp_path) == before
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "lang": "lb", "published": "2024-01-01", "title": ""}\n')
    res = CliRunner().invoke(app, [*args[:4], str(bad), *args[5:]])
    assert res.exit_code != 0 and "bad.jsonl" in str(res.exception)
    assert not (tmp_path / "run").exists()


def test_train_dry_run_validates_and_creates_nothing(tmp_path: Path, tiny_model_dir: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    pairs = tmp_path / "lb-en.jsonl"
    pairs.write_text("".join(json.dumps({"text_1": f"Saz {i}.", "text_2": f"Sentence {i}."}) + "\n" for i in range(20)))
    before = _files(tmp_path)
    res = CliRunner().invoke(app, ["--data-dir", str(tmp_path / "none"), "train", "-m", str(tiny_model_dir),
                                   "--pairs", str(pairs), "-o", str(tmp_path / "model"), "--loss", "mnrl",
                                   "--dry-run"])
    assert res.exit_code == 0, res.output
    assert re.search(r"lb-en 19 / 1\b", res.output) and "loss mnrl" in res.output
    assert "dev split under 50 pairs for lb-en" in " ".join(res.output.split())
    assert _files(tmp_path) == before
    pairs.write_text('{"text_1": "", "text_2": "x"}\n')
    res = CliRunner().invoke(app, ["train", "-m", str(tiny_model_dir), "--pairs", str(pairs), "-o",
                                   str(tmp_path / "model"), "--dry-run"])
    assert res.exit_code != 0 and "lb-en.jsonl" in str(res.exception)
    assert not (tmp_path / "model").exists()


def test_run_dry_run_validates_and_creates_nothing(tmp_path: Path, tiny_model_dir: Path, monkeypatch) -> None:
    from luxembedder.recipe.demo import packaged_config

    monkeypatch.chdir(tmp_path)
    raw = yaml.safe_load(packaged_config("demo").read_text())
    raw["base_model"] = str(tiny_model_dir)
    cfg = tmp_path / "recipe.yaml"
    cfg.write_text(yaml.safe_dump(raw))
    before = _files(tmp_path)
    res = CliRunner().invoke(app, ["--data-dir", str(tmp_path / "none"), "run", "-c", str(cfg), "-o",
                                   str(tmp_path / "runs"), "--dry-run"])
    assert res.exit_code == 0, res.output
    assert "bundled sample" in res.output and "would be created" in res.output
    assert _files(tmp_path) == before
    raw["base_model"] = str(tmp_path / "no-such-model")
    cfg.write_text(yaml.safe_dump(raw))
    res = CliRunner().invoke(app, ["run", "-c", str(cfg), "-o", str(tmp_path / "runs"), "--dry-run"])
    assert res.exit_code != 0 and "no-such-model" in str(res.exception)


def test_embed_ends_with_throughput_and_counts_sentences(tmp_path: Path, tiny_model_dir: Path) -> None:
    texts = [f"Dëst ass de Saz Nummer {i}." + " méi" * (i % 7) for i in range(70)]
    (tmp_path / "in.txt").write_text("\n".join(texts) + "\n")
    res = CliRunner().invoke(app, ["embed", "-m", str(tiny_model_dir), "-i", str(tmp_path / "in.txt"),
                                   "-o", str(tmp_path / "a.npy"), "--batch-size", "4"])
    assert res.exit_code == 0, res.output
    assert re.fullmatch(r"70 sentences in \d+\.\d s \([\d,]+\.\d/s\)", res.output.strip().splitlines()[-1])
    assert "Batches" not in res.output
    from luxembedder.models.registry import load_encoder

    enc = load_encoder(str(tiny_model_dir))
    # the sentence-counting bar encodes length-sorted chunks: same rows, input order
    np.testing.assert_allclose(enc.encode(texts, batch_size=4, show_progress=True),
                               enc.encode(texts, batch_size=4, show_progress=False), atol=1e-5)
    np.testing.assert_allclose(np.load(tmp_path / "a.npy"), enc.encode(texts, batch_size=4), atol=1e-5)
