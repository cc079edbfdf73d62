"""Pages of sourcing requests: the request, its ranking (gates, scores, shortlist), the
explanation with every intermediate table, and the decision log. Client-only: a vendor user
gets 404 everywhere (``requires(VIEW_INTERNAL)``), a client viewer reads but cannot change."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from partnerscope.orgs.permissions import requires
from partnerscope.orgs.roles import Perm
from partnerscope.sourcing import services
from partnerscope.sourcing.forms import (
    DecisionForm,
    RankingForm,
    SkillNeedFormSet,
    SourcingRequestForm,
    need_initial,
)
from partnerscope.sourcing.models import Decision, Evaluation, SourcingRequest
from partnerscope.vendors.models import Vendor
from partnerscope.web.crud import apply_errors, client_ip, delete_page
from partnerscope.web.tables import Column, build_table

SECTION = "sourcing"


def _request(request, uid) -> SourcingRequest:
    return SourcingRequest.objects.get_visible_or_404(request.membership, uid=uid)


def _evaluation(request, uid) -> Evaluation:
    return Evaluation.objects.select_related("request", "created_by").get_visible_or_404(
        request.membership, uid=uid
    )


@requires(Perm.VIEW_INTERNAL)
def sourcing_request_list(request, org_slug):
    rows = SourcingRequest.objects.visible_to(request.membership).select_related("chosen_vendor")
    table = build_table(
        request,
        rows,
        [
            Column("title", "Request", "title"),
            Column("status", "Status", "status"),
            Column("start", "Start", "start_date"),
            Column("months", "Months", "duration_months", numeric=True),
            Column("chosen", "Chosen", "chosen_vendor__name"),
            Column("created", "Created", "created_at"),
        ],
        default_sort="-created",
        search=["title", "description"],
        filters={"status": "status"},
    )
    context = {"section": SECTION, "table": table, "statuses": SourcingRequest.Status.choices}
    return render(request, "sourcing/request_list.html", context)


def _needs_from(formset) -> list[services.NeedInput]:
    needs = []
    for form in formset.forms:
        data = form.cleaned_data if form.is_valid() else {}
        if data.get("skill"):
            needs.append(
                services.NeedInput(
                    data["skill"], data["min_level"], data["headcount"], bool(data.get("required"))
                )
            )
    return needs


def _request_form_page(request, org_slug, instance: SourcingRequest | None):
    m = request.membership
    posted = request.method == "POST"
    form = SourcingRequestForm(request.POST if posted else None, membership=m, instance=instance)
    formset = SkillNeedFormSet(
        request.POST if posted else None, membership=m, prefix="skills", initial=need_initial(instance)
    )
    if posted and form.is_valid() and formset.is_valid():
        try:
            saved = services.save_request(
                membership=m,
                instance=form.instance,
                needs=_needs_from(formset),
                remote_addr=client_ip(request),
            )
        except ValidationError as exc:
            _skill_errors(form, exc)
        else:
            messages.success(request, "Request saved. Rank the candidates when the request is complete.")
            return redirect("sourcing_request_detail", org_slug=org_slug, uid=saved.uid)
    cancel = (
        reverse("sourcing_request_detail", args=[org_slug, instance.uid])
        if instance
        else reverse("sourcing_request_list", args=[org_slug])
    )
    context = {
        "section": SECTION,
        "form": form,
        "formset": formset,
        "title": f"Edit {instance}" if instance else "New sourcing request",
        "cancel_url": cancel,
    }
    return render(request, "sourcing/request_form.html", context, status=400 if posted else 200)


def _skill_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict") and "skills" in exc.error_dict:
        form.add_error(None, [f"Skills: {m}" for m in exc.message_dict.pop("skills")])
        rest = {k: v for k, v in exc.message_dict.items() if k != "skills"}
        if rest:
            apply_errors(form, ValidationError(rest))
        return
    if hasattr(exc, "error_dict") and "seniority_mix" in exc.error_dict:
        form.add_error(None, exc.message_dict["seniority_mix"])
        return
    apply_errors(form, exc)


@requires(Perm.EDIT)
def sourcing_request_create(request, org_slug):
    return _request_form_page(request, org_slug, None)


@requires(Perm.EDIT)
def sourcing_request_edit(request, org_slug, uid):
    return _request_form_page(request, org_slug, _request(request, uid))


@requires(Perm.EDIT)
def sourcing_request_delete(request, org_slug, uid):
    instance = _request(request, uid)
    return delete_page(
        request,
        instance,
        kind="sourcing request",
        section=SECTION,
        delete=lambda: services.delete_request(
            membership=request.membership, instance=instance, remote_addr=client_ip(request)
        ),
        success_url=reverse("sourcing_request_list", args=[org_slug]),
        cancel_url=reverse("sourcing_request_detail", args=[org_slug, uid]),
    )


def _decisions(membership, sourcing_request):
    return list(
        Decision.objects.visible_to(membership)
        .filter(request=sourcing_request)
        .select_related("vendor", "actor", "evaluation")
    )


@requires(Perm.VIEW_INTERNAL)
def sourcing_request_detail(request, org_slug, uid):
    m = request.membership
    sourcing_request = _request(request, uid)
    evaluations = list(
        Evaluation.objects.visible_to(m).filter(request=sourcing_request).select_related("created_by")[:10]
    )
    decisions = _decisions(m, sourcing_request)
    state = services.shortlist_state(decisions)
    shortlist = [
        d for d in decisions if state.get(getattr(d.vendor, "uid", None)) in ("shortlisted", "chosen")
    ]
    seen, current = set(), []
    for d in shortlist:
        if d.vendor.uid not in seen:
            seen.add(d.vendor.uid)
            current.append({"vendor": d.vendor, "state": state[d.vendor.uid]})
    context = {
        "section": SECTION,
        "req": sourcing_request,
        "needs": sourcing_request.skills.select_related("skill"),
        "mix": sorted(sourcing_request.seniority_mix.items(), key=lambda kv: -kv[1]),
        "certifications": sourcing_request.certification_list(),
        "evaluations": evaluations,
        "latest": evaluations[0] if evaluations else None,
        "decisions": decisions,
        "shortlist": current,
        "weights": _weight_rows(sourcing_request.weights),
    }
    return render(request, "sourcing/request_detail.html", context)


def _weight_rows(weights: dict) -> list[tuple[str, float]]:
    labels = dict(services.Criterion.choices)
    return [(labels[k], weights.get(k, 0)) for k in services.CRITERIA]


@requires(Perm.EDIT)
def sourcing_rank(request, org_slug, uid):
    """Choose the method and the weights, then rank: every vendor through the gates, the rest
    through the method; the result is stored as an evaluation."""
    m = request.membership
    sourcing_request = _request(request, uid)
    form = RankingForm(request.POST or None, request=sourcing_request)
    ahp_error = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                _, ahp_info = services.set_ranking(
                    membership=m,
                    request=sourcing_request,
                    method=data["method"],
                    weight_source=data["weight_source"],
                    weights=form.weights(),
                    pairwise=form.pairwise(),
                    remote_addr=client_ip(request),
                )
                evaluation = services.evaluate_request(
                    membership=m, request=sourcing_request, ahp_info=ahp_info, remote_addr=client_ip(request)
                )
        except ValidationError as exc:
            sourcing_request.refresh_from_db()
            ahp_error = _ranking_errors(form, exc)
        else:
            messages.success(request, "Ranked. The explanation shows every step.")
            return redirect("evaluation_detail", org_slug=org_slug, uid=evaluation.uid)
    context = {
        "section": SECTION,
        "req": sourcing_request,
        "form": form,
        "ahp_error": ahp_error,
        "scale": services.SAATY,
    }
    return render(
        request, "sourcing/rank_form.html", context, status=400 if request.method == "POST" else 200
    )


def _ranking_errors(form: RankingForm, exc: ValidationError) -> str | None:
    """Service errors onto the form; returns the AHP message to show above the judgements."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return None
    ahp_message = None
    for key, errors in exc.message_dict.items():
        field = form.field_for(key)
        if field and field in form.fields:
            form.add_error(field, errors)
            if field.startswith("pair_"):
                ahp_message = errors[0]
        elif key == NON_FIELD_ERRORS or field is None:
            form.add_error(None, errors)
    return ahp_message


