"""Which `Authentication-Results` headers make a mail's From authenticated: only the desk's own
mail server's (its authserv-id), and only for DMARC, or DKIM aligned with the From's domain."""

from __future__ import annotations

import pytest

from services.intake.channels import mime
from services.intake.channels.mail_authentication import MAX_HEADER, authenticated

OURS = "mx.desk.example"
ANN = "ann@acme.example"


def test_a_dmarc_pass_for_the_from_domain_from_our_server_authenticates() -> None:
    header = f"{OURS}; spf=pass smtp.mailfrom=acme.example; dmarc=pass (p=reject) header.from=acme.example"
    assert authenticated([header], OURS, ANN)


def test_the_authserv_id_is_compared_without_case_and_may_carry_a_version_and_a_comment() -> None:
    assert authenticated(["MX.Desk.Example (postfix) 1; dmarc=pass header.from=ACME.example"], OURS, ANN)


def test_a_header_of_another_server_is_not_believed() -> None:
    forged = "mx.elsewhere.example; dmarc=pass header.from=acme.example; dkim=pass header.d=acme.example"
    assert not authenticated([forged], OURS, ANN)
    assert not authenticated([f"{OURS}.evil.example; dmarc=pass header.from=acme.example"], OURS, ANN)
    assert not authenticated([f"{OURS}x; dmarc=pass header.from=acme.example"], OURS, ANN)


def test_without_a_configured_authserv_id_nothing_is_authenticated() -> None:
    header = f"{OURS}; dmarc=pass header.from=acme.example"
    assert not authenticated([header], None, ANN)
    assert not authenticated([header], "", ANN)


def test_our_topmost_header_decides_and_a_forged_one_below_it_is_not_read() -> None:
    ours = f"{OURS}; dmarc=fail header.from=acme.example"
    forged = f"{OURS}; dmarc=pass header.from=acme.example"
    assert not authenticated([ours, forged], OURS, ANN)
    assert authenticated(["mx.elsewhere.example; none", forged, ours], OURS, ANN)


@pytest.mark.parametrize(
    "results",
    [
        "dmarc=fail header.from=acme.example",
        "dmarc=none header.from=acme.example",
        "dmarc=pass header.from=elsewhere.example",
        "dmarc=pass",  # for which domain?
        "spf=pass smtp.mailfrom=acme.example",  # the envelope, not the From
        "dkim=pass header.d=elsewhere.example",  # signed, by someone else
        "dkim=pass header.d=evil-acme.example",
        "dkim=pass header.d=sub.acme.example",  # a child domain does not speak for its parent
        "dkim=fail header.d=acme.example",
        "dkim=pass header.i=@acme.example",
        "none",
    ],
)
def test_what_does_not_authenticate_the_from(results: str) -> None:
    assert not authenticated([f"{OURS}; {results}"], OURS, ANN)


def test_a_dkim_pass_of_the_from_domain_or_a_parent_of_it_authenticates() -> None:
    assert authenticated([f"{OURS}; dkim=pass header.d=acme.example header.s=s1 header.b=abcd"], OURS, ANN)
    assert authenticated([f"{OURS}; dkim=pass header.d=acme.example"], OURS, "bob@ops.acme.example")
    assert authenticated([f"{OURS}; dkim=fail header.d=x.example; dkim=pass header.d=acme.example"], OURS, ANN)


@pytest.mark.parametrize(
    "header",
    [
        f"{OURS}; dmarc=pass header.from=acme.example (" + "(" * 5000,  # nested past the stack
        f"{OURS}; dmarc",  # cut short
        f"{OURS}; dmarc=pass header.from=acme.example; " + "x" * MAX_HEADER,  # longer than a server writes
        f"{OURS}",
    ],
)
def test_an_unreadable_header_of_ours_authenticates_nothing(header: str) -> None:
    assert not authenticated([header, f"{OURS}; dmarc=pass header.from=acme.example"], OURS, ANN)


def test_a_folded_header_as_mail_carries_it_is_read() -> None:
    raw = (
        f"Authentication-Results: {OURS};\r\n\tdkim=pass header.d=acme.example;\r\n"
        "\tdmarc=pass (p=quarantine) header.from=acme.example\r\n"
        "Authentication-Results: mx.elsewhere.example; none\r\n"
        f"From: Ann <{ANN}>\r\nTo: support@acme.example\r\nSubject: x\r\nMessage-ID: <a@b>\r\n\r\nhi\r\n"
    ).encode()
    mail = mime.parse(raw)
    assert len(mail.authentication_results) == 2
    assert authenticated(mail.authentication_results, OURS, mail.sender)


def test_a_mail_without_the_header_is_not_authenticated() -> None:
    mail = mime.parse(f"From: {ANN}\r\nSubject: x\r\n\r\nhi\r\n".encode())
    assert (mail.authentication_results, authenticated(mail.authentication_results, OURS, mail.sender)) == ([], False)
