"""Each KPI on crafted evidence with known answers (tests/metrics/conftest.py tells the story)."""

from __future__ import annotations

import datetime

import pytest

from partnerscope.evidence.attribution import attribute_repository
from partnerscope.evidence.models import Contribution, Repository
from partnerscope.metrics import engine
from partnerscope.metrics.measures import MEASURES, Scope
from partnerscope.metrics.models import CellMeasures, DirtyCell, MetricValue, Score
from partnerscope.metrics.stats import wilson
from tests.metrics.conftest import make_commit

MARCH = datetime.date(2024, 3, 1)
Q1 = datetime.date(2024, 1, 1)


def value(world, kpi, *, vendor=None, engagement=None, kind="month", start=MARCH):
    vendor_key = vendor.id if vendor is not None else world.vendor_a.id
    return MetricValue.objects.get(
        organization=world.org, kpi=kpi, vendor_key=vendor_key, engagement_key=engagement.id if engagement else 0,
        period_kind=kind, period_start=start,
    )  # fmt: skip


def cell(world, *, vendor_key: int, start=MARCH) -> CellMeasures:
    """A vendor's all-engagement month cell."""
    return CellMeasures.objects.get(
        organization=world.org,
        engagement_key=0,
        vendor_key=vendor_key,
        period_kind="month",
        period_start=start,
    )


@pytest.fixture
def computed(evidence):
    engine.full_recompute(evidence.org.id)
    return evidence


def test_review_discipline_counts_approvals_by_others_only(computed):
    # Merged in March: #1 (no review), #2-#5 (approved by ida), #6 (only its author), #7 (a bot).
    v = value(computed, "review_discipline")
    assert (v.numerator, v.denominator, v.sample) == (4, 7, 7)
    assert v.value == pytest.approx(4 / 7)
    low, high = wilson(4, 7)
    assert (v.ci_low, v.ci_high) == (pytest.approx(low), pytest.approx(high))
    # The interval itself against a published example: Newcombe (1998), "Two-sided confidence
    # intervals for the single proportion", Table I, 81/263 by the Wilson score method.
    assert tuple(round(x, 4) for x in wilson(81, 263)) == (0.2553, 0.3662)
    assert v.status == "ok"


def test_change_request_acceptance_and_client_change_requests(computed):
    acceptance = value(computed, "change_request_acceptance")
    assert (acceptance.numerator, acceptance.denominator) == (7, 8)  # #8 closed unmerged
    asked = value(computed, "changes_requested_share")
    assert (asked.numerator, asked.denominator) == (1, 8)


def test_change_failure_rate_counts_deployments_not_incidents(computed):
    cfr = value(computed, "change_failure_rate")
    # D1 and D2 shipped vendor changes; D2 failed; the failed run D3 is neither.
    assert (cfr.numerator, cfr.denominator) == (1, 2)
    assert cfr.status == "insufficient"  # 2 deployments < the minimum sample of 5
    frequency = value(computed, "deployment_frequency")
    assert frequency.value == pytest.approx(2 / (31 / 7))


def test_lead_time_of_a_multi_pr_deployment_and_a_squash_merge(computed):
    lead = value(computed, "lead_time")
    # #2: first commit 03-10 00:00 (squash merge: the host's first commit) -> D1 03-20: 240 h.
    # #3: 03-12 00:00 -> 03-20: 192 h; #4: 03-13 -> 03-20: 168 h; #5: 03-14 -> D2 03-25: 264 h.
    assert lead.sample == 4
    assert lead.value == pytest.approx((192 + 240) / 2)
    deploy = value(computed, "deploy_time")
    assert deploy.sample == 4


def test_pickup_time_ignores_the_authors_own_comment_and_bots(computed):
    pickup = value(computed, "pickup_time")
    # #2: changes requested 2 h after creation; #3-#5: approvals after 4 h; #6 and #7 only have
    # the author's and a bot's reactions, so they have no pickup at all.
    assert pickup.sample == 4
    assert pickup.value == pytest.approx(4.0)
    assert pickup.p90 == pytest.approx(4.0)


def test_review_rounds_count_the_clients_change_requests_on_merged_prs(computed):
    rounds = value(computed, "review_rounds")
    # Seven merged PRs (#1-#7); ida (the client) requested changes once, on #2: 8 rounds / 7.
    assert rounds.value == pytest.approx(8 / 7) and rounds.sample == 7


