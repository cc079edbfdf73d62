from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "partnerscope.metrics"
    label = "metrics"
    verbose_name = "Metrics and scorecards"
