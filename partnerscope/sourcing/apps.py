from django.apps import AppConfig


class SourcingConfig(AppConfig):
    name = "partnerscope.sourcing"
    label = "sourcing"
    verbose_name = "Sourcing and planning"
