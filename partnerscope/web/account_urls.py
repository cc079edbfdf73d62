from django.contrib.auth import views as auth_views
from django.urls import path

from partnerscope.web import accounts

urlpatterns = [
    path("login/", accounts.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(template_name="web/password_change.html", success_url="/"),
        name="password_change",
    ),
    path("invitation/<str:secret>/", accounts.accept_invitation, name="invitation_accept"),
]
