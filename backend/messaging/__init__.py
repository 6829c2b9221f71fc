"""Secure messaging: conversations on referrals and between providers, encrypted at rest."""
