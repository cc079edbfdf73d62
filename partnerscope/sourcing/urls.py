from django.urls import path

from partnerscope.sourcing import planning_views as planning
from partnerscope.sourcing import views

urlpatterns = [
    path("sourcing/", views.sourcing_request_list, name="sourcing_request_list"),
    path("sourcing/new/", views.sourcing_request_create, name="sourcing_request_create"),
    path("sourcing/<str:uid>/", views.sourcing_request_detail, name="sourcing_request_detail"),
    path("sourcing/<str:uid>/edit/", views.sourcing_request_edit, name="sourcing_request_edit"),
    path("sourcing/<str:uid>/delete/", views.sourcing_request_delete, name="sourcing_request_delete"),
    path("sourcing/<str:uid>/rank/", views.sourcing_rank, name="sourcing_rank"),
    path("rankings/<str:uid>/", views.evaluation_detail, name="evaluation_detail"),
    path("rankings/<str:uid>/explain/", views.evaluation_explain, name="evaluation_explain"),
    path("rankings/<str:uid>/decide/", views.evaluation_decide, name="evaluation_decide"),
    path("decisions/<str:uid>/", views.decision_detail, name="decision_detail"),
    path("planning/supply/", planning.supply_overview, name="supply_overview"),
    path("planning/vendor-capacity/new/", planning.vendor_capacity_create, name="vendor_capacity_create"),
    path(
        "planning/vendor-capacity/<str:uid>/edit/", planning.vendor_capacity_edit, name="vendor_capacity_edit"
    ),
    path(
        "planning/vendor-capacity/<str:uid>/delete/",
        planning.vendor_capacity_delete,
        name="vendor_capacity_delete",
    ),
    path("planning/person-skills/new/", planning.person_skill_create, name="person_skill_create"),
    path(
        "planning/person-skills/<str:uid>/delete/", planning.person_skill_delete, name="person_skill_delete"
    ),
    path("planning/cost/", planning.cost_scenario_list, name="cost_scenario_list"),
    path("planning/cost/new/", planning.cost_scenario_create, name="cost_scenario_create"),
    path("planning/cost/<str:uid>/", planning.cost_scenario_detail, name="cost_scenario_detail"),
    path("planning/cost/<str:uid>/edit/", planning.cost_scenario_edit, name="cost_scenario_edit"),
    path("planning/cost/<str:uid>/delete/", planning.cost_scenario_delete, name="cost_scenario_delete"),
    path("planning/capacity/", planning.capacity_plan_list, name="capacity_plan_list"),
    path("planning/capacity/new/", planning.capacity_plan_create, name="capacity_plan_create"),
    path("planning/capacity/compare/", planning.capacity_compare, name="capacity_compare"),
    path("planning/capacity/<str:uid>/", planning.capacity_plan_detail, name="capacity_plan_detail"),
    path("planning/capacity/<str:uid>/edit/", planning.capacity_plan_edit, name="capacity_plan_edit"),
    path("planning/capacity/<str:uid>/delete/", planning.capacity_plan_delete, name="capacity_plan_delete"),
    path("planning/capacity/<str:uid>/demand/", planning.capacity_demand, name="capacity_demand"),
    path("planning/capacity/<str:uid>/import/", planning.capacity_import, name="capacity_import"),
    path("planning/capacity/<str:uid>/scenario/", planning.capacity_scenario, name="capacity_scenario"),
    path("planning/capacity/<str:uid>/solve/", planning.capacity_solve, name="capacity_solve"),
    path("planning/capacity/<str:uid>/adopt/", planning.capacity_adopt, name="capacity_adopt"),
    path("planning/solves/<str:uid>/", planning.plan_run_progress, name="plan_run_progress"),
    path("planning/solves/<str:uid>/cancel/", planning.plan_run_cancel, name="plan_run_cancel"),
]
