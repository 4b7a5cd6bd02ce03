from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "guanxi.core"
    label = "core"

    def ready(self):
        from guanxi.core import checks  # noqa: F401  (registers system checks)
