"""One self-contained HTML file of a ``slth-check check`` report.

``write_html(report, out_dir, path)`` writes a page that opens in any browser with
no other file: the figures (paths relative to the report folder ``out_dir``) are
embedded as base64 PNG ``data:`` URIs, each in its claim's section with its caption
(the claim entry's ``"figures"``; figures no claim lists go at the end), the verdict
words and "worst ratio" are defined in a legend at the top, and every violation
shows its witness file and the command that replays it
(``slth-check replay <witness>``). No script, no external style sheet or font.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

from slth_check.fileio.files import atomic_write
from slth_check.report import unattached_figures

__all__ = ["LEGEND", "html_document", "write_html"]

LEGEND: dict[str, str] = {
    "holds": "the statement is true on this instance, backed by exact arithmetic, an "
             "exact optimisation or a sound bound (never by a float comparison alone)",
    "violated": "the statement is false on this instance: a witness was found and "
                "replayed on the concrete objects in exact arithmetic",
    "unknown": "neither a proof nor a replayed witness (a method's limit or timeout); "
               "never counted as holds",
    "hypotheses unmet": "the instance does not satisfy the statement's hypotheses, so the "
                        "statement says nothing about it (not a violation)",
    "expected violation": "a violation on a negative control, an instance where one "
                          "hypothesis was dropped on purpose to show that it is needed",
    "worst ratio": "the largest observed / bound over the instances that hold or are "
                   "violated (expected violations excluded): below 1 the bound holds with "
                   "slack, 1 means it is attained, above 1 it is violated",
}

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px;
       color: #222; line-height: 1.4; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: left;
         vertical-align: top; }
th { background: #eee; }
td.num { text-align: right; }
code, pre { background: #f4f4f4; padding: 0.1em 0.3em; }
pre { padding: 0.6em; white-space: pre-wrap; }
dl.legend dt { font-weight: bold; margin-top: 0.4em; }
dl.legend { border: 1px solid #bbb; padding: 0.5em 1em; background: #fafafa; }
.violated { color: #b00020; font-weight: bold; }
.ok { color: #1b5e20; font-weight: bold; }
figure { margin: 1.5em 0; }
figure img { max-width: 100%; border: 1px solid #ddd; }
"""


def _e(x: Any) -> str:
    return html.escape("" if x is None else str(x))


def _fmt(x: Any) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.4g}"
    return _e(x)


