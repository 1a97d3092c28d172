"""Model registry, loading, offline conversion of the base model, encoders and adapters."""

from luxembedder.models.encoder import Encoder, SentenceTransformerEncoder, encode_texts
from luxembedder.models.registry import REGISTRY, ModelSpec, load_encoder, prepare_model, resolve_model

__all__ = [
    "REGISTRY",
    "Encoder",
    "ModelSpec",
    "SentenceTransformerEncoder",
    "encode_texts",
    "load_encoder",
    "prepare_model",
    "resolve_model",
]
