"""Sourcing requests: gates with their reasons, the criteria, the ranking, AHP and the decision log."""

from __future__ import annotations

import datetime
from decimal import Decimal

import numpy as np
import pytest
from django.core.exceptions import ValidationError

from partnerscope.decisions import topsis
from partnerscope.orgs.models import AuditEvent
from partnerscope.sourcing import services
from partnerscope.sourcing.gates import assess_candidates, cert_matches, overlap_hours
from partnerscope.sourcing.models import Decision, SkillNeed
from partnerscope.vendors.models import Certification
from partnerscope.vendors.services import save_vendor_record
from tests.sourcing.conftest import START, make_request, score


def gates_of(candidates, vendor):
    c = next(c for c in candidates if c.vendor.id == vendor.id)
    return {g.name: g for g in c.gates}, c


def test_it_matches_certifications_by_their_words():
    assert cert_matches("ISO 27001", "ISO/IEC 27001:2022")
    assert cert_matches("soc 2 type ii", "SOC 2 Type II report")
    assert not cert_matches("ISO 27001", "ISO 9001:2015")
    assert not cert_matches("", "ISO 9001")


def test_it_computes_overlap_with_daylight_saving():
    day = datetime.date(2025, 7, 1)  # Berlin UTC+2, Kolkata UTC+5:30
    assert overlap_hours(day, "Europe/Berlin", datetime.time(9), datetime.time(17), "Europe/Warsaw") == 8
    assert overlap_hours(day, "Europe/Berlin", datetime.time(9), datetime.time(17), "Asia/Kolkata") == 4.5
    winter = datetime.date(2025, 1, 15)  # Berlin UTC+1
    assert overlap_hours(winter, "Europe/Berlin", datetime.time(9), datetime.time(17), "Asia/Kolkata") == 3.5
    # A day that crosses midnight in UTC still overlaps: Auckland's afternoon is Berlin's early morning.
    assert overlap_hours(day, "Europe/Berlin", datetime.time(7), datetime.time(17), "Pacific/Auckland") == 0
    assert (
        overlap_hours(day, "America/Los_Angeles", datetime.time(9), datetime.time(17), "Pacific/Auckland")
        == 3
    )


def test_gates_pass_and_fail_with_their_reasons(world, market):
    m = world.owner_m
    request = make_request(
        m, market["skills"], required_certifications="ISO 27001", required_overlap_hours=Decimal(5),
        budget_ceiling=Decimal(200_000),
    )  # fmt: skip
    candidates = assess_candidates(m, request, today=datetime.date(2025, 6, 1))
    a, _ = gates_of(candidates, market["a"])
    assert all(g.passed for g in a.values()), {k: g.reason for k, g in a.items()}
    assert "Python: 12 at level 4 for 3" in a["headcount"].reason
    assert "8 h from Warsaw (Europe/Warsaw)" in a["timezone"].reason
    # 60 EUR/h × 160 h × 3 people × 6 months = 172,800
    assert "Estimate 172,800 EUR within the ceiling of 200,000" in a["budget"].reason

    b, _ = gates_of(candidates, market["b"])
    assert not b["certifications"].passed
    assert "expired 2025-06-01, before the start" in b["certifications"].reason
    assert not b["timezone"].passed and "4.5 h" in b["timezone"].reason
    assert b["budget"].passed  # 40 USD × 0.9 = 36 EUR/h

    c, _ = gates_of(candidates, market["c"])
    assert not c["certifications"].passed and "ISO 27001: not held" in c["certifications"].reason
    assert not c["budget"].passed and "over the ceiling" in c["budget"].reason


def test_headcount_gate_names_short_and_missing_skills(world, market):
    m, skills = world.owner_m, market["skills"]
    request = make_request(
        m, skills,
        needs=[services.NeedInput(skills["Python"], 5, 8), services.NeedInput(skills["React"], 3, 2, required=False)],
    )  # fmt: skip
    candidates = assess_candidates(m, request)
    a, cand_a = gates_of(candidates, market["a"])
    assert not a["headcount"].passed
    assert "Python: level 4 below 5" in a["headcount"].reason
    assert "React: 4 at level 3 for 2 (optional)" in a["headcount"].reason
    c, cand_c = gates_of(candidates, market["c"])
    assert not c["headcount"].passed and "Python: 6 at level 5 for 8: short" in c["headcount"].reason
    assert cand_c.values["capacity"] == pytest.approx(0.6)  # 6 people for 10 wanted
    assert cand_a.values["skill_coverage"] == pytest.approx(100 * (2 * 3 / 5) / 10)


