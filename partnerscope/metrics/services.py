"""State changes of the metrics app: recomputes, templates, custom KPIs, disputes, webhooks.

Views and API handlers call these; each checks the permission, validates with messages that
name the field, writes in one transaction and leaves an audit event.
"""

from __future__ import annotations

import os
import secrets
import socket

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from partnerscope.evidence.connectors.secrets import encrypt_token
from partnerscope.evidence.connectors.urlguard import UnsafeURL, check_url
from partnerscope.evidence.runs import fail_abandoned
from partnerscope.metrics import engine
from partnerscope.metrics.expressions import ExpressionError, parse
from partnerscope.metrics.kpis import BUILTIN, FORMULA_NAMES, catalogue
from partnerscope.metrics.measures import ALL_MEASURE_NAMES, Scope
from partnerscope.metrics.models import (
    Criterion,
    Dispute,
    KpiDefinition,
    MetricsRun,
    MetricValue,
    ScorecardTemplate,
    WebhookEndpoint,
)
from partnerscope.metrics.scoring import rescore
from partnerscope.orgs import audit
from partnerscope.orgs.permissions import check_perm
from partnerscope.orgs.roles import Perm

# --- recompute ------------------------------------------------------------------------------


def start_recompute(
    *, membership, full: bool = True, enqueue: bool = True, claim: bool = False
) -> MetricsRun:
    from partnerscope.metrics.tasks import recompute_metrics

    check_perm(membership, Perm.EDIT)
    with transaction.atomic():
        active = MetricsRun.objects.filter(
            organization_id=membership.organization_id,
            status__in=[MetricsRun.Status.QUEUED, MetricsRun.Status.RUNNING],
        )
        fail_abandoned(active, "Interrupted: the process running it stopped.")
        if full and active.filter(full=True).exists():
            raise ValidationError("A full recompute is already queued or running.")
        run = MetricsRun.objects.create(
            organization_id=membership.organization_id,
            requested_by=membership.user,
            full=full,
            worker_host=socket.gethostname() if claim else "",
            worker_pid=os.getpid() if claim else None,
        )
        audit.record(
            actor=membership.user,
            organization=membership.organization,
            action="partnerscope.metricsrun.created",
            obj=run,
        )
        if enqueue:
            transaction.on_commit(lambda: recompute_metrics.enqueue(run.id))
    return run


def run_recompute(run: MetricsRun, progress=None) -> MetricsRun:
    """Run a queued recompute here, reporting progress on the run row (and to ``progress``)."""
    run.status, run.started_at = MetricsRun.Status.RUNNING, timezone.now()
    if not run.worker_host:
        run.worker_host, run.worker_pid = socket.gethostname(), os.getpid()
    run.save(update_fields=["status", "started_at", "worker_host", "worker_pid", "updated_at"])

    def report(phase: str, done: int, total: int) -> None:
        MetricsRun.objects.filter(pk=run.pk).update(
            phase=phase[:60], progress_done=done, progress_total=total, updated_at=timezone.now()
        )
        if progress is not None:
            progress(phase, done, total)

    try:
        if run.full:
            result = engine.full_recompute(run.organization_id, report)
        else:
            result = engine.recompute_dirty(run.organization_id, report)
    except Exception as exc:  # a task must end with its reason on the run, never silently
        run.status, run.message = MetricsRun.Status.FAILED, f"The recompute failed: {exc}"
    else:
        run.status = MetricsRun.Status.SUCCEEDED
        run.cells = result.cells
        run.message = (
            f"{result.values} values in {result.cells} cells, {result.scores} scores, {result.alerts} new alerts."
            if result.cells
            else "Nothing to recompute."
        )
    run.finished_at, run.phase = timezone.now(), "Done"
    run.save()
    return run


# --- scorecard templates ------------------------------------------------------------------


