from django.urls import path

from partnerscope.engagements import views

urlpatterns = [
    path("engagements/", views.engagement_list, name="engagement_list"),
    path("engagements/new/", views.engagement_create, name="engagement_create"),
    path("engagements/<str:uid>/", views.engagement_detail, name="engagement_detail"),
    path("people/", views.person_list, name="person_list"),
]
