"""Handing e-mails to an SMTP server (aiosmtplib), or, without SMTP_HOST, to the log.

    SmtpSender.send(email) ──► Outcome: SENT · RETRY (4xx, connection or timeout trouble) ·
                                        FAILED (5xx: the server refused recipient or message)

One connection per batch (opened lazily, closed at the batch's end). The log never carries the
address, the subject or the body; the development ``LoggingSender`` logs the link-bearing body
so a developer can open the survey, and logs nothing of it in any other environment.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any, Protocol

from backend.email.records import Email
from backend.logging import get_logger
from backend.settings import EmailSettings

logger = get_logger(__name__)


class Verdict(enum.Enum):
    SENT = "SENT"
    RETRY = "RETRY"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class Outcome:
    verdict: Verdict
    reason: str | None = None


class Sender(Protocol):
    async def send(self, email: Email) -> Outcome: ...

    async def close(self) -> None: ...


def build_message(email: Email, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Message-ID"] = make_msgid(domain="careloop")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(email.body)
    return message


class SmtpSender:
    def __init__(self, settings: EmailSettings) -> None:
        assert settings.smtp_host is not None
        self._settings = settings
        self._client: object | None = None

    async def _connected(self) -> Any:
        import aiosmtplib

        client = self._client
        if isinstance(client, aiosmtplib.SMTP) and client.is_connected:
            return client
        settings = self._settings
        client = aiosmtplib.SMTP(
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            start_tls=settings.smtp_starttls,
            timeout=settings.smtp_timeout_seconds,
        )
        await client.connect()
        if settings.smtp_username:
            await client.login(settings.smtp_username, settings.smtp_password or "")
        self._client = client
        return client

    async def send(self, email: Email) -> Outcome:
        import aiosmtplib

        try:
            client = await self._connected()
            await client.send_message(build_message(email, self._settings.smtp_from))
        except aiosmtplib.SMTPRecipientsRefused as error:  # our one recipient, refused
            code = error.recipients[0].code if error.recipients else 451
            await self.close()  # a fresh connection for the next e-mail, whatever state this one is in
            return Outcome(Verdict.FAILED if 500 <= code < 600 else Verdict.RETRY, f"SMTP_{code}")
        except aiosmtplib.SMTPResponseException as error:
            reason = f"SMTP_{error.code}"
            if 500 <= error.code < 600:
                return Outcome(Verdict.FAILED, reason)
            await self.close()
            return Outcome(Verdict.RETRY, reason)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            await self.close()
            return Outcome(Verdict.RETRY, type(error).__name__[:32])
        return Outcome(Verdict.SENT)

    async def close(self) -> None:
        import aiosmtplib

        client, self._client = self._client, None
        if isinstance(client, aiosmtplib.SMTP) and client.is_connected:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                client.close()


class LoggingSender:
    """No SMTP server configured: log that an e-mail would go out (its body in development)."""

    def __init__(self, *, development: bool) -> None:
        self._development = development

    async def send(self, email: Email) -> Outcome:
        if self._development:
            logger.info("email.logged", kind=email.kind, body=email.body)
        else:
            logger.info("email.logged", kind=email.kind, row_id=str(email.row_id))
        return Outcome(Verdict.SENT)

    async def close(self) -> None:
        return None
