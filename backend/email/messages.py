"""What each kind of e-mail says: the organization's name and the link, nothing clinical."""

from __future__ import annotations

from backend.surveys.records import SurveyEmail


def survey_invitation(email: SurveyEmail) -> tuple[str, str]:
    """Subject and plain-text body of a survey invitation."""
    name = email.organization_name or "your care team"
    subject = f"{name}: how was your visit?"
    body = (
        f"Hello,\n\n{name} would like to hear about your recent visit. The survey takes about a minute:\n\n"
        f"{email.link}\n\n"
        "The link works once and expires in a few days. If you did not expect this message, "
        "you can ignore it.\n"
    )
    return subject, body
