from django.urls import path

from partnerscope.metrics import views

urlpatterns = [
    path("scorecards/", views.standings, name="standings"),
    path("scorecards/compare/", views.compare, name="compare"),
    path("scorecards/templates/", views.template_list, name="template_list"),
    path("scorecards/templates/new/", views.template_edit, name="template_create"),
    path("scorecards/templates/<str:uid>/edit/", views.template_edit, name="template_edit"),
    path("scorecards/kpis/", views.kpi_list, name="kpi_list"),
    path("scorecards/kpis/new/", views.kpi_create, name="kpi_create"),
    path("scorecards/recompute/", views.metrics_recompute, name="metrics_recompute"),
    path("scorecards/runs/<str:uid>/", views.metrics_run_progress, name="metrics_run_progress"),
    path("scorecards/values/<str:uid>/", views.metric_value, name="metric_value"),
    path("scorecards/values/<str:uid>/dispute/", views.dispute_open, name="dispute_open"),
    path("scorecards/disputes/", views.dispute_list, name="dispute_list"),
    path("scorecards/disputes/<str:uid>/resolve/", views.dispute_resolve, name="dispute_resolve"),
    path("scorecards/alerts/", views.alert_list, name="alert_list"),
    path("scorecards/webhooks/new/", views.webhook_create, name="webhook_create"),
    path("scorecards/webhooks/<str:uid>/delete/", views.webhook_delete, name="webhook_delete"),
    path("scorecards/vendor/<str:uid>/", views.scorecard, name="scorecard"),
    path("scorecards/charts/<str:key>.svg", views.chart, name="chart"),
    path("scorecards/vendor/<str:uid>/export.<str:fmt>", views.scorecard_export, name="scorecard_export"),
]
