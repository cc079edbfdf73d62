"""Pages of scorecards: standings, a vendor's scorecard, drill-down to evidence, comparison,
templates, custom KPIs, disputes, alerts and webhooks. Thin: builders read stored values
(scorecard.py, provenance.py), services change state, every query goes through visible_to."""

from __future__ import annotations

import html
from decimal import ROUND_HALF_UP, Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from partnerscope.metrics import charts, exports, periods, services
from partnerscope.metrics.kpis import CUSTOM_PREFIX, catalogue
from partnerscope.metrics.measures import ALL_MEASURE_NAMES, MEASURES, PYTHON_MEASURES
from partnerscope.metrics.models import (
    Alert,
    Dispute,
    KpiDefinition,
    MetricsRun,
    MetricValue,
    Score,
    ScorecardTemplate,
    WebhookEndpoint,
)
from partnerscope.metrics.provenance import evidence_for
from partnerscope.metrics.scorecard import build_comparison, build_scorecard, latest_period
from partnerscope.orgs.permissions import requires
from partnerscope.orgs.roles import Perm
from partnerscope.vendors.models import Vendor
from partnerscope.web.crud import apply_errors, form_page

SECTION = "scorecards"


def _period(request, organization_id):
    kind = request.GET.get("kind") if request.GET.get("kind") in periods.KINDS else periods.QUARTER
    try:
        start = periods.parse(kind, request.GET["period"]) if request.GET.get("period") else None
    except ValueError as exc:
        return kind, None, str(exc)
    return kind, start or latest_period(organization_id, kind), ""


def _template(request, membership):
    """The template asked for (or the default) and all of them, for the selector: one query."""
    templates = list(ScorecardTemplate.objects.visible_to(membership).order_by("-is_default", "id"))
    uid = request.GET.get("template")
    template = next((t for t in templates if t.uid == uid), None) if uid else next(iter(templates), None)
    return template, templates


@requires(Perm.VIEW)
def standings(request, org_slug):
    m = request.membership
    kind, start, error = _period(request, m.organization_id)
    template, templates = _template(request, m)
    if error:
        start = latest_period(m.organization_id, kind)
    vendors = list(Vendor.objects.visible_to(m).order_by("name"))
    scores = {}
    if template is not None:
        scores = {
            s.vendor_key: s
            for s in Score.objects.visible_to(m).filter(
                template=template, engagement_key=0, period_kind=kind, period_start=start
            )
        }
    rows = [(v, scores.get(v.id)) for v in vendors]
    rows.sort(
        key=lambda r: (r[1] is None or r[1].score is None, -(r[1].score or 0) if r[1] else 0, r[0].name)
    )
    context = {
        "section": SECTION, "rows": rows, "template": template, "templates": templates, "kind": kind,
        "start": start, "label": periods.label(kind, start), "error": error,
        "previous": periods.label(kind, periods.previous_start(kind, start)),
        "next": periods.label(kind, periods.next_start(kind, start)),
        "runs": MetricsRun.objects.visible_to(m)[:1] if m.has_perm(Perm.VIEW_INTERNAL) else [],
    }  # fmt: skip
    return render(request, "metrics/standings.html", context)