def validate_bands(bands) -> list[dict]:
    if not isinstance(bands, list) or not bands:
        raise ValidationError({"bands": "Give at least one standing band."})
    clean, names = [], set()
    for index, band in enumerate(bands, start=1):
        if not isinstance(band, dict) or not str(band.get("name", "")).strip():
            raise ValidationError({"bands": f"Band {index}: a name is required."})
        name = str(band["name"]).strip()[:40]
        try:
            minimum = float(band.get("min"))
        except (TypeError, ValueError):
            raise ValidationError(
                {"bands": f"Band {index} ({name}): the minimum score must be a number."}
            ) from None
        if not 0 <= minimum <= 100:
            raise ValidationError({"bands": f"Band {index} ({name}): the minimum must be between 0 and 100."})
        if name.lower() in names:
            raise ValidationError({"bands": f"Band {index}: the name {name!r} is used twice."})
        names.add(name.lower())
        clean.append({"name": name, "min": minimum})
    clean.sort(key=lambda b: -b["min"])
    if len({b["min"] for b in clean}) != len(clean):
        raise ValidationError({"bands": "Two bands start at the same score."})
    if clean[-1]["min"] != 0:
        raise ValidationError({"bands": "The lowest band must start at 0, so every score has a standing."})
    return clean


def parse_bands(text: str) -> list[dict]:
    """'Excellent 85, Good 70, Watch 50, At risk 0' -> bands."""
    bands = []
    for index, part in enumerate(
        [p.strip() for p in (text or "").replace("\n", ",").split(",") if p.strip()], 1
    ):
        name, _, minimum = part.rpartition(" ")
        if not name.strip():
            raise ValidationError(
                {"bands": f"Band {index} ({part!r}): write a name and its minimum score, e.g. 'Good 70'."}
            )
        bands.append({"name": name.strip(), "min": minimum})
    return validate_bands(bands)


def validate_criteria(organization_id: int, criteria: list[dict]) -> list[dict]:
    kpis = catalogue(organization_id)
    if not criteria:
        raise ValidationError({"criteria": "A scorecard needs at least one criterion."})
    clean, total = [], 0
    for index, row in enumerate(criteria, start=1):
        where = f"Criterion {index}"
        kpi = row.get("kpi")
        if kpi not in kpis:
            raise ValidationError({"criteria": f"{where}: unknown KPI {kpi!r}."})
        try:
            direction = int(row.get("direction") or kpis[kpi].direction)
            target, threshold = float(row["target"]), float(row["threshold"])
            weight = int(row["weight"])
        except (KeyError, TypeError, ValueError):
            raise ValidationError(
                {"criteria": f"{where} ({kpis[kpi].name}): target, threshold and weight must be numbers."}
            ) from None
        if direction not in (1, -1):
            raise ValidationError({"criteria": f"{where}: direction must be 1 (higher is better) or -1."})
        if not 1 <= weight <= 100:
            raise ValidationError({"criteria": f"{where} ({kpis[kpi].name}): the weight must be 1 to 100."})
        if (direction > 0 and target <= threshold) or (direction < 0 and target >= threshold):
            better = "above" if direction > 0 else "below"
            raise ValidationError(
                {
                    "criteria": f"{where} ({kpis[kpi].name}): the target must be {better} the threshold for this direction."
                }
            )
        total += weight
        clean.append(
            {"kpi": kpi, "label": str(row.get("label") or "")[:120], "direction": direction, "target": target,
             "threshold": threshold, "weight": weight}
        )  # fmt: skip
    if total != 100:
        raise ValidationError({"criteria": f"The weights add up to {total}; they must add up to 100."})
    if len({c["kpi"] for c in clean}) != len(clean):
        raise ValidationError({"criteria": "A KPI appears twice; each criterion scores a different KPI."})
    return clean


def save_template(*, membership, template: ScorecardTemplate | None, name: str, description: str, bands,
                  criteria: list[dict], is_default: bool = False) -> ScorecardTemplate:  # fmt: skip
    check_perm(membership, Perm.EDIT)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "A name is required."})
    bands = validate_bands(bands)
    criteria = validate_criteria(membership.organization_id, criteria)
    with transaction.atomic():
        clash = ScorecardTemplate.objects.filter(organization_id=membership.organization_id, name=name)
        if template is not None:
            clash = clash.exclude(pk=template.pk)
        if clash.exists():
            raise ValidationError({"name": "Another template has this name."})
        before = audit.snapshot(template) if template else None
        before_criteria = (
            list(template.criteria.values("kpi", "direction", "target", "threshold", "weight"))
            if template
            else None
        )
        if template is None:
            template = ScorecardTemplate(organization_id=membership.organization_id)
        template.name, template.description, template.bands = name, description or "", bands
        if is_default:
            ScorecardTemplate.objects.filter(organization_id=membership.organization_id).update(
                is_default=False
            )
        template.is_default = (
            is_default
            or not ScorecardTemplate.objects.filter(
                organization_id=membership.organization_id, is_default=True
            )
            .exclude(pk=template.pk)
            .exists()
        )
        template.save()
        template.criteria.all().delete()
        Criterion.objects.bulk_create(
            [
                Criterion(organization_id=template.organization_id, template=template, position=i, **c)
                for i, c in enumerate(criteria)
            ]
        )
        audit.record(
            actor=membership.user, organization=membership.organization,
            action=f"partnerscope.scorecardtemplate.{'updated' if before else 'created'}", obj=template,
            before={**(before or {}), "criteria": before_criteria} if before else None,
            after={**audit.snapshot(template), "criteria": criteria},
        )  # fmt: skip
        rescore(membership.organization_id)
    return template


