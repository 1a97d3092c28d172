"""Run the damaged-input and fault cases and write ``docs/reliability.md`` from what really happened.

Every row of the generated page comes from running the case now: the article reader in strict and lenient
mode on a small damaged file, or the real ``luxembedder`` entry point (in-process, or as a child process for
signals) with a placeholder model folder and a hashing encoder, so no model is loaded. Takes a few seconds.

Usage: python scripts/reliability_cases.py [--out docs/reliability.md] [--check]
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import hashlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import numpy as np

import luxembedder
from luxembedder.datasets.articles import load_articles
from luxembedder.errors import DataError

ROOT = Path(__file__).resolve().parents[1]
SRC = str(Path(luxembedder.__file__).parents[1])
HEADER = "id,lang,published,title,body\n"


def art(i: int | str, lang: str = "lb", day: str = "2024-03-04", body: str | None = None) -> dict:
    return {"id": str(i), "lang": lang, "published": day, "title": f"Titel {i}",
            "body": body or f"Dat ass den Artikel {i}."}


def long_art(i: int | str, lang: str = "lb", day: str = "2024-03-04") -> dict:
    """An article long enough for the mining filters (bodies of 100 characters and more)."""
    words = {"lb": "D'Regierung huet haut e neit Gesetz iwwer d'Wunnengsbau an der Stad virgestallt.",
             "en": "The government presented a new law on housing construction in the city today."}[lang]
    return {**art(i, lang, day), "body": f"{words} {words} Artikel {i}."}


def jsonl(*rows: dict) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


def csv_rows(*lines: str) -> bytes:
    return (HEADER + "".join(line + "\n" for line in lines)).encode()


def parquet(rows: list[dict]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), buf)
    return buf.getvalue()


BOM = b"\xef\xbb\xbf"
GOOD_CSV = [f"{i},lb,2024-03-04,Titel {i},Text {i}" for i in range(2, 7)]

# (format, case, bytes)
READER_CASES: list[tuple[str, str, bytes]] = [
    ("jsonl", "one malformed line among three", jsonl(art(1)) + b'{"id": "2", "lang": "lb"\n' + jsonl(art(3))),
    ("jsonl", "UTF-8 byte-order mark", BOM + jsonl(art(1), art(2))),
    ("jsonl", "one invalid UTF-8 byte (Latin-1 'ë')", jsonl(art(1)).replace(b"Dat", b"D\xebt") + jsonl(art(2))),
    ("jsonl", "a line that is an array, not an object", jsonl(art(1)) + b"[1, 2]\n" + jsonl(art(3))),
    ("jsonl", "empty required field, bad date, duplicate id",
     jsonl(art(1), {**art(2), "body": ""}, {**art(3), "published": "12/03/2024"}, art(1))),
    ("json", "one non-object element", ("[" + json.dumps(art(1)) + ", 42, " + json.dumps(art(3)) + "]").encode()),
    ("json", "one invalid UTF-8 byte in an element",
     ("[" + json.dumps(art(1)) + ",\n" + json.dumps(art(2)) + "]").encode().replace(b"Artikel 1", b"Art\xebkel 1")),
    ("json", "UTF-8 byte-order mark", BOM + json.dumps([art(1), art(2)]).encode()),
    ("json", "an element with a broken string", ("[" + json.dumps(art(1)) + ',\n{"id": "2", "body": "x\n},\n'
                                                  + json.dumps(art(3)) + "]").encode()),
    ("json", "missing comma between elements", ("[" + json.dumps(art(1)) + " " + json.dumps(art(2)) + ", "
                                                 + json.dumps(art(3)) + "]").encode()),
    ("json", "file truncated in the third element", json.dumps([art(1), art(2), art(3)]).encode()[:-30]),
    ("json", "not an array", b'"just a string"'),
    ("csv", "unterminated quote in row 1 of 6", csv_rows('1,lb,2024-03-04,"Titel 1,Text 1', *GOOD_CSV)),
    ("csv", "quoted field over two lines (valid)", csv_rows('1,lb,2024-03-04,T,"Zeil 1\nZeil 2"', *GOOD_CSV[:1])),
    ("csv", "a row with a column missing", csv_rows("1,lb,2024-03-04,Titel 1", *GOOD_CSV[:2])),
    ("csv", "UTF-8 byte-order mark", BOM + csv_rows(*GOOD_CSV[:2])),
    ("csv", "one invalid UTF-8 byte", csv_rows("1,lb,2024-03-04,T,Lëtzebuerg", *GOOD_CSV[:2]).replace("ë".encode(),
                                                                                                     b"\xeb")),
    ("tsv", "a row with an extra column", (HEADER.replace(",", "\t") + "1\tlb\t2024-03-04\tT\tText\textra\n"
                                           + "2\tlb\t2024-03-04\tT\tText\n").encode()),
    ("tsv", "UTF-8 byte-order mark", BOM + (HEADER + "1,lb,2024-03-04,T,Text\n").replace(",", "\t").encode()),
    ("parquet", "a null body and a bad date", parquet([art(1), {**art(2), "body": None},
                                                       {**art(3), "published": "gëschter"}])),
    ("parquet", "damaged file (bytes cut)", parquet([art(1), art(2)])[:-40]),
    ("jsonl", "empty file", b""),
]


def _clean(text: str, tmp: Path) -> str:
    text = text.replace(str(tmp) + "/", "").replace(str(tmp), "")
    return text.replace("|", "\\|").replace("\n", " ")


def reader_case(fmt: str, data: bytes, tmp: Path) -> tuple[str, str]:
    path = tmp / f"articles.{fmt}"
    path.write_bytes(data)
    try:
        res = load_articles([path])
        strict = f"loads {len(res.articles)}"
    except DataError as exc:
        strict = f"error: {exc}"
    res = load_articles([path], lenient=True)
    key = str(path)
    assert res.rows_read[key] == res.per_file[key] + len(res.rejected)
    reasons = "; ".join(f"{'line ' + str(r['line']) if r['line'] else 'file'}: {r['reason']}" for r in res.rejected)
    n = res.rows_read[key]
    lenient = (f"{n} record{'' if n == 1 else 's'}: {res.per_file[key]} loaded "
               f"({', '.join(a.id for a in res.articles) or '-'}), {len(res.rejected)} rejected"
               + (f" ({reasons})" if reasons else ""))
    return _clean(strict, tmp), _clean(lenient, tmp)


# ------------------------------------------------------------------------------------- CLI cases

class HashEncoder:
    """Deterministic bag-of-words vectors: no model is loaded for the CLI cases."""

    name = "hash-encoder"

    def encode(self, texts, batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().split():
                out[i, int(hashlib.sha256(w.encode()).hexdigest(), 16) % 64] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def run_main(args: list[str], patches: list | None = None) -> tuple[int, str]:
    """The real entry point in-process: (exit code, stderr)."""
    from luxembedder.cli.main import main

    err = io.StringIO()
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch("luxembedder.mining.pipeline.load_mining_encoder",
                                       lambda cfg, settings: HashEncoder()))
        for p in patches or []:
            stack.enter_context(p)
        stack.enter_context(mock.patch.object(sys, "argv", ["luxembedder", *args]))
        stack.enter_context(contextlib.redirect_stderr(err))
        stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
    for s, h in saved.items():
        signal.signal(s, h)
    return code, err.getvalue().strip()


def fake_model(tmp: Path, weights: str = "model.safetensors") -> Path:
    d = tmp / ("model-" + weights.split(".")[0])
    d.mkdir(exist_ok=True)
    (d / "modules.json").write_text("[]")
    (d / "config.json").write_text("{}")
    (d / weights).write_bytes(b"")
    return d


def mine_args(tmp: Path, articles: Path, out: Path, model: Path | str, *extra: str) -> list[str]:
    return ["--data-dir", str(tmp), "mine", "--articles", str(articles), "--out", str(out), "--model", str(model),
            "--pairs", "lb-en", *extra]


def oserror(num: int) -> Callable:
    def fail(path, *args, **kwargs):
        raise OSError(num, os.strerror(num), str(path))
    return fail


CHILD = r"""
import sys, time
import luxembedder.mining.stages as stages
def blocked(*a, **k):
    print("READY", file=sys.stderr, flush=True)
    time.sleep(120)