@requires(Perm.VIEW)
def scorecard(request, org_slug, uid):
    m = request.membership
    vendor = Vendor.objects.get_visible_or_404(m, uid=uid)
    kind, start, error = _period(request, m.organization_id)
    if error:
        messages.error(request, error)
        start = latest_period(m.organization_id, kind)
    template, templates = _template(request, m)
    if template is None:
        raise Http404("No scorecard template yet.")
    engagements = (
        vendor.engagements.all() if not m.is_vendor else vendor.engagements.filter(vendor_id=m.vendor_id)
    )
    # vendor_id too: the related manager reads it on every row to attach the vendor, and a
    # deferred vendor_id was a query per engagement.
    engagements = list(engagements.order_by("name").only("id", "uid", "name", "vendor_id"))
    engagement = next((e for e in engagements if e.uid == request.GET.get("engagement")), None)
    card = build_scorecard(m, template, vendor.id, kind, start, engagement.id if engagement else 0)
    for row in card.rows:
        row.chart = charts.register(
            m.organization_id, vendor.id,
            charts.trend_spec(row.trend, unit=row.kpi.unit, band=(row.result.criterion.threshold,)),
        )  # fmt: skip
    score_chart = charts.register(
        m.organization_id, vendor.id, charts.trend_spec(card.score_trend, unit="score", width=420, height=90)
    )
    context = {
        "section": SECTION, "vendor": vendor, "card": card, "score_chart": score_chart,
        "rows": _scorecard_rows(card, org_slug),
        "templates": templates, "engagements": engagements, "engagement": engagement, "kind": kind,
        "previous": periods.label(kind, periods.previous_start(kind, start)),
        "next": periods.label(kind, periods.next_start(kind, start)),
        "query": request.GET.urlencode(),
    }  # fmt: skip
    return render(request, "metrics/scorecard.html", context)