def test_no_history_is_its_own_state_ranked_at_the_median(world, market, scores):
    m = world.owner_m
    scores[market["a"].id] = score(80)
    scores[market["c"].id] = score(60)
    request = make_request(m, market["skills"], required_overlap_hours=Decimal(0))
    candidates = assess_candidates(m, request)
    _, b = gates_of(candidates, market["b"])
    assert b.values["past_performance"] is None
    assert b.details["past_performance"].startswith("No history")
    evaluation = services.evaluate_request(membership=m, request=request)
    result = evaluation.result
    criterion = next(c for c in result["criteria"] if c["key"] == "past_performance")
    assert criterion["neutral"] == 70  # the median of 80 and 60, not 0
    assert "1 candidate has no data" in criterion["note"]
    column = result["columns"].index("past_performance")
    row = result["alternatives"].index(market["b"].uid)
    assert result["matrix"][row][column] == 70 and result["imputed"][row][column]
    ranked = {r["vendor"]: r for r in result["ranking"]}
    assert ranked[market["b"].uid]["no_data"] == ["Past performance"]
    assert ranked[market["a"].uid]["no_data"] == []


def test_the_ranking_is_topsis_with_vector_normalisation_over_the_stored_matrix(world, market, scores):
    m = world.owner_m
    scores[market["a"].id] = score(82, sample=300)
    scores[market["b"].id] = score(64, standing="Watch", rank=2, sample=90)
    request = make_request(m, market["skills"], required_overlap_hours=Decimal(0))
    evaluation = services.evaluate_request(membership=m, request=request)
    result = evaluation.result
    assert result["message"] == ""
    columns = result["columns"]
    weights = [request.weights[c] for c in columns]
    directions = [next(x["direction"] for x in result["criteria"] if x["key"] == c) for c in columns]
    expected = topsis(np.array(result["matrix"]), weights, directions)
    assert result["tables"]["closeness"] == pytest.approx(expected.tolist(), abs=1e-6)
    # The table of normalised values is the vector normalisation of the raw matrix.
    matrix = np.array(result["matrix"])
    assert np.array(result["tables"]["normalized"]) == pytest.approx(
        matrix / np.linalg.norm(matrix, axis=0), abs=1e-6
    )
    order = [r["vendor"] for r in result["ranking"]]
    by_score = sorted(result["alternatives"], key=lambda uid: -expected[result["alternatives"].index(uid)])
    assert order == by_score
    # Cost is a cost criterion: the cheapest vendor is the ideal on that column.
    cost = columns.index("cost")
    assert directions[cost] == -1
    assert result["tables"]["ideal"][cost] == pytest.approx(
        min(r[cost] for r in result["tables"]["weighted"])
    )
    assert {s["criterion"] for s in result["sensitivity"]} == set(columns)


@pytest.mark.parametrize("method", ["vikor", "promethee_ii"])
def test_other_methods_can_be_chosen(world, market, method):
    m = world.owner_m
    request = make_request(m, market["skills"], required_overlap_hours=Decimal(0))
    services.set_ranking(
        membership=m, request=request, method=method, weight_source="direct", weights=request.weights
    )
    result = services.evaluate_request(membership=m, request=request).result
    assert result["method"] == method
    assert len(result["ranking"]) == 3
    key = "q" if method == "vikor" else "net_flow"
    assert len(result["tables"][key]) == 3


def test_constant_and_weightless_criteria_are_left_out_and_say_why(world, market):
    m = world.owner_m
    request = make_request(m, market["skills"], required_overlap_hours=Decimal(0))
    result = services.evaluate_request(membership=m, request=request).result
    notes = {c["key"]: c for c in result["criteria"]}
    assert not notes["past_performance"]["used"]
    assert "No candidate has data" in notes["past_performance"]["note"]
    assert "past_performance" not in result["columns"]


def test_weights_must_add_up_to_100(world, market):
    request = make_request(world.owner_m, market["skills"])
    bad = {**request.weights, "cost": 50}
    with pytest.raises(ValidationError) as exc:
        services.set_ranking(
            membership=world.owner_m, request=request, method="topsis", weight_source="direct", weights=bad
        )
    assert "add up to 130 %" in str(exc.value.message_dict["weights"])


def test_ahp_derives_weights_and_refuses_an_inconsistent_matrix_naming_the_judgement(world, market):
    m = world.owner_m
    request = make_request(m, market["skills"])
    consistent = {services.pair_key(a, b): 1 for a, b in services.criterion_pairs()}
    consistent[services.pair_key("skill_coverage", "cost")] = 3
    request, info = services.set_ranking(
        membership=m, request=request, method="topsis", weight_source="ahp", pairwise=consistent
    )
    assert sum(request.weights.values()) == pytest.approx(100)
    assert request.weights["skill_coverage"] > request.weights["capacity"] > request.weights["cost"]
    assert info["cr"] < 0.1

    cyclic = dict(consistent)
    cyclic[services.pair_key("skill_coverage", "past_performance")] = 9
    cyclic[services.pair_key("past_performance", "cost")] = 9
    cyclic[services.pair_key("skill_coverage", "cost")] = 1 / 9
    with pytest.raises(ValidationError) as exc:
        services.set_ranking(
            membership=m, request=request, method="topsis", weight_source="ahp", pairwise=cyclic
        )
    ((field, messages),) = exc.value.message_dict.items()
    assert field in {services.pair_key(*p) for p in services.criterion_pairs()}
    assert "consistency ratio" in messages[0] and "implies about" not in messages[0]
    assert "while your other judgements imply about" in messages[0]
    request.refresh_from_db()
    assert request.weights["skill_coverage"] > request.weights["cost"]  # nothing half-written