def _img(out_dir: Path, rel: str, caption: str = "") -> str:
    """An ``<img>`` with the PNG embedded and its caption (or a note when the file is
    missing)."""
    p = out_dir / rel
    if not p.is_file():
        return f"<p>figure <code>{_e(rel)}</code> is missing</p>"
    data = base64.b64encode(p.read_bytes()).decode("ascii")
    text = f"{_e(caption)} " if caption else ""
    return (f'<figure><img alt="{_e(caption or rel)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{text}<code>{_e(rel)}</code></figcaption></figure>")


def _violations(title: str, items: list[dict[str, Any]], out_dir: Path) -> list[str]:
    parts = [f"<h2>{_e(title)}</h2>"]
    if not items:
        return parts + ["<p>none</p>"]
    parts.append("<ol>")
    for v in items:
        w = v.get("witness")
        wpath = str(out_dir / w) if w else None
        parts.append(f"<li><b>{_e(v['claim'])}</b>: observed {_fmt(v.get('observed'))}, "
                     f"bound {_fmt(v.get('bound'))}. {_e(v.get('detail'))}")
        if wpath:
            parts.append(f"<br>witness <code>{_e(wpath)}</code>; replay: "
                         f"<pre>slth-check replay {_e(wpath)}</pre>")
        parts.append("</li>")
    return parts + ["</ol>"]


def _summary_table(report: dict[str, Any]) -> list[str]:
    """The table of verdicts per claim."""
    p = ["<table><tr><th>claim</th><th>instances</th>"
         "<th>holds</th><th>violated</th><th>unknown</th><th>hypotheses unmet</th>"
         "<th>expected violations</th><th>worst ratio</th><th>methods</th></tr>"]
    for c in report["claims"]:
        v = c["verdicts"]
        worst = c["worst"]["ratio"] if c.get("worst") else None
        cls = "violated" if v["violated"] else "ok"
        p.append(f"<tr><td><a href=\"#{_e(c['id'])}\">{_e(c['id'])}</a></td>"
                 f"<td class=num>{c['instances']}</td><td class=num>{v['holds']}</td>"
                 f"<td class=\"num {cls}\">{v['violated']}</td>"
                 f"<td class=num>{v['unknown']}</td><td class=num>{v['hypotheses_unmet']}</td>"
                 f"<td class=num>{c['expected_violations']}</td><td class=num>{_fmt(worst)}"
                 f"</td><td>{_e(', '.join(c['methods']))}</td></tr>")
    p.append("</table>")
    return p


def _audit(report: dict[str, Any]) -> list[str]:
    """The audit section (constants inside the proofs, the paper's data claims)."""
    p = ["<h2>Audit of the constants inside the proofs and of the paper's data</h2>"]
    if report.get("audit"):
        p.append("<table><tr><th>claim</th><th>item</th><th>stated</th><th>measured</th>"
                 "<th>status</th><th>consequence</th></tr>")
        p += ["<tr>" + "".join(f"<td>{_e(a.get(k))}</td>" for k in
                               ("claim", "item", "stated", "measured", "status", "consequence"))
              + "</tr>" for a in report["audit"]]
        p.append("</table>")
    else:
        p.append("<p>none</p>")
    return p


def html_document(report: dict[str, Any], out_dir: str | Path) -> str:
    """The HTML text of a report whose files (figures, witnesses) are under ``out_dir``."""
    od = Path(out_dir)
    run = report.get("run", {})
    title = f"slth-check report {run.get('id', '')}"
    p = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
         f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>",
         f"<h1>{_e(title)}</h1>",
         f"<p>profile <code>{_e(run.get('profile'))}</code>, seed {_e(run.get('seed'))}, "
         f"started {_e(run.get('start'))}, ended {_e(run.get('end'))}</p>",
         "<h2>How to read this report</h2>", '<dl class="legend">']
    p += [f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in LEGEND.items()]
    p += ["</dl>", "<h2>Summary</h2>"] + _summary_table(report)
    number = 0
    for c in report["claims"]:
        p += [f"<h2 id=\"{_e(c['id'])}\">{_e(c['id'])}</h2>", f"<p>{_e(c['statement'])}</p>"]
        if c.get("hypotheses"):
            p.append(f"<p>Hypotheses: {_e(c['hypotheses'])}</p>")
        if c.get("worst"):
            w = c["worst"]
            p.append(f"<p>worst ratio {_fmt(w.get('ratio'))} (observed {_fmt(w.get('observed'))}"
                     f", bound {_fmt(w.get('bound'))})"
                     + (f", witness <code>{_e(od / w['witness'])}</code>"
                        if w.get("witness") else "") + "</p>")
        if c.get("notes"):
            p.append("<ul>" + "".join(f"<li>{_e(n)}</li>" for n in c["notes"]) + "</ul>")
        for key, val in c.get("summary", {}).items():
            if isinstance(val, str):
                p.append(f"<h3>{_e(key)}</h3><pre>{_e(val)}</pre>")
        for f in c.get("figures", []):  # numbered as in report.md
            number += 1
            p.append(_img(od, f["path"], f"Figure {number}. {f['caption']}"))
    viol = report["violations"]
    p += _violations("Unexpected violations", [v for v in viol if not v["expected"]], od)
    p += _violations("Expected violations (a hypothesis dropped on purpose)",
                     [v for v in viol if v["expected"]], od)
    p += _audit(report)
    rest = unattached_figures(report)
    if rest:
        p += ["<h2>Other figures</h2>"] + [_img(od, f) for f in rest]
    p.append("</body></html>")
    return "\n".join(p) + "\n"


def write_html(report: dict[str, Any], out_dir: str | Path, path: str | Path) -> None:
    """Write the self-contained HTML of a report (files under ``out_dir``) to ``path``."""
    atomic_write(Path(path), html_document(report, out_dir))
