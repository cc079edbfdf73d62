from django.apps import AppConfig


class EngagementsConfig(AppConfig):
    name = "partnerscope.engagements"
    label = "engagements"
