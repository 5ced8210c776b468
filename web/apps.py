from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    name = "web"
    verbose_name = _("Public web site")

    def ready(self) -> None:
        from servicehub.events import subscribe

        from .track_warm import track_page_warm_on_change

        subscribe("ticket.changed", track_page_warm_on_change)
