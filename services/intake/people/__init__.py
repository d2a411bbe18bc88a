"""People: their sealed profiles, conversations, erasure and subject access."""