def test_client_wait_counts_only_client_reviewers(evidence):
    from partnerscope.evidence.connectors.store import store_pull_requests
    from partnerscope.evidence.models import Connection
    from tests.conftest import pull_request_row
    from tests.metrics.conftest import at, review

    # April: a PR first commented on by someone outside the client after 1 h (its pickup), then
    # reviewed by ida, the client, after 6 h (the wait charged to the client).
    created = at(8, month=4)
    reviews = [review("o43", "outside-reviewer", "commented", created + datetime.timedelta(hours=1), is_comment=True),
               review("i43", "ida-inhouse", "approved", created + datetime.timedelta(hours=6))]  # fmt: skip
    store_pull_requests(
        Connection.objects.get(engagement=evidence.engagement_a),
        [pull_request_row(43, "ana-alpha", created, reviews=reviews)],
    )
    engine.full_recompute(evidence.org.id)
    april = datetime.date(2024, 4, 1)
    assert value(evidence, "pickup_time", start=april).value == pytest.approx(1.0)
    assert value(evidence, "client_wait", start=april).value == pytest.approx(6.0)
    # March: ida was the first to respond on #2-#5, so the wait equals the pickup there.
    march = value(evidence, "client_wait")
    assert (march.value, march.sample) == (pytest.approx(4.0), 4)


def test_recovery_time(computed):
    recovery = value(computed, "recovery_time")
    assert (recovery.value, recovery.sample) == (pytest.approx(6.0), 1)


def test_git_kpis_with_co_authors_bots_and_reverts(computed):
    commits = cell(computed, vendor_key=computed.vendor_a.id).measures
    assert commits["commits"] == 4  # the bot's commit is not counted
    assert commits["changed_lines"] == 110
    revert = value(computed, "revert_rate")
    assert (revert.numerator, revert.denominator) == (1, 4)  # a4, reverted by ida: Alpha's
    inhouse = cell(computed, vendor_key=0).measures
    assert inhouse["commits"] == 2  # ida's revert and the commit she co-authored
    assert "reverted_commits" not in inhouse  # the reverter is not blamed
    rework = value(computed, "rework_rate")
    assert rework.value == pytest.approx(10 / 60)  # only commits the line pass has seen


def test_a_commit_counts_once_per_vendor_whoever_of_its_people_are_that_vendors(evidence):
    # April 2024: p1 by ana with max as co-author, both Alpha's; p2 by ida (in-house) with ana
    # and max as co-authors. Alpha has two commits, not four; the in-house team has one.
    repo_a = Repository.objects.get(engagement=evidence.engagement_a)
    april = datetime.datetime(2024, 4, 3, 12, tzinfo=datetime.UTC)
    p1 = make_commit(
        repo_a, "p1", "ana@alpha.test", "Ana Alpha", april, coauthor=("max@mover.test", "Max Mover")
    )
    p2 = make_commit(repo_a, "p2", "ida@acme.test", "Ida", april, coauthor=("ana@alpha.test", "Ana Alpha"))
    Contribution.objects.create(
        organization_id=repo_a.organization_id, commit=p2, repository=repo_a, role="co-author",
        name="Max Mover", email="max@mover.test", authored_date=april.date(),
    )  # fmt: skip
    attribute_repository(repo_a)
    engine.full_recompute(evidence.org.id)
    april_start = datetime.date(2024, 4, 1)
    alpha = cell(evidence, vendor_key=evidence.vendor_a.id, start=april_start).measures
    assert (alpha["commits"], alpha["authored_commits"]) == (2, 1)
    assert cell(evidence, vendor_key=0, start=april_start).measures["commits"] == 1
    scope = Scope(start=april_start, end=datetime.date(2024, 5, 1))
    assert MEASURES["commits"].record_ids(evidence.org.id, scope, evidence.vendor_a.id) == sorted(
        [p1.id, p2.id]
    )


def test_ci_failure_rate_counts_finished_runs_not_deployments_nor_bots(computed):
    v = value(computed, "ci_failure_rate")
    assert (v.numerator, v.denominator, v.sample, v.status) == (2, 6, 6, "ok")
    assert (v.ci_low, v.ci_high) == tuple(pytest.approx(x) for x in wilson(2, 6))
    # The failed production deployment d3 still counts nowhere but where it belongs: not a CI run.
    assert value(computed, "change_failure_rate").denominator == 2


