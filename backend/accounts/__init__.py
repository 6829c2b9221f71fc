"""Organizations, users, role memberships and providers: who is who."""
