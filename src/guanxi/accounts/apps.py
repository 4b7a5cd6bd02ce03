from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "guanxi.accounts"
    label = "accounts"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from guanxi.accounts.views import on_user_logged_in

        user_logged_in.connect(on_user_logged_in, dispatch_uid="guanxi.accounts.language")