def test_defect_density_per_changed_lines_and_per_merged_pr(computed):
    density = value(computed, "defect_density")
    assert density.value == pytest.approx(3 / 110 * 1000)  # B-1, B-2, B-3 over Alpha's 110 lines
    assert density.sample == 4  # ana's authored commits
    per_pr = value(computed, "bugs_per_merged_pr")
    assert per_pr.value == pytest.approx(3 / 7)  # seven merged PRs (#1-#7) in March
    # A month with changed lines and no bug reported is 0 bugs, data, not "no data".
    june = value(computed, "defect_density", start=datetime.date(2024, 6, 1))
    assert (june.value, june.status) == (0.0, "insufficient")


def test_a_vendor_move_splits_at_the_assignment_date(computed):
    alpha_june = cell(computed, vendor_key=computed.vendor_a.id, start=datetime.date(2024, 6, 1)).measures
    beta_july = cell(computed, vendor_key=computed.vendor_b.id, start=datetime.date(2024, 7, 1)).measures
    assert alpha_june["commits"] == 1 and beta_july["commits"] == 1


def test_quarters_add_months_and_keep_medians_exact(computed):
    quarter = value(computed, "lead_time", kind="quarter", start=Q1)
    assert quarter.sample == 4 and quarter.value == pytest.approx(216)
    per_engagement = value(
        computed, "review_discipline", engagement=computed.engagement_a, kind="quarter", start=Q1
    )
    assert (per_engagement.numerator, per_engagement.denominator) == (4, 7)


def test_empty_periods_are_no_data_never_zero(computed):
    assert not MetricValue.objects.filter(
        organization=computed.org, vendor_key=computed.vendor_a.id, period_start=datetime.date(2024, 4, 1),
        period_kind="month", kpi="review_discipline",
    ).exists()  # fmt: skip
    # June has a commit of Alpha's but no pull request: no review-discipline value at all,
    # while the KPIs the commit feeds are there.
    june = MetricValue.objects.filter(
        organization=computed.org, vendor_key=computed.vendor_a.id, engagement_key=0,
        period_start=datetime.date(2024, 6, 1), period_kind="month",
    )  # fmt: skip
    assert not june.filter(kpi="review_discipline").exists()
    assert june.get(kpi="revert_rate").status == "insufficient"


def test_provenance_recompute_equals_stored_and_digest_matches_records(computed):
    before = {
        (v.kpi, v.engagement_key, v.vendor_key, v.period_kind, v.period_start): (v.value, v.sample, v.digest)
        for v in MetricValue.objects.filter(organization=computed.org)
    }
    engine.full_recompute(computed.org.id)
    after = {
        (v.kpi, v.engagement_key, v.vendor_key, v.period_kind, v.period_start): (v.value, v.sample, v.digest)
        for v in MetricValue.objects.filter(organization=computed.org)
    }
    assert before == after and len(before) > 50
    from partnerscope.metrics.measures import digest_ids

    ids = MEASURES["merged_prs"].record_ids(
        computed.org.id, Scope(start=MARCH, end=datetime.date(2024, 4, 1)), computed.vendor_a.id
    )
    stored = cell(computed, vendor_key=computed.vendor_a.id)
    assert len(ids) == 7 and stored.digests["merged_prs"] == digest_ids(ids)


def test_new_evidence_marks_only_its_months_dirty_and_incremental_matches_full(computed):
    from partnerscope.evidence.connectors.store import store_pull_requests
    from partnerscope.evidence.models import Connection
    from tests.conftest import pull_request_row

    DirtyCell.objects.all().delete()
    connection = Connection.objects.get(engagement=computed.engagement_a)
    created = datetime.datetime(2024, 5, 6, tzinfo=datetime.UTC)
    store_pull_requests(connection, [pull_request_row(40, "ana-alpha", created)])
    assert set(DirtyCell.objects.values_list("engagement_id", "month")) == {
        (computed.engagement_a.id, datetime.date(2024, 5, 1))
    }
    engine.recompute_dirty(computed.org.id)
    assert not DirtyCell.objects.exists()
    may = value(computed, "change_request_acceptance", start=datetime.date(2024, 5, 1))
    assert (may.numerator, may.denominator) == (1, 1)
    incremental = {
        (v.kpi, v.engagement_key, v.vendor_key, v.period_kind, v.period_start): (v.value, v.sample, v.digest)
        for v in MetricValue.objects.filter(organization=computed.org)
    }
    engine.full_recompute(computed.org.id)
    full = {
        (v.kpi, v.engagement_key, v.vendor_key, v.period_kind, v.period_start): (v.value, v.sample, v.digest)
        for v in MetricValue.objects.filter(organization=computed.org)
    }
    assert incremental == full


