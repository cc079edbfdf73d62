from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "partnerscope.orgs"
    label = "orgs"
    verbose_name = "Organizations"
