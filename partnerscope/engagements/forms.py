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
            "description",
            "internal_notes",
        ]
        widgets = date_widgets("start_date", "end_date")

    def clean_currency(self):
        return (self.cleaned_data.get("currency") or "").upper()

    def clean(self):
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", "The end date is before the start date.")
        return data


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
        ]
        labels = {"vendor": "Employer (empty = in-house)"}
        widgets = date_widgets("valid_from", "valid_to")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["vendor"].empty_label = "In-house"
        self.fields["engagement"].empty_label = "No engagement"

    def clean_currency(self):
        return (self.cleaned_data.get("currency") or "").upper()

    def clean(self):
        data = super().clean()
        start, end = data.get("valid_from"), data.get("valid_to")
        if start and end and end < start:
            self.add_error("valid_to", "The end date is before the start date.")
        return data


class AssignPersonForm(forms.Form):
    """Pick someone on the roster to assign to an engagement (from the engagement's page)."""

    person = forms.ModelChoiceField(queryset=Person.objects.none(), to_field_name="uid")

    def __init__(self, *args, membership, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = Person.objects.visible_to(membership)
