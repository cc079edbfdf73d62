from django import forms

from partnerscope.orgs.roles import Role, TokenScope
from partnerscope.vendors.models import Vendor


class RoleFormMixin(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)
    vendor = forms.ModelChoiceField(
        queryset=Vendor.objects.none(),
        required=False,
        help_text="Only for the vendor role: the one vendor this user represents.",
    )

    def __init__(self, *args, membership, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["vendor"].queryset = Vendor.objects.visible_to(membership)
        self.fields["vendor"].to_field_name = "uid"

    def clean(self):
        data = super().clean()
        role, vendor = data.get("role"), data.get("vendor")
        if role == Role.VENDOR and vendor is None:
            self.add_error("vendor", "A vendor user must be bound to one vendor.")
        if role and role != Role.VENDOR and vendor is not None:
            self.add_error("vendor", "Only vendor users are bound to a vendor; leave this empty.")
        return data


class InviteForm(RoleFormMixin):
    email = forms.EmailField(help_text="The invitation link is shown once after you send this form.")
    field_order = ["email", "role", "vendor"]


class MemberRoleForm(RoleFormMixin):
    pass


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Where the token is used, e.g. “BI export”.")
    scope = forms.ChoiceField(choices=TokenScope.choices, initial=TokenScope.READ)
