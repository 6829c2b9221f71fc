"""GraphQL for secure messaging: conversations, messages, receipts, typing, recall, promotion."""
