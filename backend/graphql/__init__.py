"""GraphQL transport: parse, authorize through the domain, call one service, map the result."""
