from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "partnerscope.api"
    label = "api"
