"""Automation: the escalation ladder of SPEC §8 as durable timers.

    ReferralChanged (in its transaction) ──► planner: the referral's PENDING steps are cancelled
        and its current status's rungs (from the protocol version it was sent under) inserted,
        each a row with its due time
    runner (every server process, and `python -m backend worker`), every AUTOMATION_TICK_MS:
        claim due steps with a lease (backend/core/leases.py; SKIP LOCKED on PostgreSQL)
        ──► each in its own unit of work: mark FIRED (only if still PENDING: never twice)
            ──► EXPIRY: the referral expires; SURVEY_INVITATION: the patient is invited
                (backend/surveys);
                a reminder or escalation: a timeline entry by the system, an audit entry and
                AutomationStepFired ──► the stream (AUTOMATION_STEP_FIRED) and push
                (REFERRAL_REMINDER / REFERRAL_ESCALATION to the rung's audience)
        a step found due long after its time (the servers were down) is marked late; of a
        referral's late steps only the latest fires, the others are SUPERSEDED

Automation reads the domains through their public functions and emits events like a domain;
it never imports the transport or a delivery subsystem.
"""
