from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications and jobs")

    def ready(self):
        from . import subscribers
        from .reminders import subscribe_reminders

        subscribers.register()
        subscribe_reminders()
