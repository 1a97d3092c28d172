"""Reliability of the command line: interrupts, user errors, empty results, fail-fast, clean outputs.

The mining runs here use the oracle encoder of the mining tests (no torch), so every test takes seconds;
the interrupt tests run a real ``luxembedder`` child process and send it real signals.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import luxembedder
from luxembedder.cli.main import EXIT_EMPTY, EXIT_USER_ERROR, INTERRUPTED_MESSAGE, main
from luxembedder.errors import ModelNotAvailableError

sys.path.insert(0, str(Path(__file__).parents[1] / "mining"))
from helpers import OracleEncoder, write_articles

SRC = str(Path(luxembedder.__file__).parents[1])


@pytest.fixture(autouse=True)
def _keep_signal_handlers():
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for s, h in saved.items():
        signal.signal(s, h)


@pytest.fixture
def fake_model(tmp_path: Path) -> Path:
    """A model folder that resolves (safetensors weights) but is never loaded: the oracle encodes."""
    d = tmp_path / "fake-model"
    d.mkdir()
    (d / "modules.json").write_text("[]")
    (d / "config.json").write_text("{}")
    (d / "model.safetensors").write_bytes(b"")
    return d


@pytest.fixture
def oracle(monkeypatch):
    monkeypatch.setattr("luxembedder.mining.pipeline.load_mining_encoder", lambda cfg, settings: OracleEncoder())


def cli(monkeypatch, capsys, *args) -> tuple[int, str, str]:
    """Run the real entry point in-process; returns (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["luxembedder", *map(str, args)])
    with pytest.raises(SystemExit) as exc:
        main()
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def oracle_config():
    """Parity settings the oracle encoder can work with (it knows sentences, not whole articles)."""
    from luxembedder.mining import MiningConfig

    cfg = MiningConfig.parity()
    cfg.embedding.article_representation = "mean_sentences"
    cfg.histograms = False
    cfg.pairs = ["lb-en"]
    return cfg


def mine_args(articles: Path, out: Path, model: Path, *extra: str) -> list[str]:
    config = out.parent / "mine.yaml"
    if not config.exists():
        oracle_config().save(config)
    return ["--data-dir", str(out.parent), "mine", "--articles", str(articles), "--out", str(out),
            "--model", str(model), "--config", str(config), "--pairs", "lb-en", *extra]


def snapshot(root: Path) -> dict[str, tuple[int, int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_ino, p.stat().st_mtime_ns, p.stat().st_size)
            for p in sorted(root.rglob("*"))}


# ------------------------------------------------------------------------------------- interrupts

CHILD = r"""
import sys, time
import luxembedder.mining.stages as stages
def blocked(*args, **kwargs):
    print("READY", file=sys.stderr, flush=True)
    time.sleep(120)
stages.prepare_corpus = blocked  # the prepare stage blocks inside its atomic stage directory
from luxembedder.cli.main import main
sys.argv = ["luxembedder", *sys.argv[1:]]
main()
"""


def _start_blocked_mine(tmp_path: Path, fake_model: Path) -> tuple[subprocess.Popen, Path]:
    arts = write_articles(tmp_path / "a.jsonl")
    run = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": SRC, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-c", CHILD, *mine_args(arts, run, fake_model)], env=env,
                            stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    assert proc.stderr is not None
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if "READY" in line:
            return proc, run
        if not line and proc.poll() is not None:
            break
    proc.kill()
    pytest.fail(f"child never reached the prepare stage: {proc.stderr.read()}")


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_exits_nonzero_with_one_line(sig, code, tmp_path: Path, fake_model: Path) -> None:
    proc, run = _start_blocked_mine(tmp_path, fake_model)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code
    assert err.strip().splitlines()[-1] == INTERRUPTED_MESSAGE
    assert "Traceback" not in err
    assert not list((run / "stages").glob(".*.partial"))  # the stage's temporary folder is cleaned up


