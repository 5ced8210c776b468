from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications and jobs")

    def ready(self):
        from . import fapiao, promise, subscribers
        from .reminders import subscribe_reminders

        subscribers.register()
        from .payments import register as register_payments

        register_payments()
        subscribe_reminders()
        promise.register()  # ticket.promise_slipped (issue #21)
        fapiao.register()
        from .outreach_events import register as register_outreach_events

        register_outreach_events()  # event.registered, event.reminder_due (issue #22)
        from .sign_sessions import register as register_sign_sessions

        register_sign_sessions()  # sign_session.scheduled (issue #22 item 4)