# --- custom KPIs ----------------------------------------------------------------------------


def save_custom_kpi(*, membership, key: str, name: str, kind: str, formula: str = "", numerator: str = "",
                    denominator: str = "", sample_measure: str = "", min_sample: int = 5, direction: int = 1,
                    unit: str = "", description: str = "") -> KpiDefinition:  # fmt: skip
    """A new custom KPI, or a new version of one (the previous version stays, not current)."""
    check_perm(membership, Perm.EDIT)
    key = (key or "").strip().lower()
    if not key or not key.replace("_", "").isalnum():
        raise ValidationError({"key": "Use letters, digits and underscores, e.g. reverted_pr_share."})
    if key in BUILTIN:
        raise ValidationError({"key": f"{key!r} is a built-in KPI; choose another key."})
    if not (name or "").strip():
        raise ValidationError({"name": "A name is required."})
    measures = set(ALL_MEASURE_NAMES)
    if kind == KpiDefinition.Kind.RATE:
        for field, value in (("numerator", numerator), ("denominator", denominator)):
            if value not in measures:
                raise ValidationError({field: f"Choose one of the measures ({', '.join(sorted(measures))})."})
        formula = f"{numerator} / {denominator}"
        sample_measure = sample_measure or denominator
    elif kind == KpiDefinition.Kind.RATIO:
        try:
            parsed = parse(formula, FORMULA_NAMES)
        except ExpressionError as exc:
            raise ValidationError({"formula": str(exc)}) from None
        if not parsed.names - {"weeks", "months", "days"}:
            raise ValidationError({"formula": "The formula must use at least one measure."})
    else:
        raise ValidationError({"kind": "Choose ratio or rate."})
    if sample_measure not in measures:
        raise ValidationError({"sample_measure": "Choose the measure whose count is the sample size."})
    if int(direction) not in (1, -1):
        raise ValidationError({"direction": "1 (higher is better) or -1 (lower is better)."})
    with transaction.atomic():
        previous = (
            KpiDefinition.objects.select_for_update()
            .filter(organization_id=membership.organization_id, key=key)
            .order_by("-version")
            .first()
        )
        KpiDefinition.objects.filter(organization_id=membership.organization_id, key=key).update(
            is_current=False
        )
        definition = KpiDefinition.objects.create(
            organization_id=membership.organization_id, key=key, version=(previous.version + 1) if previous else 1,
            name=name.strip(), kind=kind, formula=formula, numerator=numerator or "", denominator=denominator or "",
            sample_measure=sample_measure, min_sample=int(min_sample), direction=int(direction), unit=unit or "",
            description=description or "", created_by=membership.user,
        )  # fmt: skip
        audit.record(
            actor=membership.user, organization=membership.organization,
            action="partnerscope.kpidefinition.created", obj=definition, after=audit.snapshot(definition),
        )  # fmt: skip
    return definition


# --- disputes -------------------------------------------------------------------------------


