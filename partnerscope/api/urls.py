from django.urls import path

from partnerscope.api.router import api

urlpatterns = [path("", api.urls)]
