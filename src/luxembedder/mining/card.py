"""Dataset card of mined pairs: ``pairs/README.md`` with Hugging Face YAML front matter, and the same facts
in the Parquet schema metadata of every ``pairs/<pair>.parquet``.

Front matter: ``language``, ``license`` (of the source texts, ``mining.source`` in the config; ``unknown``
when not given), ``task_categories``, ``size_categories``, one ``configs`` entry per language pair (so
``datasets.load_dataset(REPO, "lb-en")`` loads that pair), ``dataset_info`` with the features and row
counts, and a ``mining`` block: the counts through every stage per pair, the model, the scorer, the
source (name, licence, attribution) and the input files by name with their sha256. The Parquet files carry
``luxembedder`` (those facts for the file's pair) and ``huggingface`` (the features, as ``datasets`` writes
them) in their schema metadata. No local path is written.
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any

import yaml

from luxembedder.errors import MissingDataError
from luxembedder.mining.config import MiningConfig
from luxembedder.mining.store import PAIR_COLUMNS
from luxembedder.utils.io import atomic_write_bytes, atomic_write_text, sha256_file
from luxembedder.utils.licenses import hf_license_id

logger = logging.getLogger(__name__)

CARD_SCHEMA = "luxembedder.mined-pairs/1"
PARAPHRASE_COLUMNS = ("text_1", "text_2", "cos_sim", "article_id", "sentence_id_1", "sentence_id_2")
_COLUMN_DTYPES = {"cos_sim": "float64", "margin": "float64"}
_HF_DTYPES = {"string": "string", "large_string": "string", "double": "float64", "float": "float32",
              "int64": "int64", "int32": "int32", "bool": "bool", "null": "null"}


def size_category(n: int) -> str:
    """Hugging Face ``size_categories`` value for ``n`` rows."""
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                        (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M")):
        if n < limit:
            return name
    return "100M<n<1B"


def _features_from_parquet(path: Path) -> tuple[list[dict[str, str]], int]:
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    feats = [{"name": f.name, "dtype": _HF_DTYPES.get(str(f.type), str(f.type))} for f in pf.schema_arrow]
    return feats, pf.metadata.num_rows


def _features_from_jsonl(path: Path) -> tuple[list[dict[str, str]], int]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    names: dict[str, str] = {}
    for r in rows:
        for k, v in r.items():
            if v is None:
                names.setdefault(k, "null")
            else:
                t = "string" if isinstance(v, str) else "bool" if isinstance(v, bool) else \
                    "int64" if isinstance(v, int) else "float64" if isinstance(v, float) else "string"
                if names.get(k) in (None, "null") or (names[k] == "int64" and t == "float64"):
                    names[k] = t
    return [{"name": k, "dtype": v} for k, v in names.items()], len(rows)


def pair_files(pairs_dir: Path) -> dict[str, dict[str, Path]]:
    """``{pair: {"parquet": path, "jsonl": path}}`` of the pair files in a pairs folder."""
    out: dict[str, dict[str, Path]] = {}
    for f in sorted(pairs_dir.iterdir()):
        if f.suffix in (".parquet", ".jsonl") and "-" in f.stem and not f.name.startswith("."):
            out.setdefault(f.stem, {})[f.suffix[1:]] = f
    return out


def stage_counts(report: dict[str, Any], pair: str) -> dict[str, Any]:
    """The counts through the pipeline for one pair, from ``report.json`` (single or merged run)."""
    langs = pair.split("-")
    sel = (report.get("selection") or {}).get(pair) or {}
    if pair == f"{langs[0]}-{langs[0]}" and report.get("paraphrases"):
        sel = report["paraphrases"]
    counts: dict[str, Any] = {}
    for lang in dict.fromkeys(langs):
        a = (report.get("articles") or {}).get(lang)
        s = (report.get("sentences") or {}).get(lang)
        if a:
            counts[f"articles_{lang}"] = {"in": a.get("in"), "kept": a.get("kept")}
        if s:
            counts[f"sentences_{lang}"] = {"split": s.get("split"), "kept": s.get("kept")}
    m = (report.get("article_matching") or {}).get(pair)
    if m:
        counts["article_matches"] = m.get("matches")
    cand = (report.get("candidates") or {}).get(pair)
    if cand:
        counts["candidates"] = cand.get("candidates")
    elif "candidates_in" in sel or "candidates" in sel:
        counts["candidates"] = sel.get("candidates_in", sel.get("candidates"))
    if "accepted" in sel:
        counts["accepted"] = sel["accepted"]
    counts["filters"] = [{"step": s["filter"], "in": s["in"], "dropped": s["dropped"], "out": s["out"]}
                         for s in sel.get("steps", [])]
    counts["final"] = sel.get("final")
    return counts


def dataset_facts(report: dict[str, Any], cfg: MiningConfig, pairs_dir: Path) -> dict[str, Any]:
    """Everything the card and the Parquet metadata say, per pair and for the whole folder."""
    src = cfg.source
    facts: dict[str, Any] = {
        "schema": CARD_SCHEMA,
        "pipeline": report.get("pipeline", "luxalign"),
        "created": report.get("created"),
        "model": report.get("model") or cfg.embedding.model.rsplit("/", 1)[-1],
        "scoring": report.get("scoring") or cfg.scoring.method,
        "source": {"name": src.name, "license": src.license, "attribution": src.attribution, "url": src.url},
        "input_files": [{"file": Path(str(r["path"])).name, "sha256": r.get("sha256")}
                        for r in report.get("inputs", [])],
        "pairs": {},
    }
    for pair, files in pair_files(pairs_dir).items():
        main = files.get("parquet") or files["jsonl"]
        feats, n = _features_from_parquet(main) if main.suffix == ".parquet" else _features_from_jsonl(main)
        langs = pair.split("-")
        if not feats:  # an empty file: the columns the pipeline writes
            feats = [{"name": c, "dtype": _COLUMN_DTYPES.get(c, "string")}
                     for c in (PAIR_COLUMNS if langs[0] != langs[1] else PARAPHRASE_COLUMNS)]
        facts["pairs"][pair] = {
            "data_file": (files.get("jsonl") or main).name,
            "data_bytes": (files.get("jsonl") or main).stat().st_size,
            "languages": list(dict.fromkeys(langs)),
            "kind": "paraphrases" if langs[0] == langs[1] else "translations",
            "rows": n, "features": feats, "counts": stage_counts(report, pair),
            "files": {k: {"file": p.name, "sha256": sha256_file(p)} for k, p in files.items()
                      if k == "jsonl"},  # the Parquet hash would change when its metadata is written
        }
    return facts


def _hf_features(feats: list[dict[str, str]]) -> dict[str, Any]:
    return {f["name"]: {"dtype": f["dtype"], "_type": "Value"} for f in feats}


def write_parquet_metadata(path: Path, pair_facts: dict[str, Any], folder_facts: dict[str, Any]) -> bool:
    """Put ``luxembedder`` and ``huggingface`` keys in the schema metadata of a pairs Parquet file
    (rewritten atomically; untouched when they are already there). Returns True when the file changed."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    # no "created": it is the time of the last mine() call, and a re-run must leave the file as it is
    ours = {k: v for k, v in folder_facts.items() if k not in ("pairs", "created")} | {"pair": path.stem,
                                                                                        **pair_facts}
    ours.pop("files", None)
    meta = dict(table.schema.metadata or {})
    new = {b"luxembedder": json.dumps(ours, ensure_ascii=False, sort_keys=True, default=str).encode(),
           b"huggingface": json.dumps({"info": {"features": _hf_features(pair_facts["features"])}}).encode()}
    if all(meta.get(k) == v for k, v in new.items()):
        return False
    buf = io.BytesIO()
    pq.write_table(table.replace_schema_metadata(meta | new), buf)
    atomic_write_bytes(path, buf.getvalue())
    return True


