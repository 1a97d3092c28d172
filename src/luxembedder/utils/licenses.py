"""Licence strings as Hugging Face licence ids, for model and dataset cards."""

from __future__ import annotations

import re

PERMISSIVE_LICENSES = frozenset({
    "mit", "apache-2.0", "bsd-2-clause", "bsd-3-clause", "cc0-1.0", "cc-by-2.0", "cc-by-2.5", "cc-by-3.0",
    "cc-by-4.0", "odc-by", "pddl", "unlicense",
})
"""Licences whose only condition on a model trained on the data is attribution (or none)."""


def hf_license_id(text: str | None) -> str | None:
    """A licence string as a Hugging Face licence id (``CC BY 4.0`` -> ``cc-by-4.0``), or None if unknown."""
    if not text:
        return None
    t = re.sub(r"[\s_]+", "-", text.strip().lower()).replace("--", "-")
    t = {"mit-license": "mit", "apache-2": "apache-2.0", "apache": "apache-2.0", "apache-license-2.0": "apache-2.0",
         "cc0": "cc0-1.0", "cc-0": "cc0-1.0", "public-domain": "pddl"}.get(t, t)
    if re.fullmatch(r"cc-by(-nc)?(-nd|-sa)?-\d\.\d", t) or t in PERMISSIVE_LICENSES or t in (
            "gpl-3.0", "lgpl-3.0", "agpl-3.0", "odbl", "openrail", "other", "unknown"):
        return t
    return None
