"""Runs last (see tests/conftest.py): every push the fake FCM received during the whole suite is
free of the patients' names, dates of birth and MRNs, the referrals' clinical text and the
messages' text."""

from __future__ import annotations

import json

from backend.core.clock import utcnow
from backend.crypto.envelope import DecryptionFailed
from backend.messaging.repository import KeyRing, messages_by_ids
from backend.messaging.tables import Message
from backend.patients import repository as patients
from backend.patients.tables import Patient
from backend.referrals import repository as referrals
from backend.referrals.tables import Referral
from tests.conftest import LiveServer
from tools.fake_fcm import FakeFcm

CLINICAL_FIELDS = ("reason", "clinical_question", "relevant_history", "outcome_report")
SHORTEST = 4


async def _phi(server: LiveServer) -> set[str]:
    found: set[str] = set()
    async with server.container.database.unit_of_work():
        patient_ids = [row["id"] for row in await Patient.select(Patient.id)]
        for patient in await patients.patients_by_ids(patient_ids):
            found |= {patient.given_name, patient.family_name, patient.mrn}
            found.add(patient.birth_date.isoformat())
        for row in await Referral.select(Referral.id):
            try:
                [referral] = await referrals.referrals_by_ids([row["id"]])
            except DecryptionFailed:  # the encryption tests tamper with a ciphertext on purpose
                continue
            found |= {str(getattr(referral, name)) for name in CLINICAL_FIELDS}
        message_ids = [row["id"] for row in await Message.select(Message.id)]
        for message in await messages_by_ids(KeyRing(), message_ids, utcnow()):
            if message.body:
                found.add(message.body)
    return {text for text in found if len(text) >= SHORTEST}


async def test_no_push_received_during_the_suite_carries_phi(
    live_server: LiveServer, fake_fcm: FakeFcm
) -> None:
    # given every push FCM received in this run, and every piece of PHI the database holds
    sends = [send for send in fake_fcm.received() if send.body is not None]
    assert sends, "the suite sent no push: this check would prove nothing"
    phi = await _phi(live_server)
    assert len(phi) > 10
    # then no push body contains any of it
    leaks = {text for send in sends for text in phi if text in json.dumps(send.body, ensure_ascii=False)}
    assert leaks == set()
