from django.urls import path

from partnerscope.orgs import views

urlpatterns = [
    path("members/", views.member_list, name="member_list"),
    path("members/invite/", views.member_invite, name="member_invite"),
    path("members/<str:uid>/edit/", views.member_edit, name="member_edit"),
    path("members/<str:uid>/remove/", views.member_remove, name="member_remove"),
    path("invitations/<str:uid>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("tokens/", views.token_list, name="token_list"),
    path("tokens/new/", views.token_create, name="token_create"),
    path("tokens/<str:uid>/revoke/", views.token_revoke, name="token_revoke"),
    path("history/", views.audit_log, name="audit_log"),
]