stages.prepare_corpus = blocked
from luxembedder.cli.main import main
sys.argv = ["luxembedder", *sys.argv[1:]]
main()
"""


def signal_case(tmp: Path, sig: int, arts: Path, model: Path) -> tuple[int, str, Path]:
    run = tmp / f"run-signal-{sig}"
    env = {**os.environ, "PYTHONPATH": SRC, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-c", CHILD, *mine_args(tmp, arts, run, model)], env=env,
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    assert proc.stderr is not None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and "READY" not in proc.stderr.readline():
        if proc.poll() is not None:
            raise RuntimeError("child ended before the prepare stage")
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err.strip().splitlines()[-1] if err.strip() else "", run


def cli_cases(tmp: Path) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    model = fake_model(tmp)
    arts = tmp / "a.jsonl"
    arts.write_bytes(jsonl(long_art(1), long_art(2, "en")))
    only_lb = tmp / "lb.jsonl"
    only_lb.write_bytes(jsonl(long_art(3), long_art(4)))

    def add(case: str, args: list[str], patches: list | None = None) -> None:
        code, err = run_main(args, patches)
        rows.append((case, str(code), _clean(err.splitlines()[-1] if err else "", tmp)))

    add("article file does not exist", mine_args(tmp, tmp / "missing.jsonl", tmp / "r1", model))
    (tmp / "a.xml").write_text("<a/>")
    add("unsupported article file type (.xml)", mine_args(tmp, tmp / "a.xml", tmp / "r1", model))
    (tmp / "out.txt").write_text("x")
    add("`--out` is a file", mine_args(tmp, arts, tmp / "out.txt", model))
    add("disk full while writing (ENOSPC simulated)", mine_args(tmp, arts, tmp / "r2", model),
        [mock.patch("luxembedder.utils.io.atomic_write_bytes", oserror(errno.ENOSPC))])
    add("read-only `--out` (EROFS simulated)", mine_args(tmp, arts, tmp / "r3", model),
        [mock.patch("luxembedder.utils.io.atomic_write_bytes", oserror(errno.EROFS))])
    add("no permission on `--out` (EACCES simulated)", mine_args(tmp, arts, tmp / "r4", model),
        [mock.patch("luxembedder.utils.io.atomic_write_bytes", oserror(errno.EACCES))])
    add("model is a hub id, offline", mine_args(tmp, arts, tmp / "r5", "someorg/some-model"))
    add("model folder with only pytorch_model.bin", mine_args(tmp, arts, tmp / "r6",
                                                               fake_model(tmp, "pytorch_model.bin")))
    add("only lb articles (nothing to pair with)", mine_args(tmp, only_lb, tmp / "r7", model))
    add("the same with `--allow-empty`", mine_args(tmp, only_lb, tmp / "r7", model, "--allow-empty"))
    late = tmp / "late.jsonl"
    late.write_bytes(jsonl(long_art(1), long_art(2, "en", day="2026-01-01")))
    add("lb and en dates never overlap", mine_args(tmp, late, tmp / "r8", model))
    bad = tmp / "bad.jsonl"
    bad.write_bytes(b"{broken\nnot json\n")
    add("`--lenient`, every row rejected", mine_args(tmp, bad, tmp / "r9", model, "--lenient"))
    add("unknown option", ["mine", "--articles", str(arts), "--out", str(tmp / "r10"), "--no-such-option"])
    several = mine_args(tmp, arts, tmp / "r11", model, "--allow-empty")
    several.insert(several.index("--articles") + 2, str(only_lb))
    add("`--articles a.jsonl lb.jsonl` (several values after one option)", several)

    for sig, name in ((signal.SIGINT, "Ctrl-C (SIGINT) during a stage"), (signal.SIGTERM, "SIGTERM during a stage")):
        code, last, run = signal_case(tmp, sig, arts, model)
        left = len(list((run / "stages").glob(".*.partial")))
        rows.append((name, str(code), f"{last} ({left} temporary folders left)"))
    code, _, run = signal_case(tmp, signal.SIGKILL, arts, model)
    left = len(list((run / "stages").glob(".*.partial")))
    code2, _ = run_main(mine_args(tmp, arts, run, model, "--allow-empty"))
    after = len(list((run / "stages").glob(".*.partial")))
    rows.append(("kill -9 during a stage, then the same command again", f"{code2}",
                 f"{left} temporary folder left by the kill, {after} after the rerun"))
    before = {p: p.stat().st_mtime_ns for p in run.rglob("*")}
    code3, _ = run_main(mine_args(tmp, arts, run, model, "--allow-empty"))
    same = before == {p: p.stat().st_mtime_ns for p in run.rglob("*")}
    rows.append(("a finished run, the same command again", str(code3),
                 "nothing written (no file created or modified)" if same else "files were rewritten"))
    return rows


def render() -> str:
    with tempfile.TemporaryDirectory(prefix="lux-reliability-") as d:
        tmp = Path(d)
        reader_rows = []
        for fmt, case, data in READER_CASES:
            sub = tmp / f"case{len(reader_rows)}"
            sub.mkdir()
            strict, lenient = reader_case(fmt, data, sub)
            reader_rows.append((fmt, case, strict, lenient))
        (tmp / "cli").mkdir()
        cli_rows = cli_cases(tmp / "cli")
    lines = [
        "# Reliability: damaged input and faults",
        "",
        "Generated by `python scripts/reliability_cases.py --out docs/reliability.md`, which runs every case",
        "below (the article reader on small damaged files; the real `luxembedder` entry point with a",
        "placeholder model folder and a hashing encoder, signals sent to a real child process). Do not edit",
        "by hand; `tests/core/test_reliability_doc.py` checks the page is current.",
        "",
        "## Article files (`luxembedder mine`, `luxembedder.datasets.load_articles`)",
        "",
        "Strict (default): the first damaged record stops the run naming file, line and field. Lenient",
        "(`--lenient`): a damaged record is rejected alone (into `rejected.jsonl`, with its raw text) and the",
        "records around it are read; per file, records read = loaded + rejected, always.",
        "",
        "| format | damage | strict | lenient |",
        "|---|---|---|---|",
    ]
    lines += [f"| {f} | {c} | {s} | {le} |" for f, c, s, le in reader_rows]
    lines += [
        "",
        "## Command line (`luxembedder mine`)",
        "",
        "Exit codes: 0 success, 2 user error (one line; `-v` adds the traceback), 3 empty result",
        "(`--allow-empty` accepts it), 130 / 143 interrupted by SIGINT / SIGTERM.",
        "",
        "| case | exit code | last line on stderr / outcome |",
        "|---|---|---|",
    ]
    lines += [f"| {c} | {code} | {msg} |" for c, code, msg in cli_rows]
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "reliability.md")
    ap.add_argument("--check", action="store_true", help="Exit 1 if the page differs from a fresh run.")
    args = ap.parse_args()
    text = render()
    text = re.sub(r"lux-reliability-[a-z0-9_]+/?", "", text)
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.is_file() else ""
        if current != text:
            print(f"{args.out} is stale: run python scripts/reliability_cases.py --out {args.out}", file=sys.stderr)
            return 1
        return 0
    from luxembedder.utils.io import atomic_write_text

    atomic_write_text(args.out, text)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
