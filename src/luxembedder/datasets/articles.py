"""Article input: one news article per row, in JSONL, JSON (array), CSV, TSV or Parquet.

Fields (our names; map other column names with :class:`ArticleColumns`):

=============  ========  =====================================================================
field          required  notes
=============  ========  =====================================================================
``id``         yes       string (numbers are converted), unique per language across all files
``lang``       yes       ISO 639-1 (``lb``, ``en``, ``fr``, ``de``); ``ltz``/``ltz_Latn`` are normalised.
                         May be absent when ``default_lang`` is given.
``published``  yes       ISO 8601 date or datetime (``2024-06-12``, ``2024-06-12T08:30:00+02:00``);
                         the date part is kept
``title``      no        may be empty
``lead``       no        may be empty
``body``       yes       plain text or HTML; must not be empty
``url``        no
``category``   no
=============  ========  =====================================================================

Bad rows (malformed line, missing required field, unparsable date, duplicate id within a language, text
that is not valid UTF-8, a value of the wrong type) raise :class:`~luxembedder.errors.DataError` naming
the file, line and field. With ``lenient=True`` the row is quarantined in :attr:`ArticleLoad.rejected`
with the reason and loading goes on. Damage stays local (see :func:`luxembedder.utils.io.iter_records`):
a malformed JSONL line, a JSON array element that does not decode (the array is decoded element by
element and reading resumes at the next element), a CSV line whose stray quote would swallow the lines
after it (it is rejected alone), a record with invalid UTF-8; a UTF-8 byte-order mark is accepted.
Every input record ends up either in ``articles`` or in ``rejected``: per file,
``rows_read == loaded + rejected``.
"""

from __future__ import annotations

import datetime as _dt
import logging
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from luxembedder.config import BaseConfig
from luxembedder.errors import ConfigError, DataError
from luxembedder.text.langcodes import to_iso639_1
from luxembedder.utils.io import iter_records, utf8_problem, write_jsonl

logger = logging.getLogger(__name__)

ARTICLE_FIELDS = ("id", "lang", "published", "title", "lead", "body", "url", "category")


@dataclass
class Article:
    """One news article; ``source`` is ``"file:line"`` of the input row."""

    id: str
    lang: str
    published: _dt.date
    title: str
    lead: str
    body: str
    url: str | None
    category: str | None
    source: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready row in the toolkit's own article format (``published`` as ISO date)."""
        d = asdict(self)
        d["published"] = self.published.isoformat()
        return d


class ArticleColumns(BaseConfig):
    """Input column name for each article field (defaults: the field's own name).

    ``ArticleColumns.rtl()`` is the preset for RTL.lu-style exports, whose columns are ``public_date``
    (publication date), ``header`` (title) and ``text`` (body); the other columns keep their names.
    """

    id: str = "id"
    lang: str = "lang"
    published: str = "published"
    title: str = "title"
    lead: str = "lead"
    body: str = "body"
    url: str = "url"
    category: str = "category"

    @classmethod
    def rtl(cls) -> ArticleColumns:
        """Preset for RTL-style exports: ``public_date`` -> published, ``header`` -> title, ``text`` -> body."""
        return cls(published="public_date", title="header", body="text")

    @classmethod
    def preset(cls, name: str) -> ArticleColumns:
        """A named preset: ``default`` or ``rtl``."""
        if name == "default":
            return cls()
        if name == "rtl":
            return cls.rtl()
        raise ConfigError(f"unknown article column preset '{name}' (expected 'default' or 'rtl')")


@dataclass
class ArticleLoad:
    """Result of :func:`load_articles`.

    ``rejected`` rows are ``{file, line, field, reason, row}``; ``per_file`` counts the articles accepted
    from each file; ``rows_read`` counts every input row seen per file (accepted + rejected).
    """

    articles: list[Article] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    per_file: dict[str, int] = field(default_factory=dict)
    rows_read: dict[str, int] = field(default_factory=dict)

    def by_lang(self) -> dict[str, list[Article]]:
        """Articles grouped by language, in input order."""
        out: dict[str, list[Article]] = {}
        for a in self.articles:
            out.setdefault(a.lang, []).append(a)
        return out

    def summary(self) -> dict[str, Any]:
        """Counts for a report: loaded/rejected per file and per language, rejection reasons."""
        reasons: dict[str, int] = {}
        for r in self.rejected:
            key = f"{r.get('field') or '-'}: {_reason_kind(r['reason'])}"
            reasons[key] = reasons.get(key, 0) + 1
        return {
            "loaded": len(self.articles),
            "rejected": len(self.rejected),
            "per_file": dict(self.per_file),
            "rows_read": dict(self.rows_read),
            "per_lang": {k: len(v) for k, v in self.by_lang().items()},
            "rejection_reasons": reasons,
        }


def _reason_kind(reason: str) -> str:
    return re.split(r"[:(']", reason)[0].strip()


ARTICLE_SUFFIXES = (".jsonl", ".json", ".csv", ".tsv", ".parquet")


# ------------------------------------------------------------------------------------------ validation

