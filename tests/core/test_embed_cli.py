import json

import numpy as np
from typer.testing import CliRunner

from luxembedder.cli.main import app


def test_embed_cli_formats_and_order(tmp_path, tiny_model_dir):
    texts = ["Moien.", "D'Wieder ass schéin.", "Hello there.", "Bonjour à tous."]
    (tmp_path / "in.txt").write_text("\n".join(texts) + "\n")
    (tmp_path / "in.jsonl").write_text("".join(json.dumps({"sentence": t}) + "\n" for t in texts))
    runner = CliRunner()
    r1 = runner.invoke(app, ["embed", "--model", str(tiny_model_dir), "-i", str(tmp_path / "in.txt"),
                             "-o", str(tmp_path / "a.npy")])
    assert r1.exit_code == 0, r1.output
    r2 = runner.invoke(app, ["embed", "--model", str(tiny_model_dir), "-i", str(tmp_path / "in.jsonl"),
                             "--column", "sentence", "-o", str(tmp_path / "b.npy")])
    assert r2.exit_code == 0, r2.output
    a, b = np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy")
    assert a.dtype == np.float32 and a.shape[0] == 4
    np.testing.assert_allclose(a, b, atol=1e-6)
    # order preserved: embedding texts one by one gives the same rows
    from luxembedder.models.registry import load_encoder

    enc = load_encoder(str(tiny_model_dir))
    single = np.concatenate([enc.encode([t]) for t in texts])
    np.testing.assert_allclose(a, single, atol=1e-5)


def test_embed_cli_empty_line_error(tmp_path, tiny_model_dir):
    (tmp_path / "in.txt").write_text("eent\n\ndräi\n")
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "luxembedder.cli.main", "embed", "--model", str(tiny_model_dir),
                        "-i", str(tmp_path / "in.txt"), "-o", str(tmp_path / "o.npy")],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert "line 2" in r.stderr and "--skip-empty" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "o.npy").exists()


def test_cli_usage_errors_print_usage_not_a_traceback(monkeypatch, capsys):
    """An unknown subcommand or option exits 2 with click's usage message (typer vendors click as
    ``typer._click`` in recent versions, so the console entry must recognise both exception families)."""
    import pytest

    from luxembedder.cli.main import main

    for argv in (["nosuch"], ["results", "nosuch"], ["eval", "--no-such-option"]):
        monkeypatch.setattr("sys.argv", ["luxembedder", *argv])
        with pytest.raises(SystemExit) as exc:
            main()
        err = capsys.readouterr().err
        assert exc.value.code == 2, argv
        assert "Usage: " in err and "Error: No such" in err and "Traceback" not in err, err
