"""The post-visit patient survey: invitations, the e-mail, the page's one answer, who sees it.

Invitations are made as the automation runner will make them: a visit completed over GraphQL,
then ``surveys.service.invite`` in a unit of work. E-mail goes to the suite's real local SMTP
server (aiosmtpd) through the real aiosmtplib sender and the in-process dispatcher.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from tests.support.database import dump
from tests.support.referrals import World
from tests.support.smtp import LocalSmtp
from tests.support.surveys import (
    NEUTRAL_TITLE,
    SURVEY,
    answers,
    invite,
    invited,
    open_form,
    register_patient,
)

COMMENT = "The nurse Zebulon-Quince was wonderful but parking was awful"


@pytest.fixture
async def page(live_server, client_ip: str) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(
        base_url=live_server.base_url, headers={"x-forwarded-for": client_ip}, timeout=30
    ) as http:
        yield http


def _address() -> str:
    return f"patient-{secrets.token_hex(4)}@example.org"


async def _survey(world: World, referral_gid: str, token: str) -> dict | None:  # type: ignore[type-arg]
    data = await world.api.data(SURVEY, {"id": referral_gid}, token=token)
    referral = data["referral"]
    return None if referral is None else referral["survey"]


async def test_contact_preference_and_email_are_sealed_and_shown_to_readers(world: World) -> None:
    address = _address()
    patient = await register_patient(world, email=address.upper(), preference="EMAIL")
    found = await world.api.data(
        "query($id: ID!) { patient(id: $id) { contactPreference email } }",
        {"id": patient},
        token=world.referring_coordinator.token,
    )
    assert found["patient"] == {"contactPreference": "EMAIL", "email": address}
    assert address not in (await dump()).lower()


async def test_email_preference_needs_a_valid_address(world: World) -> None:
    from tests.support.graphql_ids import global_id
    from tests.support.surveys import REGISTER

    base = {
        "organizationId": global_id("Organization", world.referring_org),
        "mrn": f"SV-{secrets.token_hex(4)}",
        "givenName": "A",
        "familyName": "B",
        "birthDate": "1970-05-06",
        "sex": "FEMALE",
    }
    for extra, code in (
        ({"contactPreference": "EMAIL"}, "REQUIRED"),
        ({"email": "not-an-address"}, "INVALID_EMAIL"),
    ):
        data = await world.api.data(REGISTER, {"input": {**base, **extra}}, token=world.referrer.token)
        assert data["registerPatient"]["fieldErrors"] == [{"field": "email", "code": code}]


async def test_the_email_arrives_with_the_link_and_nothing_clinical(world: World, smtp: LocalSmtp) -> None:
    address = _address()
    before = await _outbox_ids()
    survey = await invited(world, email=address)
    received = await smtp.wait_for(address)
    assert received.recipients == [address]
    assert survey.link in received.body
    organization = await world.api.data(
        "query($id: ID!) { referral(id: $id) { receivingOrganization { name } "
        "patient { mrn givenName familyName } } }",
        {"id": survey.referral["id"]},
        token=world.referrer.token,
    )
    name = organization["referral"]["receivingOrganization"]["name"]
    assert name in received.message["Subject"]
    assert name in received.body
    patient = organization["referral"]["patient"]
    clinical = [
        survey.referral["reason"],
        survey.referral["clinicalQuestion"],
        "Hypertension",
        "I48.91",
        "cardiology",
        "Heart Center",
        patient["mrn"],
        patient["givenName"],
        patient["familyName"],
    ]
    for text in clinical:
        assert text.lower() not in received.raw.lower(), text
    # nothing of the e-mail stays in the database once it is sent
    sent = await _settled_since(before)
    assert (sent["status"], sent["recipient"], sent["subject"], sent["body"]) == ("SENT", "", "", "")
    database = await dump()
    assert address not in database
    assert survey.link.rsplit("/", 1)[1] not in database


async def test_invite_is_idempotent_and_a_patient_without_email_gets_a_hand_over(
    world: World, smtp: LocalSmtp
) -> None:
    survey = await invited(world)
    again = await invite(world, survey.referral)
    assert again is not None and again.id == survey.invitation.id
    assert survey.invitation.delivery == "HAND_OVER"
    coordinator = await _survey(world, survey.referral["id"], world.receiving_coordinator.token)
    assert coordinator is not None
    assert coordinator["state"] == "INVITED" and coordinator["delivery"] == "HAND_OVER"
    assert coordinator["link"] == survey.link
    assert coordinator["qrCodeSvg"].lstrip().startswith("<svg")
    assert coordinator["answer"] is None
    referrer = await _survey(world, survey.referral["id"], world.referrer.token)
    assert referrer is not None and referrer["link"] is None and referrer["qrCodeSvg"] is None
    assert await _survey(world, survey.referral["id"], world.outsider_coordinator.token) is None


async def test_a_referral_before_its_visit_gets_no_invitation(world: World) -> None:
    referral = await world.draft()
    assert await invite(world, referral) is None
    assert await _survey(world, referral["id"], world.referrer.token) is None


async def test_a_valid_link_accepts_one_answer(world: World, page: httpx.AsyncClient) -> None:
    survey = await invited(world, email=_address())
    form, csrf = await open_form(page, survey.path)
    assert form.status_code == 200
    assert '<html lang="en">' in form.text
    assert form.headers["x-frame-options"] == "DENY"
    assert form.headers["referrer-policy"] == "no-referrer"
    assert "default-src 'none'" in form.headers["content-security-policy"]
    assert "samesite=strict" in form.headers["set-cookie"].lower()
    for clinical in (survey.referral["reason"], "Hypertension", "I48.91"):
        assert clinical not in form.text
    thanks = await page.post(survey.path, data=answers(csrf, comment=COMMENT))
    assert thanks.status_code == 200, thanks.text
    assert "Thank you" in thanks.text

    stored = await _survey(world, survey.referral["id"], world.referrer.token)
    assert stored is not None and stored["state"] == "ANSWERED"
    assert stored["answer"]["overall"] == 4 and stored["answer"]["recommend"] == 9
    assert stored["answer"]["waitAcceptable"] is True and stored["answer"]["comment"] == COMMENT
    manager = await _survey(world, survey.referral["id"], world.receiving_manager.token)
    assert manager is not None and manager["answer"]["comment"] == COMMENT
    assert manager["link"] is None  # answered: nothing left to hand over
    assert await _survey(world, survey.referral["id"], world.outsider_specialist.token) is None
    assert COMMENT not in await dump()
    assert "Zebulon" not in await dump()

    # used: the same neutral page, for the form and for a second answer, and nothing changes
    again_form, _ = await open_form(page, survey.path)
    again = await page.post(survey.path, data=answers(csrf, overall="1", comment="changed my mind"))
    for response in (again_form, again):
        assert response.status_code == 404 and NEUTRAL_TITLE in response.text
    after = await _survey(world, survey.referral["id"], world.referrer.token)
    assert after is not None and after["answer"] == stored["answer"]


async def test_every_unusable_link_gets_the_same_neutral_page_and_writes_nothing(
    world: World,
    page: httpx.AsyncClient,
    live_server,  # type: ignore[no-untyped-def]
) -> None:
    from backend.surveys.tables import SurveyInvitation

    first = await invited(world)
    second = await invited(world)
    first_id, first_secret, first_sig = first.path.rsplit("/", 1)[1].split(".")
    _, second_secret, second_sig = second.path.rsplit("/", 1)[1].split(".")
    tampered = f"/survey/{first_id}.{first_secret}.{first_sig[:-1]}{'A' if first_sig[-1] != 'A' else 'B'}"
    other_referral = f"/survey/{first_id}.{second_secret}.{second_sig}"
    unknown = f"/survey/{secrets.token_hex(16)}.{first_secret}.{first_sig}"
    garbage = "/survey/hello"

    expired = await invited(world)
    async with live_server.container.database.unit_of_work():
        await SurveyInvitation.update(
            {SurveyInvitation.expires_at: expired.invitation.expires_at - timedelta(days=30)}
        ).where(SurveyInvitation.id == expired.invitation.id)

    _, csrf = await open_form(page, first.path)  # a real CSRF pair, to be sure only the link decides
    bodies = set()
    for path in (tampered, other_referral, unknown, garbage, expired.path):
        shown = await page.get(path)
        posted = await page.post(path, data=answers(csrf))
        for response in (shown, posted):
            assert response.status_code == 404, (path, response.status_code)
            assert NEUTRAL_TITLE in response.text
            assert 'name="csrf"' not in response.text
            bodies.add(response.text)
    assert len(bodies) == 1
    for survey in (first, second, expired):
        found = await _survey(world, survey.referral["id"], world.referrer.token)
        assert found is not None and found["answer"] is None
    expired_view = await _survey(world, expired.referral["id"], world.receiving_coordinator.token)
    assert expired_view is not None and expired_view["state"] == "EXPIRED" and expired_view["link"] is None


async def test_the_form_refuses_cross_site_posts(world: World, page: httpx.AsyncClient) -> None:
    survey = await invited(world)
    _, csrf = await open_form(page, survey.path)
    attempts = [
        page.post(survey.path, data=answers(csrf), headers={"origin": "https://evil.example"}),
        page.post(survey.path, data=answers(csrf), headers={"sec-fetch-site": "cross-site"}),
        page.post(survey.path, data=answers("forged-value")),
    ]
    for attempt in attempts:
        response = await attempt
        assert response.status_code == 404 and NEUTRAL_TITLE in response.text
    async with httpx.AsyncClient(base_url=str(page.base_url), headers=dict(page.headers)) as no_cookie:
        response = await no_cookie.post(survey.path, data=answers(csrf))
        assert response.status_code == 404
    found = await _survey(world, survey.referral["id"], world.referrer.token)
    assert found is not None and found["answer"] is None
    # the page's own post still works
    ok = await page.post(survey.path, data=answers(csrf), headers={"origin": str(page.base_url).rstrip("/")})
    assert ok.status_code == 200 and "Thank you" in ok.text


async def test_invalid_answers_re_render_the_form_with_field_errors(
    world: World, page: httpx.AsyncClient
) -> None:
    survey = await invited(world)
    _, csrf = await open_form(page, survey.path)
    response = await page.post(
        survey.path, data={"csrf": csrf, "overall": "7", "recommend": "", "comment": "x" * 2001}
    )
    assert response.status_code == 422
    assert 'id="overall-error"' in response.text and "from 1 to 5" in response.text
    assert 'id="recommend-error"' in response.text and 'id="wait-error"' in response.text
    assert 'id="comment-error"' in response.text
    assert 'role="alert"' in response.text
    found = await _survey(world, survey.referral["id"], world.referrer.token)
    assert found is not None and found["answer"] is None


async def test_posts_are_rate_limited_per_client_address(world: World, page: httpx.AsyncClient) -> None:
    from backend.settings import get_settings

    survey = await invited(world)
    limit = get_settings().survey.posts_per_minute
    statuses = [(await page.post(survey.path, data={"csrf": "x"})).status_code for _ in range(limit + 1)]
    assert statuses[:limit] == [404] * limit
    assert statuses[limit] == 429


async def test_answers_are_audited(world: World, page: httpx.AsyncClient) -> None:
    from backend.audit.tables import AuditEvent

    survey = await invited(world)
    _, csrf = await open_form(page, survey.path)
    assert (await page.post(survey.path, data=answers(csrf))).status_code == 200
    await _survey(world, survey.referral["id"], world.receiving_manager.token)
    rows = await AuditEvent.select(AuditEvent.action, AuditEvent.actor_user_id).where(
        AuditEvent.object_id == str(survey.invitation.id)
    )
    actions = [row["action"] for row in rows]
    assert actions.count("surveys.answer.recorded") == 1
    assert "surveys.answer.read" in actions
    readers = {row["actor_user_id"] for row in rows if row["action"] == "surveys.answer.read"}
    assert readers == {str(world.receiving_manager.user.id)}


async def _outbox_row_after(world: World, before: set[object], email: str) -> dict:  # type: ignore[type-arg]
    survey = await invited(world, email=email)
    assert survey.invitation.delivery == "EMAIL"
    return await _settled_since(before)


async def _settled_since(before: set[object]) -> dict:  # type: ignore[type-arg]
    """The first e-mail outbox row not in ``before`` that is no longer PENDING."""
    import asyncio

    from backend.email.tables import EmailOutbox

    for _ in range(200):
        rows = await EmailOutbox.select().where(EmailOutbox.status != "PENDING")
        found = [row for row in rows if row["id"] not in before]
        if found:
            return found[0]
        await asyncio.sleep(0.05)
    raise AssertionError("the e-mail was never settled")


async def _outbox_ids() -> set[object]:
    from backend.email.tables import EmailOutbox

    return {row["id"] for row in await EmailOutbox.select(EmailOutbox.id)}


async def test_a_temporary_smtp_refusal_is_retried_until_it_is_sent(world: World, smtp: LocalSmtp) -> None:
    address = f"patient+tempfail-{secrets.token_hex(3)}@example.org"
    row = await _outbox_row_after(world, await _outbox_ids(), address)
    assert row["status"] == "SENT" and row["attempts"] == 3
    assert row["recipient"] == "" and row["body"] == ""  # nothing kept once sent
    assert smtp.to(address)


async def test_a_permanent_refusal_fails_and_endless_ones_are_parked(world: World, smtp: LocalSmtp) -> None:
    rejected = await _outbox_row_after(
        world, await _outbox_ids(), f"patient+reject-{secrets.token_hex(3)}@example.org"
    )
    assert rejected["status"] == "FAILED" and rejected["reason"] == "SMTP_550" and rejected["attempts"] == 1
    address = f"patient+down-{secrets.token_hex(3)}@example.org"
    parked = await _outbox_row_after(world, await _outbox_ids(), address)
    assert parked["status"] == "FAILED" and parked["reason"] == "ATTEMPTS_EXHAUSTED"
    assert parked["attempts"] == 3
    assert address not in await dump()  # the parked row keeps the address sealed
    assert not smtp.to(address)
