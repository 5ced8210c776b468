"""Rows the shared plumbing owns: the domain-event outbox, the runs of scheduled jobs and the API's idempotency
records."""

from __future__ import annotations

import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboxEvent(models.Model):
    """A domain event, written in the transaction of the state change it describes (``servicehub.events.emit``).

    Dispatched once after commit to the subscribers of its ``type`` (notifications, webhooks); the row's id is
    the dedupe key and message id downstream. ``dispatched_at`` is set by the compare-and-set claim inside the
    dispatching transaction, so a dispatch that dies rolls back and the sweep finds the row again. Rows are kept
    (nothing that matters is deleted): they are the audit trail of what the system announced.
    """

    type = models.CharField(_("type"), max_length=64)
    payload = models.JSONField(_("payload"), default=dict)
    center_id = models.IntegerField(_("center id"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True, default="")
    failed_at = models.DateTimeField(_("failed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbox event")
        verbose_name_plural = _("outbox events")
        indexes = [
            # The sweep: undispatched, not given up on, oldest first.
            models.Index(
                fields=["created_at"],
                name="outbox_pending_idx",
                condition=models.Q(dispatched_at__isnull=True, failed_at__isnull=True),
            ),
            models.Index(fields=["type", "created_at"], name="outbox_type_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.type} #{self.pk}"


class JobRunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class JobRun(models.Model):
    """One run of a scheduled job for one period (e.g. ``service_days_generate`` for ``2026-12``).

    Unique per (job, period): the first runner inserts the row and owns the run; a second runner at the same
    time finds it and stops. A run that crashed (still ``running`` after its lease) or failed may be claimed
    again. Written only by ``servicehub.jobs`` (``job_run_claim``/``job_run_finish``, through ``run_job``).
    The table is the one the notifications app created (the model moved here in issue #18; no data moved).
    """

    job = models.CharField(_("job"), max_length=64)
    period = models.CharField(_("period"), max_length=32)
    status = models.CharField(_("status"), max_length=16, choices=JobRunStatus.choices, default=JobRunStatus.RUNNING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=1)
    claim_token = models.UUIDField(default=uuid.uuid4, editable=False, verbose_name=_("claim token"))
    started_at = models.DateTimeField(_("started"))
    lease_until = models.DateTimeField(_("lease until"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        db_table = "notifications_jobrun"
        ordering = ["-started_at", "-pk"]
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")
        constraints = [models.UniqueConstraint(fields=["job", "period"], name="jobrun_unique_job_period")]

    def __str__(self) -> str:
        return f"{self.job} {self.period} ({self.status})"


class IdempotencyRecord(models.Model):
    """The first response to a POST carrying ``Idempotency-Key``, replayed on retries.

    ``holder`` scopes keys: ``key:<api key prefix>``, ``user:<id>`` or, for anonymous
    callers, ``anon:<sha256 of method, path and body>`` (see docs/partners.md). Owned by the API
    plumbing (``servicehub.api.idempotency``); the table keeps the name it had in partners.
    """

    holder = models.CharField(max_length=100, verbose_name=_("holder"))
    key = models.CharField(max_length=255, verbose_name=_("key"))
    request_hash = models.CharField(max_length=64, verbose_name=_("request hash"))
    method = models.CharField(max_length=8, verbose_name=_("method"))
    path = models.CharField(max_length=500, verbose_name=_("path"))
    in_flight = models.BooleanField(default=True, verbose_name=_("in flight"))
    response_status = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("response status"))
    response_body = models.BinaryField(null=True, blank=True, verbose_name=_("response body"))
    content_type = models.CharField(max_length=100, blank=True, verbose_name=_("content type"))
    created_at = models.DateTimeField(verbose_name=_("created at"))
    expires_at = models.DateTimeField(db_index=True, verbose_name=_("expires at"))

    class Meta:
        db_table = "partners_idempotencyrecord"
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [models.UniqueConstraint(fields=["holder", "key"], name="idempotency_unique_holder_key")]

    def __str__(self) -> str:
        return f"{self.holder} {self.key}"
