from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "partnerscope.ops"
    label = "ops"
    verbose_name = "Operations"
