from django import forms

from partnerscope.engagements.models import Assignment, Engagement, Identity, Person
from partnerscope.web.crud import ScopedModelForm, date_widgets


class EngagementForm(ScopedModelForm):
    class Meta:
        model = Engagement
        fields = [
            "vendor",
            "name",
            "reference",
            "model",
            "status",
            "start_date",
            "end_date",
            "budget",
            "currency",
            "baseline_fte",
            "flex_band_pct",
            "notice_period_days",
            "minimum_commitment",
            "required_skills",
            "description",
            "internal_notes",
        ]
        widgets = {
            **date_widgets("start_date", "end_date"),
            "required_skills": forms.SelectMultiple(attrs={"size": 8}),
        }

    period = ("start_date", "end_date")


class PersonForm(ScopedModelForm):
    class Meta:
        model = Person
        fields = ["name", "email", "title", "location", "notes"]
        help_texts = {"notes": "Client-only; never shown to vendor users."}


class IdentityForm(ScopedModelForm):
    class Meta:
        model = Identity
        fields = ["kind", "value"]
        help_texts = {"value": "As it appears in the source system, e.g. ana@example.com or ana-dev."}


class AssignmentForm(ScopedModelForm):
    class Meta:
        model = Assignment
        fields = [
            "vendor",
            "engagement",
            "role",
            "seniority",
            "rate",
            "currency",
            "allocation_pct",
            "valid_from",
            "valid_to",
            "key_person",
            "requested_on",
        ]
        labels = {"vendor": "Employer (empty = in-house)", "requested_on": "Staffing request approved on"}
        widgets = date_widgets("valid_from", "valid_to", "requested_on")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["vendor"].empty_label = "In-house"
        self.fields["engagement"].empty_label = "No engagement"

    period = ("valid_from", "valid_to")


class AssignPersonForm(forms.Form):
    """Pick someone on the roster to assign to an engagement (from the engagement's page)."""

    person = forms.ModelChoiceField(queryset=Person.objects.none(), to_field_name="uid")

    def __init__(self, *args, membership, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = Person.objects.visible_to(membership)
