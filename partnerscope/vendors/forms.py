from django import forms

from partnerscope.vendors.models import (
    CaseStudy,
    Certification,
    Contact,
    RateCardLine,
    Skill,
    Vendor,
    VendorEmailDomain,
    VendorLocation,
    VendorSkill,
)
from partnerscope.web.crud import ScopedModelForm, date_widgets


class VendorForm(ScopedModelForm):
    class Meta:
        model = Vendor
        fields = [
            "name",
            "legal_name",
            "status",
            "website",
            "headquarters_country",
            "description",
            "internal_notes",
        ]


class SkillForm(ScopedModelForm):
    class Meta:
        model = Skill
        fields = ["name", "category", "paths"]
        widgets = {"paths": forms.Textarea(attrs={"rows": 4})}


class VendorSkillForm(ScopedModelForm):
    class Meta:
        model = VendorSkill
        fields = ["skill", "level", "headcount"]


class VendorLocationForm(ScopedModelForm):
    class Meta:
        model = VendorLocation
        fields = ["city", "country", "timezone", "headcount"]


class VendorEmailDomainForm(ScopedModelForm):
    class Meta:
        model = VendorEmailDomain
        fields = ["domain"]
        help_texts = {"domain": "Addresses at this domain are suggested as this vendor's staff."}


class CertificationForm(ScopedModelForm):
    class Meta:
        model = Certification
        fields = ["name", "issuer", "reference", "issued_on", "expires_on"]
        widgets = date_widgets("issued_on", "expires_on")


class CaseStudyForm(ScopedModelForm):
    class Meta:
        model = CaseStudy
        fields = ["title", "client_industry", "year", "summary", "url"]


class ContactForm(ScopedModelForm):
    class Meta:
        model = Contact
        fields = ["name", "role", "email", "phone", "is_primary"]


class RateCardLineForm(ScopedModelForm):
    class Meta:
        model = RateCardLine
        fields = ["role", "seniority", "currency", "rate", "unit", "valid_from", "valid_to"]
        widgets = date_widgets("valid_from", "valid_to")

    period = ("valid_from", "valid_to")


# The profile records edited from a vendor's page: URL slug → (model, form, label).
CHILD_KINDS: dict[str, tuple[type, type[forms.ModelForm], str]] = {
    "skills": (VendorSkill, VendorSkillForm, "skill"),
    "locations": (VendorLocation, VendorLocationForm, "location"),
    "domains": (VendorEmailDomain, VendorEmailDomainForm, "e-mail domain"),
    "certifications": (Certification, CertificationForm, "certification"),
    "case-studies": (CaseStudy, CaseStudyForm, "case study"),
    "contacts": (Contact, ContactForm, "contact"),
    "rates": (RateCardLine, RateCardLineForm, "rate-card line"),
}
