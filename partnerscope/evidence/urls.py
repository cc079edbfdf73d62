from django.urls import path

from partnerscope.evidence import views

urlpatterns = [
    path("evidence/", views.evidence_overview, name="evidence_overview"),
    path("evidence/unattributed/", views.unattributed, name="unattributed"),
    path("evidence/unattributed/map/", views.map_identity, name="map_identity"),
    path("repositories/", views.repository_list, name="repository_list"),
    path("repositories/new/", views.repository_create, name="repository_create"),
    path("repositories/<str:uid>/", views.repository_detail, name="repository_detail"),
    path("repositories/<str:uid>/edit/", views.repository_edit, name="repository_edit"),
    path("repositories/<str:uid>/delete/", views.repository_delete, name="repository_delete"),
    path("repositories/<str:uid>/history/", views.repository_history, name="repository_history"),
    path("repositories/<str:uid>/sync/", views.repository_sync, name="repository_sync"),
    path("syncs/<str:uid>/", views.sync_progress, name="sync_progress"),
    path("syncs/<str:uid>/cancel/", views.sync_cancel, name="sync_cancel"),
]
