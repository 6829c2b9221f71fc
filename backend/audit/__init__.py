"""Append-only, hash-chained audit log of logins, token events and every PHI read and write."""