def open_dispute(*, membership, value: MetricValue, comment: str) -> Dispute:
    """A vendor user disputes a value of their own vendor; client editors may log one too."""
    check_perm(membership, Perm.VIEW)
    if value.organization_id != membership.organization_id:
        raise ValidationError("That value does not exist.")
    if membership.is_vendor:
        if value.vendor_id is None or value.vendor_id != membership.vendor_id:
            raise ValidationError("That value does not exist.")
    else:
        check_perm(membership, Perm.EDIT)
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError({"comment": "Say what is wrong with this value."})
    if len(comment) > 5000:
        raise ValidationError({"comment": "Keep the comment under 5,000 characters."})
    with transaction.atomic():
        if Dispute.objects.filter(value=value, status=Dispute.Status.OPEN).exists():
            raise ValidationError("This value already has an open dispute.")
        dispute = Dispute.objects.create(
            organization_id=value.organization_id, value=value, opened_by=membership.user, comment=comment
        )
        audit.record(
            actor=membership.user, organization=membership.organization, action="partnerscope.dispute.created",
            obj=dispute, after=audit.snapshot(dispute), vendor_uid=value.vendor.uid if value.vendor_id else "",
        )  # fmt: skip
    return dispute


def resolve_dispute(
    *, membership, dispute: Dispute, decision: str, outcome: str = "", reason: str = ""
) -> Dispute:
    check_perm(membership, Perm.EDIT)
    if dispute.organization_id != membership.organization_id:
        raise ValidationError("That dispute does not exist.")
    if dispute.status != Dispute.Status.OPEN:
        raise ValidationError("This dispute is already resolved.")
    reason = (reason or "").strip()
    if decision not in (Dispute.Status.UPHELD, Dispute.Status.REJECTED):
        raise ValidationError({"decision": "Uphold or reject the dispute."})
    if decision == Dispute.Status.UPHELD and outcome not in (
        Dispute.Outcome.ANNOTATE,
        Dispute.Outcome.EXCLUDE,
    ):
        raise ValidationError({"outcome": "Say whether the value is annotated or left out of the score."})
    if not reason:
        raise ValidationError({"reason": "Give the reason for the decision; the vendor will read it."})
    with transaction.atomic():
        before = audit.snapshot(dispute)
        dispute.status, dispute.reason = decision, reason
        dispute.outcome = outcome if decision == Dispute.Status.UPHELD else ""
        dispute.resolved_by, dispute.resolved_at = membership.user, timezone.now()
        dispute.save()
        value = dispute.value
        if decision == Dispute.Status.UPHELD:
            value.annotation = reason
            value.excluded = outcome == Dispute.Outcome.EXCLUDE
            value.save(update_fields=["annotation", "excluded"])
        audit.record(
            actor=membership.user, organization=membership.organization, action="partnerscope.dispute.resolved",
            obj=dispute, before=before, after=audit.snapshot(dispute),
            vendor_uid=value.vendor.uid if value.vendor_id else "",
        )  # fmt: skip
        end = value.period_start
        rescore(membership.organization_id, Scope(start=end, end=end.replace(day=2)))
    return dispute


# --- webhooks and alerts --------------------------------------------------------------------


def create_webhook(
    *, membership, name: str, url: str, allow_private_host: bool = False
) -> tuple[WebhookEndpoint, str]:
    """A receiver of alerts. Returns it and its signing secret, shown this once."""
    check_perm(membership, Perm.EDIT)
    if allow_private_host and not membership.has_perm(Perm.ADMIN):
        raise ValidationError({"allow_private_host": "Only owners may allow a private address."})
    if not (name or "").strip():
        raise ValidationError({"name": "A name is required."})
    try:
        check_url(url, allow_private=allow_private_host)
    except UnsafeURL as exc:
        raise ValidationError({"url": str(exc)}) from None
    secret = "whsec_" + secrets.token_urlsafe(24)
    with transaction.atomic():
        hook = WebhookEndpoint.objects.create(
            organization_id=membership.organization_id, name=name.strip()[:100], url=url,
            secret_encrypted=encrypt_token(secret), allow_private_host=allow_private_host,
        )  # fmt: skip
        audit.record(
            actor=membership.user, organization=membership.organization, action="partnerscope.webhookendpoint.created",
            obj=hook, after=audit.snapshot(hook),
        )  # fmt: skip
    return hook, secret


def delete_webhook(*, membership, hook: WebhookEndpoint) -> None:
    check_perm(membership, Perm.EDIT)
    if hook.organization_id != membership.organization_id:
        raise ValidationError("That webhook does not exist.")
    with transaction.atomic():
        audit.record(
            actor=membership.user, organization=membership.organization, action="partnerscope.webhookendpoint.deleted",
            obj=hook, before=audit.snapshot(hook),
        )  # fmt: skip
        hook.delete()
