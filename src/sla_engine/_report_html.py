"""The compliance review as one self-contained HTML page: the « bilan ».

:func:`render_html` turns the report's data (:func:`build_report`, the JSON
contract) into a single HTML document that loads nothing: its CSS is inline,
its charts are inline SVG, it has no script, and a Content-Security-Policy
forbids fetching anything should a later edit forget that.  It reads on screen
(a sheet on a grey desk) and prints on A4.

Every text that comes from the data (ids, titles, contact ids, months,
units…) goes through :func:`html.escape` with ``quote=True``, in the page's
text, in attribute values and in the SVG's text alike; nothing from the data
is ever put in a tag name, an attribute name, a style or a URL.  Every chart
has a text alternative (``role="img"``, ``aria-label`` and ``<title>``), and
its numbers are in a table too.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from typing import Any

from ._delay import Unit
from ._errors import DelayError
from ._report import (
    _HEADERS,
    NOT_KEPT,
    NOTHING_TO_BREAK_DOWN,
    OWN_CALENDAR,
    SECTION_TITLES,
    _unit_in,
    day_text,
    heading_text,
    instant_text,
    month_parts,
    month_text,
    not_kept,
    obligation_ids,
    own_calendars,
    period_text,
    short_instant_text,
    shown_table,
)
from ._report import format_number as _number
from ._report import format_percent as _percent
from ._text import agreeing

__all__ = ["render_html"]

# Timer buckets, in the order the bars stack them.
_STATES = ("met", "late", "overdue", "pending", "exempt")
_NUMERIC = frozenset({"total", *_STATES, "median", "p90"})

_LABELS: dict[str, dict[str, str]] = {
    "fr": {
        "title": "Bilan des engagements de service",
        "what_if": "Simulation : autres règles que celles du rejeu",
        "what_if_detail": (
            "Ces chiffres appliquent un autre catalogue ou un autre calendrier que ceux du "
            "rejeu enregistré : ils ne constituent pas le bilan de référence."
        ),
        "catalogue": "Catalogue",
        "version": "version",
        "fingerprint": "empreinte",
        "calendar": "Calendrier",
        "calendar_version": "données",
        "period": "Période",
        "as_of": "Situation au",
        "generated_by": "Produit par",
        "s_engagements": SECTION_TITLES["fr"]["engagements"],
        "s_groups": SECTION_TITLES["fr"]["groups"],
        "s_compliance": "Taux de respect par engagement",
        "s_trend": "Évolution mensuelle du taux de respect",
        "s_trend_table": "Taux de respect par mois (n : cas jugés, tenus, en retard ou dépassés)",
        "s_delays": "Répartition des délais",
        "s_breaches": "Retards et dépassements",
        # The apostrophe and the spaces of the rest of the review: ' (as in the
        # catalogues' titles and « demande d'information »), a no-break space in « 90 % ».
        "definitions": (
            "<b>Tenus</b> : arrêtés avant l'expiration du délai ; <b>en retard</b> : arrêtés "
            "à l'expiration ou après ; <b>non tenus</b> (obligations) : période achevée sans "
            "l'événement attendu ou l'amplitude promise, comptés en retard dans les tableaux ; "
            "<b>en dépassement</b> : encore ouverts, délai expiré, à la date de situation ; "
            "<b>en cours</b> : encore ouverts, délai non expiré. "
            "<b>Taux de respect</b> = tenus / (tenus + en retard + en dépassement). "
            "Un délai par contact et par engagement (un contact rouvert en compte un de plus) ; "
            "durées comptées du jour de départ au jour d'arrêt, sur les délais arrêtés ; "
            "<b>p90</b> : 90\u00a0% de ces durées lui sont inférieures ou égales."
        ),
        "announced": "délai annoncé",
        "rate": "taux de respect",
        "no_rate": "taux non mesurable",
        "no_contacts": "Aucun contact sur la période.",
        "no_trend": "Aucun contact sur la période : pas d'évolution à montrer.",
        "no_delays": "Aucun délai mesuré sur la période.",
        "without_delays": "Sans délai mesuré : {ids}.",
        "no_breaches": "Aucun retard ni dépassement.",
        # Delays missed, not contacts: a reopened contact, or one under two
        # engagements, may miss several.
        "breach_summary": (
            "{total} {delays}, pour {contacts} : {overdue} en dépassement, {late} en retard."
        ),
        "obligation_summary": (
            "{total} {obligations} d'un site ou du service (une période chacune) : "
            "{overdue} en dépassement, {late} en retard, {not_kept} {not_kept_word}."
        ),
        "missed_delay": "délai manqué",
        "missed_delays": "délais manqués",
        "not_kept": "non tenue",
        "not_kept_many": "non tenues",
        "breaches_privacy": "Identifiants seuls : aucune autre donnée sur les personnes.",
        "contact_id": "identifiant du contact",
        "subject_id": "contact, site ou service",
        "cycle": "cycle",
        "cycle_or_period": "cycle ou période",
        "state": "état",
        "due_date": "échéance",
        "stopped_at": "arrêté le",
        "delay": "délai",
        "contacts": "contacts",
        "delay_count": "délai",
        "delays": "délais",
        "median": "médiane",
        "p90": "p90",
        "median_short": "méd.",
        "bar_alt": "{id} : {counts} ; {rate}",
        "trend_alt": "{id}, taux de respect par mois : {values}",
        # « au total »: a month counts contacts, and an obligation's periods too.
        "trend_point": (
            "{month} : {rate} ({met} {kept} sur {judged} {judged_word}, {total} au total)"
        ),
        "trend_none": "{month} : aucun délai jugé ({total} au total)",
        "hist_alt": "{id}, délais en {unit} : {values} ; médiane {median}, p90 {p90}",
        "hist_bar": "{value} : {count}",
        "contact": "contact",
        "no_unit": "unités de l'engagement",
        "legend": "Légende",
        "count_tip": "{name} : {count}",
        # French typography: a space before « ; », as before « : ».
        "list_sep": " ; ",
    },
    "en": {
        "title": "Service engagements review",
        "what_if": "What-if: other rules than the replay's",
        "what_if_detail": (
            "These figures apply another catalogue or calendar than the recorded replay's: "
            "they are not the reference review."
        ),
        "catalogue": "Catalogue",
        "version": "version",
        "fingerprint": "fingerprint",
        "calendar": "Calendar",
        "calendar_version": "data",
        "period": "Period",
        "as_of": "As of",
        "generated_by": "Produced by",
        "s_engagements": SECTION_TITLES["en"]["engagements"],
        "s_groups": SECTION_TITLES["en"]["groups"],
        "s_compliance": "Compliance per engagement",
        "s_trend": "Monthly compliance trend",
        "s_trend_table": "Compliance rate per month (n: cases judged, met, late or overdue)",
        "s_delays": "Delay distribution",
        "s_breaches": "Late and overdue",
        "definitions": (
            "<b>Met</b>: stopped before the delay expired; <b>late</b>: stopped when or after "
            "it expired; <b>not kept</b> (obligations): the period ended without the expected "
            "event or the promised hours, counted as late in the tables; "
            "<b>overdue</b>: still open, delay expired, at the as-of date; "
            "<b>pending</b>: still open, delay not expired. <b>Compliance rate</b> = met / "
            "(met + late + overdue). One delay per contact and engagement (a reopened "
            "contact has one more); durations are counted from the start day to the stop "
            "day, over the stopped delays; <b>p90</b>: 90% of these durations are at most this."
        ),
        "announced": "announced delay",
        "rate": "compliance rate",
        "no_rate": "no rate (nothing judged)",
        "no_contacts": "No contact in the period.",
        "no_trend": "No contact in the period: no trend to show.",
        "no_delays": "No delay measured in the period.",
        "without_delays": "No delay measured: {ids}.",
        "no_breaches": "Nothing late or overdue.",
        "breach_summary": "{total} {delays}, for {contacts}: {overdue} overdue, {late} late.",
        "obligation_summary": (
            "{total} {obligations} of a site or the service (one period each): "
            "{overdue} overdue, {late} late, {not_kept} {not_kept_word}."
        ),
        "missed_delay": "missed delay",
        "missed_delays": "missed delays",
        "not_kept": "not kept",
        "not_kept_many": "not kept",
        "breaches_privacy": "Ids only: nothing else about the people.",
        "contact_id": "contact id",
        "subject_id": "contact, site or service",
        "cycle": "cycle",
        "cycle_or_period": "cycle or period",
        "state": "state",
        "due_date": "due date",
        "stopped_at": "stopped at",
        "delay": "delay",
        "contacts": "contacts",
        "delay_count": "delay",
        "delays": "delays",
        "median": "median",
        "p90": "p90",
        "median_short": "med.",
        "bar_alt": "{id}: {counts}; {rate}",
        "trend_alt": "{id}, compliance rate per month: {values}",
        "trend_point": "{month}: {rate} ({met} met of {judged} judged, {total} in all)",
        "trend_none": "{month}: nothing judged ({total} in all)",
        "hist_alt": "{id}, delays in {unit}: {values}; median {median}, p90 {p90}",
        "hist_bar": "{value}: {count}",
        "contact": "contact",
        "no_unit": "the engagement's units",
        "legend": "Legend",
        "count_tip": "{name}: {count}",
        "list_sep": "; ",
    },
}

# The palette: sober, dark enough to print, the five timer buckets told apart by lightness
# as well as hue (their counts are written on the bars and in the tables anyway).
COLOURS = {
    "ink": "#1b1f24",
    "muted": "#59626d",
    "rule": "#c6ccd4",
    "faint": "#e4e7eb",
    "accent": "#1f3a5f",
    "met": "#1f7a5c",
    "late": "#dc9b14",
    "overdue": "#b42a1f",
    "pending": "#5f7088",  # white figures on it: 4.5:1 at least (WCAG AA)
    "exempt": "#cfd5dc",
    "histogram": "#6b86a8",
}

_CSS = (
    (":root { " + " ".join(f"--{name}: {value};" for name, value in COLOURS.items()) + " }")
    + """
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body {
  margin: 0; background: #e9ecef; color: var(--ink);
  font: 14px/1.45 "Marianne", "Helvetica Neue", Helvetica, Arial, "Liberation Sans",
    "DejaVu Sans", sans-serif;
}
.sheet {
  max-width: 210mm; margin: 24px auto; padding: 14mm 12mm; background: #fff;
  box-shadow: 0 1px 4px rgba(0, 0, 0, .18);
}
header.doc { border-top: 6px solid var(--accent); padding-top: 10px; margin-bottom: 8px; }
.kicker { margin: 0; color: var(--accent); font-size: 13px; font-weight: bold; }
h1 { margin: 2px 0 2px; font-size: 26px; line-height: 1.2; color: var(--accent); }
.subtitle { margin: 0 0 12px; font-size: 16px; color: var(--muted); }
dl.meta {
  display: grid; grid-template-columns: max-content 1fr; gap: 3px 14px; margin: 0;
  padding: 10px 12px; background: #f4f6f8; border-left: 3px solid var(--accent);
  font-size: 12.5px;
}
dl.meta dt { font-weight: bold; color: var(--muted); }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
.code, code {
  font-family: "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace;
  font-size: .92em; overflow-wrap: anywhere;
}
.whatif {
  margin: 12px 0 4px; padding: 10px 12px; border: 2px solid var(--overdue);
  background: #fbeceb; color: #7a1a13;
}
.whatif strong { display: block; font-size: 15px; }
section { margin-top: 22px; }
h2 {
  margin: 0 0 8px; padding-bottom: 3px; border-bottom: 1px solid var(--rule);
  font-size: 17px; color: var(--accent); break-after: avoid;
}
h3 { margin: 14px 0 6px; font-size: 14px; break-after: avoid; }
p.note { margin: 6px 0; color: var(--muted); font-size: 12px; }
table { width: 100%; border-collapse: collapse; font-size: 12px; margin: 4px 0 6px; }
thead { display: table-header-group; }
thead th {
  text-align: left; vertical-align: bottom; font-weight: bold; color: var(--accent);
  border-bottom: 2px solid var(--accent); padding: 4px 4px; hyphens: auto;
}
td, tbody th {
  vertical-align: top; text-align: left; font-weight: normal;
  border-bottom: 1px solid var(--faint); padding: 4px 4px;
}
table:not(#engagements) tbody tr:nth-child(even) > * { background: #f7f8fa; }
tr { break-inside: avoid; }
th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num, td.nowrap, td.k-month, td.k-school-year { white-space: nowrap; }
td.rate { font-weight: bold; }
table#engagements { font-size: 11.5px; }
table#engagements th, table#engagements td { padding-left: 3px; padding-right: 3px; }
table#engagements th.num { width: 1%; }
table#engagements tbody tr:first-child td { border-bottom: 0; padding-bottom: 1px; }
table#engagements tbody:nth-of-type(even) td { background: #f7f8fa; }
table#engagements tbody { break-inside: avoid; }
table#engagements td.k-title { padding-top: 0; padding-bottom: 6px; color: var(--muted); }
th .sub { display: block; font-weight: normal; color: var(--muted); }
table.trend-table { margin-bottom: 12px; }
table.trend-table tbody th { width: 20%; }
td.none { color: var(--muted); }
td small { display: block; color: var(--muted); font-weight: normal; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; margin: 0 0 8px; padding: 0;
  list-style: none; font-size: 12px; }
.legend li { display: flex; align-items: center; gap: 5px; }
.swatch { display: inline-block; width: 12px; height: 12px; border: 1px solid rgba(0,0,0,.15); }
figure { margin: 0 0 10px; break-inside: avoid; }
figcaption { font-size: 12.5px; margin-bottom: 2px; }
figcaption .muted { color: var(--muted); }
svg { display: block; max-width: 100%; height: auto; overflow: visible; }
svg text { font-family: inherit; fill: var(--ink); }
svg .axis { stroke: #8a939e; stroke-width: 1; }
svg .grid { stroke: var(--faint); stroke-width: 1; }
svg .tick { fill: var(--muted); font-size: 10px; }
svg .value { font-size: 10px; }
svg .onbar { font-size: 11px; font-weight: bold; fill: #fff; }
svg .onbar.dark { fill: var(--ink); }
svg .big { font-size: 14px; font-weight: bold; }
svg .col { fill: var(--accent); }
svg .hist { fill: var(--histogram); }
svg .median { stroke: var(--ink); stroke-width: 1.5; }
svg .p90 { stroke: var(--overdue); stroke-width: 1.5; stroke-dasharray: 4 3; }
svg text.p90 { fill: var(--overdue); stroke: none; font-size: 10px; }
svg text.median { fill: var(--ink); stroke: none; font-size: 10px; }
.met { fill: var(--met); background: var(--met); }
.late { fill: var(--late); background: var(--late); }
.overdue { fill: var(--overdue); background: var(--overdue); }
.pending { fill: var(--pending); background: var(--pending); }
.exempt { fill: var(--exempt); background: var(--exempt); }
.hists { display: flex; flex-wrap: wrap; gap: 6px 16px; }
.hists figure { width: 332px; max-width: 100%; }
footer.doc {
  margin-top: 26px; padding-top: 6px; border-top: 1px solid var(--rule);
  color: var(--muted); font-size: 11px;
}
@page {
  size: A4; margin: 14mm 12mm 16mm;
  @bottom-right { content: counter(page) " / " counter(pages); font-size: 8pt; color: #59626d; }
}
@media print {
  body { background: #fff; font-size: 9.5pt; }
  .sheet { max-width: none; margin: 0; padding: 0; box-shadow: none; }
  table { font-size: 8.5pt; }
  section { break-inside: auto; }
  h2 { break-after: avoid-page; }
}
"""
)

# Nothing may be fetched: no script, no image, no font, no frame, no form target.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def _e(value: Any) -> str:
    """Text or attribute value, escaped; ``None`` is an em dash."""
    return "—" if value is None else html.escape(str(value), quote=True)


def _svg(width: int, height: int, label: str, body: Iterable[str], css_class: str) -> str:
    """An inline SVG chart: an image for assistive technologies, described by ``label``."""
    return (
        f'<svg class="{css_class}" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{_e(label)}">'
        f"<title>{_e(label)}</title>{''.join(body)}</svg>"
    )


def _fmt(x: float) -> str:
    """A coordinate, short."""
    return f"{x:.1f}".removesuffix(".0")


def _nice_step(span: float, ticks: int) -> int:
    """An integer step (1, 2, 5, 10, 20…) giving about ``ticks`` ticks over ``span``."""
    raw = max(span / max(ticks, 1), 1.0)
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= raw:
            return int(factor * magnitude)
    return int(10 * magnitude)  # pragma: no cover - the loop always returns


# -- the sections ------------------------------------------------------------------


def _sentence(text: str) -> str:
    """``text`` with a capital first letter, the rest as it is (« fr+A » stays)."""
    return text[:1].upper() + text[1:]


def _header(report: dict[str, Any], lang: str, words: dict[str, str]) -> str:
    catalogue = report.get("catalogue") or {}
    period = report.get("period") or {}
    span = _e(period_text(period.get("from"), period.get("to"), lang))
    as_of = report.get("as_of")
    rows = [
        (
            words["catalogue"],
            f"<b>{_e(catalogue.get('title'))}</b> · <code>{_e(catalogue.get('id'))}</code> · "
            f"{words['version']} {_e(catalogue.get('version'))} · {words['fingerprint']} "
            f"<code>{_e(catalogue.get('fingerprint'))}</code>",
        ),
        (
            words["calendar"],
            f"<code>{_e(report.get('calendar'))}</code> · {words['calendar_version']} "
            f"<code>{_e(report.get('calendar_version'))}</code>",
        ),
        *(
            (
                _e(_sentence(OWN_CALENDAR[lang].format(spec=spec))),
                ", ".join(f"<code>{_e(i)}</code>" for i in ids),
            )
            for spec, ids in own_calendars(report).items()
        ),
        (words["period"], span),
        (
            words["as_of"],
            "—"
            if as_of is None
            else f'<time datetime="{_e(as_of)}">{_e(instant_text(as_of, lang))}</time>',
        ),
        (words["generated_by"], _e(report.get("generated_by"))),
    ]
    meta = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in rows)
    notice = ""
    if report.get("what_if"):
        notice = (
            f'<div class="whatif" role="note"><strong>{words["what_if"]}</strong>'
            f"{words['what_if_detail']}</div>"
        )
    return (
        f'<header class="doc"><p class="kicker">{_e(heading_text(report, lang))}</p>'
        f"<h1>{words['title']}</h1>"
        f'<p class="subtitle">{_e(catalogue.get("title"))}</p>'
        f'{notice}<dl class="meta">{meta}</dl></header>'
    )


def _keys(header: Sequence[str], lang: str) -> list[str]:
    """The column keys of a header from :func:`table` (its names are in ``_HEADERS``)."""
    names = {name: key for key, name in _HEADERS[lang].items()}
    return [names.get(name, name) for name in header]


def _th(name: str, *, numeric: bool = False) -> str:
    css = ' class="num"' if numeric else ""
    return f'<th scope="col"{css}>{_e(name)}</th>'


def _cell(key: str, value: Any, lang: str, words: dict[str, str]) -> str:
    if key == "compliance_rate":
        css = "num rate" + (" none" if value is None else "")
        return f'<td class="{css}">{_e(_percent(value, lang))}</td>'
    if key in _NUMERIC:
        css = "num" + (" none" if value is None else "")
        return f'<td class="{css}">{_e(_number(value, lang))}</td>'
    if key == "target" and value == "announced":
        value = words["announced"]
    # Column keys come from ``_HEADERS``, never from the data: safe as a class name.
    css = f' class="k-{key}"' if key in _HEADERS[lang] else ""
    if key == "engagement":
        return f'<td{css}><span class="code">{_e(value)}</span></td>'
    return f"<td{css}>{_e(value)}</td>"


def _table(
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    lang: str,
    words: dict[str, str],
    ident: str,
) -> str:
    keys = _keys(header, lang)
    head = "".join(
        _th(name, numeric=key in _NUMERIC or key == "compliance_rate")
        for key, name in zip(keys, header, strict=True)
    )
    body = "".join(
        "<tr>"
        + "".join(_cell(key, value, lang, words) for key, value in zip(keys, row, strict=True))
        + "</tr>"
        for row in rows
    )
    return f'<table id="{ident}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _engagement_table(
    header: Sequence[str], rows: Sequence[Sequence[Any]], lang: str, words: dict[str, str]
) -> str:
    """The per-engagement table, each engagement a ``<tbody>``: its figures, then its title.

    Thirteen columns do not fit an A4 page in portrait: the title, the one long text,
    takes the whole width of a second row under the figures.
    """
    keys = _keys(header, lang)
    at = keys.index("title") if "title" in keys else None
    head = []
    for i, (key, name) in enumerate(zip(keys, header, strict=True)):
        if i == at:
            continue
        if key == "engagement" and at is not None:
            head.append(
                f'<th scope="col">{_e(name)} <span class="sub">{_e(header[at])}</span></th>'
            )
        else:
            head.append(_th(name, numeric=key in _NUMERIC or key == "compliance_rate"))
    bodies = []
    for row in rows:
        cells = "".join(
            _cell(key, value, lang, words)
            for i, (key, value) in enumerate(zip(keys, row, strict=True))
            if i != at
        )
        title = (
            ""
            if at is None
            else f'<tr><td class="k-title" colspan="{len(keys) - 1}">{_e(row[at])}</td></tr>'
        )
        bodies.append(f"<tbody><tr>{cells}</tr>{title}</tbody>")
    return (
        f'<table id="engagements"><thead><tr>{"".join(head)}</tr></thead>{"".join(bodies)}</table>'
    )


def _tables(report: dict[str, Any], lang: str, words: dict[str, str]) -> str:
    header, rows = shown_table({**report, "lang": lang}, per_group=False)
    parts = [
        f'<section id="engagements-section"><h2>1. {words["s_engagements"]}</h2>',
        _engagement_table(header, rows, lang, words),
        f'<p class="note">{words["definitions"]}</p>',
    ]
    if report.get("by") or report.get("groups"):
        header, rows = shown_table({**report, "lang": lang}, per_group=True)
        names = _HEADERS[lang]
        dims = ", ".join(_e(names.get(d, d)) for d in report.get("by") or [])
        parts.append(f"<h3>{words['s_groups'].format(dims=dims)}</h3>")
        if rows:
            parts.append(_table(header, rows, lang, words, "groups"))
        else:  # a grouped review of a period holding nothing says so, under its title
            parts.append(f'<p class="note">{_e(NOTHING_TO_BREAK_DOWN[lang])}</p>')
    parts.append("</section>")
    return "".join(parts)


def _legend(lang: str, words: dict[str, str]) -> str:
    names = _HEADERS[lang]
    items = "".join(
        f'<li><span class="swatch {state}" aria-hidden="true"></span>{_e(names[state])}</li>'
        for state in _STATES
    )
    return f'<ul class="legend" aria-label="{words["legend"]}">{items}</ul>'


def _bar(engagement: dict[str, Any], lang: str, words: dict[str, str]) -> str:
    """One stacked horizontal bar: met / late / overdue / pending / exempt, and the rate."""
    names = _HEADERS[lang]
    total = int(engagement["total"])
    width, height, bar = 680, 30, 548
    rate = engagement.get("compliance_rate")
    rate_text = f"{words['rate']} {_percent(rate, lang)}" if rate is not None else words["no_rate"]
    counts = ", ".join(
        f"{names[s]} {_number(engagement.get(s, 0), lang)}" for s in ("total", *_STATES)
    )
    label = words["bar_alt"].format(id=engagement["id"], counts=counts, rate=rate_text)
    body = [f'<rect x="0" y="3" width="{bar}" height="22" fill="#f1f3f5"/>']
    x = 0.0
    for state in _STATES:
        count = int(engagement.get(state) or 0)
        if not count:
            continue
        w = bar * count / total
        tip = words["count_tip"].format(name=names[state], count=_number(count, lang))
        body.append(
            f'<rect class="{state}" x="{_fmt(x)}" y="3" width="{_fmt(w)}" height="22">'
            f"<title>{_e(tip)}</title></rect>"
        )
        text = _number(count, lang)
        if w >= 7 * len(text) + 8:
            dark = " dark" if state in ("late", "exempt") else ""
            body.append(
                f'<text class="onbar{dark}" x="{_fmt(x + w / 2)}" y="18.5" '
                f'text-anchor="middle" aria-hidden="true">{_e(text)}</text>'
            )
        x += w
    shown = _percent(rate, lang) if rate is not None else "—"
    body.append(f'<text class="big" x="{bar + 12}" y="19.5">{_e(shown)}</text>')
    return (
        f'<figure><figcaption><span class="code">{_e(engagement["id"])}</span> — '
        f'{_e(engagement.get("title"))} <span class="muted">({_e(names["total"])} '
        f"{_e(_number(total, lang))})</span></figcaption>"
        + _svg(width, height, label, body, "bar")
        + "</figure>"
    )


def _compliance(report: dict[str, Any], lang: str, words: dict[str, str]) -> str:
    shown = [e for e in report["engagements"] if (e.get("total") or 0) > 0]
    inner = (
        _legend(lang, words) + "".join(_bar(e, lang, words) for e in shown)
        if shown
        else f'<p class="note">{words["no_contacts"]}</p>'
    )
    return f'<section id="compliance"><h2>2. {words["s_compliance"]}</h2>{inner}</section>'


def _trend_order(report: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The engagements (catalogue order first) and months of the trend."""
    trend = report.get("trend") or []
    present = {str(r["engagement"]) for r in trend}
    order = [str(e["id"]) for e in report["engagements"] if str(e["id"]) in present]
    order += sorted(present - set(order))
    months = sorted({str(r["month"]) for r in trend})
    return order, months


def _trend_chart(
    engagement: str,
    title: Any,
    rows: dict[str, dict[str, Any]],
    months: Sequence[str],
    lang: str,
    words: dict[str, str],
) -> str:
    width, height = 680, 136
    left, right, top, bottom = 44, 8, 16, 32
    plot_w, plot_h = width - left - right, height - top - bottom
    base = top + plot_h
    band = plot_w / len(months)
    bar_w = min(band * 0.62, 42.0)
    every = max(1, math.ceil(len(months) / 12))
    body: list[str] = []
    for pct in (0, 25, 50, 75, 100):
        y = base - plot_h * pct / 100
        css = "axis" if pct == 0 else "grid"
        body.append(f'<line class="{css}" x1="{left}" x2="{width - right}" y1="{_fmt(y)}" '
                    f'y2="{_fmt(y)}"/>')  # fmt: skip
        if pct % 50 == 0:
            tick = f"{pct}\u00a0%" if lang == "fr" else f"{pct}%"
            body.append(
                f'<text class="tick" x="{left - 6}" y="{_fmt(y + 3.5)}" '
                f'text-anchor="end">{tick}</text>'
            )
    points: list[str] = []
    for i, month in enumerate(months):
        centre = left + band * (i + 0.5)
        if i % every == 0:
            name, year = month_parts(month, lang)
            body.append(
                f'<text class="tick" x="{_fmt(centre)}" y="{base + 13}" '
                f'text-anchor="middle">{_e(name)}</text>'
            )
            if year and (i == 0 or month.endswith("-01")):
                body.append(
                    f'<text class="tick" x="{_fmt(centre)}" y="{base + 25}" '
                    f'text-anchor="middle">{_e(year)}</text>'
                )
        row = rows.get(month)
        if row is None:
            continue
        rate = row.get("compliance_rate")
        judged = sum(int(row.get(s) or 0) for s in ("met", "late", "overdue"))
        shown_month = month_text(month, lang)
        if rate is None:
            point = words["trend_none"].format(
                month=shown_month, total=_number(row.get("total"), lang)
            )
            body.append(
                f'<text class="tick" x="{_fmt(centre)}" y="{base - 4}" text-anchor="middle">'
                f"<title>{_e(point)}</title>—</text>"
            )
        else:
            point = words["trend_point"].format(
                month=shown_month,
                rate=_percent(rate, lang),
                met=_number(row.get("met"), lang),
                kept=agreeing(int(row.get("met") or 0), lang, "tenu", "tenus"),
                judged=_number(judged, lang),
                judged_word=agreeing(judged, lang, "jugé", "jugés"),
                total=_number(row.get("total"), lang),
            )
            # A measured 0 % still shows: a stub, unlike a month with nothing judged.
            h = max(plot_h * float(rate), 1.5)
            body.append(
                f'<rect class="col" x="{_fmt(centre - bar_w / 2)}" y="{_fmt(base - h)}" '
                f'width="{_fmt(bar_w)}" height="{_fmt(h)}"><title>{_e(point)}</title></rect>'
            )
            if band >= 36:
                body.append(
                    f'<text class="value" x="{_fmt(centre)}" y="{_fmt(base - h - 3)}" '
                    f'text-anchor="middle" aria-hidden="true">{_e(_percent(rate, lang))}</text>'
                )
        points.append(point)
    label = words["trend_alt"].format(id=engagement, values=words["list_sep"].join(points))
    return (
        f'<figure><figcaption><span class="code">{_e(engagement)}</span>'
        f"{'' if title is None else ' — ' + _e(title)}</figcaption>"
        + _svg(width, height, label, body, "trend")
        + "</figure>"
    )


def _trend_table(
    engagements: Sequence[str],
    months: Sequence[str],
    by_key: dict[tuple[str, str], dict[str, Any]],
    lang: str,
    ident: str,
) -> str:
    """Rates per engagement and month, with the contacts counted (``·``: none that month)."""
    head = f'<th scope="col">{_e(_HEADERS[lang]["engagement"])}</th>' + "".join(
        f'<th scope="col" class="num">{_e(month_text(m, lang))}</th>' for m in months
    )
    body = []
    for e in engagements:
        cells = [f'<th scope="row"><span class="code">{_e(e)}</span></th>']
        for m in months:
            row = by_key.get((e, m))
            if row is None:
                cells.append('<td class="num none">·</td>')
                continue
            rate = row.get("compliance_rate")
            # The rate's own denominator: pending and exempt timers are not judged.
            judged = sum(int(row.get(s) or 0) for s in ("met", "late", "overdue"))
            cells.append(
                f'<td class="num{" none" if rate is None else ""}">{_e(_percent(rate, lang))}'
                f" <small>n = {_e(_number(judged, lang))}</small></td>"
            )
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<table class="trend-table" id="{ident}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _trend(report: dict[str, Any], lang: str, words: dict[str, str]) -> str:
    engagements, months = _trend_order(report)
    title = f'<section id="trend"><h2>3. {words["s_trend"]}</h2>'
    if not months:
        return f'{title}<p class="note">{words["no_trend"]}</p></section>'
    by_key = {(str(r["engagement"]), str(r["month"])): r for r in report.get("trend") or []}
    titles = {str(e["id"]): e.get("title") for e in report["engagements"]}
    charts = [
        _trend_chart(
            e,
            titles.get(e),
            {m: by_key[(e, m)] for m in months if (e, m) in by_key},
            months,
            lang,
            words,
        )
        for e in engagements
    ]
    # Six months a table: a year in two tables fits an A4 page.
    tables = [
        _trend_table(engagements, months[i : i + 6], by_key, lang, f"trend-table-{i // 6 + 1}")
        for i in range(0, len(months), 6)
    ]
    pivot = f"<h3>{words['s_trend_table']}</h3>" + "".join(tables)
    return title + "".join(charts) + pivot + "</section>"


def _unit_of(unit: Any, amount: float, lang: str, shown: str) -> str:
    """The unit agreeing with ``amount`` (« 1 jour calendaire », « 2 jours… »); else ``shown``."""
    if not isinstance(unit, str):
        return shown
    try:
        return Unit.parse(unit).label(agreeing(amount, lang, 1, 2), lang)
    except DelayError:  # none, or several (an engagement's units), or not a unit at all
        return shown


def _counted(count: int, lang: str, one: str, many: str) -> str:
    """``1 contact``, ``22 délais``: a count with its noun agreeing, no « (s) »."""
    return f"{_number(count, lang)} {agreeing(count, lang, one, many)}"


def _delays_counted(count: int, lang: str, words: dict[str, str]) -> str:
    """``1 délai``, ``678 délais``: the stopped timers a histogram counts, not contacts.

    A contact reopened, or under two engagements, has several.
    """
    return _counted(count, lang, words["delay_count"], words["delays"])


def _histogram(engagement: dict[str, Any], lang: str, words: dict[str, str]) -> str:
    delay = engagement["delay"]
    bins = [(float(b["value"]), int(b["count"])) for b in delay["histogram"]]
    unit = _unit_in(delay.get("unit"), lang) or words["no_unit"]
    median, p90 = delay.get("median"), delay.get("p90")
    width, height = 332, 190
    left, right, top, bottom = 34, 10, 30, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    base = top + plot_h
    lo = min(0.0, *(v for v, _ in bins))
    hi = max(v for v, _ in bins)
    for mark in (median, p90):
        if mark is not None:
            hi = max(hi, float(mark))
    # At least six bins wide, so that a lone bar still reads as a bar.
    span = max(hi + 1 - lo, 6.0)

    def sx(value: float) -> float:
        return left + plot_w * (value - lo) / span

    peak = max(c for _, c in bins)
    step = _nice_step(peak, 4)
    top_count = max(step * math.ceil(peak / step), step)
    body: list[str] = []
    for count in range(0, top_count + 1, step):
        y = base - plot_h * count / top_count
        body.append(
            f'<line class="{"axis" if count == 0 else "grid"}" x1="{left}" '
            f'x2="{width - right}" y1="{_fmt(y)}" y2="{_fmt(y)}"/>'
            f'<text class="tick" x="{left - 5}" y="{_fmt(y + 3.5)}" text-anchor="end">'
            f"{_e(_number(count, lang))}</text>"
        )
    bar_w = max(plot_w / span - 1.5, 1.0)
    for value, count in bins:
        h = plot_h * count / top_count
        tip = words["hist_bar"].format(
            value=f"{_number(value, lang)} {_unit_of(delay.get('unit'), value, lang, unit)}",
            count=_delays_counted(count, lang, words),
        )
        body.append(
            f'<rect class="hist" x="{_fmt(sx(value) + 0.75)}" y="{_fmt(base - h)}" '
            f'width="{_fmt(bar_w)}" height="{_fmt(h)}"><title>{_e(tip)}</title></rect>'
        )
    x_step = _nice_step(span, 8)
    first = math.ceil(lo / x_step) * x_step
    for tick in range(int(first), int(hi) + 1, x_step):
        body.append(
            f'<text class="tick" x="{_fmt(sx(tick + 0.5))}" y="{base + 13}" '
            f'text-anchor="middle">{_e(_number(tick, lang))}</text>'
        )
    body.append(
        f'<text class="tick" x="{_fmt(left + plot_w / 2)}" y="{height - 4}" '
        f'text-anchor="middle">{_e(words["delay"])} ({_e(unit)})</text>'
    )
    marks: list[tuple[str, float, str]] = []
    if median is not None:
        marks.append(("median", float(median), f"{words['median_short']} {_number(median, lang)}"))
    if p90 is not None:
        text = f"{words['p90']} {_number(p90, lang)}"
        if median is not None and float(p90) == float(median):
            text = f"{words['median_short']} = {words['p90']} = {_number(p90, lang)}"
            marks = []
        marks.append(("p90", float(p90), text))
    previous: float | None = None
    for css, value, text in marks:
        x = sx(value + 0.5)
        # Labels above the plot, the second one lower when both would collide.
        y = 10.0 if previous is None or abs(x - previous) > 60 else 22.0
        anchor = "end" if x > width - 70 else "start"
        dx = -3 if anchor == "end" else 3
        if css == "p90" and median is not None and float(value) == float(median):
            body.append(f'<line class="median" x1="{_fmt(x)}" x2="{_fmt(x)}" y1="{_fmt(y + 3)}" '
                        f'y2="{_fmt(base)}"/>')  # fmt: skip
        body.append(
            f'<line class="{css}" x1="{_fmt(x)}" x2="{_fmt(x)}" y1="{_fmt(y + 3)}" '
            f'y2="{_fmt(base)}"/>'
            f'<text class="{css}" x="{_fmt(x + dx)}" y="{_fmt(y)}" text-anchor="{anchor}">'
            f"{_e(text)}</text>"
        )
        if previous is None:
            previous = x
    values = ", ".join(
        words["hist_bar"].format(value=_number(v, lang), count=_delays_counted(c, lang, words))
        for v, c in bins
    )
    label = words["hist_alt"].format(
        id=engagement["id"],
        unit=unit,
        values=values,
        median=_number(median, lang),
        p90=_number(p90, lang),
    )
    # « p90 1 jour calendaire », « p90 12 jours ouvrés »: the unit agrees with the p90 it follows.
    p90_unit = unit if p90 is None else _unit_of(delay.get("unit"), float(p90), lang, unit)
    caption = (
        f'<span class="code">{_e(engagement["id"])}</span> <span class="muted">— '
        f"{_e(words['median'])} {_e(_number(median, lang))}, {_e(words['p90'])} "
        f"{_e(_number(p90, lang))} {_e(p90_unit)} "
        f"({_e(_delays_counted(int(delay.get('count') or 0), lang, words))})</span>"
    )
    return (
        f"<figure><figcaption>{caption}</figcaption>"
        + _svg(width, height, label, body, "histogram")
        + "</figure>"
    )


def _delays(report: dict[str, Any], lang: str, words: dict[str, str]) -> str:
    measured = [e for e in report["engagements"] if (e.get("delay") or {}).get("histogram")]
    others = [e for e in report["engagements"] if (e.get("total") or 0) > 0 and e not in measured]
    parts = [f'<section id="delays"><h2>4. {words["s_delays"]}</h2>']
    if measured:
        parts.append('<div class="hists">')
        parts.extend(_histogram(e, lang, words) for e in measured)
        parts.append("</div>")
    else:
        parts.append(f'<p class="note">{words["no_delays"]}</p>')
    if others:
        ids = ", ".join(f'<span class="code">{_e(e["id"])}</span>' for e in others)
        parts.append(f'<p class="note">{words["without_delays"].format(ids=ids)}</p>')
    parts.append("</section>")
    return "".join(parts)


def _breaches(report: dict[str, Any], lang: str, words: dict[str, str]) -> str:
    breaches = report.get("breaches") or []
    names = _HEADERS[lang]
    parts = [f'<section id="breaches-section"><h2>5. {words["s_breaches"]}</h2>']
    if not breaches:
        parts.append(f'<p class="note">{words["no_breaches"]}</p></section>')
        return "".join(parts)
    # An obligation's breach is a site's or the service's period, not a contact;
    # one whose period ended without what was owed is « non tenu », not « en retard ».
    obligations = obligation_ids(report)
    unkept = {id(b) for b in not_kept(report)}
    summaries = []
    for key, of_obligations in (("breach_summary", False), ("obligation_summary", True)):
        chosen = [b for b in breaches if (b.get("engagement") in obligations) == of_obligations]
        if chosen:
            # Timers, for so many distinct contacts (a reopened one may miss two).
            contacts = len({b.get("contact_id") for b in chosen})
            missed = sum(id(b) in unkept for b in chosen)
            late = sum(b.get("state") == "late" for b in chosen) - missed
            summaries.append(
                words[key].format(
                    total=_e(_number(len(chosen), lang)),
                    delays=agreeing(
                        len(chosen), lang, words["missed_delay"], words["missed_delays"]
                    ),
                    contacts=_e(_counted(contacts, lang, words["contact"], words["contacts"])),
                    obligations=agreeing(len(chosen), lang, "obligation", "obligations"),
                    late=_e(_number(late, lang)),
                    overdue=_e(_number(sum(b.get("state") == "overdue" for b in chosen), lang)),
                    not_kept=_e(_number(missed, lang)),
                    not_kept_word=agreeing(missed, lang, words["not_kept"], words["not_kept_many"]),
                )
            )
    parts.append(f'<p class="note">{" ".join(summaries)} {words["breaches_privacy"]}</p>')
    any_obligation = any(b.get("engagement") in obligations for b in breaches)
    subject = "subject_id" if any_obligation else "contact_id"
    columns = [
        (names["engagement"], False),
        (words[subject], False),
        # An obligation's breach names its period (2025-09-02, 2025-W37, 2025-2026), as
        # explain-obligation --period takes it: its cycle is an internal number.
        (words["cycle_or_period" if any_obligation else "cycle"], not any_obligation),
        (words["state"], False),
        (words["due_date"], False),
        (words["stopped_at"], False),
    ]
    head = "".join(_th(name, numeric=numeric) for name, numeric in columns)
    rows = []
    for b in breaches:
        state = b.get("state")
        state_text = names.get(state, state) if isinstance(state, str) else state
        if id(b) in unkept:
            state_text = NOT_KEPT[lang]
        stopped = b.get("stopped_at")
        stopped_cell = (
            "—"
            if stopped is None
            else f'<time datetime="{_e(stopped)}">{_e(short_instant_text(stopped, lang))}</time>'
        )
        due = b.get("due_date")
        due_cell = (
            "—" if due is None else f'<time datetime="{_e(due)}">{_e(day_text(due, lang))}</time>'
        )
        period = b.get("period")
        when = (
            # A number, not a quantity: as it is; aligned as the column's other cells.
            f'<td class="{"nowrap" if any_obligation else "num"}">{_e(b.get("cycle"))}</td>'
            if period is None
            else f'<td class="nowrap"><span class="code">{_e(period)}</span></td>'
        )
        rows.append(
            f'<tr><td><span class="code">{_e(b.get("engagement"))}</span></td>'
            f'<td><span class="code">{_e(b.get("contact_id"))}</span></td>'
            f"{when}"
            f'<td class="nowrap">{_e(state_text)}</td>'
            f'<td class="nowrap">{due_cell}</td>'
            f'<td class="nowrap">{stopped_cell}</td></tr>'
        )
    parts.append(
        f'<table id="breaches"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )
    return "".join(parts)


def render_html(report: dict[str, Any]) -> str:
    """The review as one self-contained HTML document, in the report's language."""
    lang = str(report.get("lang")) if report.get("lang") in _LABELS else "fr"
    words = _LABELS[lang]
    catalogue = report.get("catalogue") or {}
    title = f"{words['title']} — {catalogue.get('title') or catalogue.get('id') or ''}"
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="referrer" content="no-referrer">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light">'
        f"<title>{_e(title.rstrip(' —'))}</title>"
        f"<style>{_CSS}</style></head>\n"
        '<body><div class="sheet">'
        + _header(report, lang, words)
        + "<main>"
        + _tables(report, lang, words)
        + _compliance(report, lang, words)
        + _trend(report, lang, words)
        + _delays(report, lang, words)
        + _breaches(report, lang, words)
        + "</main>"
        f'<footer class="doc">{_e(words["title"])} · {_e(report.get("generated_by"))} · '
        f"format {_e(report.get('format'))}</footer>"
        "</div></body></html>\n"
    )
