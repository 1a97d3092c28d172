"""Cross-lingual alignment on FLORES-200 devtest: CKA between languages, per layer, for one or more models.

:func:`run_cka` embeds the same aligned FLORES sentences in every language with every model (each
transformer layer mean-pooled, plus the final sentence embedding; see :mod:`luxembedder.analysis.layers`),
computes the language × language linear-CKA matrix per layer, and writes ``cka.json``, a heatmap per model,
a per-layer plot of the mean CKA with the reference language, and (two models) the per-language change.
Embeddings are cached per model and language in ``DIR/embeddings/``, so an interrupted run resumes.
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, field_validator

from luxembedder.analysis.cka import cka_matrix, small_sample_warning
from luxembedder.analysis.layers import layer_embeddings
from luxembedder.config import BaseConfig
from luxembedder.datasets.benchmarks import data_provenance, flores_path, read_flores
from luxembedder.errors import MissingDataError
from luxembedder.models.registry import load_sentence_transformer, model_name
from luxembedder.settings import Settings, get_settings
from luxembedder.utils.io import atomic_write_json, atomic_write_npz, atomic_write_text, sha256_text
from luxembedder.utils.plotting import pyplot, save_png
from luxembedder.utils.provenance import now_iso, versions

logger = logging.getLogger(__name__)


def default_cka_languages() -> list[str]:
    """The issue's default set: Luxembourgish, its high-resource neighbours and low-resource languages."""
    return [
        "ltz_Latn", "deu_Latn", "fra_Latn", "eng_Latn", "nld_Latn", "lim_Latn", "fao_Latn", "fur_Latn",
        "ast_Latn", "oci_Latn", "srd_Latn", "scn_Latn", "lmo_Latn", "vec_Latn", "szl_Latn", "ydd_Hebr",
        "cym_Latn", "gla_Latn", "mlt_Latn", "isl_Latn",
    ]


class CkaConfig(BaseConfig):
    """``luxembedder analyze cka``: which models, languages, layers and sentences."""

    models: list[str] = Field(default_factory=lambda: ["me5-small"], min_length=1)
    languages: list[str] = Field(default_factory=default_cka_languages, min_length=2)
    layers: Literal["all", "final"] = "all"
    n: int | None = Field(None, ge=4, description="Use the first N FLORES devtest sentences (default: all 1012).")
    debiased: bool = Field(False, description="Debiased (unbiased-HSIC) CKA instead of the biased estimator.")
    reference: str = Field("eng_Latn", description="Language for the per-layer 'mean CKA with' plot.")
    batch_size: int = Field(32, ge=1)
    plots: bool = True

    @field_validator("languages")
    @classmethod
    def _langs(cls, v: list[str]) -> list[str]:
        v = [s.strip() for s in v if s.strip()]
        dupes = sorted({s for s in v if v.count(s) > 1})
        if dupes:
            raise ValueError(f"languages listed twice: {', '.join(dupes)}")
        return v


def check_flores_languages(data_dir: Path, languages: list[str]) -> list[Path]:
    """FLORES devtest file per language, or one error naming every missing language and the folder."""

    paths = [flores_path(data_dir, lang) for lang in languages]
    missing = [lang for lang, p in zip(languages, paths, strict=True) if not p.is_file()]
    if missing:
        folder = flores_path(data_dir, "x").parent
        known = sorted(p.name.removesuffix(".devtest") for p in folder.glob("*.devtest"))
        hint = ""
        if known:
            close = [k for k in known if any(k.split("_")[0] == m.split("_")[0] for m in missing)]
            hint = f"; FLORES codes look like 'ltz_Latn' ({len(known)} available" + (
                f", e.g. {', '.join(close[:5])}" if close else "") + ")"
        raise MissingDataError(
            f"FLORES-200 devtest has no file for: {', '.join(missing)} (looked in {folder}){hint}"
        )
    return paths


def load_flores(data_dir: Path, languages: list[str], n: int | None = None) -> dict[str, list[str]]:
    """Aligned FLORES devtest sentences per language (first ``n`` when given)."""

    check_flores_languages(data_dir, languages)
    texts = {lang: read_flores(data_dir, lang) for lang in languages}
    return {lang: t[:n] if n else t for lang, t in texts.items()}


def _safe(name: str) -> str:
    return re.sub(r"[^\w.\-@]+", "_", name)[:120]


def _save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    atomic_write_npz(path, arrays)


