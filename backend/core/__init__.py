"""Small helpers every domain uses: clocks, ids, validation."""
