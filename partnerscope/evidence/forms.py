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


class ConnectionForm(ScopedModelForm):
    """A connection; the token is write-only: empty keeps the stored one, never shown again."""

    token = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="A read-only token (GitHub: a fine-grained token with read access to the repository's "
        "contents, pull requests, issues, deployments and actions). Leave empty to keep the stored one.",
    )

    class Meta:
        from partnerscope.evidence.models import Connection

        model = Connection
        fields = [
            "engagement", "name", "kind", "base_url", "project", "account_email", "production_environments",
            "incident_labels", "hotfix_refs", "client_wait_states", "found_in_production_labels",
            "allow_private_host",
        ]  # fmt: skip
        widgets = {
            "production_environments": forms.Textarea(attrs={"rows": 4}),
            "incident_labels": forms.Textarea(attrs={"rows": 4}),
            "hotfix_refs": forms.Textarea(attrs={"rows": 3}),
            "client_wait_states": forms.Textarea(attrs={"rows": 4}),
            "found_in_production_labels": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance._state.adding:
            self.fields["kind"].initial = "github"
        if self.instance.token_hint:
            self.fields["token"].help_text = (
                f"Stored: {self.instance.token_hint}. " + self.fields["token"].help_text
            )


class MapUsernameForm(forms.Form):
    kind = forms.CharField(max_length=10, widget=forms.HiddenInput)
    login = forms.CharField(max_length=255, widget=forms.HiddenInput)
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


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": ".json,.csv,application/json,text/csv"})
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [super(MultipleFileField, self).clean(item, initial) for item in data]
        return [super().clean(data, initial)]


class ImportForm(forms.Form):
    files = MultipleFileField(
        label="Export files",
        help_text="GitHub: the JSON of gh pr list / gh issue list --json …; Jira: a CSV export (see above).",
    )


class CoverageForm(forms.Form):
    """A coverage report of one commit's build (services.import_coverage reads it)."""

    commit = forms.CharField(
        max_length=64,
        help_text="The commit the build ran on: its full id or at least its first 7 characters.",
    )
    file = forms.FileField(
        label="Coverage report",
        help_text="LCOV (lcov.info) or Cobertura XML (coverage.xml), at most 50 MB.",
        widget=forms.ClearableFileInput(attrs={"accept": ".info,.lcov,.xml,text/plain,application/xml"}),
    )

    def clean_file(self):
        from partnerscope.evidence.coverage import MAX_REPORT_BYTES

        upload = self.cleaned_data["file"]
        if upload.size > MAX_REPORT_BYTES:
            raise forms.ValidationError("The report is larger than 50 MB.")
        return upload