def _stored_state(org):
    values = {
        (v.kpi, v.engagement_key, v.vendor_key, v.period_kind, v.period_start): (
            v.value, v.sample, v.numerator, v.denominator, v.ci_low, v.ci_high, v.p75, v.p90, v.status, v.digest,
        )
        for v in MetricValue.objects.filter(organization=org)
    }  # fmt: skip
    cells = {
        (c.engagement_key, c.vendor_key, c.period_kind, c.period_start): (
            c.measures,
            c.digests,
            c.parts,
            bytes(c.samples) if c.samples is not None else None,
        )
        for c in CellMeasures.objects.filter(organization=org)
    }
    scores = set(
        Score.objects.filter(organization=org).values_list(
            "template_id", "engagement_key", "vendor_key", "period_kind", "period_start", "score", "standing"
        )
    )
    return values, cells, scores


def test_incremental_recompute_of_mixed_changes_equals_a_full_one(computed):
    """Evidence in another month of a stored quarter, a revert of an earlier quarter's commit
    and a roster change: only the touched months are read, and what is stored is what a full
    recompute stores."""
    from partnerscope.engagements.models import Assignment
    from partnerscope.engagements.services import save_roster_record
    from partnerscope.evidence.attribution import attribute_repository
    from partnerscope.evidence.connectors.store import store_pull_requests
    from partnerscope.evidence.models import Connection, Repository
    from tests.conftest import pull_request_row
    from tests.metrics.conftest import at, make_commit, review

    org = computed.org
    DirtyCell.objects.all().delete()
    connection = Connection.objects.get(engagement=computed.engagement_a)
    # February, beside the stored March of Q1: a reviewed PR (durations) by ana.
    created = at(12, month=2)
    store_pull_requests(
        connection,
        [pull_request_row(41, "ana-alpha", created, reviews=[review("r41", "ida-inhouse", "approved", at(13, month=2))])],
    )  # fmt: skip
    # April (Q2): ida reverts ana's March commit a3, so March's cells change too.
    repo_a = Repository.objects.get(engagement=computed.engagement_a)
    make_commit(repo_a, "r9", "ida@acme.test", "Ida", at(3, month=4), reverts="a3", adds=0, dels=10)
    attribute_repository(repo_a, only_pending=True)
    # The roster: Ben leaves Beta's engagement at the end of May.
    ben = Assignment.objects.get(person=computed.person_b)
    ben.valid_to = datetime.date(2024, 5, 31)
    save_roster_record(membership=computed.owner_m, instance=ben)
    marks = set(DirtyCell.objects.values_list("engagement_id", "month"))
    assert {(computed.engagement_a.id, datetime.date(2024, 2, 1)), (computed.engagement_a.id, MARCH),
            (computed.engagement_a.id, datetime.date(2024, 4, 1)),
            (computed.engagement_b.id, datetime.date(2024, 6, 1))} <= marks  # fmt: skip
    assert (computed.engagement_a.id, datetime.date(2024, 1, 1)) not in marks

    incremental = engine.recompute_dirty(org.id)
    assert not DirtyCell.objects.exists()
    reverted = value(computed, "revert_rate")
    assert reverted.numerator == 2  # a4 and now a3
    assert value(computed, "pickup_time", start=datetime.date(2024, 2, 1)).sample == 1
    after_incremental = _stored_state(org)
    full = engine.full_recompute(org.id)
    assert incremental.cells < full.cells
    assert _stored_state(org) == after_incremental


def test_a_change_arriving_after_its_deployment_marks_the_deployments_month(computed):
    """Lead time counts in the month of the deployment: a February PR whose merge commit the
    March deployment D1 had already shipped changes March."""
    from partnerscope.evidence.connectors.store import store_pull_requests
    from partnerscope.evidence.models import Connection, Deployment, DeploymentCommit
    from tests.conftest import pull_request_row
    from tests.metrics.conftest import at

    connection = Connection.objects.get(engagement=computed.engagement_a)
    d1 = Deployment.objects.get(connection=connection, external_id="d1")
    DeploymentCommit.objects.create(organization_id=computed.org.id, deployment=d1, sha="x" * 40)
    DirtyCell.objects.all().delete()
    lead_before = value(computed, "lead_time").sample
    store_pull_requests(
        connection, [pull_request_row(44, "ana-alpha", at(20, month=2), merge_commit_sha="x" * 40)]
    )
    assert (computed.engagement_a.id, MARCH) in set(DirtyCell.objects.values_list("engagement_id", "month"))
    engine.recompute_dirty(computed.org.id)
    assert value(computed, "lead_time").sample == lead_before + 1
    after_incremental = _stored_state(computed.org)
    engine.full_recompute(computed.org.id)
    assert _stored_state(computed.org) == after_incremental


