"""Push test helpers: device registration through the API, waiting for the fake FCM, schemas."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import jsonschema

from backend.core.clock import utcnow
from backend.messaging import records
from tests.support.api import Api
from tools.fake_fcm import FakeFcm, ReceivedSend

CONTRACT = Path(__file__).resolve().parents[2] / "mobile_contract" / "push"
SCHEMAS = {
    path.name.removesuffix(".schema.json"): json.loads(path.read_text()) for path in CONTRACT.glob("*.json")
}
SCHEMA_OF_TYPE = {
    "REFERRAL_RECEIVED": "ReferralReceived",
    "REFERRAL_UPDATED": "ReferralUpdated",
    "NEW_MESSAGE": "NewMessage",
    "REFERRAL_REMINDER": "ReferralReminder",
    "REFERRAL_ESCALATION": "ReferralEscalation",
}


def a_message() -> records.Message:
    """A first message of a conversation that does not exist (what a push is built from)."""
    return records.Message(
        id=uuid.uuid4(),
        conversation=uuid.uuid4(),
        sequence=1,
        sender=uuid.uuid4(),
        client_message_id="push-test",
        body="",
        is_priority=False,
        reply_to=None,
        state="ACTIVE",
        sent_at=utcnow(),
        expires_at=None,
        recalled_at=None,
        promoted_document=None,
    )


REGISTER = """
mutation($input: RegisterPushDeviceInput!) {
  registerPushDevice(input: $input) {
    __typename
    ... on PushDeviceSuccess { device { id deviceId platform appVersion locale } }
    ... on PushError { code message }
    ... on InputError { fieldErrors { field code } }
  }
}
"""
SETTINGS = """
mutation($input: UpdatePushSettingsInput!) {
  updatePushSettings(input: $input) {
    __typename
    ... on PushSettingsSuccess {
      settings { timeZone quietStart quietEnd referralUpdates messages reminders }
    }
    ... on InputError { fieldErrors { field code } }
  }
}
"""


def new_token(prefix: str = "tok") -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


async def register(
    api: Api, access_token: str, token: str, *, platform: str = "IOS", locale: str = "en"
) -> None:
    data = await api.data(
        REGISTER,
        {"input": {"token": token, "platform": platform, "appVersion": "1.4.0", "locale": locale}},
        token=access_token,
    )
    assert data["registerPushDevice"]["__typename"] == "PushDeviceSuccess", data


async def wait_for(fake: FakeFcm, token: str, count: int = 1, *, within: float = 10.0) -> list[ReceivedSend]:
    """The sends to ``token`` once ``count`` were answered (delivered or rejected)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        done = [r for r in fake.received(token) if r.outcome != "pending"]
        if len(done) >= count or loop.time() > deadline:
            return done
        await asyncio.sleep(0.05)


def assert_valid(message: dict[str, Any]) -> None:
    schema = SCHEMAS[SCHEMA_OF_TYPE[message["data"]["type"]]]
    jsonschema.validate(message, schema)
