"""A real local SMTP server (aiosmtpd) that keeps every message it receives, for the suite."""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any


@dataclass
class Received:
    mail_from: str
    recipients: list[str]
    message: EmailMessage

    @property
    def body(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None
        return str(part.get_content())

    @property
    def raw(self) -> str:
        return self.message.as_string()


@dataclass
class RecordingHandler:
    """Keeps what it accepts. A recipient with ``+reject`` in its address is refused for good
    (550), one with ``+tempfail`` refused for now (451) on its first two tries, one with
    ``+down`` always refused for now."""

    received: list[Received] = field(default_factory=list)
    refusals: dict[str, int] = field(default_factory=dict)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        tries = self.refusals.get(address, 0)
        if "+reject" in address:
            return "550 5.1.1 No such mailbox"
        if "+down" in address or ("+tempfail" in address and tries < 2):
            self.refusals[address] = tries + 1
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


class LocalSmtp:
    """aiosmtpd's Controller on a loopback port, serving from its own thread."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.handler = RecordingHandler()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    def to(self, address: str) -> list[Received]:
        return [m for m in self.handler.received if address in m.recipients]

    async def wait_for(self, address: str, seconds: float = 10.0) -> Received:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = self.to(address)
            if found:
                return found[-1]
            await asyncio.sleep(0.05)
        raise AssertionError(f"no e-mail to {address} within {seconds} s")