@requires(Perm.VIEW_INTERNAL)
def evaluation_detail(request, org_slug, uid):
    m = request.membership
    evaluation = _evaluation(request, uid)
    sourcing_request = evaluation.request
    decisions = _decisions(m, sourcing_request)
    state = services.shortlist_state(decisions)
    result = evaluation.result
    candidates = {c["vendor"]: c for c in result["candidates"]}
    ranking = [
        {**row, "candidate": candidates[row["vendor"]], "state": state.get(row["vendor"], "")}
        for row in result["ranking"]
    ]
    failed = [c for c in result["candidates"] if not c["passed"]]
    latest = (
        Evaluation.objects.visible_to(m)
        .filter(request=sourcing_request)
        .values_list("uid", flat=True)
        .first()
    )
    context = {
        "section": SECTION,
        "evaluation": evaluation,
        "req": sourcing_request,
        "result": result,
        "ranking": ranking,
        "failed": failed,
        # Every weighted criterion, used or not, so "no history" shows as its own state.
        "criteria": [c for c in result["criteria"] if c["weight"] > 0],
        "is_latest": latest == evaluation.uid,
        "open": sourcing_request.status == SourcingRequest.Status.OPEN,
        "gate_names": [
            g["label"] for g in (result["candidates"][0]["gates"] if result["candidates"] else [])
        ],
    }
    return render(request, "sourcing/evaluation_detail.html", context)


