from django.urls import path

from partnerscope.evidence import connection_views, views

urlpatterns = [
    path("evidence/", views.evidence_overview, name="evidence_overview"),
    path("evidence/unattributed/", views.unattributed, name="unattributed"),
    path("evidence/unattributed/map/", views.map_identity, name="map_identity"),
    path("evidence/unattributed/map-username/", views.map_username, name="map_username"),
    path("repositories/", views.repository_list, name="repository_list"),
    path("repositories/new/", views.repository_create, name="repository_create"),
    path("repositories/<str:uid>/", views.repository_detail, name="repository_detail"),
    path("repositories/<str:uid>/edit/", views.repository_edit, name="repository_edit"),
    path("repositories/<str:uid>/delete/", views.repository_delete, name="repository_delete"),
    path("repositories/<str:uid>/history/", views.repository_history, name="repository_history"),
    path("repositories/<str:uid>/sync/", views.repository_sync, name="repository_sync"),
    path("repositories/<str:uid>/coverage/", views.repository_coverage, name="repository_coverage"),
    path("syncs/<str:uid>/", views.sync_progress, name="sync_progress"),
    path("syncs/<str:uid>/cancel/", views.sync_cancel, name="sync_cancel"),
    path("connections/", connection_views.connection_list, name="connection_list"),
    path("connections/new/", connection_views.connection_create, name="connection_create"),
    path("connections/<str:uid>/", connection_views.connection_detail, name="connection_detail"),
    path("connections/<str:uid>/edit/", connection_views.connection_edit, name="connection_edit"),
    path("connections/<str:uid>/delete/", connection_views.connection_delete, name="connection_delete"),
    path("connections/<str:uid>/sync/", connection_views.connection_sync, name="connection_sync"),
    path("connections/<str:uid>/import/", connection_views.connection_import, name="connection_import"),
    path(
        "connector-syncs/<str:uid>/", connection_views.connector_run_progress, name="connector_run_progress"
    ),
    path(
        "connector-syncs/<str:uid>/cancel/",
        connection_views.connector_run_cancel,
        name="connector_run_cancel",
    ),
    path("pull-requests/", connection_views.pull_request_list, name="pull_request_list"),
    path("work-items/", connection_views.work_item_list, name="work_item_list"),
    path("deployments/", connection_views.deployment_list, name="deployment_list"),
    path("incidents/", connection_views.incident_list, name="incident_list"),
]
