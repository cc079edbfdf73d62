from django.urls import path

from partnerscope.vendors import views

urlpatterns = [
    path("vendors/", views.vendor_list, name="vendor_list"),
    path("vendors/new/", views.vendor_create, name="vendor_create"),
    path("vendors/<str:uid>/", views.vendor_detail, name="vendor_detail"),
    path("vendors/<str:uid>/edit/", views.vendor_edit, name="vendor_edit"),
    path("vendors/<str:uid>/delete/", views.vendor_delete, name="vendor_delete"),
    path("vendors/<str:uid>/history/", views.vendor_history, name="vendor_history"),
    path("vendors/<str:uid>/<slug:kind>/new/", views.child_create, name="vendor_child_create"),
    path("vendors/<str:uid>/<slug:kind>/<str:child_uid>/edit/", views.child_edit, name="vendor_child_edit"),
    path(
        "vendors/<str:uid>/<slug:kind>/<str:child_uid>/delete/",
        views.child_delete,
        name="vendor_child_delete",
    ),
    path("skills/", views.skill_list, name="skill_list"),
    path("skills/new/", views.skill_create, name="skill_create"),
    path("skills/<str:uid>/edit/", views.skill_edit, name="skill_edit"),
]
