"""App config for ``django.contrib.admin`` whose default site is the ServiceHub staff site.

A module of its own: ``servicehub.apps`` must keep exactly one AppConfig (``ServiceHubConfig``).
"""

from django.contrib.admin.apps import AdminConfig


class StaffAdminConfig(AdminConfig):
    default_site = "servicehub.admin_site.StaffAdminSite"
