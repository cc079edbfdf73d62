"""Forms of sourcing and planning. Choices of records carry uids and come only from the actor's
scope; the services validate again (a form is a convenience, not the guard)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django import forms

from partnerscope.decisions import DEFAULT_INPUTS
from partnerscope.sourcing.demand_import import parse_month
from partnerscope.sourcing.models import (
    CapacityPlan,
    CostScenario,
    Criterion,
    Decision,
    Method,
    PersonSkill,
    SourcingRequest,
    VendorCapacity,
    WeightSource,
)
from partnerscope.sourcing.services import SAATY, criterion_pairs, pair_key, saaty_label
from partnerscope.vendors.models import Seniority, Skill, VendorSkill
from partnerscope.web.crud import ScopedModelForm

LABELS = dict(Criterion.choices)


class MonthField(forms.CharField):
    """A month as YYYY-MM (``<input type=month>``), cleaned to its first day."""

    widget = forms.TextInput(attrs={"type": "month", "placeholder": "2025-07"})

    def prepare_value(self, value):
        if isinstance(value, datetime.date):
            return f"{value:%Y-%m}"
        return value

    def to_python(self, value):
        text = super().to_python(value)
        if not text:
            return None
        month = parse_month(text)
        if month is None:
            raise forms.ValidationError(f"“{text[:20]}” is not a month like 2025-07.")
        return month


class ClockInput(forms.TextInput):
    input_type = "time"


# --- sourcing requests --------------------------------------------------------------------------


class SourcingRequestForm(ScopedModelForm):
    class Meta:
        model = SourcingRequest
        fields = [
            "title",
            "description",
            "start_date",
            "duration_months",
            "budget_ceiling",
            "currency",
            "exchange_rates",
            "required_overlap_hours",
            "client_timezone",
            "workday_start",
            "workday_end",
            "required_certifications",
            "engagement_model",
        ]
        widgets = {
            "start_date": forms.DateInput(attrs={"type": "date"}),
            "workday_start": ClockInput(),
            "workday_end": ClockInput(),
            "description": forms.Textarea(attrs={"rows": 3}),
            "exchange_rates": forms.Textarea(attrs={"rows": 2}),
            "required_certifications": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        mix = self.instance.seniority_mix or {}
        for value, label in Seniority.choices:
            self.fields[f"mix_{value}"] = forms.DecimalField(
                label=f"{label} (%)", min_value=0, max_value=100, required=False, initial=mix.get(value, 0)
            )

    def mix_fields(self):
        return [self[f"mix_{value}"] for value in Seniority.values]

    def plain_fields(self):
        return [f for f in self.visible_fields() if not f.name.startswith("mix_")]

    def clean(self):
        data = super().clean()
        mix = {v: float(data.get(f"mix_{v}") or 0) for v in Seniority.values}
        if abs(sum(mix.values()) - 100) > 0.01:
            self.add_error(None, f"The seniority mix adds up to {sum(mix.values()):g} %, not 100 %.")
        self.instance.seniority_mix = {k: v for k, v in mix.items() if v}
        return data


class SkillNeedForm(forms.Form):
    skill = forms.ModelChoiceField(queryset=Skill.objects.none(), to_field_name="uid", required=False)
    min_level = forms.TypedChoiceField(
        choices=VendorSkill.Level.choices,
        coerce=int,
        initial=VendorSkill.Level.PRACTITIONER,
        label="Minimum level",
    )
    headcount = forms.IntegerField(min_value=1, max_value=1000, initial=1, required=False)
    required = forms.BooleanField(required=False, initial=True, label="Required (a gate)")

    def __init__(self, *args, membership, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["skill"].queryset = Skill.objects.visible_to(membership)

    def clean(self):
        data = super().clean()
        if data.get("skill") and not data.get("headcount"):
            self.add_error("headcount", "How many people with this skill?")
        return data


class BaseNeedFormSet(forms.BaseFormSet):
    def __init__(self, *args, membership, **kwargs):
        self.membership = membership
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "membership": self.membership}

    @property
    def empty_form(self):
        return self.form(
            auto_id=self.auto_id, prefix=self.add_prefix("__prefix__"), membership=self.membership
        )


SkillNeedFormSet = forms.formset_factory(SkillNeedForm, formset=BaseNeedFormSet, extra=3, max_num=40)


def need_initial(request: SourcingRequest | None) -> list[dict]:
    if request is None or request.pk is None:
        return []
    return [
        {"skill": n.skill.uid, "min_level": n.min_level, "headcount": n.headcount, "required": n.required}
        for n in request.skills.select_related("skill")
    ]


SAATY_CHOICES = [(f"{v:.6f}", f"{saaty_label(v)}" + (" · equal" if v == 1 else "")) for v in reversed(SAATY)]


class RankingForm(forms.Form):
    """Method and weights: set directly (summing to 100) or from pairwise judgements (AHP)."""

    method = forms.ChoiceField(choices=Method.choices)
    weight_source = forms.ChoiceField(choices=WeightSource.choices, widget=forms.RadioSelect, label="Weights")

    def __init__(self, *args, request: SourcingRequest, **kwargs):
        initial = {"method": request.method, "weight_source": request.weight_source}
        for key, weight in (request.weights or {}).items():
            initial[f"weight_{key}"] = weight
        for a, b in criterion_pairs():
            value = float((request.pairwise or {}).get(pair_key(a, b), 1))
            initial[f"pair_{a}__{b}"] = f"{min(SAATY, key=lambda s: abs(s - value)):.6f}"
        super().__init__(*args, initial=initial, **kwargs)
        for key, label in Criterion.choices:
            self.fields[f"weight_{key}"] = forms.DecimalField(
                label=label, min_value=0, max_value=100, decimal_places=2, required=False
            )
        for a, b in criterion_pairs():
            self.fields[f"pair_{a}__{b}"] = forms.ChoiceField(
                label=f"{LABELS[a]} vs {LABELS[b]}", choices=SAATY_CHOICES, required=False
            )

    def weight_fields(self):
        return [self[f"weight_{key}"] for key in Criterion.values]

    def pair_rows(self):
        return [(LABELS[a], self[f"pair_{a}__{b}"], LABELS[b]) for a, b in criterion_pairs()]

    def weights(self) -> dict:
        return {k: float(self.cleaned_data.get(f"weight_{k}") or 0) for k in Criterion.values}

    def pairwise(self) -> dict:
        return {
            pair_key(a, b): float(self.cleaned_data.get(f"pair_{a}__{b}") or 1) for a, b in criterion_pairs()
        }

    def field_for(self, key: str) -> str | None:
        """The form field an error of the service belongs to."""
        if ">" in key:
            a, b = key.split(">", 1)
            return f"pair_{a}__{b}"
        return {"weights": None, "method": "method", "weight_source": "weight_source"}.get(key)


class DecisionForm(forms.Form):
    vendor = forms.CharField(max_length=16)
    action = forms.ChoiceField(choices=Decision.Action.choices)
    note = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


# --- supply facts ---------------------------------------------------------------------------------


class VendorCapacityForm(ScopedModelForm):
    class Meta:
        model = VendorCapacity
        fields = ["vendor", "bench_fte", "lead_time_months", "max_growth_fte_per_month", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}


class PersonSkillForm(ScopedModelForm):
    class Meta:
        model = PersonSkill
        fields = ["person", "skill", "share_pct"]
        help_texts = {
            "person": "Anyone on the roster: vendor staff count towards their engagements' skill coverage"
        }


# --- hire vs outsource ----------------------------------------------------------------------------


class CostScenarioForm(ScopedModelForm):
    """The scenario and every model input: one number, or low / likely / high for a range."""

    class Meta:
        model = CostScenario
        fields = ["name", "role", "n_draws", "seed", "distribution"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stored = self.instance.inputs or {}
        for name, spec in DEFAULT_INPUTS.items():
            value = stored.get(name, spec.value)
            low = likely = high = value
            if isinstance(value, list | tuple):
                low, likely, high = value
            self.fields[name] = forms.FloatField(label=spec.label, initial=likely, required=True)
            if spec.ranged:
                ranged = isinstance(value, list | tuple) and value[0] != value[2]
                self.fields[f"{name}__low"] = forms.FloatField(
                    label=f"{spec.label}: low", required=False, initial=low if ranged else None
                )
                self.fields[f"{name}__high"] = forms.FloatField(
                    label=f"{spec.label}: high", required=False, initial=high if ranged else None
                )

    def scenario_fields(self):
        return [self[name] for name in self.Meta.fields]

    def input_rows(self):
        rows = []
        for name, spec in DEFAULT_INPUTS.items():
            rows.append(
                {
                    "name": name,
                    "spec": spec,
                    "likely": self[name],
                    "low": self[f"{name}__low"] if spec.ranged else None,
                    "high": self[f"{name}__high"] if spec.ranged else None,
                }
            )
        return rows

    def clean(self):
        data = super().clean()
        inputs = {}
        for name, spec in DEFAULT_INPUTS.items():
            likely = data.get(name)
            if likely is None:
                continue
            low = data.get(f"{name}__low") if spec.ranged else None
            high = data.get(f"{name}__high") if spec.ranged else None
            if (low is None) != (high is None):
                self.add_error(name, f"{spec.label}: give both low and high for a range, or neither.")
                continue
            inputs[name] = [low, likely, high] if low is not None else likely
        self.instance.inputs = inputs
        return data


# --- capacity plans -------------------------------------------------------------------------------

QUALITY_FLOORS = [
    ("", "No quality floor"),
    ("0", "Only the best standing band may grow"),
    ("1", "The two best bands may grow"),
    ("2", "The three best bands may grow"),
]


class CapacityPlanForm(ScopedModelForm):
    start_month = MonthField(help_text="YYYY-MM")
    quality_floor = forms.TypedChoiceField(
        choices=QUALITY_FLOORS,
        coerce=int,
        empty_value=None,
        required=False,
        help_text="Vendors whose scorecard standing is below the floor get no more work than their baseline; "
        "vendors without history are not held back",
    )

    class Meta:
        model = CapacityPlan
        fields = [
            "name",
            "description",
            "start_month",
            "months",
            "currency",
            "exchange_rates",
            "unmet_penalty",
            "quality_floor",
            "mip_gap",
            "time_limit_s",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "exchange_rates": forms.Textarea(attrs={"rows": 2}),
        }


class DemandImportForm(forms.Form):
    file = forms.FileField(
        help_text="CSV, UTF-8: skill,2025-07,2025-08,… (one row per skill) or skill,month,fte (one row per "
        "cell). The whole demand is replaced, or nothing if one cell is wrong."
    )


class ScenarioForm(forms.Form):
    name = forms.CharField(max_length=200, required=False, help_text="Empty: the plan's name and the change")
    change_pct = forms.DecimalField(
        label="Change in demand (%)",
        max_digits=7,
        decimal_places=2,
        initial=Decimal(30),
        help_text="e.g. 30 or −20",
    )
    first_month = forms.ChoiceField()
    last_month = forms.ChoiceField()
    skill = forms.ChoiceField(required=False, help_text="Empty: every skill")

    def __init__(self, *args, plan: CapacityPlan, skills, **kwargs):
        super().__init__(*args, **kwargs)
        months = [(f"{m:%Y-%m}", f"{m:%Y-%m}") for m in plan.month_starts()]
        self.fields["first_month"].choices = months
        self.fields["last_month"].choices = months
        self.fields["skill"].choices = [("", "All skills")] + [(s.uid, s.name) for s in skills]
        self.skills = {s.uid: s for s in skills}
        if not self.is_bound and months:
            self.initial.setdefault("first_month", months[0][0])
            self.initial.setdefault("last_month", months[min(2, len(months) - 1)][0])

    def clean(self):
        data = super().clean()
        for name in ("first_month", "last_month"):
            if data.get(name):
                data[name] = parse_month(data[name])
        data["skill"] = self.skills.get(data.get("skill") or "")
        return data
