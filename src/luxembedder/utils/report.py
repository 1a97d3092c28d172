"""The report layer shared by every HTML/Markdown report: jinja2 templates and one number convention.

Templates live in ``luxembedder/resources/templates`` (packaged). Every report formats numbers the same way:

- scores are **percent with one decimal** (``83.4``); a 95% interval follows **in brackets**
  (``83.4 [80.1, 86.5]``);
- a difference **Δ** is in percentage points with a sign, its interval in brackets and the **named paired
  test** with its p-value (``+2.3 [+0.5, +4.1], paired bootstrap p = 0.012``);
- counts are integers with thousands separators; similarities (cosine, margin) keep three decimals.

Charts are PNG files; the HTML inlines them (``data:`` URIs) so a page opens without a server.
"""

from __future__ import annotations

import base64
import html as _html
import math
from functools import lru_cache
from pathlib import Path
from typing import Any

from luxembedder.utils.io import atomic_write_text

DASH = "–"


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def pct(x: float | None) -> str:
    """A fraction as percent with one decimal: ``0.8342 -> "83.4"``."""
    return DASH if _missing(x) else f"{100 * float(x):.1f}"


def ci(interval: Any, points: bool = False) -> str:
    """A 95% interval in brackets: fractions (``[80.1, 86.5]``) or, ``points=True``, signed percentage points
    already scaled (``[+0.5, +4.1]``)."""
    if not interval or any(_missing(v) for v in interval):
        return ""
    lo, hi = (float(v) for v in interval)
    return f"[{lo:+.1f}, {hi:+.1f}]" if points else f"[{100 * lo:.1f}, {100 * hi:.1f}]"


def score(x: float | None, interval: Any = None) -> str:
    """``83.4 [80.1, 86.5]`` from a fraction and its (fraction) interval."""
    if _missing(x):
        return DASH
    c = ci(interval)
    return f"{pct(x)} {c}" if c else pct(x)


def pvalue(p: float | None) -> str:
    if _missing(p):
        return ""
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def delta(d: dict[str, Any] | None) -> str:
    """A paired difference ``{diff, low, high, p_value, test}`` (fractions) as
    ``+2.3 [+0.5, +4.1], paired bootstrap p = 0.012``; without an interval ``+2.3 (unpaired: <why>)``."""
    if not d or _missing(d.get("diff")):
        return DASH
    s = f"{100 * d['diff']:+.1f}"
    if not _missing(d.get("low")) and not _missing(d.get("high")):
        s += f" {ci((100 * d['low'], 100 * d['high']), points=True)}"
        if not _missing(d.get("p_value")):
            s += f", {d['test']} {pvalue(d['p_value'])}" if d.get("test") else f", {pvalue(d['p_value'])}"
    elif d.get("note"):
        s += f" ({d['note']})"
    return s


def count(x: Any) -> str:
    if _missing(x):
        return DASH
    if isinstance(x, bool) or not isinstance(x, int | float):
        return str(x)
    return f"{int(x):,}" if float(x).is_integer() else f"{x:,.1f}"


def num(x: Any, digits: int = 3) -> str:
    """A similarity or another real number (not a share): fixed decimals."""
    if _missing(x):
        return DASH
    if isinstance(x, bool) or not isinstance(x, int | float):
        return str(x)
    return f"{x:.{digits}f}"


def seconds(x: float | None) -> str:
    if _missing(x):
        return DASH
    return f"{x:.1f} s" if x < 120 else f"{x / 60:.1f} min"


def cell(x: Any) -> str:
    """Default rendering of a table value that was not formatted by its producer."""
    if _missing(x):
        return DASH
    if isinstance(x, float):
        return count(x) if x.is_integer() and abs(x) >= 1 else num(x)
    if isinstance(x, int) and not isinstance(x, bool):
        return count(x)
    if isinstance(x, list | tuple):
        return ", ".join(cell(v) for v in x)
    if isinstance(x, dict):
        return ", ".join(f"{k} {cell(v)}" for k, v in x.items()) or DASH
    return str(x)


def md_escape(s: Any) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def img_data_uri(path: str | Path) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f"data:image/png;base64,{data}"


def table(rows: list[dict[str, Any]], columns: list[str] | None = None) -> dict[str, Any]:
    """``{columns, rows}`` with every value already a string (formatted by :func:`cell` unless a string)."""
    cols = columns or (list(rows[0]) if rows else [])
    return {"columns": cols,
            "rows": [[v if isinstance(v := r.get(c), str) else cell(v) for c in cols] for r in rows]}


def templates_dir() -> Path:
    from importlib.resources import files

    return Path(str(files("luxembedder") / "resources" / "templates"))


@lru_cache(maxsize=2)
def _env(autoescape: bool) -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=autoescape, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(pct=pct, ci=ci, score=score, delta=delta, count=count, num=num, seconds=seconds,
                       cell=cell, md=md_escape, datauri=img_data_uri, pvalue=pvalue)
    return env


def render(template: str, **context: Any) -> str:
    """Render ``resources/templates/<template>``; ``.html`` templates autoescape, ``.md`` ones do not."""
    return _env(template.endswith(".html.j2")).get_template(template).render(**context)


def render_both(name: str, **context: Any) -> tuple[str, str]:
    """``(markdown, html)`` from ``<name>.md.j2`` and ``<name>.html.j2`` with the same context."""
    return render(f"{name}.md.j2", **context), render(f"{name}.html.j2", **context)


def escape(s: Any) -> str:
    return _html.escape(str(s))


class Section:
    """A titled list of blocks (paragraph, sub-heading, table, figure, warning, list)."""

    def __init__(self, title: str) -> None:
        import re

        self.title = title
        self.id = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
        self.blocks: list[dict[str, Any]] = []

    def p(self, text: str) -> Section:
        self.blocks.append({"kind": "p", "text": text})
        return self

    def h3(self, text: str) -> Section:
        self.blocks.append({"kind": "h3", "text": text})
        return self

    def table(self, rows: list[dict[str, Any]], columns: list[str] | None = None) -> Section:
        self.blocks.append({"kind": "table", "table": table(rows, columns)})
        return self

    def figure(self, path: Path | None, base: Path, caption: str) -> Section:
        """A PNG (skipped when ``None``); Markdown links it relative to ``base``, HTML inlines it."""
        if path is not None:
            self.blocks.append({"kind": "figure", "path": str(path), "caption": caption,
                                "src": Path(path).relative_to(base).as_posix()})
        return self

    def warning(self, text: str) -> Section:
        self.blocks.append({"kind": "warning", "text": text})
        return self

    def bullets(self, items: list[str]) -> Section:
        if items:
            self.blocks.append({"kind": "list", "items": list(items)})
        return self


class Document:
    """Title, lead lines, report-wide warnings and sections: what the ``report.*.j2`` templates render."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.lead: list[dict[str, str]] = []
        self.warnings: list[str] = []
        self.sections: list[Section] = []

    def add_lead(self, text: str, label: str = "") -> None:
        self.lead.append({"label": label, "text": text})

    def section(self, title: str) -> Section:
        s = Section(title)
        self.sections.append(s)
        return s

    def write(self, out_dir: str | Path, stem: str = "report") -> dict[str, Path]:
        """Render and write ``<stem>.md`` and ``<stem>.html`` atomically."""
        out = Path(out_dir)
        md, htm = render_both("report", doc=self)
        return {"md": atomic_write_text(out / f"{stem}.md", md),
                "html": atomic_write_text(out / f"{stem}.html", htm)}