def card_metadata(facts: dict[str, Any]) -> dict[str, Any]:
    """YAML front matter of the dataset card."""
    pairs = facts["pairs"]
    langs = list(dict.fromkeys(lang for p in pairs.values() for lang in p["languages"]))
    lic = facts["source"]["license"]
    fm: dict[str, Any] = {
        "language": langs,
        "license": (hf_license_id(lic) or "other") if lic else "unknown",
    }
    if lic and not hf_license_id(lic):
        fm["license_name"] = lic
    fm |= {
        "multilinguality": "multilingual" if len(langs) > 1 else "monolingual",
        "task_categories": ["translation", "sentence-similarity"],
        "size_categories": [size_category(max([p["rows"] for p in pairs.values()] or [0]))],
        "tags": ["luxembourgish", "parallel-corpus", "bitext-mining", "luxalign", "luxembedder"],
        "pretty_name": f"LuxAlign pairs ({', '.join(pairs)})",
        # JSONL for every config: each pair has one (Parquet only the translation pairs), and one file type
        # keeps one loader for the whole repository
        # (a pair without rows has nothing to load: it is in the counts below, not a config)
        "configs": [{"config_name": pair, "data_files": [{"split": "train", "path": p["data_file"]}]}
                    for pair, p in pairs.items() if p["rows"]],
        "dataset_info": [{"config_name": pair, "features": p["features"],
                          "splits": [{"name": "train", "num_bytes": p["data_bytes"], "num_examples": p["rows"]}]}
                         for pair, p in pairs.items() if p["rows"]],
        "mining": {k: v for k, v in facts.items() if k not in ("pairs", "schema")} | {
            "pairs": {pair: {"languages": p["languages"], "kind": p["kind"], "rows": p["rows"],
                             "counts": p["counts"], "files": p["files"]} for pair, p in pairs.items()}},
    }
    return fm


