from django.urls import path

from partnerscope.engagements import views

urlpatterns = [
    path("engagements/", views.engagement_list, name="engagement_list"),
    path("engagements/new/", views.engagement_create, name="engagement_create"),
    path("engagements/<str:uid>/", views.engagement_detail, name="engagement_detail"),
    path("engagements/<str:uid>/edit/", views.engagement_edit, name="engagement_edit"),
    path("engagements/<str:uid>/delete/", views.engagement_delete, name="engagement_delete"),
    path("engagements/<str:uid>/history/", views.engagement_history, name="engagement_history"),
    path("engagements/<str:uid>/assign/", views.engagement_assign, name="engagement_assign"),
    path("people/", views.person_list, name="person_list"),
    path("people/new/", views.person_create, name="person_create"),
    path("people/<str:uid>/", views.person_detail, name="person_detail"),
    path("people/<str:uid>/edit/", views.person_edit, name="person_edit"),
    path("people/<str:uid>/delete/", views.person_delete, name="person_delete"),
    path("people/<str:uid>/history/", views.person_history, name="person_history"),
    path("people/<str:uid>/identities/new/", views.identity_create, name="identity_create"),
    path(
        "people/<str:uid>/identities/<str:identity_uid>/delete/",
        views.identity_delete,
        name="identity_delete",
    ),
    path("people/<str:uid>/assignments/new/", views.assignment_create, name="assignment_create"),
    path(
        "people/<str:uid>/assignments/<str:assignment_uid>/edit/",
        views.assignment_edit,
        name="assignment_edit",
    ),
    path(
        "people/<str:uid>/assignments/<str:assignment_uid>/delete/",
        views.assignment_delete,
        name="assignment_delete",
    ),
]
