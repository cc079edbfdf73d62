from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "partnerscope.web"
    label = "web"
