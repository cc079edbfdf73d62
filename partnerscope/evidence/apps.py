from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "partnerscope.evidence"
    label = "evidence"
