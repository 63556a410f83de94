"""One sender round in its own process, for the kill tests: ``python -m
tests.messaging.run_sender DATA_DIR PROVIDER BASE_URL ISO_NOW BATCH``. The providers are built here
(the keychain of a child process is not the test's in-memory one); the clock is fixed so the
test does not depend on today."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

from frontdesk.domain.clock import FakeClock
from frontdesk.domain.vocab import MessageChannel
from frontdesk.paths import DeskPaths
from frontdesk.services.desk import open_desk
from frontdesk.services.messaging import sender
from frontdesk.services.messaging.providers import ClickSendSms, Provider, TwilioSms
from tests.messaging.local_providers import (
    CLICKSEND_KEY,
    CLICKSEND_USER,
    TWILIO_ACCOUNT,
    TWILIO_TOKEN,
)


def main() -> None:
    data, kind, url, now, batch = sys.argv[1:6]
    ctx = open_desk(DeskPaths(Path(data)), clock=FakeClock(datetime.fromisoformat(now)))
    provider: Provider = (
        TwilioSms(TWILIO_ACCOUNT, TWILIO_TOKEN, "+61400999999", base_url=url)
        if kind == "twilio"
        else ClickSendSms(CLICKSEND_USER, CLICKSEND_KEY, base_url=url)
    )
    report = sender.send_due(
        ctx, {MessageChannel.SMS: provider}, sender_id=ctx.device_id, batch=int(batch)
    )
    print(report.sent, report.recovered, report.failed, flush=True)
    ctx.engine.dispose()


if __name__ == "__main__":
    main()