def test_a_judgement_off_the_saaty_scale_is_refused_on_its_field(world, market):
    request = make_request(world.owner_m, market["skills"])
    key = services.pair_key("cost", "capacity")
    with pytest.raises(ValidationError) as exc:
        services.set_ranking(
            membership=world.owner_m,
            request=request,
            method="topsis",
            weight_source="ahp",
            pairwise={key: 2.5},
        )
    assert "Saaty" in exc.value.message_dict[key][0]


def test_the_decision_log_keeps_who_chose_whom_with_the_ranking_they_saw(world, market):
    m = world.owner_m
    request = make_request(m, market["skills"], required_overlap_hours=Decimal(0))
    evaluation = services.evaluate_request(membership=m, request=request)
    top = evaluation.ranking[0]
    vendor = {v.uid: v for v in (market["a"], market["b"], market["c"])}[top["vendor"]]
    with pytest.raises(ValidationError, match="shortlist it first"):
        services.record_decision(
            membership=m, request=request, evaluation=evaluation, vendor=vendor, action="chosen"
        )
    services.record_decision(
        membership=m, request=request, evaluation=evaluation, vendor=vendor, action="shortlisted"
    )
    with pytest.raises(ValidationError, match="already on the shortlist"):
        services.record_decision(
            membership=m, request=request, evaluation=evaluation, vendor=vendor, action="shortlisted"
        )
    # Vendor data changes after the ranking: the log still shows what was seen.
    save_vendor_record(membership=m, instance=Certification(vendor=vendor, name="SOC 2 Type II"))
    chosen = services.record_decision(
        membership=m, request=request, evaluation=evaluation, vendor=vendor, action="chosen", note="Best fit"
    )
    assert chosen.actor == m.user
    assert chosen.snapshot["ranking"] == evaluation.ranking
    assert chosen.snapshot["evaluation"] == evaluation.uid
    request.refresh_from_db()
    assert request.status == "decided" and request.chosen_vendor_id == vendor.id
    assert AuditEvent.objects.filter(action="partnerscope.decision.chosen", object_uid=chosen.uid).exists()
    assert [d.action for d in Decision.objects.filter(request=request).order_by("created_at", "id")] == [
        "shortlisted",
        "chosen",
    ]
    with pytest.raises(ValidationError, match="decisions are closed"):
        services.record_decision(
            membership=m, request=request, evaluation=evaluation, vendor=vendor, action="removed"
        )


def test_a_vendor_that_failed_a_gate_cannot_be_shortlisted(world, market):
    m = world.owner_m
    request = make_request(
        m, market["skills"], required_certifications="ISO 27001", required_overlap_hours=Decimal(0)
    )
    evaluation = services.evaluate_request(membership=m, request=request)
    with pytest.raises(ValidationError, match="did not pass every gate"):
        services.record_decision(
            membership=m, request=request, evaluation=evaluation, vendor=market["c"], action="shortlisted"
        )


def test_saving_a_request_replaces_its_skills_and_refuses_duplicates(world, market):
    m, skills = world.owner_m, market["skills"]
    request = make_request(m, skills)
    services.save_request(
        membership=m, instance=request,
        needs=[services.NeedInput(skills["React"], 3, 2), services.NeedInput(skills["Go"], 2, 1)],
    )  # fmt: skip
    assert sorted(n.skill.name for n in SkillNeed.objects.filter(request=request)) == ["Go", "React"]
    with pytest.raises(ValidationError, match=r"React is listed twice \(rows 1 and 2\)"):
        services.save_request(
            membership=m, instance=request,
            needs=[services.NeedInput(skills["React"], 3, 2), services.NeedInput(skills["React"], 4, 1)],
        )  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "field", "text"),
    [
        ({"seniority_mix": {"senior": 60}}, "seniority_mix", "adds up to 60 %"),
        ({"seniority_mix": {"wizard": 100}}, "seniority_mix", "Unknown seniority"),
        ({"exchange_rates": "USD 0.9\nGBP"}, "exchange_rates", "Line 2"),
        ({"exchange_rates": "EUR 1"}, "exchange_rates", "the currency itself"),
        ({"client_timezone": "Mars/Olympus"}, "client_timezone", "IANA"),
        ({"workday_start": "18:00"}, "workday_end", "end after it starts"),
        ({"workday_start": "9am"}, "workday_start", "HH:MM"),
    ],
)
def test_bad_request_fields_are_named(world, market, fields, field, text):
    with pytest.raises(ValidationError) as exc:
        make_request(world.owner_m, market["skills"], **fields)
    assert text in " ".join(exc.value.message_dict[field])


def test_the_start_date_decides_which_rates_apply(world, market):
    m = world.owner_m
    request = make_request(
        m, market["skills"], start_date=datetime.date(2024, 6, 1), required_overlap_hours=Decimal(0)
    )
    candidates = assess_candidates(m, request)
    _, c = gates_of(candidates, market["c"])
    assert c.values["cost"] is None  # C's rate card starts in 2025
    assert "No rate-card line valid at the start date" in c.details["cost"]
    assert START.year == 2025
