from django import forms

from partnerscope.engagements.models import Person
from partnerscope.evidence.models import Repository
from partnerscope.vendors.models import Vendor
from partnerscope.web.crud import ScopedModelForm


class RepositoryForm(ScopedModelForm):
    class Meta:
        model = Repository
        fields = ["engagement", "name", "source", "refs", "exclude_globs", "bot_patterns", "detect_renames"]
        widgets = {
            "exclude_globs": forms.Textarea(attrs={"rows": 6}),
            "bot_patterns": forms.Textarea(attrs={"rows": 6}),
        }


class EvidenceFilterForm(forms.Form):
    """The filters of the evidence overview; invalid values are ignored, never a 500."""

    engagement = forms.ModelChoiceField(queryset=None, required=False, to_field_name="uid")
    repository = forms.ModelChoiceField(queryset=None, required=False, to_field_name="uid")
    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, membership, **kwargs):
        super().__init__(*args, **kwargs)
        from partnerscope.engagements.models import Engagement

        self.fields["engagement"].queryset = Engagement.objects.visible_to(membership)
        self.fields["repository"].queryset = Repository.objects.visible_to(membership)

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v}


class MapIdentityForm(forms.Form):
    email = forms.CharField(max_length=255, widget=forms.HiddenInput)
    person = forms.ModelChoiceField(
        queryset=None, required=False, to_field_name="uid", empty_label="A new person", label="Person"
    )
    name = forms.CharField(max_length=160, required=False, label="Name of the new person")
    vendor = forms.ModelChoiceField(
        queryset=None,
        required=False,
        to_field_name="uid",
        empty_label="In-house",
        label="Employer of the new person",
    )

    def __init__(self, *args, membership, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = Person.objects.visible_to(membership)
        self.fields["vendor"].queryset = Vendor.objects.visible_to(membership)