def test_kill_9_leftovers_are_removed_by_the_next_run(tmp_path: Path, fake_model: Path, oracle, monkeypatch,
                                                      capsys) -> None:
    proc, run = _start_blocked_mine(tmp_path, fake_model)
    proc.kill()
    proc.communicate(timeout=60)
    left = list((run / "stages").glob(".prepare.*.partial"))
    assert len(left) == 1
    live = run / "stages" / f".embed.{os.uname().nodename.replace('.', '_')}-{os.getpid()}-x.partial"
    live.mkdir()  # a folder of a process that is still running (this one): kept
    old = run / "stages" / ".embed.abc123.partial"
    old.mkdir()  # written before temporary names carried their owner: removed
    code, _, err = cli(monkeypatch, capsys, *mine_args(tmp_path / "a.jsonl", run, fake_model))
    assert code == 0, err
    assert not left[0].exists() and not old.exists() and live.exists()


# ----------------------------------------------------------------------------------- user errors

def test_user_errors_are_one_line_and_exit_2(tmp_path: Path, fake_model: Path, oracle, monkeypatch,
                                             capsys) -> None:
    arts = write_articles(tmp_path / "a.jsonl")
    code, _, err = cli(monkeypatch, capsys, *mine_args(tmp_path / "missing.jsonl", tmp_path / "r", fake_model))
    assert code == EXIT_USER_ERROR and "missing.jsonl: file not found" in err and len(err.splitlines()) == 1

    out_file = tmp_path / "out.txt"
    out_file.write_text("x")
    code, _, err = cli(monkeypatch, capsys, *mine_args(arts, out_file, fake_model))
    assert code == EXIT_USER_ERROR and "is a file" in err and len(err.splitlines()) == 1

    def fail(errnum):
        def write(path, data, skip_if_same=False):
            raise OSError(errnum, os.strerror(errnum), str(path))
        return write

    for errnum, words in ((errno.ENOSPC, "disk full"), (errno.EROFS, "read-only"), (errno.EACCES, "permission")):
        with monkeypatch.context() as m:
            m.setattr("luxembedder.utils.io.atomic_write_bytes", fail(errnum))
            code, out, err = cli(monkeypatch, capsys, *mine_args(arts, tmp_path / f"r{errnum}", fake_model))
            assert code == EXIT_USER_ERROR, err
            assert err.startswith("error: ") and words in err and "config.yaml" in err
            assert len(err.splitlines()) == 1 and "Traceback" not in out + err
            code, out, err = cli(monkeypatch, capsys, "-v", *mine_args(arts, tmp_path / f"r{errnum}", fake_model))
            assert code == EXIT_USER_ERROR and "Traceback" in out + err  # -v adds the traceback


def test_offline_hub_id_fails_before_any_stage(tmp_path: Path, monkeypatch, capsys) -> None:
    arts = write_articles(tmp_path / "a.jsonl")
    run = tmp_path / "run"
    code, _, err = cli(monkeypatch, capsys, *mine_args(arts, run, "someorg/some-model"))  # type: ignore[arg-type]
    assert code == EXIT_USER_ERROR and "hub" in err and not run.exists()


