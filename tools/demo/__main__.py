"""``python -m tools.demo``: seed demo data when the database is empty (``make run`` does).

Refuses in production (``CARELOOP_ENV=prod``): the demo accounts' password is published.
Leaves a database that already holds an organization as it is. Then gives a few closed visits
answered surveys, invites the patient of one referral whose visit is completed to the post-visit
survey (once: later runs show the same invitation) and prints its link, as the automation runner
would after the delay. Overdue referrals get their reminders and escalations from the server's
first ticks (its catch-up pass plans the steps of referrals seeded without them).
"""

from __future__ import annotations

import asyncio
import sys

from backend.container import running_container
from backend.settings import get_settings
from tools.demo.seed import seed_demo_data
from tools.demo.surveys import answer_demo_surveys, invite_demo_survey


def main() -> int:
    settings = get_settings()
    if settings.is_prod:
        print("refusing to seed demo accounts (published passwords) in production", file=sys.stderr)
        return 1

    async def run() -> bool:
        async with running_container(settings) as container:
            return await seed_demo_data(container.database, container.auth.passwords)

    print("demo data seeded" if asyncio.run(run()) else "database not empty: demo data left as is")

    async def survey() -> str | None:
        async with running_container(settings) as container:
            await answer_demo_surveys(container.database)
            return await invite_demo_survey(container.database)

    link = asyncio.run(survey())
    if link:
        print(f"patient survey (a completed visit): {link}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