def _parse_date(value: Any) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO 8601 date string, got {type(value).__name__}")
    s = value.strip()
    try:
        if len(s) == 10:
            return _dt.date.fromisoformat(s)
        return _dt.datetime.fromisoformat(s).date()
    except ValueError:
        raise ValueError(f"unparsable date '{value}' (expected ISO 8601, e.g. 2024-06-12 or "
                         "2024-06-12T08:30:00+02:00)") from None


def _text(row: dict[str, Any], col: str, required: bool, fld: str) -> str:
    value = row.get(col)
    if value is None:
        if required:
            raise _FieldError(fld, col, "missing required field" if col not in row else "empty required field")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _FieldError(fld, col, f"expected text, got {type(value).__name__}")
    s = str(value)
    problem = utf8_problem(s)
    if problem:
        raise _FieldError(fld, col, problem)
    if required and not s.strip():
        raise _FieldError(fld, col, "empty required field")
    return s


class _FieldError(Exception):
    def __init__(self, fld: str, col: str, reason: str) -> None:
        super().__init__(reason)
        self.fld, self.col, self.reason = fld, col, reason


def _to_article(row: dict[str, Any], cols: ArticleColumns, default_lang: str | None, source: str) -> Article:
    art_id = _text(row, cols.id, True, "id").strip()
    lang_raw = row.get(cols.lang)
    if (lang_raw is None or (isinstance(lang_raw, str) and not lang_raw.strip())) and default_lang:
        lang_raw = default_lang
    lang_s = _text({cols.lang: lang_raw}, cols.lang, True, "lang")
    try:
        lang = to_iso639_1(lang_s)
    except ConfigError as exc:
        raise _FieldError("lang", cols.lang, str(exc)) from None
    if cols.published not in row or row[cols.published] is None or row[cols.published] == "":
        raise _FieldError("published", cols.published, "missing required field")
    try:
        published = _parse_date(row[cols.published])
    except ValueError as exc:
        raise _FieldError("published", cols.published, str(exc)) from None
    title = _text(row, cols.title, False, "title")
    lead = _text(row, cols.lead, False, "lead")
    body = _text(row, cols.body, True, "body")
    url = _text(row, cols.url, False, "url") or None
    category = _text(row, cols.category, False, "category") or None
    return Article(id=art_id, lang=lang, published=published, title=title, lead=lead, body=body,
                   url=url, category=category, source=source)


def load_articles(
    paths: list[Path] | list[str],
    columns: ArticleColumns | None = None,
    lenient: bool = False,
    default_lang: str | None = None,
) -> ArticleLoad:
    """Read and validate articles from several files (any mix of formats).

    Strict (default): the first bad row raises :class:`DataError` with file, line and field.
    ``lenient=True``: bad rows go to ``rejected`` with the reason, the rest is loaded.
    ``default_lang`` fills a missing or empty ``lang`` (e.g. one file per language).
    """
    cols = columns or ArticleColumns()
    if default_lang is not None:
        default_lang = to_iso639_1(default_lang)
    out = ArticleLoad()
    seen: dict[tuple[str, str], str] = {}

    def reject(path: Path, line: int | None, fld: str | None, reason: str, row: Any) -> None:
        if not lenient:
            raise DataError(reason, path, line, fld)
        out.rejected.append({"file": str(path), "line": line, "field": fld, "reason": reason, "row": row})
        logger.debug("rejected %s:%s (%s): %s", path, line, fld, reason)

    for p in paths:
        path = Path(p)
        key = str(path)
        if path.suffix.lower() not in ARTICLE_SUFFIXES:
            raise DataError(f"unsupported article file type '{path.suffix}' "
                            "(expected .jsonl, .json, .csv, .tsv or .parquet)", path)
        if not path.is_file():
            raise DataError("file not found" if not path.exists() else "not a file", path)
        out.per_file.setdefault(key, 0)
        out.rows_read.setdefault(key, 0)
        for rec in iter_records(path):  # every record: loaded or rejected, nothing else
            out.rows_read[key] += 1
            if rec.row is None:
                reject(path, rec.line, rec.field, rec.error or "unreadable record", {"raw": rec.raw})
                continue
            source = f"{path}:{rec.line}"
            try:
                art = _to_article(rec.row, cols, default_lang, source)
            except _FieldError as exc:
                reject(path, rec.line, exc.col, exc.reason, rec.row)
                continue
            first = seen.get((art.lang, art.id))
            if first is not None:
                reject(path, rec.line, cols.id,
                       f"duplicate id '{art.id}' for language '{art.lang}' (first seen at {first})", rec.row)
                continue
            seen[(art.lang, art.id)] = source
            out.articles.append(art)
            out.per_file[key] += 1
        rejected = out.rows_read[key] - out.per_file[key]
        logger.info("%s: %d records, %d articles loaded, %d rejected", path, out.rows_read[key],
                    out.per_file[key], rejected)
    return out


def write_rejected(path: str | Path, rejected: list[dict[str, Any]]) -> Path:
    """Write quarantined rows as JSON lines (atomically); dates and other values become strings."""
    return write_jsonl(path, rejected)


def write_articles(path: str | Path, articles: list[Article]) -> Path:
    """Write articles in the toolkit's own JSONL format (atomically)."""
    return write_jsonl(path, [a.to_dict() for a in articles])