def test_train_fails_fast_without_importing_torch(tmp_path: Path) -> None:
    script = ("import atexit, sys; atexit.register(lambda: print('torch imported:', 'torch' in sys.modules, "
              "file=sys.stderr)); from luxembedder.cli.main import main; sys.argv = ['luxembedder', *sys.argv[1:]]; "
              "main()")
    env = {**os.environ, "PYTHONPATH": SRC}
    r = subprocess.run([sys.executable, "-c", script, "train", "--pairs", str(tmp_path / "lb-en.jsonl"), "--out",
                        str(tmp_path / "m")], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == EXIT_USER_ERROR and "pair source not found" in r.stderr
    assert "torch imported: False" in r.stderr


def test_missing_user_task_file_does_not_mention_data_dir(tmp_path: Path) -> None:
    from luxembedder.datasets.benchmarks import read_bitext_file
    from luxembedder.errors import MissingDataError

    with pytest.raises(MissingDataError) as exc:
        read_bitext_file(tmp_path / "mine.tsv", "lb", "en", task="bitext")
    assert "mine.tsv" in str(exc.value) and "data-dir" not in str(exc.value)


# ------------------------------------------------------------------------------------ safetensors

def test_pickle_weights_are_refused_naming_the_file(tmp_path: Path, monkeypatch, capsys) -> None:
    from luxembedder.models.registry import resolve_model

    d = tmp_path / "pickled"
    d.mkdir()
    (d / "modules.json").write_text(json.dumps([{"idx": 0, "name": "0", "path": "",
                                                  "type": "sentence_transformers.models.Transformer"},
                                                 {"idx": 1, "name": "1", "path": "2_Dense",
                                                  "type": "sentence_transformers.models.Dense"}]))
    (d / "config.json").write_text("{}")
    (d / "pytorch_model.bin").write_bytes(b"not even a pickle")
    with pytest.raises(ModelNotAvailableError) as exc:
        resolve_model(d)
    assert "pytorch_model.bin" in str(exc.value) and "safetensors" in str(exc.value)
    assert "save_file" in str(exc.value)  # how to convert it

    (d / "pytorch_model.bin").unlink()
    (d / "model.safetensors").write_bytes(b"")
    (d / "2_Dense").mkdir()
    (d / "2_Dense" / "pytorch_model.bin").write_bytes(b"x")  # a module folder counts too
    with pytest.raises(ModelNotAvailableError, match=r"2_Dense/pytorch_model\.bin"):
        resolve_model(d)
    (d / "2_Dense" / "model.safetensors").write_bytes(b"")
    assert resolve_model(d).kind == "local"

    (d / "2_Dense" / "model.safetensors").unlink()
    inp = tmp_path / "t.txt"
    inp.write_text("Moien\n")
    code, _, err = cli(monkeypatch, capsys, "embed", "--model", str(d), "--input", str(inp), "--output",
                       str(tmp_path / "e.npy"))
    assert code == EXIT_USER_ERROR and "pytorch_model.bin" in err and len(err.splitlines()) == 1


def test_remote_code_is_never_trusted() -> None:
    src = Path(SRC) / "luxembedder"
    for f in src.rglob("*.py"):
        text = f.read_text(encoding="utf-8")
        assert "trust_remote_code=True" not in text.replace(" ", ""), f


# ---------------------------------------------------------------------------------- empty results

def _only(lang: str, src: Path, dst: Path) -> Path:
    rows = [r for r in src.read_text(encoding="utf-8").splitlines() if json.loads(r)["lang"] == lang]
    dst.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return dst


def test_empty_result_warns_with_the_cause_and_exits_3(tmp_path: Path, fake_model: Path, oracle, monkeypatch,
                                                       capsys) -> None:
    arts = _only("lb", write_articles(tmp_path / "all.jsonl"), tmp_path / "lb.jsonl")
    code, _, err = cli(monkeypatch, capsys, *mine_args(arts, tmp_path / "run", fake_model))
    assert code == EXIT_EMPTY
    assert "no pairs mined" in err and "no 'en' articles" in err and "--allow-empty" in err
    code, _, err = cli(monkeypatch, capsys, *mine_args(arts, tmp_path / "run", fake_model, "--allow-empty"))
    assert code == 0, err


def test_empty_causes_are_named(tmp_path: Path) -> None:
    from luxembedder.mining import mine
    from luxembedder.mining.pipeline import empty_causes
    from luxembedder.settings import get_settings

    settings = get_settings(data_dir=tmp_path)
    cfg = oracle_config()
    arts = write_articles(tmp_path / "all.jsonl")

    shifted = tmp_path / "shifted.jsonl"  # en articles two years later: no date overlap
    rows = [json.loads(x) for x in arts.read_text(encoding="utf-8").splitlines()]
    for r in rows:
        if r["lang"] == "en":
            r["published"] = "2026" + r["published"][4:]
    shifted.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    rep = mine([shifted], tmp_path / "r1", cfg, settings=settings, encoder=OracleEncoder()).report
    assert empty_causes(rep)["lb-en"].startswith("no date overlap") and rep["empty"] == empty_causes(rep)

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\nnot json\n', encoding="utf-8")
    rep = mine([bad], tmp_path / "r2", cfg, settings=settings, encoder=OracleEncoder(), lenient=True).report
    assert empty_causes(rep)["lb-en"].startswith("every input row was rejected (2 rows")

    high = oracle_config()
    high.matching.article_threshold = 0.999
    rep = mine([arts], tmp_path / "r3", high, settings=settings, encoder=OracleEncoder()).report
    assert empty_causes(rep)["lb-en"].startswith("no article pair above the article threshold")

    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    rep = mine([empty], tmp_path / "r4", cfg, settings=settings, encoder=OracleEncoder()).report
    assert empty_causes(rep)["lb-en"] == "the input files hold no records"


# ---------------------------------------------------------------------------------- clean outputs

def test_noop_rerun_writes_nothing_even_on_read_only_media(tmp_path: Path, fake_model: Path, oracle, monkeypatch,
                                                           capsys) -> None:
    arts = write_articles(tmp_path / "a.jsonl")
    run = tmp_path / "run"
    code, _, err = cli(monkeypatch, capsys, *mine_args(arts, run, fake_model))
    assert code == 0, err
    before = snapshot(run)

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(args[0]) if args else None)

    real_open = open

    def open_read_only(file, mode="r", *args, **kwargs):
        if any(c in mode for c in "wax+"):
            read_only(file)
        return real_open(file, mode, *args, **kwargs)

    with monkeypatch.context() as m:  # every way of writing fails, as on read-only media
        for name in ("tempfile.mkstemp", "tempfile.mkdtemp", "os.replace", "os.rename", "os.mkdir", "os.remove",
                     "os.unlink", "shutil.rmtree"):
            m.setattr(name, read_only)
        m.setattr("builtins.open", open_read_only)
        code, out, err = cli(monkeypatch, capsys, *mine_args(arts, run, fake_model))
    assert code == 0, err
    assert "none (up to date)" in out
    assert snapshot(run) == before


