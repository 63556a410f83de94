"""One sender round without sync: plan tomorrow's reminders (clinic time) and send what is due
through the providers Settings → Messages names. The messaging desk's command wraps it in
syncs (commands/messages.py); a desk with no clinic server runs it by itself from the app."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from frontdesk.models import SyncState
from frontdesk.services.messaging import marketing, queueing, sender
from frontdesk.services.messaging.setup import build_providers, read_settings
from frontdesk.store.context import ServiceContext


def has_server(ctx: ServiceContext) -> bool:
    with ctx.read() as session:
        state = session.scalars(select(SyncState).limit(1)).first()
        return bool(state and state.server_url)


def local_round(ctx: ServiceContext) -> tuple[int, sender.SendReport]:
    """(reminders planned, what was sent). Does nothing while messaging is off."""
    if not read_settings(ctx).values["enabled"]:
        return 0, sender.SendReport()
    tomorrow = (ctx.clock.now().astimezone(ctx.tz) + timedelta(days=1)).date()
    planned = queueing.plan_reminders(ctx, tomorrow)
    queueing.notices_owed(ctx)
    marketing.queue_birthdays(ctx, ctx.clock.now().astimezone(ctx.tz).date())
    report = sender.send_due(ctx, build_providers(ctx), sender_id=ctx.device_id)
    return planned, report
