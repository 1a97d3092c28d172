"""Cross-lingual alignment analysis: linear CKA, per-layer representations, and the controlled experiment."""