def test_rejected_jsonl_is_rewritten_by_every_run(tmp_path: Path, fake_model: Path, oracle, monkeypatch,
                                                  capsys) -> None:
    bad = write_articles(tmp_path / "bad.jsonl", extra_rows=["{broken"])
    good = write_articles(tmp_path / "good.jsonl")
    run = tmp_path / "run"
    code, _, err = cli(monkeypatch, capsys, *mine_args(bad, run, fake_model, "--lenient"))
    assert code == 0, err
    assert len((run / "rejected.jsonl").read_text().splitlines()) == 1
    code, _, err = cli(monkeypatch, capsys, *mine_args(good, run, fake_model))
    assert code == 0, err
    assert (run / "rejected.jsonl").read_text() == ""
    assert json.loads((run / "report.json").read_text())["rejected_rows"] == 0


def test_outputs_follow_the_umask(tmp_path: Path, fake_model: Path, oracle, monkeypatch, capsys) -> None:
    arts = write_articles(tmp_path / "a.jsonl")
    old = os.umask(0o022)
    try:
        code, _, err = cli(monkeypatch, capsys, *mine_args(arts, tmp_path / "run", fake_model))
    finally:
        os.umask(old)
    assert code == 0, err
    run = tmp_path / "run"
    assert (run / "stages" / "prepare").stat().st_mode & 0o777 == 0o755
    assert (run / "pairs" / "lb-en.jsonl").stat().st_mode & 0o777 == 0o644
    assert (run / "stages" / "embed" / "lb.sentences.npy").stat().st_mode & 0o777 == 0o644


# ---------------------------------------------------------------------------------- list options

def test_articles_takes_several_values_or_repeats(tmp_path: Path) -> None:
    from luxembedder.cli.options import spread_values

    assert spread_values(["--articles", "a", "b", "--out", "o", "-a", "c", "d"], ("--articles", "-a")) == [
        "--articles", "a", "--articles", "b", "--out", "o", "-a", "c", "-a", "d"]
    assert spread_values(["--articles=a", "b"], ("--articles",)) == ["--articles=a", "--articles", "b"]
    assert spread_values(["--x", "a", "b"], ("--articles",)) == ["--x", "a", "b"]


def test_help_documents_the_exit_codes(monkeypatch, capsys) -> None:
    code, out, _ = cli(monkeypatch, capsys, "--help")
    assert code == 0 and "Exit codes" in out and "3 empty result" in out and "130 / 143" in out


def test_disk_full_during_write_names_the_file(tmp_path: Path, monkeypatch) -> None:
    from luxembedder.cli.main import os_error_message
    from luxembedder.utils import io as lio

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # as write()/fsync() raise it: no file name

    monkeypatch.setattr(lio.os, "fsync", full)
    with pytest.raises(OSError) as exc:
        lio.atomic_write_text(tmp_path / "out.json", "{}")
    assert os_error_message(exc.value) == f"{tmp_path / 'out.json'}: no space left on the device (disk full)"
    assert list(tmp_path.iterdir()) == []  # no temporary file left behind
