"""Demo data for ``make run``: organizations, people, directory, patients, protocols, referrals.

``python -m tools.demo`` seeds an empty database (``seed.seed_demo_data``: the accounts, then
``referrals.seed_referral_domain`` on top of them) and refuses a production one: every demo
account signs in with a published password. A development tool, not part of the product.
"""