def dataset_card(facts: dict[str, Any]) -> str:
    """The ``README.md`` of a pairs folder."""
    fm = card_metadata(facts)
    src = facts["source"]
    lines = ["---", yaml.safe_dump(fm, sort_keys=False, allow_unicode=True, width=100).rstrip(), "---", "",
             f"# {fm['pretty_name']}", "",
             f"Sentence pairs mined from news articles with luxembedder's LuxAlign pipeline "
             f"({facts['scoring']} scoring, embeddings from `{facts['model']}`, {facts.get('created') or ''}). "
             "`text_1` is the source-language sentence (Luxembourgish in lb-xx pairs), `text_2` its translation "
             "candidate; `cos_sim` and `margin` are the pair's scores, the `article_id_*`/`sentence_id_*` "
             "columns point back into the input articles.", "",
             "```python", "from datasets import load_dataset", "",
             f'pairs = load_dataset("REPO_ID", "{next(iter(facts["pairs"]), "lb-en")}", split="train")', "```", "",
             "## Source and licence", ""]
    if src.get("name"):
        lines.append(f"Source: {src['name']}" + (f" ({src['url']})" if src.get("url") else "") + ".")
    unknown = "unknown (not given in the mining config: source.license)"
    lines.append(f"Licence of the source texts: {src['license'] or unknown}.")
    if src.get("attribution"):
        lines.append(f"Attribution: {src['attribution']}.")
    if facts["input_files"]:
        lines += ["", "Input files: " + ", ".join(f"`{f['file']}` (sha256 `{str(f['sha256'])[:16]}…`)"
                                                  for f in facts["input_files"]) + "."]
    lines += ["", "## Pairs and the counts through every stage", ""]
    for pair, p in facts["pairs"].items():
        c = p["counts"]
        lines += [f"### {pair} ({' → '.join(p['languages'])}, {p['kind']}): {p['rows']} rows", "",
                  "| stage | count |", "|---|---|"]
        for k, v in c.items():
            if k == "filters":
                continue
            if isinstance(v, dict):
                v = ", ".join(f"{kk} {vv}" for kk, vv in v.items())
            lines.append(f"| {k.replace('_', ' ')} | {v} |")
        if c.get("filters"):
            lines += ["", "| filter step | in | dropped | out |", "|---|---|---|---|"]
            lines += [f"| {s['step']} | {s['in']} | {s['dropped']} | {s['out']} |" for s in c["filters"]]
        lines += ["", "Features: " + ", ".join(f"`{f['name']}` ({f['dtype']})" for f in p["features"]), ""]
    lines += ["The same facts are in the schema metadata of every Parquet file (key `luxembedder`).", ""]
    return "\n".join(lines)


def write_dataset_card(run_dir: str | Path, report: dict[str, Any] | None = None,
                       cfg: MiningConfig | None = None) -> Path | None:
    """Write ``<run>/pairs/README.md`` and the Parquet schema metadata; returns the card's path (None when
    the run has no pairs folder)."""
    run = Path(run_dir)
    pairs_dir = run / "pairs"
    if not pairs_dir.is_dir():
        return None
    if report is None or cfg is None:
        for need in ("report.json", "config.yaml"):
            if not (run / need).is_file():
                raise MissingDataError(f"{run}: no {need} (a dataset card is written for a mining run directory)")
    report = report if report is not None else json.loads((run / "report.json").read_text(encoding="utf-8"))
    cfg = cfg or MiningConfig.from_yaml(run / "config.yaml")
    facts = dataset_facts(report, cfg, pairs_dir)
    for pair, files in pair_files(pairs_dir).items():
        if "parquet" in files:
            write_parquet_metadata(files["parquet"], {k: v for k, v in facts["pairs"][pair].items()
                                                      if k not in ("data_file", "data_bytes")}, facts)
    path = atomic_write_text(pairs_dir / "README.md", dataset_card(facts))
    logger.info("dataset card: %s", path)
    return path
