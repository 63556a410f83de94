"""Fixtures for the messaging tests: a small clinic with messaging switched on, the providers'
secrets in an in-memory keychain, and real local SMTP and SMS servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from frontdesk.services.messaging.secrets import save_secret
from frontdesk.services.messaging.setup import save_settings
from frontdesk.store.context import ServiceContext
from tests.diary_clinic import Clinic, make_clinic
from tests.messaging.local_providers import (
    CLICKSEND_KEY,
    CLICKSEND_USER,
    TWILIO_ACCOUNT,
    TWILIO_TOKEN,
    LocalSms,
    LocalSmtp,
)
from tests.sync.fakes import MemoryKeyring, install_memory_keyring


@pytest.fixture
def keychain() -> MemoryKeyring:
    return install_memory_keyring()


@pytest.fixture
def sms() -> Iterator[LocalSms]:
    server = LocalSms().start()
    yield server
    server.stop()


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[LocalSmtp]:
    server = LocalSmtp(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def clinic(ctx: ServiceContext, keychain: MemoryKeyring, sms: LocalSms, smtp: LocalSmtp) -> Clinic:
    c = make_clinic(ctx)
    save_secret("twilio", TWILIO_TOKEN)
    save_secret("clicksend", CLICKSEND_KEY)
    save_secret("smtp", smtp.password)
    save_settings(
        ctx, enabled=True, sms_provider="twilio", provider_account=TWILIO_ACCOUNT,
        sms_sender="+61400999999", provider_base_url=sms.url, smtp_host="127.0.0.1",
        smtp_port=smtp.port, smtp_username=smtp.user, email_from="desk@harbour.example",
        cancellation_policy="Please give 24 hours' notice.",
    )  # fmt: skip
    _ = CLICKSEND_USER
    return c
