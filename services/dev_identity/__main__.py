"""`python -m services.dev_identity <tenant> <subject> <role>...` prints a token;
`python -m services.dev_identity serve [--port N]` serves the provider (so no token for a tenant `serve`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from services.chassis.runtime.settings import Settings
from services.dev_identity.tokens import token


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["serve"]:
        return serve(arguments[1:])
    parser = argparse.ArgumentParser(
        prog="python -m services.dev_identity", description="Print a token of make run's development identity provider."
    )
    parser.add_argument("tenant")
    parser.add_argument("subject")
    parser.add_argument("roles", nargs="+", metavar="role", help="customer, agent, supervisor, admin")
    parser.add_argument("--groups", nargs="+", default=[], metavar="group", help="an agent's or supervisor's groups")
    parser.add_argument("--organisation", default=None, help="a customer's organisation")
    parser.add_argument("--hours", type=float, default=12, help="how long the token is valid (12)")
    args = parser.parse_args(arguments)
    print(token(Settings().data_dir, args.tenant, args.subject, args.roles, args.hours, args.groups,
                args.organisation))  # fmt: skip
    return 0


def serve(argv: Sequence[str]) -> int:
    from services.dev_identity.server import serve as run

    parser = argparse.ArgumentParser(
        prog="python -m services.dev_identity serve", description="Serve make run's identity provider on 127.0.0.1."
    )
    parser.add_argument("--port", type=int, default=None, help="its port (SERVICEDESK_DEV_IDENTITY_PORT, 8009)")
    args = parser.parse_args(argv)
    return run(Settings(), args.port)


if __name__ == "__main__":
    sys.exit(main())
