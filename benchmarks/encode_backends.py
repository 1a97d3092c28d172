"""Encode throughput and quality of the inference backends: torch fp32 vs ONNX fp32 vs ONNX int8.

Same model (me5-small by default), same FLORES-200 devtest sentences (``--n`` ltz_Latn + the aligned
eng_Latn lines, the model's default ``query: `` prompt), same thread count, in the same process. The
sentences are split into ``--slices`` slices and the backends take turns slice by slice (torch, onnx, int8,
torch, ...), so a load change on a shared machine hits all of them alike; the 1-minute load average is
recorded with every timing, and the CPU time of each call next to its wall time (one thread each: on a
shared machine CPU time is the stable measure of cost). Reports sentences/s per backend, the speed ratio to torch fp32 and the FLORES
ltz→eng top-1 accuracy of each backend's embeddings. ONNX export time (once per model) is reported apart.

    nice -n 19 python benchmarks/encode_backends.py [--model me5-small] [--n 300] [--threads 1] [--out F.json]
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="me5-small")
    ap.add_argument("--n", type=int, default=300, help="FLORES lines per language")
    ap.add_argument("--threads", type=int, default=1, help="intra-op threads of torch and ONNX Runtime")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--slices", type=int, default=4)
    ap.add_argument("--backends", default="torch,torch-bf16,onnx,onnx-int8")
    ap.add_argument("--data-dir")
    ap.add_argument("--out")
    args = ap.parse_args(argv)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)  # read by the ONNX Runtime sessions
    import torch

    torch.set_num_threads(args.threads)
    from encode_throughput import load_flores  # the sibling benchmark (benchmarks/ is on sys.path)

    from luxembedder.models.backends import effective_backend, ensure_export
    from luxembedder.models.registry import load_encoder, resolve_model
    from luxembedder.settings import get_settings
    from luxembedder.utils.io import atomic_write_json
    from luxembedder.utils.provenance import cpu_supports_bf16, data_record, now_iso, versions

    settings = get_settings(data_dir=args.data_dir)
    ltz, eng, paths = load_flores(settings.require_data_dir(), args.n)
    texts = ltz + eng
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    location = resolve_model(args.model, settings).location
    export_s = {}
    for b in backends:
        if b.startswith("onnx"):
            t0 = time.perf_counter()
            ensure_export(location, b, settings)
            export_s[b] = round(time.perf_counter() - t0, 1)
    # torch-bf16 runs only where the CPU has native bf16 (AMX / avx512_bf16); elsewhere it is torch fp32
    ran = {b: effective_backend(b) for b in backends}
    encoders = {b: load_encoder(args.model, settings, backend=b) for b in backends}
    for enc in encoders.values():
        enc.encode(texts[: args.batch_size], batch_size=args.batch_size)  # warm-up
    order = np.random.default_rng(0).permutation(len(texts))  # slices mix languages and lengths alike
    slices = np.array_split(order, args.slices)
    emb = {b: np.zeros((len(texts), 0), dtype=np.float32) for b in backends}
    parts: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {b: [] for b in backends}
    timings: list[dict] = []
    for i, idx in enumerate(slices):
        for b in backends:
            load = os.getloadavg()[0]
            t0, c0 = time.perf_counter(), time.process_time()
            vecs = encoders[b].encode([texts[j] for j in idx], batch_size=args.batch_size)
            dt, cpu = time.perf_counter() - t0, time.process_time() - c0
            parts[b].append((idx, vecs))
            timings.append({"slice": i, "backend": b, "sentences": len(idx), "seconds": round(dt, 3),
                            "cpu_seconds": round(cpu, 3), "loadavg_1m": round(load, 2)})
            print(json.dumps(timings[-1]), flush=True)
    rows = {}
    for b in backends:
        e = np.zeros((len(texts), parts[b][0][1].shape[1]), dtype=np.float32)
        for idx, vecs in parts[b]:
            e[idx] = vecs
        emb[b] = e
        secs = sum(t["seconds"] for t in timings if t["backend"] == b)
        cpu = sum(t["cpu_seconds"] for t in timings if t["backend"] == b)
        top1 = float(((e[: len(ltz)] @ e[len(ltz):].T).argmax(axis=1) == np.arange(len(ltz))).mean())
        rows[b] = {"sentences": len(texts), "seconds": round(secs, 2), "sentences_per_s": round(len(texts) / secs, 2),
                   "cpu_seconds": round(cpu, 2), "sentences_per_cpu_s": round(len(texts) / cpu, 2),
                   "ltz_eng_top1": round(top1, 4), "ran": ran[b]}
    ref = rows.get("torch")
    for b, r in rows.items():
        if ref:
            r["speed_vs_torch"] = round(r["sentences_per_s"] / ref["sentences_per_s"], 2)
            r["cpu_speed_vs_torch"] = round(r["sentences_per_cpu_s"] / ref["sentences_per_cpu_s"], 2)
            r["top1_points_vs_torch"] = round(100 * (r["ltz_eng_top1"] - ref["ltz_eng_top1"]), 2)
            r["mean_cosine_to_torch"] = round(float((emb[b] * emb["torch"]).sum(axis=1).mean()), 5)
    loads = [t["loadavg_1m"] for t in timings]
    result = {"benchmark": "encode_backends", "created": now_iso(), "model": args.model, "threads": args.threads,
              "batch_size": args.batch_size, "flores_lines": args.n, "export_seconds": export_s, "results": rows,
              "cpu_supports_bf16": cpu_supports_bf16(), "backend_ran": ran, "timings": timings, "loadavg_1m_range": [min(loads), max(loads)], "cpu_count": os.cpu_count(),
              "data": [data_record(p) for p in paths], "versions": versions()}
    if args.out:
        atomic_write_json(args.out, result)
    print(f"\n{args.model}, {args.threads} thread(s), batch {args.batch_size}, {len(texts)} FLORES sentences "
          f"({args.n} ltz + {args.n} eng), load average {min(loads)}–{max(loads)}\n")
    print("| backend | sentences/s (wall) | vs torch | sentences per CPU-s | vs torch | FLORES ltz→eng top-1 | "
          "Δ top-1 (points) | mean cos to fp32 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for b, r in rows.items():
        print(f"| {b} | {r['sentences_per_s']:.1f} | {r.get('speed_vs_torch', 1):.2f}× | "
              f"{r['sentences_per_cpu_s']:.1f} | {r.get('cpu_speed_vs_torch', 1):.2f}× | {r['ltz_eng_top1']:.4f} | "
              f"{r.get('top1_points_vs_torch', 0):+.2f} | {r.get('mean_cosine_to_torch', 1):.5f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