def test_a_redeployed_change_counts_once_at_its_first_deployment(computed):
    """Lead time counts a change in the month of its first successful production deployment.
    In April, D4 ships #2 again (first deployed by D1 in March) and #9, and D5 ships #9 again:
    April counts #9 once, from D4; March keeps #2. Reading April alone (incrementally) looks up
    the earlier deployments of the shas shipped again only, and agrees with a full recompute."""
    from partnerscope.evidence.connectors.store import store_deployments, store_pull_requests
    from partnerscope.evidence.models import Connection, Deployment, DeploymentCommit
    from tests.conftest import pull_request_row
    from tests.metrics.conftest import at, deployment_row

    april = datetime.date(2024, 4, 1)
    connection = Connection.objects.get(engagement=computed.engagement_a)
    store_pull_requests(
        connection,
        [
            pull_request_row(
                9, "ana-alpha", at(2, month=4), first_commit_at=at(1, month=4), merge_commit_sha="n" * 40
            )
        ],
    )
    when = {"d4": at(5, month=4), "d5": at(9, month=4)}
    store_deployments(connection, [deployment_row(key, at_) for key, at_ in when.items()])
    d4, d5 = (Deployment.objects.get(connection=connection, external_id=key) for key in when)
    for deployment, sha in ((d4, f"m{2:039d}"), (d4, "n" * 40), (d5, "n" * 40)):
        DeploymentCommit.objects.create(organization_id=computed.org.id, deployment=deployment, sha=sha)
    assert (computed.engagement_a.id, april) in set(DirtyCell.objects.values_list("engagement_id", "month"))
    engine.recompute_dirty(computed.org.id)
    lead = value(computed, "lead_time", start=april)
    assert lead.sample == 1 and lead.value == pytest.approx(96)  # #9: 04-01 -> D4 04-05
    assert value(computed, "lead_time").sample == 4  # March as it was, #2 included
    incremental = _stored_state(computed.org)
    engine.full_recompute(computed.org.id)
    assert _stored_state(computed.org) == incremental


def test_new_work_items_re_read_only_what_work_items_feed(computed, monkeypatch):
    """A tracker sync of work items marks its months for work items only: the recompute reads
    the work-item measures again and keeps the git and PR measures of those months as stored."""
    from partnerscope.evidence.connectors.store import store_work_items
    from partnerscope.evidence.models import Connection
    from partnerscope.metrics import readers
    from tests.metrics.conftest import at, work_item

    DirtyCell.objects.all().delete()
    store_work_items(
        Connection.objects.get(engagement=computed.engagement_a), [work_item("B-9", "Bug", at(14))]
    )
    assert set(DirtyCell.objects.values_list("month", "source")) == {(MARCH, "items")}
    read, run = [], readers.run

    def recording(jobs):
        read.extend(job.label for job in jobs)
        return run(jobs)

    monkeypatch.setattr(readers, "run", recording)
    engine.recompute_dirty(computed.org.id)
    assert any("bugs" in p for p in read) and any("issue lead" in p for p in read)
    assert not any("commits" in p or "merged prs" in p or "pickup" in p for p in read), read
    density = cell(computed, vendor_key=computed.vendor_a.id).measures
    assert density["bugs"] == 4 and density["commits"] == 4  # the new bug; git measures kept
    after_incremental = _stored_state(computed.org)
    engine.full_recompute(computed.org.id)
    assert _stored_state(computed.org) == after_incremental


def test_every_reader_says_which_evidence_feeds_it():
    from partnerscope.metrics.engine import READS
    from partnerscope.metrics.measures import duration_groups, measure_groups

    assert {g[0].base.__name__ for g in measure_groups()} <= set(READS)
    assert {d.name for durations, _ in duration_groups() for d in durations} <= set(READS)


