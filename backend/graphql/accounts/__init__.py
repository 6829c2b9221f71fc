"""GraphQL transport for organizations, users, memberships and providers."""