@requires(Perm.VIEW)
def chart(request, org_slug, key):
    """A chart a page registered, as an SVG image; 404 for anyone who may not see that page."""
    rendered = charts.registered_svg(request.membership, key)
    if rendered is None:
        raise Http404("No such chart.")
    response = HttpResponse(rendered, content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=86400"
    # Opened on its own, an SVG is a document: it may show, never run anything.
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


@requires(Perm.VIEW)
def scorecard_export(request, org_slug, uid, fmt):
    m = request.membership
    vendor = Vendor.objects.get_visible_or_404(m, uid=uid)
    if fmt not in ("csv", "xlsx"):
        raise Http404("Exports are CSV or XLSX.")
    kind, start, error = _period(request, m.organization_id)
    if error:
        return HttpResponse(error, status=400, content_type="text/plain")
    template, _ = _template(request, m)
    if template is None:
        raise Http404("No scorecard template yet.")
    card = build_scorecard(m, template, vendor.id, kind, start)
    filename = f"scorecard-{vendor.name}-{card.label}".replace(" ", "-").lower()
    if fmt == "csv":
        response = HttpResponse(exports.scorecard_csv(vendor, card), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
        return response
    response = HttpResponse(
        exports.scorecard_xlsx(vendor, card),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response


class DisputeForm(forms.Form):
    comment = forms.CharField(
        widget=forms.Textarea, max_length=5000, help_text="What is wrong with this value?"
    )


class ResolveForm(forms.Form):
    decision = forms.ChoiceField(choices=[("upheld", "Uphold"), ("rejected", "Reject")])
    outcome = forms.ChoiceField(
        choices=[("", "—"), ("annotate", "Annotate the value"), ("exclude", "Leave it out of the score")],
        required=False,
        help_text="When upheld",
    )
    reason = forms.CharField(widget=forms.Textarea, max_length=5000, help_text="The vendor reads this")


@requires(Perm.VIEW)
def metric_value(request, org_slug, uid):
    m = request.membership
    value = MetricValue.objects.select_related("vendor", "engagement").get_visible_or_404(m, uid=uid)
    kpis = catalogue(m.organization_id)
    kpi = kpis.get(value.kpi) or _historic_kpi(m, value)
    provenance = evidence_for(value, kpi) if kpi is not None else None
    context = {
        "section": SECTION, "value": value, "kpi": kpi, "provenance": provenance,
        "label": periods.label(value.period_kind, value.period_start),
        "shown": kpi.display(value.value) if kpi is not None else value.value,
        "disputes": Dispute.objects.visible_to(m).filter(value=value).select_related("opened_by", "resolved_by"),
        "dispute_form": DisputeForm(), "resolve_form": ResolveForm(),
        "can_dispute": (m.is_vendor and value.vendor_id == m.vendor_id) or m.has_perm(Perm.EDIT),
    }  # fmt: skip
    return render(request, "metrics/value.html", context)


def _historic_kpi(membership, value):
    if not value.kpi.startswith(CUSTOM_PREFIX):
        return None
    definition = (
        KpiDefinition.objects.visible_to(membership)
        .filter(key=value.kpi.removeprefix(CUSTOM_PREFIX), version=value.version)
        .first()
    )
    from partnerscope.metrics.kpis import custom_kpi

    return custom_kpi(definition) if definition else None


@requires(Perm.VIEW)
@require_POST
def dispute_open(request, org_slug, uid):
    m = request.membership
    value = MetricValue.objects.get_visible_or_404(m, uid=uid)
    form = DisputeForm(request.POST)
    if form.is_valid():
        try:
            services.open_dispute(membership=m, value=value, comment=form.cleaned_data["comment"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Dispute opened. The client will resolve it.")
    else:
        messages.error(request, "Say what is wrong with this value.")
    return redirect("metric_value", org_slug=org_slug, uid=value.uid)


@requires(Perm.VIEW)
def dispute_list(request, org_slug):
    m = request.membership
    rows = Dispute.objects.visible_to(m).select_related("value__vendor", "opened_by")
    status = request.GET.get("status")
    if status in Dispute.Status.values:
        rows = rows.filter(status=status)
    kpis = catalogue(m.organization_id)
    return render(
        request,
        "metrics/disputes.html",
        {"section": SECTION, "rows": rows[:500], "kpis": kpis, "status": status},
    )


@requires(Perm.EDIT)
def dispute_resolve(request, org_slug, uid):
    m = request.membership
    dispute = Dispute.objects.select_related("value").get_visible_or_404(m, uid=uid)
    form = ResolveForm(request.POST or None)

    def save():
        return services.resolve_dispute(membership=m, dispute=dispute, **form.cleaned_data)

    return form_page(
        request, form, title=f"Resolve the dispute of {dispute.value.kpi} ({dispute.value.period_start})",
        save=save, success_url=lambda d: reverse("metric_value", args=[org_slug, d.value.uid]),
        cancel_url=reverse("metric_value", args=[org_slug, dispute.value.uid]), section=SECTION,
        intro=f"“{dispute.comment}”", submit_label="Resolve", success_message="Dispute resolved.",
    )  # fmt: skip


@requires(Perm.VIEW_INTERNAL)
def compare(request, org_slug):
    m = request.membership
    kind, start, error = _period(request, m.organization_id)
    if error:
        messages.error(request, error)
        start = latest_period(m.organization_id, kind)
    kpis = catalogue(m.organization_id)
    chosen = [k for k in request.GET.getlist("kpi") if k in kpis] or [
        "change_failure_rate", "lead_time", "review_discipline", "revert_rate", "merged_prs_per_fte",
        "changed_lines_per_fte",
    ]  # fmt: skip
    vendors = list(Vendor.objects.visible_to(m).order_by("name").values_list("id", "name"))
    comparison = build_comparison(m, kind, start, vendors, chosen, kpis)
    charts_svg = []  # (KPI, chart key) for the KPIs any vendor has a value of
    for kpi in comparison.kpis:
        points = [
            {"name": name, "value": cell.shown, "low": cell.low if cell.low is not None else cell.shown,
             "high": cell.high if cell.high is not None else cell.shown}
            for key, name in comparison.columns
            if (cell := comparison.cells.get((kpi.key, key))) is not None and cell.shown is not None
        ]  # fmt: skip
        if points:
            spec = charts.bars_spec(points, unit=kpi.unit)
            charts_svg.append((kpi, charts.register(m.organization_id, charts.CLIENT_ONLY, spec)))
    context = {
        "section": SECTION, "comparison": comparison, "charts": charts_svg,
        "rows": _comparison_rows(comparison, org_slug), "kinds": periods.KINDS, "kind": kind,
        "label": periods.label(kind, start), "kpi_options": _kpi_options(kpis, chosen),
    }  # fmt: skip
    return render(request, "metrics/compare.html", context)


def _number(value: float, places: int) -> str:
    """As the floatformat filter writes it (half up), without its cost per call."""
    return str(Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP))


def _trimmed(value: float) -> str:
    """floatformat:-2: two decimals, none for a whole number."""
    return str(int(value)) if float(value).is_integer() else _number(value, 2)


def _scorecard_rows(card, org_slug: str) -> list[str]:
    """Each criterion's row as HTML, built here for the reason the comparison's cells are: per
    cell template tags, filters and URL reversals were most of the page's rendering time.
    Everything from the user (labels, notes, reasons, units) is escaped."""
    value_url = reverse("metric_value", args=[org_slug, "uid"]).removesuffix("uid/")
    chart_url = reverse("chart", args=[org_slug, "key"]).removesuffix("key.svg")
    rows = []
    for row in card.rows:
        result, kpi, value = row.result, row.kpi, row.value
        criterion = result.criterion
        name = escape(criterion.label or kpi.name)
        head = f'<strong>{name}</strong><div class="help">{escape(kpi.description)}</div>'
        if value and value.annotation:
            head += f'<div class="help">Note: {escape(value.annotation)}</div>'
        if row.open_disputes:
            head += '<span class="badge warn">disputed</span>'
        unit = escape(kpi.unit)
        if value:
            shown = _number(result.shown, 2) if result.shown is not None else "no data"
            cell = (f'<a href="{value_url}{value.uid}/" data-testid="value-{escape(kpi.key)}">{shown}</a> '
                    f'<span class="muted">{unit}</span>')  # fmt: skip
        else:
            cell = '<span class="muted">no data</span>'
        interval = (
            f"{round(value.ci_low * 100)}–{round(value.ci_high * 100)} %"
            if value and value.ci_low is not None
            else "—"
        )
        if result.included:
            points = _number(result.points, 0)
        else:
            reason = escape(result.reason)
            points = f'<span class="muted" title="{reason}">{reason}</span>'
        rows.append(mark_safe(  # noqa: S308 - every text above is escaped; numbers are formatted here
            f"<tr><td>{head}</td><td class=\"num\">{cell}</td><td class=\"num\">{value.sample if value else 0}</td>"
            f"<td>{interval}</td><td class=\"num\">{_trimmed(criterion.target)}</td>"
            f"<td class=\"num\">{_trimmed(criterion.threshold)}</td><td class=\"num\">{criterion.weight}</td>"
            f"<td class=\"num\">{points}</td><td><img class=\"chart\" src=\"{chart_url}{row.chart}.svg\" "
            f"alt=\"{escape(kpi.name)} over the last 12 periods\" loading=\"lazy\"></td></tr>"
        ))  # fmt: skip
    return rows


NO_DATA_CELL = '<td class="num"><span class="muted">no data</span></td>'


def _comparison_rows(comparison, org_slug: str) -> str:
    """The table's rows, one per vendor (and the baseline), one cell per KPI, as HTML built here:
    a page of sixty vendors holds hundreds of cells, and per-cell template tags, URL reversals
    and escaping were most of its cost. Vendor names are escaped (the standard library's escape:
    Django's wraps it in a lazy-aware SafeString per call), the whole marked safe once."""
    value_url = reverse("metric_value", args=[org_slug, "uid"]).removesuffix("uid/")
    rows = []
    for key, name in comparison.columns:
        cells = []
        for kpi in comparison.kpis:
            cell = comparison.cells.get((kpi.key, key))
            if cell is None or cell.shown is None:
                cells.append(NO_DATA_CELL)
                continue
            note = f"n = {cell.sample}"
            if cell.status == MetricValue.Status.INSUFFICIENT:
                note += ", not enough data"
            interval = (
                f'<div class="help">{cell.low:.1f}–{cell.high:.1f}</div>' if cell.low is not None else ""
            )
            # Nothing here needs escaping: numbers formatted just above and an alphanumeric uid.
            cells.append(
                f'<td class="num"><a href="{value_url}{cell.uid}/">{cell.shown:.2f}</a>{interval}'
                f'<div class="help">{note}</div></td>'
            )
        fte = comparison.fte.get(key)
        opening = '<tr class="baseline">' if key == 0 else "<tr>"
        shown_fte = f"{fte:.1f}" if fte else "—"
        rows.append(
            f'{opening}<td><strong>{html.escape(name)}</strong></td><td class="num muted">{shown_fte}</td>'
            + "".join(cells)
            + "</tr>\n"
        )
    return mark_safe("".join(rows))  # noqa: S308 - names escaped, each cell safe (see above)


def _kpi_options(kpis: dict, chosen: list[str]) -> str:
    """The KPI picker's options (every KPI of the catalogue), escaped, as one string."""
    return mark_safe(  # noqa: S308 - keys and names escaped
        "".join(
            f'<option value="{html.escape(k.key)}"{" selected" if k.key in chosen else ""}>{html.escape(k.name)}</option>'
            for k in kpis.values()
        )
    )


@requires(Perm.VIEW)
def kpi_list(request, org_slug):
    m = request.membership
    history = KpiDefinition.objects.visible_to(m).order_by("key", "-version")
    measures = [(n, MEASURES[n].label if n in MEASURES else PYTHON_MEASURES[n].label,
                 MEASURES[n].description if n in MEASURES else PYTHON_MEASURES[n].description)
                for n in ALL_MEASURE_NAMES]  # fmt: skip
    context = {
        "section": SECTION,
        "kpis": catalogue(m.organization_id).values(),
        "history": history,
        "measures": measures,
    }
    return render(request, "metrics/kpis.html", context)


class KpiForm(forms.Form):
    key = forms.SlugField(
        max_length=60, help_text="Letters, digits and underscores; a new version if it exists"
    )
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=KpiDefinition.Kind.choices)
    formula = forms.CharField(
        max_length=500, required=False, help_text="Ratios: e.g. reverted_prs / merged_prs"
    )
    numerator = forms.ChoiceField(choices=[("", "—")] + [(n, n) for n in ALL_MEASURE_NAMES], required=False)
    denominator = forms.ChoiceField(choices=[("", "—")] + [(n, n) for n in ALL_MEASURE_NAMES], required=False)
    sample_measure = forms.ChoiceField(
        choices=[("", "—")] + [(n, n) for n in ALL_MEASURE_NAMES], required=False
    )
    min_sample = forms.IntegerField(min_value=1, max_value=100000, initial=5)
    direction = forms.TypedChoiceField(choices=[(1, "Higher is better"), (-1, "Lower is better")], coerce=int)
    unit = forms.CharField(max_length=30, required=False)
    description = forms.CharField(widget=forms.Textarea, required=False)


@requires(Perm.EDIT)
def kpi_create(request, org_slug):
    m = request.membership
    form = KpiForm(request.POST or None)
    return form_page(
        request, form, title="Custom KPI", save=lambda: services.save_custom_kpi(membership=m, **form.cleaned_data),
        success_url=lambda d: reverse("kpi_list", args=[org_slug]), cancel_url=reverse("kpi_list", args=[org_slug]),
        section=SECTION, success_message="KPI saved; values appear after the next recompute.",
        intro="A formula over named measures (see the list on the KPI page): + − × ÷ %, ^, comparisons, "
        "and/or/not, min, max, abs, round, if(condition, then, else). Division by zero gives no data.",
    )  # fmt: skip


class TemplateForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(widget=forms.Textarea, required=False)
    bands = forms.CharField(
        initial="Excellent 85, Good 70, Watch 50, At risk 0",
        help_text="Standing bands, highest first: a name and the lowest score it takes. The top band includes 100.",
    )
    criteria = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text="One criterion a line: kpi, direction (1 or -1), target, threshold, weight. Weights add up to 100.",
    )
    is_default = forms.BooleanField(required=False, label="Default template")


def _criteria_text(template) -> str:
    return "\n".join(
        f"{c.kpi}, {c.direction}, {c.target:g}, {c.threshold:g}, {c.weight}" for c in template.criteria.all()
    )


def _parse_criteria(text: str) -> list[dict]:
    rows = []
    for number, line in enumerate([x for x in text.splitlines() if x.strip()], start=1):
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != 5:
            raise ValidationError(
                {"criteria": f"Line {number}: write kpi, direction, target, threshold, weight."}
            )
        rows.append(dict(zip(["kpi", "direction", "target", "threshold", "weight"], parts, strict=True)))
    return rows


@requires(Perm.VIEW_INTERNAL)
def template_list(request, org_slug):
    m = request.membership
    templates = ScorecardTemplate.objects.visible_to(m).prefetch_related("criteria")
    return render(
        request,
        "metrics/templates.html",
        {"section": SECTION, "templates": templates, "kpis": catalogue(m.organization_id)},
    )


@requires(Perm.EDIT)
def template_edit(request, org_slug, uid=None):
    m = request.membership
    template = ScorecardTemplate.objects.get_visible_or_404(m, uid=uid) if uid else None
    initial = {}
    if template is not None:
        initial = {
            "name": template.name, "description": template.description, "is_default": template.is_default,
            "bands": ", ".join(f"{b['name']} {b['min']:g}" for b in template.bands), "criteria": _criteria_text(template),
        }  # fmt: skip
    form = TemplateForm(request.POST or None, initial=initial)

    def save():
        data = form.cleaned_data
        return services.save_template(
            membership=m, template=template, name=data["name"], description=data["description"],
            bands=services.parse_bands(data["bands"]), criteria=_parse_criteria(data["criteria"]),
            is_default=data["is_default"],
        )  # fmt: skip

    return form_page(
        request, form, title=f"Edit {template}" if template else "New scorecard template", save=save,
        success_url=lambda t: reverse("template_list", args=[org_slug]),
        cancel_url=reverse("template_list", args=[org_slug]), section=SECTION,
        intro="KPIs: " + ", ".join(sorted(catalogue(m.organization_id))),
    )  # fmt: skip


@requires(Perm.VIEW_INTERNAL)
def alert_list(request, org_slug):
    m = request.membership
    alerts = Alert.objects.visible_to(m).select_related("vendor").prefetch_related("deliveries")[:200]
    hooks = WebhookEndpoint.objects.visible_to(m)
    return render(request, "metrics/alerts.html", {"section": SECTION, "alerts": alerts, "hooks": hooks})


class WebhookForm(forms.Form):
    name = forms.CharField(max_length=100)
    url = forms.URLField(max_length=500, help_text="Receives a signed POST for each alert")
    allow_private_host = forms.BooleanField(
        required=False, help_text="Owners only: a receiver inside your network"
    )


@requires(Perm.EDIT)
def webhook_create(request, org_slug):
    m = request.membership
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            hook, secret = services.create_webhook(membership=m, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return render(
                request, "metrics/webhook_secret.html", {"section": SECTION, "hook": hook, "secret": secret}
            )
    context = {
        "form": form, "title": "New webhook", "cancel_url": reverse("alert_list", args=[org_slug]),
        "section": SECTION, "submit_label": "Create",
        "intro": "Each alert is POSTed as JSON, signed: X-Partnerscope-Signature: sha256=HMAC-SHA256(secret, body).",
    }  # fmt: skip
    return render(request, "web/form_page.html", context, status=400 if request.method == "POST" else 200)


@requires(Perm.EDIT)
@require_POST
def webhook_delete(request, org_slug, uid):
    m = request.membership
    hook = WebhookEndpoint.objects.get_visible_or_404(m, uid=uid)
    services.delete_webhook(membership=m, hook=hook)
    messages.success(request, f"Webhook “{hook.name}” deleted.")
    return redirect("alert_list", org_slug=org_slug)


@requires(Perm.EDIT)
@require_POST
def metrics_recompute(request, org_slug):
    try:
        services.start_recompute(membership=request.membership, full=True)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Recompute queued.")
    return redirect("standings", org_slug=org_slug)


@requires(Perm.VIEW_INTERNAL)
def metrics_run_progress(request, org_slug, uid):
    run = MetricsRun.objects.get_visible_or_404(request.membership, uid=uid)
    return render(request, "metrics/_run_progress.html", {"run": run})