def test_incremental_recompute_reads_the_quarter_when_months_were_stored_without_parts(computed):
    """Cells stored before their parts were kept: the quarter is read from evidence once."""
    from partnerscope.evidence.connectors.store import store_pull_requests
    from partnerscope.evidence.models import Connection
    from tests.conftest import pull_request_row
    from tests.metrics.conftest import at

    org = computed.org
    CellMeasures.objects.filter(organization=org, period_start__lt=datetime.date(2024, 4, 1)).update(
        parts=None, samples=None
    )
    DirtyCell.objects.all().delete()
    store_pull_requests(
        Connection.objects.get(engagement=computed.engagement_a),
        [pull_request_row(42, "ana-alpha", at(14, month=2))],
    )
    engine.recompute_dirty(org.id)
    assert not CellMeasures.objects.filter(
        organization=org, period_kind="month", period_start=MARCH, parts=None
    ).exclude(engagement_key=0)
    after_incremental = _stored_state(org)
    engine.full_recompute(org.id)
    assert _stored_state(org) == after_incremental


def test_stored_samples_round_trip_and_a_damaged_blob_is_refused():
    import numpy as np

    from partnerscope.metrics.columns import SampleColumns
    from partnerscope.metrics.measures import HASH_MULTIPLIER, HASH_PRIME, Sample
    from partnerscope.metrics.stats import pack_chunks, unpack_chunks

    def chunk(*samples):
        (only,) = (
            SampleColumns.from_samples([Sample(rid, 1, 2, MARCH, hours) for hours, rid in samples])
            .by_cell()
            .values()
        )
        return only

    chunks = {"lead_time": [chunk((1.5, 10), (2.0, 11)), chunk((7.25, 12))], "pickup_time": [chunk((0.5, 3))]}
    back = unpack_chunks(pack_chunks(chunks))
    assert list(back["lead_time"].hours) == [1.5, 2.0, 7.25] and back["pickup_time"].n == 1
    assert back["lead_time"].id_sum == 33
    assert back["lead_time"].id_hash == sum(c.id_hash for c in chunks["lead_time"])
    assert isinstance(back["pickup_time"].hours, np.ndarray)
    # The columns' digest terms, summed in unsigned 64-bit integers, are the exact ones.
    ids = [10**9 + i * 7919 for i in range(4000)]
    big = chunk(*[(float(i), rid) for i, rid in enumerate(ids)])
    assert (big.n, big.id_sum) == (4000, sum(ids))
    assert big.id_hash == sum(r % HASH_PRIME * HASH_MULTIPLIER % HASH_PRIME for r in ids)
    damaged = pack_chunks({"lead_time": chunks["lead_time"]}).replace(b'"lead_time",3', b'"lead_time",2')
    with pytest.raises(ValueError, match="hold 3 hours"):
        unpack_chunks(damaged)


def test_a_revert_pr_is_charged_to_the_reverted_prs_author(evidence):
    from partnerscope.evidence.connectors.store import store_pull_requests
    from partnerscope.evidence.models import Connection
    from tests.conftest import pull_request_row

    connection = Connection.objects.get(engagement=evidence.engagement_a)
    created = datetime.datetime(2024, 3, 22, tzinfo=datetime.UTC)
    store_pull_requests(
        connection,
        [pull_request_row(30, "ida-inhouse", created, title='Revert "Change 3"', merge_commit_sha="r30")],
    )
    engine.full_recompute(evidence.org.id)
    reverted = value(evidence, "pr_revert_rate")
    assert (reverted.numerator, reverted.denominator) == (1, 7)  # #3 by ana; ida's revert is not ana's
    baseline = MetricValue.objects.get(
        organization=evidence.org, kpi="pr_revert_rate", vendor_key=0, engagement_key=0, period_kind="month",
        period_start=MARCH,
    )  # fmt: skip
    assert (baseline.numerator, baseline.denominator) == (0, 1)  # the revert itself is in-house work


def test_vendor_scores_give_other_apps_the_latest_standing_and_no_history_as_absence(computed):
    from partnerscope.metrics.models import Score
    from partnerscope.metrics.summary import vendor_scores

    scores = vendor_scores(computed.org.id, [computed.vendor_a.id, computed.vendor_b.id])
    alpha = scores[computed.vendor_a.id]
    stored = (
        Score.objects.filter(
            organization=computed.org,
            vendor_key=computed.vendor_a.id,
            engagement_key=0,
            period_kind="quarter",
        )
        .exclude(score=None)
        .order_by("-period_start")
        .first()
    )
    assert (alpha.score, alpha.standing, alpha.period) == (stored.score, stored.standing, "2024-Q1")
    assert alpha.template == "Standard vendor scorecard" and alpha.sample == stored.sample
    # Beta Works has evidence (Max Mover's July commit) but no criterion with data: no history.
    assert computed.vendor_b.id not in scores