def model_layer_embeddings(
    model: Any, name: str, texts: dict[str, list[str]], cache_dir: Path | None, layers: str = "all",
    batch_size: int = 32,
) -> dict[str, dict[str, np.ndarray]]:
    """``{lang: {layer_key: (n, d)}}`` for one loaded model; each language cached as one ``.npz``."""

    out: dict[str, dict[str, np.ndarray]] = {}
    for lang, sents in texts.items():
        key = sha256_text("\n".join(sents))[:16]
        path = cache_dir / _safe(name) / f"{lang}.{layers}.{key}.npz" if cache_dir is not None else None
        if path is not None and path.is_file():
            with np.load(path) as z:
                out[lang] = {k: z[k] for k in z.files}
            continue
        t0 = time.perf_counter()
        embs = layer_embeddings(model, sents, batch_size=batch_size, layers=None if layers == "all" else [])
        logger.info("%s: embedded %d %s sentences in %.1fs", name, len(sents), lang, time.perf_counter() - t0)
        if path is not None:
            _save_npz(path, embs)
        out[lang] = embs
    return out


def cka_records(
    model: str, per_lang: dict[str, dict[str, np.ndarray]], languages: list[str], debiased: bool = False,
) -> list[dict[str, Any]]:
    """One ``{model, layer, languages, matrix}`` record per layer (layers in the model's order)."""

    layers = list(per_lang[languages[0]])
    records = []
    for layer in layers:
        names, m = cka_matrix({lang: per_lang[lang][layer] for lang in languages}, debiased=debiased,
                              order=languages)
        records.append({"model": model, "layer": layer, "languages": names,
                        "matrix": np.round(m, 6).tolist()})
    return records


def mean_with(record: dict[str, Any], reference: str) -> float:
    """Mean CKA of every other language with ``reference`` in one record."""
    langs = record["languages"]
    i = langs.index(reference)
    row = np.asarray(record["matrix"])[i]
    return float(np.delete(row, i).mean())


def change_table(first: dict[str, Any], second: dict[str, Any], reference: str) -> list[dict[str, Any]]:
    """Per language: CKA with ``reference`` and mean CKA with all others, in both models, and the change."""
    langs = first["languages"]
    a, b = np.asarray(first["matrix"]), np.asarray(second["matrix"])
    r = langs.index(reference)
    mask = ~np.eye(len(langs), dtype=bool)
    mean_a = np.where(mask, a, 0).sum(1) / mask.sum(1)
    mean_b = np.where(mask, b, 0).sum(1) / mask.sum(1)
    rows = []
    for i, lang in enumerate(langs):
        rows.append({
            "language": lang,
            f"cka_{reference}_first": float(a[i, r]), f"cka_{reference}_second": float(b[i, r]),
            f"delta_{reference}": float(b[i, r] - a[i, r]),
            "mean_cka_first": float(mean_a[i]), "mean_cka_second": float(mean_b[i]),
            "delta_mean": float(mean_b[i] - mean_a[i]),
        })
    return rows


def plot_heatmap(record: dict[str, Any], path: Path, title: str) -> Path:
    plt = pyplot()
    langs = record["languages"]
    m = np.asarray(record["matrix"])
    fig, ax = plt.subplots(figsize=(0.42 * len(langs) + 2.5, 0.42 * len(langs) + 1.8))
    im = ax.imshow(m, vmin=min(0.0, float(m.min())), vmax=1.0, cmap="viridis")
    ax.set_xticks(range(len(langs)), [s.split("_")[0] for s in langs], rotation=90, fontsize=8)
    ax.set_yticks(range(len(langs)), [s.split("_")[0] for s in langs], fontsize=8)
    if len(langs) <= 24:
        for (i, j), v in np.ndenumerate(m):
            ax.text(j, i, f"{v:.2f}"[1:] if 0 <= v < 1 else f"{v:.1f}", ha="center", va="center", fontsize=5,
                    color="white" if v < 0.6 else "black")
    fig.colorbar(im, ax=ax, fraction=0.046)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return save_png(fig, path, dpi=130)


