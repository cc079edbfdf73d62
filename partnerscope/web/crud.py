"""The shared shape of create/edit/delete pages: a scoped form, a service call, a redirect.

Views stay thin: they build a form, hand the unsaved instance to a service, and render. A
``ValidationError`` from the service (domain rules, uniqueness, foreign references) lands on
the form's fields, so bad input is a message next to the field, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.shortcuts import redirect, render

from partnerscope.orgs.scoping import TenantModel


class ScopedModelForm(forms.ModelForm):
    """A ModelForm whose choices of related records come only from the actor's scope.

    ``period = ("start_field", "end_field")`` refuses an end before the start, on the end field;
    a ``currency`` field is upper-cased before validation.
    """

    period: tuple[str, str] | None = None

    def __init__(self, *args, membership, **kwargs):
        super().__init__(*args, **kwargs)
        self.membership = membership
        for name, field in self.fields.items():
            if isinstance(field, forms.ModelChoiceField):
                model = field.queryset.model
                if issubclass(model, TenantModel):
                    # Choices carry opaque uids, never database ids, and only what is in scope.
                    field.queryset = model.objects.visible_to(membership)
                    field.to_field_name = "uid"
                    # An edited record's current choice arrives as a database id: show its uid.
                    related_id = getattr(self.instance, f"{name}_id", None)
                    if related_id is not None and self.initial.get(name) == related_id:
                        self.initial[name] = getattr(self.instance, name).uid
            if isinstance(field.widget, forms.DateInput):
                field.widget.input_type = "date"

    def clean_currency(self):
        return (self.cleaned_data.get("currency") or "").upper()

    def clean(self):
        data = super().clean()
        if self.period:
            start, end = (data.get(name) for name in self.period)
            if start and end and end < start:
                self.add_error(self.period[1], "The end date is before the start date.")
        return data


def date_widgets(*names: str) -> dict:
    return {name: forms.DateInput(attrs={"type": "date"}) for name in names}


def apply_errors(form: forms.Form, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, errors in exc.message_dict.items():
        if field in form.fields:
            form.add_error(field, errors)
        elif field == NON_FIELD_ERRORS:
            form.add_error(None, errors)
        else:  # a field the form does not show: name it in the message
            form.add_error(None, [f"{field.replace('_', ' ').capitalize()}: {e}" for e in errors])


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR")


def form_page(
    request,
    form: forms.Form,
    *,
    title: str,
    save: Callable[[], object],
    success_url: Callable[[object], str],
    cancel_url: str,
    crumbs: list[tuple[str, str]] = (),
    section: str = "",
    intro: str = "",
    submit_label: str = "Save",
    success_message: str = "Saved.",
):
    if request.method == "POST" and form.is_valid():
        try:
            obj = save()
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, success_message)
            return redirect(success_url(obj))
    status = 400 if request.method == "POST" else 200
    context = {
        "form": form,
        "title": title,
        "cancel_url": cancel_url,
        "crumbs": crumbs,
        "section": section,
        "intro": intro,
        "submit_label": submit_label,
    }
    return render(request, "web/form_page.html", context, status=status)


def delete_page(
    request, obj, *, kind: str, delete: Callable[[], None], success_url: str, cancel_url: str, section=""
):
    error = None
    if request.method == "POST":
        try:
            delete()
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, f"Deleted {kind} “{obj}”.")
            return redirect(success_url)
    context = {"object": obj, "kind": kind, "cancel_url": cancel_url, "error": error, "section": section}
    return render(request, "web/confirm_delete.html", context, status=400 if error else 200)