def _reset_statistics(tables) -> None:
    """What a restore leaves (and an empty table has): counters and analysis times reset."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_stat_reset_single_table_counters(relid) FROM pg_stat_user_tables WHERE relname = ANY(%s)",
            [list(tables)],
        )


def _analysed(tables) -> set[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # a transaction reads statistics once, cached
        cursor.execute(
            "SELECT relname FROM pg_stat_user_tables WHERE relname = ANY(%s) AND last_analyze IS NOT NULL",
            [list(tables)],
        )
        return {name for (name,) in cursor.fetchall()}


@pytest.mark.django_db
def test_full_recompute_analyses_evidence_tables_postgresql_has_never_analysed():
    # A database restored from a dump starts with no statistics and empty change counters;
    # without them PostgreSQL plans nested loops over millions of rows.
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("table statistics are PostgreSQL's")
    _reset_statistics(engine.EVIDENCE_TABLES)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_user_tables WHERE relname = ANY(%s) "
            "AND last_analyze IS NULL AND last_autoanalyze IS NULL AND n_mod_since_analyze = 0",
            [list(engine.EVIDENCE_TABLES)],
        )
        assert cursor.fetchone() == (len(engine.EVIDENCE_TABLES),)
    engine.refresh_statistics()
    assert _analysed(engine.EVIDENCE_TABLES) == set(engine.EVIDENCE_TABLES)


def test_full_recompute_analyses_the_tables_it_rewrote(evidence):
    """Values, cells and scores written into empty tables have no statistics until autovacuum
    comes by; the incremental recompute right after scanned the whole value table to score."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("table statistics are PostgreSQL's")
    _reset_statistics(engine.DERIVED_TABLES)
    engine.full_recompute(evidence.org.id)
    assert _analysed(engine.DERIVED_TABLES) == set(engine.DERIVED_TABLES)


@pytest.mark.django_db
def test_value_and_score_pages_keep_room_for_a_recompute_s_updates():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("fillfactor is PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class WHERE relname IN ('metrics_metricvalue', 'metrics_score')"
        )
        assert dict(cursor.fetchall()) == {
            "metrics_metricvalue": ["fillfactor=60"], "metrics_score": ["fillfactor=60"]
        }  # fmt: skip


def test_a_recompute_whose_worker_died_does_not_block_the_next(world):
    import socket
    import subprocess

    from django.core.exceptions import ValidationError

    from partnerscope.metrics.models import MetricsRun
    from partnerscope.metrics.services import start_recompute

    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid no process has any more
    dead = MetricsRun.objects.create(
        organization=world.org, full=True, status=MetricsRun.Status.RUNNING, worker_host=socket.gethostname(),
        worker_pid=gone.pid,
    )  # fmt: skip
    run = start_recompute(membership=world.owner_m, enqueue=False)
    dead.refresh_from_db()
    assert dead.status == MetricsRun.Status.FAILED and dead.message.startswith("Interrupted")
    # A live full run still blocks another.
    with pytest.raises(ValidationError, match="already queued or running"):
        start_recompute(membership=world.owner_m, enqueue=False)
    assert run.status == MetricsRun.Status.QUEUED


def test_a_deployment_finds_its_vendor_from_a_commit_without_a_pr(evidence):
    # A deployment in April ships ana's direct commit a1 (no PR): the vendor comes from the
    # commit's contribution.
    from partnerscope.evidence.models import Connection, Deployment, DeploymentCommit

    connection = Connection.objects.get(engagement=evidence.engagement_a)
    april = datetime.datetime(2024, 4, 3, tzinfo=datetime.UTC)
    deployment = Deployment.objects.create(
        organization=evidence.org, connection=connection, external_id="d-april", kind="deployment",
        environment="production", is_production=True, outcome="success", created_at=april, finished_at=april,
        updated_at=april, actor="", actor_kind="github", acted_on=april.date(),
    )  # fmt: skip
    DeploymentCommit.objects.create(organization=evidence.org, deployment=deployment, sha="a1")
    engine.full_recompute(evidence.org.id)
    shipped = value(evidence, "deployment_frequency", start=datetime.date(2024, 4, 1))
    assert shipped.sample == 1
    march = value(evidence, "change_failure_rate")
    assert (march.numerator, march.denominator) == (1, 2)


