"""The KPI catalogue and how one KPI's value is computed from a cell's measures.

Three kinds: a *rate* (numerator ÷ denominator measures, with a Wilson 95 % interval), a
*ratio* (a formula over measures, no interval), a *duration* (median, p75 and p90 of exact
durations). Built-in definitions carry a version number here; a change to how one is computed
must bump it, so stored values say which definition made them. Custom KPIs (KpiDefinition
rows) are ratios or rates written in the formula language of expressions.py.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

from partnerscope.metrics import stats
from partnerscope.metrics.expressions import parse
from partnerscope.metrics.measures import ALL_MEASURE_NAMES


@functools.lru_cache(maxsize=512)
def formula(text: str):
    """A parsed formula, once per text: the engine evaluates it for every cell."""
    return parse(text, FORMULA_NAMES)


# Names a formula may use besides the measures: the period's length.
PERIOD_NAMES = ("weeks", "months", "days")
FORMULA_NAMES = frozenset(ALL_MEASURE_NAMES) | frozenset(PERIOD_NAMES)


@dataclass(frozen=True)
class Kpi:
    key: str
    name: str
    version: int
    kind: str  # rate | ratio | duration
    unit: str  # "%", "hours", "days", "business days", "per week", "per FTE-month", "% a year"
    direction: int  # +1 higher is better, -1 lower is better
    description: str
    source: str = ""
    numerator: str = ""
    denominator: str = ""
    formula: str = ""
    sample_measure: str = ""
    duration: str = ""
    min_sample: int = 5
    builtin: bool = True
    group: str = ""
    # A duration whose samples are days (ordinals), counted per calendar week of the period:
    # the median is over every week, those without a sample counting 0.
    days_per_week: bool = False

    @property
    def scale(self) -> float:
        """Stored values are fractions and hours; pages show percentages and days."""
        if self.unit in ("%", "% a year"):
            return 100.0
        if self.unit in ("days", "business days"):
            return 1 / 24
        if self.unit == "weeks":
            return 1 / 168
        return 1.0

    def display(self, value: float | None) -> str:
        if value is None:
            return "—"
        shown = value * self.scale
        if self.unit in ("%", "% a year"):
            return f"{shown:.1f} %" if self.unit == "%" else f"{shown:.1f} % a year"
        precision = 2 if abs(shown) < 10 else 1
        return f"{shown:.{precision}f} {self.unit}".strip()

    @property
    def measures_used(self) -> list[str]:
        if self.kind == "rate":
            return [self.numerator, self.denominator]
        if self.kind == "ratio":
            return sorted(formula(self.formula).names - set(PERIOD_NAMES))
        return []


BUILTIN: dict[str, Kpi] = {
    k.key: k
    for k in [
        # Version 2 of the four deployment KPIs: a shipped merge commit no longer counts as a
        # change of whoever merged it.
        Kpi("deployment_frequency", "Deployment frequency", 2, "ratio", "per week", 1,
            "Successful production deployments containing vendor changes, per week",
            "DORA; Apache DevLake DORA dashboard", formula="prod_deployments / weeks",
            sample_measure="prod_deployments", min_sample=1, group="Delivery"),
        Kpi("deploy_days", "Deployment days per week", 2, "duration", "days per week", 1,
            "Median over the period's calendar weeks of the days with at least one successful production "
            "deployment containing vendor changes; a week without one counts 0 (a week belongs to the month "
            "of its Thursday)", "DORA; Apache DevLake DORA dashboard", duration="deploy_days", min_sample=4,
            days_per_week=True, group="Delivery"),
        Kpi("lead_time", "Lead time for changes", 1, "duration", "hours", -1,
            "Median of first production deployment containing the PR's merge commit − the PR's first "
            "commit (the host's first commit, so squash merges keep theirs)",
            "DORA; DevLake change_lead_time_calculator", duration="lead_time", group="Delivery"),
        Kpi("coding_time", "PR coding time", 1, "duration", "hours", -1,
            "Median of PR created − first commit, PRs merged in the period", "DevLake PR metrics",
            duration="coding_time", group="Delivery"),
        Kpi("pickup_time", "PR pickup time", 1, "duration", "hours", -1,
            "Median of first review or comment by someone other than the author (bots excluded) − ready "
            "for review", "DevLake PR metrics; LinearB", duration="pickup_time", group="Delivery"),
        Kpi("review_time", "PR review time", 1, "duration", "hours", -1,
            "Median of merged − first review by someone else", "DevLake PR metrics", duration="review_time",
            group="Delivery"),
        Kpi("deploy_time", "PR deploy time", 1, "duration", "hours", -1,
            "Median of first production deployment − merged", "DevLake PR metrics", duration="deploy_time",
            group="Delivery"),
        Kpi("client_wait", "Client review wait", 1, "duration", "hours", -1,
            "Median time vendor PRs waited for a client reviewer's first review or comment after being ready "
            "for review: the client's share of the delay, so the vendor is not blamed for it", "METRICS.md "
            "(client-side wait)", duration="client_wait", group="Delivery"),
        Kpi("predictability", "Predictability", 1, "rate", "%", 1,
            "Work items in a closed sprint when it started (committed) that were done by its end ÷ committed "
            "items, in the month the sprint ended", "METRICS.md (practitioner sources)",
            numerator="delivered_items", denominator="committed_items", group="Delivery"),
        Kpi("velocity_cv", "Velocity variation", 1, "ratio", "%", -1,
            "Coefficient of variation of the delivered committed items per sprint (standard deviation ÷ "
            "mean) over the period's closed sprints", "METRICS.md (practitioner sources)",
            formula="(sprints * sprint_velocity_sq - sprint_velocity ^ 2) ^ 0.5 / sprint_velocity",
            sample_measure="sprints", min_sample=3, group="Delivery"),
        Kpi("change_request_acceptance", "Change request acceptance", 1, "rate", "%", 1,
            "Merged PRs ÷ PRs closed (merged or not) in the period", "CHAOSS",
            numerator="merged_prs", denominator="closed_prs", group="Delivery"),
        Kpi("issue_lead_time", "Issue lead time", 1, "duration", "days", -1,
            "Median of resolved − created, work items resolved by vendor staff", "DevLake Jira dashboard",
            duration="issue_lead_time", group="Delivery"),
        Kpi("ticket_client_wait", "Ticket client wait", 1, "duration", "hours", -1,
            "Median time the work items resolved by vendor staff spent in a status or with a label that "
            "means waiting for the client (the connection's list), over the items that waited: the "
            "client's share of issue lead time", "METRICS.md (client-side wait)", duration="ticket_client_wait",
            group="Delivery"),
        Kpi("change_failure_rate", "Change failure rate", 2, "rate", "%", -1,
            "Production deployments with vendor changes followed by a failure (linked incident, revert or "
            "hotfix) ÷ those deployments; failed deployment runs are not incidents",
            "DORA; DevLake #7971; Four Keys #351", numerator="failed_deployments",
            denominator="prod_deployments", group="Quality"),
        Kpi("recovery_time", "Failed deployment recovery time", 2, "duration", "hours", -1,
            "Median of incident resolved − failed deployment finished", "DORA", duration="recovery_time",
            group="Quality"),
        Kpi("revert_rate", "Revert rate", 1, "rate", "%", -1,
            "Vendor-authored commits later reverted ÷ vendor-authored commits; counted for the author of the "
            "reverted change, not the reverter", "METRICS.md", numerator="reverted_commits",
            denominator="authored_commits", group="Quality"),
        Kpi("bug_introducing_rate", "Bug-introducing changes", 1, "rate", "%", -1,
            "Vendor-authored commits whose lines a later bug fix deleted or changed (SZZ: the fix's lines "
            "traced by blame) ÷ vendor-authored commits; counted for the author of the blamed change",
            "SZZ (Śliwerski, Zimmermann, Zeller 2005)", numerator="bug_introducing_commits",
            denominator="authored_commits", group="Quality"),
        Kpi("new_code_coverage", "Coverage on new code", 1, "ratio", "%", 1,
            "Lines added by vendor-authored commits that their build's tests ran ÷ the lines they added that "
            "can run, from the coverage report CI uploads for each commit; commits without a report are left out",
            "SonarQube's coverage on new code", formula="covered_new_lines / coverable_new_lines",
            sample_measure="reported_commits", group="Quality"),
        Kpi("pr_revert_rate", "PR revert rate", 1, "rate", "%", -1,
            "Merged vendor PRs later reverted ÷ merged vendor PRs", "METRICS.md",
            numerator="reverted_prs", denominator="merged_prs", group="Quality"),
        Kpi("rework_rate", "Code rework rate", 1, "ratio", "%", -1,
            "Changed lines that rewrite lines written less than 21 days before ÷ changed lines", "LinearB",
            formula="rework_lines / rework_base_lines", sample_measure="authored_commits", group="Quality"),
        Kpi("defect_density", "Defect density", 1, "ratio", "per 1k changed lines", -1,
            "Bugs reported in the period and assigned to vendor staff ÷ thousands of lines changed by "
            "vendor-authored commits", "METRICS.md", formula="bugs / changed_lines * 1000",
            sample_measure="authored_commits", group="Quality"),
        Kpi("defect_escape_rate", "Defect escape rate", 1, "rate", "%", -1,
            "Bugs found in production (a label of the connection's \"found in production\" list) ÷ bugs "
            "reported, both assigned to vendor staff", "METRICS.md (needs a \"found in\" label mapping)",
            numerator="escaped_bugs", denominator="bugs", group="Quality"),
        Kpi("bugs_per_merged_pr", "Bugs per merged PR", 1, "ratio", "per merged PR", -1,
            "Bugs reported in the period and assigned to vendor staff ÷ merged vendor PRs", "METRICS.md",
            formula="bugs / merged_prs", sample_measure="merged_prs", group="Quality"),
        Kpi("ci_failure_rate", "CI failure rate", 1, "rate", "%", -1,
            "Failed CI runs (workflow runs, pipelines) triggered by vendor staff ÷ finished runs; production "
            "deployments count in the change failure rate instead", "METRICS.md (test and CI signals)",
            numerator="failed_ci_runs", denominator="ci_runs", group="Quality"),
        Kpi("review_rounds", "Review rounds per PR", 1, "ratio", "rounds per PR", -1,
            "1 + changes requested by client reviewers, averaged over merged vendor PRs", "METRICS.md (review "
            "outcome)", formula="(merged_prs + client_change_requests) / merged_prs", sample_measure="merged_prs",
            group="Quality"),
        Kpi("review_discipline", "Review discipline", 1, "rate", "%", 1,
            "Merged PRs with an approving review by someone other than the author (bots excluded) ÷ merged "
            "PRs", "METRICS.md (DevLake counts the author's own comments)", numerator="approved_merged_prs",
            denominator="merged_prs", group="Quality"),
        Kpi("changes_requested_share", "Changes requested by the client", 1, "rate", "%", -1,
            "Closed vendor PRs on which a client reviewer requested changes ÷ closed PRs", "METRICS.md",
            numerator="changes_requested_prs", denominator="closed_prs", group="Quality"),
        Kpi("merged_prs_per_fte", "Merged PRs per FTE-month", 1, "ratio", "per FTE-month", 1,
            "Merged PRs ÷ assigned FTE-months (allocation × share of the month on the roster)",
            "METRICS.md rule 8", formula="merged_prs / fte_months", sample_measure="merged_prs",
            group="Capacity"),
        Kpi("changed_lines_per_fte", "Changed lines per FTE-month", 1, "ratio", "per FTE-month", 1,
            "Lines added and deleted by vendor-authored commits ÷ assigned FTE-months", "METRICS.md rule 8",
            formula="changed_lines / fte_months", sample_measure="authored_commits", group="Capacity"),
        Kpi("attrition", "Engagement attrition", 1, "ratio", "% a year", -1,
            "People leaving this engagement ÷ people assigned, annualised (≤ 5 % good, > 20 % unhealthy)",
            "METRICS.md", formula="leavers / headcount * 12 / months", sample_measure="headcount",
            group="Expertise"),
        Kpi("time_to_staff", "Time to staff", 1, "duration", "business days", -1,
            "Median of business days from the approval of a staffing request (the roster's \"staffing request "
            "approved on\") to the person's first merged PR on the engagement, in the month of that PR",
            "METRICS.md", duration="time_to_staff", min_sample=1, group="Expertise"),
        Kpi("ramp_up", "Ramp-up", 1, "duration", "weeks", -1,
            "Median of the weeks until a person new to the engagement merges, in a week, 70 % of the PRs a "
            "week the team merged in the twelve weeks before they started; in the month that week ends",
            "METRICS.md", duration="ramp_up", min_sample=1, group="Expertise"),
        Kpi("key_person_retention", "Key-person retention", 1, "ratio", "%", 1,
            "Key people (named in the contract: the roster's key-person flag) who did not leave this "
            "engagement in the period ÷ key people assigned in it", "METRICS.md",
            formula="(key_people - key_leavers) / key_people", sample_measure="key_people", min_sample=1,
            group="Expertise"),
        Kpi("skill_coverage", "Skill coverage (roster)", 1, "ratio", "%", 1,
            "Required skills of the engagement held by someone the vendor had assigned to it, month by month "
            "(people's skills): covered skill-months ÷ required skill-months", "METRICS.md",
            formula="rostered_skills / required_skills", sample_measure="required_skills", min_sample=1,
            group="Expertise"),
        Kpi("skill_evidence", "Skill coverage (evidence)", 1, "ratio", "%", 1,
            "Required skills with paths that the vendor's commits to the engagement showed, month by month: "
            "skill-months with a commit changing a matching file ÷ required skill-months with paths",
            "METRICS.md", formula="exercised_skills / path_skills", sample_measure="path_skills", min_sample=1,
            group="Expertise"),
    ]
}  # fmt: skip


def custom_kpi(definition) -> Kpi:
    return Kpi(
        key=definition.kpi_key,
        name=definition.name,
        version=definition.version,
        kind=definition.kind,
        unit=definition.unit,
        direction=definition.direction,
        description=definition.description,
        source="Custom KPI",
        numerator=definition.numerator,
        denominator=definition.denominator,
        formula=definition.formula,
        sample_measure=definition.sample_measure or definition.denominator,
        min_sample=definition.min_sample,
        builtin=False,
        group="Custom",
    )


CUSTOM_PREFIX = "custom."  # KpiDefinition.kpi_key: custom KPIs are keyed apart from built-in ones


def catalogue(organization_id: int, needed: Iterable[str] | None = None) -> dict[str, Kpi]:
    """Built-in KPIs and the organization's current custom ones. With ``needed`` (the keys a
    page shows), the custom definitions are read only when one of those is custom: a scorecard
    of built-in KPIs makes one query fewer."""
    from partnerscope.metrics.models import KpiDefinition

    out = dict(BUILTIN)
    if needed is not None and not any(key.startswith(CUSTOM_PREFIX) for key in needed):
        return out
    for definition in KpiDefinition.objects.filter(organization_id=organization_id, is_current=True):
        out[definition.kpi_key] = custom_kpi(definition)
    return out


@dataclass
class Computed:
    value: float | None
    sample: int
    numerator: float | None = None
    denominator: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p75: float | None = None
    p90: float | None = None
    status: str = "no_data"
    digest: str = ""


def compute(kpi: Kpi, measures: dict, samples: dict, period_values: dict) -> Computed:
    """One KPI for one cell. ``measures``: name -> CellAggregate; ``samples``: duration name ->
    list of stats.SampleChunk; ``period_values``: weeks/months/days of the period."""
    from partnerscope.metrics.measures import digest_of

    if kpi.kind == "duration":
        chunks = samples.get(kpi.duration, [])
        n = sum(c.n for c in chunks)
        if not n:
            return Computed(None, 0)
        hours = stats.sorted_hours(chunks)
        sample = n
        if kpi.days_per_week:
            hours = _days_per_week(hours, int(period_values["calendar_weeks"]))
            sample = len(hours)
        out = Computed(
            float(stats.percentile(hours, 0.5)),
            sample,
            p75=float(stats.percentile(hours, 0.75)),
            p90=float(stats.percentile(hours, 0.9)),
            digest=digest_of(n, sum(c.id_sum for c in chunks), sum(c.id_hash for c in chunks)),
        )
    elif kpi.kind == "rate":
        num, den = measures.get(kpi.numerator), measures.get(kpi.denominator)
        n, d = (num.value if num else 0.0), (den.value if den else 0.0)
        if d <= 0:
            return Computed(None, 0)
        interval = stats.wilson(min(n, d), d)
        out = Computed(n / d, int(d), numerator=n, denominator=d, ci_low=interval[0], ci_high=interval[1])
        out.digest = _digest(measures, [kpi.numerator, kpi.denominator])
    else:
        parsed = formula(kpi.formula)
        values = {name: (measures[name].value if name in measures else None) for name in parsed.names}
        # A measure with no rows in the cell is 0 when others have rows: "0 leavers" is data.
        if all(values.get(name) is None for name in parsed.names - set(PERIOD_NAMES)):
            return Computed(None, 0)
        values = {name: (0.0 if v is None else v) for name, v in values.items()}
        values.update(period_values)
        sample = measures.get(kpi.sample_measure)
        value = parsed.evaluate(values)
        out = Computed(value, int(sample.n if sample else 0))
        out.digest = _digest(measures, sorted(parsed.names - set(PERIOD_NAMES)))
        if value is None:
            out.status = "no_data"
            return out
    if out.sample == 0 or out.value is None:
        out.status = "no_data"
    elif out.sample < kpi.min_sample:
        out.status = "insufficient"
    else:
        out.status = "ok"
    return out


def _days_per_week(days, weeks: int):
    """Sorted counts of days per calendar week from day ordinals (several engagements' samples
    of one day are one day), with a 0 for each of the period's ``weeks`` without a day."""
    import numpy as np

    # Ordinal 1 (1 January of year 1) was a Monday: (ordinal - 1) // 7 numbers Monday weeks.
    _, counts = np.unique((np.unique(days).astype(np.int64) - 1) // 7, return_counts=True)
    return np.sort(np.concatenate((np.zeros(max(0, weeks - len(counts))), counts.astype(np.float64))))


def _digest(measures: dict, names: list[str]) -> str:
    from partnerscope.metrics.measures import UNDIGESTED, digest_of

    n = s = h = 0
    for name in names:
        if name in UNDIGESTED:
            continue
        aggregate = measures.get(name)
        if aggregate is not None:
            n, s, h = n + aggregate.n, s + aggregate.id_sum, h + aggregate.id_hash
    return digest_of(n, s, h)
