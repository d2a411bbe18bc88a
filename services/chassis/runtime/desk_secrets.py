"""What makes a desk secret unfit (settings.py refuses to start on one): a development value printed
in the source, fewer than 32 bytes, or the same value as another desk secret."""

from __future__ import annotations

MIN_SECRET_BYTES = 32
# Development values of secrets once printed in this repository, refused like today's defaults.
FORMER_DEVELOPMENT_SECRETS = frozenset({"dev-only-internal-token-secret-change-me-please"})


class DevelopmentSecretError(ValueError):
    """A desk secret is a development value printed in the source, too short, or another's too."""


def secret_problems(secrets: dict[str, str], development: frozenset[str]) -> list[str]:
    """What is wrong with the desk secrets (environment name -> value), one phrase per fault."""
    stripped = {name: value.strip() for name, value in secrets.items()}
    known = [name for name, value in stripped.items() if value in development]
    short = [name for name, value in stripped.items() if name not in known and len(value.encode()) < MIN_SECRET_BYTES]
    problems = []
    if known:
        problems.append(
            f"{', '.join(known)} {'is' if len(known) == 1 else 'are'} the development value printed in the source"
        )
    if short:
        problems.append(
            f"{', '.join(short)} {'is' if len(short) == 1 else 'are'} shorter than {MIN_SECRET_BYTES} bytes"
        )
    by_value: dict[str, list[str]] = {}
    for name, value in stripped.items():
        if name not in known:
            by_value.setdefault(value, []).append(name)
    problems += [f"{' and '.join(names)} are the same secret" for names in by_value.values() if len(names) > 1]
    return problems