def test_a_deployed_merge_commit_is_not_a_change_of_whoever_merged(evidence):
    # An April deployment ships Ida's merge commit (in-house, two parents) of ana's branch: not
    # a deployment of in-house changes. Ida's own squashed commit in May is one.
    from partnerscope.evidence.models import Commit, Connection, Deployment, DeploymentCommit

    repo = Repository.objects.get(engagement=evidence.engagement_a)
    connection = Connection.objects.get(engagement=evidence.engagement_a)
    for sha, parents, day in (("mg1", 2, datetime.date(2024, 4, 3)), ("sq1", 1, datetime.date(2024, 5, 3))):
        when = datetime.datetime.combine(day, datetime.time(9), tzinfo=datetime.UTC)
        make_commit(repo, sha, "ida@acme.test", "Ida", when)
        Commit.objects.filter(repository=repo, sha=sha).update(parent_count=parents)
        deployment = Deployment.objects.create(
            organization=evidence.org, connection=connection, external_id=f"d-{sha}", kind="deployment",
            environment="production", is_production=True, outcome="success", created_at=when, finished_at=when,
            updated_at=when, actor="", actor_kind="github", acted_on=day,
        )  # fmt: skip
        DeploymentCommit.objects.create(organization=evidence.org, deployment=deployment, sha=sha)
    attribute_repository(repo)
    engine.full_recompute(evidence.org.id)
    inhouse = MetricValue.objects.filter(
        organization=evidence.org,
        kpi="deployment_frequency",
        vendor_key=0,
        engagement_key=0,
        period_kind="month",
    )
    assert not inhouse.filter(period_start=datetime.date(2024, 4, 1)).exists()
    assert inhouse.get(period_start=datetime.date(2024, 5, 1)).sample == 1


def test_the_engine_runs_with_query_logging_on(computed):
    # DEBUG (and every test capturing queries) logs each query with its parameters filled in;
    # a bare "%" in the SQL would make that logging raise.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        engine.full_recompute(computed.org.id)
    month_sql = "strftime('%Y'" if connection.vendor == "sqlite" else "date_part('year'"  # MonthIndex
    assert any(month_sql in q["sql"] for q in queries.captured_queries)
    assert value(computed, "review_discipline").numerator == 4


def test_a_whole_organization_read_by_table_scan_is_still_only_that_organization(evidence):
    from partnerscope.metrics.measures import EVERYTHING, of_organization
    from partnerscope.vendors.models import Vendor

    Vendor.objects.create(organization=evidence.other_org, name="Theirs")
    march = Scope(start=MARCH, end=datetime.date(2024, 4, 1))
    mine = set(Vendor.objects.filter(organization=evidence.org).values_list("id", flat=True))
    for scope in (EVERYTHING, march):
        assert (
            set(of_organization(Vendor.objects.all(), evidence.org.id, scope).values_list("id", flat=True))
            == mine
        )


def test_key_person_retention_counts_key_people_who_left_the_engagement(evidence):
    """Ana and Max are named key people on Alpha's engagement; Max leaves it on 30 June (he
    moves to Beta, as an ordinary engineer): June and the second quarter keep one of two."""
    from partnerscope.engagements.models import Assignment
    from partnerscope.engagements.services import save_roster_record

    for person in (evidence.person_a, evidence.mover):
        assignment = Assignment.objects.get(person=person, engagement=evidence.engagement_a)
        assignment.key_person = True
        save_roster_record(membership=evidence.owner_m, instance=assignment)
    assert DirtyCell.objects.filter(source="roster", month=datetime.date(2024, 6, 1)).exists()
    engine.full_recompute(evidence.org.id)
    june, q2 = datetime.date(2024, 6, 1), datetime.date(2024, 4, 1)
    assert value(evidence, "key_person_retention").value == pytest.approx(1.0)
    assert value(evidence, "key_person_retention", start=june).value == pytest.approx(0.5)
    quarter = value(evidence, "key_person_retention", kind="quarter", start=q2)
    assert (quarter.value, quarter.sample) == (pytest.approx(0.5), 2)  # key people at a time, not summed
    assert not MetricValue.objects.filter(
        kpi="key_person_retention", vendor_key=evidence.vendor_b.id, value__isnull=False
    ).exists()
