from django.apps import AppConfig


class VendorsConfig(AppConfig):
    name = "partnerscope.vendors"
    label = "vendors"