@requires(Perm.VIEW_INTERNAL)
def evaluation_explain(request, org_slug, uid):
    evaluation = _evaluation(request, uid)
    result = evaluation.result
    columns = [c for c in result["criteria"] if c["used"]]
    names = result["names"]
    tables = result.get("tables", {})

    def rows(key):
        return list(zip(names, tables.get(key, []), strict=False))

    def vector(key):
        return list(zip(names, tables.get(key, []), strict=False))

    raw = [
        (name, [(value, flag) for value, flag in zip(values, flags, strict=True)])
        for name, values, flags in zip(names, result["matrix"], result["imputed"], strict=True)
    ]
    distances = [
        (name, tables["d_plus"][i], tables["d_minus"][i], tables["closeness"][i])
        for i, name in enumerate(names)
    ] if tables else []  # fmt: skip
    method_scores = []
    if tables and evaluation.method == "vikor":
        method_scores = [(n, tables["s"][i], tables["r"][i], tables["q"][i]) for i, n in enumerate(names)]
    elif tables and evaluation.method == "promethee_ii":
        method_scores = [
            (n, tables["positive_flow"][i], tables["negative_flow"][i], tables["net_flow"][i])
            for i, n in enumerate(names)
        ]
    context = {
        "section": SECTION,
        "evaluation": evaluation,
        "req": evaluation.request,
        "result": result,
        "columns": columns,
        "raw": raw,
        "normalized": rows("normalized"),
        "weighted": rows("weighted"),
        "ideal": tables.get("ideal", []),
        "anti_ideal": tables.get("anti_ideal", []),
        "distances": distances,
        "method_scores": method_scores,
        "compromise": [names[i] for i in tables.get("compromise", [])],
        "sensitivity": result.get("sensitivity", []),
        "top": result["ranking"][0]["name"] if result["ranking"] else None,
        "vector": vector,
    }
    return render(request, "sourcing/evaluation_explain.html", context)


@requires(Perm.EDIT)
@require_POST
def evaluation_decide(request, org_slug, uid):
    m = request.membership
    evaluation = _evaluation(request, uid)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a vendor and what to do with it.")
        return redirect("evaluation_detail", org_slug=org_slug, uid=uid)
    vendor = Vendor.objects.visible_to(m).filter(uid=form.cleaned_data["vendor"]).first()
    if vendor is None:
        messages.error(request, "Select a valid vendor: that one does not exist.")
        return redirect("evaluation_detail", org_slug=org_slug, uid=uid)
    try:
        services.record_decision(
            membership=m,
            request=evaluation.request,
            evaluation=evaluation,
            vendor=vendor,
            action=form.cleaned_data["action"],
            note=form.cleaned_data["note"],
            remote_addr=client_ip(request),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        label = dict(Decision.Action.choices)[form.cleaned_data["action"]]
        messages.success(request, f"{label}: {vendor}. Logged with the ranking shown.")
    return redirect("evaluation_detail", org_slug=org_slug, uid=uid)


@requires(Perm.VIEW_INTERNAL)
def decision_detail(request, org_slug, uid):
    decision = Decision.objects.select_related("request", "actor", "evaluation").get_visible_or_404(
        request.membership, uid=uid
    )
    context = {
        "section": SECTION,
        "decision": decision,
        "req": decision.request,
        "snapshot": decision.snapshot,
    }
    return render(request, "sourcing/decision_detail.html", context)