def plot_layers(records: list[dict[str, Any]], reference: str, path: Path) -> Path:
    """Mean CKA with ``reference`` per layer, one line per model ("final" drawn as the last point)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    for model in dict.fromkeys(r["model"] for r in records):
        recs = [r for r in records if r["model"] == model]
        labels = [r["layer"].replace("layer_", "") for r in recs]
        ax.plot(range(len(recs)), [mean_with(r, reference) for r in recs], marker="o", label=model)
    ax.set_xticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel("hidden state (00 = embeddings)")
    ax.set_ylabel(f"mean linear CKA with {reference}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_png(fig, path, dpi=130)


def plot_change(rows: list[dict[str, Any]], reference: str, path: Path, title: str) -> Path:
    plt = pyplot()
    langs = [r["language"].split("_")[0] for r in rows]
    x = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(0.38 * len(rows) + 3, 4))
    ax.bar(x - 0.2, [r[f"delta_{reference}"] for r in rows], width=0.4, label=f"Δ CKA with {reference}")
    ax.bar(x + 0.2, [r["delta_mean"] for r in rows], width=0.4, label="Δ mean CKA with all others")
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(x, langs, rotation=90, fontsize=8)
    ax.set_ylabel("second − first")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_png(fig, path, dpi=130)


def _markdown_table(rows: list[dict[str, Any]]) -> str:
    cols = list(rows[0])
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(f"{v:+.4f}" if isinstance(v, float) and k.startswith("delta")
                                          else f"{v:.4f}" if isinstance(v, float) else str(v)
                                          for k, v in r.items()) + " |")
    return "\n".join(lines) + "\n"


def run_cka(config: CkaConfig, out_dir: str | Path, settings: Settings | None = None) -> dict[str, Any]:
    """Run the CKA analysis and write ``cka.json`` (+ plots, change table) into ``out_dir``."""

    settings = settings or get_settings()
    data_dir = settings.require_data_dir()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = check_flores_languages(data_dir, config.languages)
    if config.reference not in config.languages:
        raise MissingDataError(f"reference language {config.reference} is not among the languages "
                               f"({', '.join(config.languages)})")
    texts = load_flores(data_dir, config.languages, config.n)
    config.save(out / "cka_config.yaml")
    t_start = time.perf_counter()
    records: list[dict[str, Any]] = []
    names: list[str] = []
    warnings: list[str] = []
    for ref in config.models:
        name = model_name(ref, settings)
        names.append(name)
        model = load_sentence_transformer(ref, settings)
        per_lang = model_layer_embeddings(model, name, texts, out / "embeddings", config.layers, config.batch_size)
        records.extend(cka_records(name, per_lang, config.languages, config.debiased))
        first = per_lang[config.languages[0]]
        for layer, emb in first.items():
            warning = small_sample_warning(int(emb.shape[0]), int(emb.shape[1]), config.debiased)
            if warning and warning not in warnings:
                logger.warning("%s (%s, %s)", warning, name, layer)
                warnings.append(warning)
        del model
    result: dict[str, Any] = {
        "task": "flores200-cka",
        "protocol": {
            "measure": "linear CKA (Kornblith et al. 2019), feature space, "
            + ("debiased (unbiased HSIC)" if config.debiased else "biased HSIC estimator"),
            "representations": "mean-pooled hidden states over the attention mask per layer (layer_00 = "
            "embedding output) and the model's final sentence embedding; model's default prompt applied",
            "sentences": len(next(iter(texts.values()))),
            "split": "FLORES-200 devtest",
        },
        "models": dict(zip(config.models, names, strict=True)),
        "results": records,
        "warnings": warnings,
        "data": data_provenance(paths, data_dir, strict=False),
        "config": config.model_dump(mode="json"),
        "versions": versions(),
        "created": now_iso(),
        "seconds": round(time.perf_counter() - t_start, 1),
    }
    atomic_write_json(out / "cka.json", result)
    finals = {r["model"]: r for r in records if r["layer"] == "final"}
    if config.plots:
        for name in names:
            plot_heatmap(finals[name], out / f"heatmap_{_safe(name)}.png",
                         f"linear CKA, final embedding, FLORES devtest: {name}")
        plot_layers(records, config.reference, out / f"layers_mean_cka_{config.reference}.png")
    if len(names) == 2:
        rows = change_table(finals[names[0]], finals[names[1]], config.reference)
        result["change"] = rows
        atomic_write_json(out / "change.json", {"first": names[0], "second": names[1], "layer": "final",
                                                "rows": rows})
        atomic_write_text(out / "change.md", f"# CKA change, final embedding: {names[1]} − {names[0]}\n\n"
                          + _markdown_table(rows))
        if config.plots:
            plot_change(rows, config.reference, out / "change.png", f"{names[1]} − {names[0]}")
    logger.info("CKA for %d model(s) × %d languages written to %s", len(names), len(config.languages), out)
    return result
