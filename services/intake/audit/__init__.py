"""Tamper evidence: hash chains, seals, signed checkpoints and their verification."""
