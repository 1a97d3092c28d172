"""Offline language identification with py3langid restricted to the configured languages.

py3langid (langid.py's 97-language naive Bayes model, including Luxembourgish ``lb``) is restricted with
``set_languages`` and run with probability normalisation, so a prediction is one of the configured
languages with a probability in [0, 1]. The paper used OpenLID (fastText) and only required the label to
equal the declared language; the probability threshold (default 0.5) is this toolkit's addition to reject
texts the model is unsure about (very short or mixed-language sentences).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np

from luxembedder.errors import ConfigError
from luxembedder.text.langcodes import to_iso639_1


@cache
def _model_arrays() -> tuple:
    """py3langid's model arrays, loaded (decompressed) once per process; instances share them read-only."""
    from py3langid.langid import MODEL_DIR, MODEL_FILE
    from py3langid.modelio import load_model

    return load_model(MODEL_DIR / MODEL_FILE)


class LanguageIdentifier:
    """``predict(texts) -> [(lang, prob)]``; ``matches(texts, expected) -> bool array``."""

    def __init__(self, languages: Sequence[str], threshold: float = 0.5) -> None:
        from py3langid.langid import LanguageIdentifier as _PyLangId

        if not languages:
            raise ConfigError("language identification needs at least one language")
        if not 0.0 <= threshold <= 1.0:
            raise ConfigError(f"language-ID threshold must be in [0, 1], got {threshold}")
        self.languages = [to_iso639_1(lg) for lg in languages]
        self.threshold = threshold
        ptc, pc, classes, nextmove, row, output = _model_arrays()
        self._model = _PyLangId(np.asarray(ptc), np.asarray(pc), classes, nextmove, output,
                                norm_probs=True, tk_row=row)
        unknown = sorted(set(self.languages) - set(self._model.nb_classes))
        if unknown:
            raise ConfigError(f"py3langid does not know the language(s) {unknown}")
        self._model.set_languages(sorted(set(self.languages)))

    def predict(self, texts: Sequence[str]) -> list[tuple[str, float]]:
        """Most likely configured language and its probability, per text."""
        out = []
        for t in texts:
            lang, prob = self._model.classify(t)
            out.append((str(lang), float(prob)))
        return out

    def matches(self, texts: Sequence[str], expected: str | Sequence[str]) -> np.ndarray:
        """True where the predicted language equals ``expected`` (one code, or one per text) with a
        probability of at least ``threshold``."""
        preds = self.predict(texts)
        if isinstance(expected, str):
            exp = [to_iso639_1(expected)] * len(preds)
        else:
            if len(expected) != len(preds):
                raise ConfigError(f"expected has {len(expected)} languages for {len(preds)} texts")
            exp = [to_iso639_1(e) for e in expected]
        labels = np.array([p[0] for p in preds], dtype=object)
        probs = np.array([p[1] for p in preds], dtype=np.float64)
        return (labels == np.array(exp, dtype=object)) & (probs >= self.threshold)
