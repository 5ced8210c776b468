"""Operations owns no data of its own: every figure is read from the other apps.

The two unmanaged models below have no table. They exist so the dashboards appear on
the admin index under "Operations" and live at ``/admin/ops/dashboard/`` and
``/admin/ops/hq/`` like any other admin page (see ``ops/admin.py``).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Dashboard(models.Model):
    class Meta:
        managed = False
        default_permissions = ()
        verbose_name = _("front desk dashboard")
        verbose_name_plural = _("front desk dashboard")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)


class HQ(models.Model):
    class Meta:
        managed = False
        default_permissions = ()
        verbose_name = _("HQ dashboard")
        verbose_name_plural = _("HQ dashboard")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)
