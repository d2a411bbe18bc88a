"""Whether an e-mail's `From` is vouched for by the desk's own mail server (RFC 8601).

Anyone can write any `From`. The mail server (MTA) that receives the desk's mail checks DKIM,
SPF and DMARC and writes what it found into an `Authentication-Results` header that names it (its
*authserv-id*), after deleting every such header that already claimed its name (RFC 8601 §5).
Only that header is believed (`SERVICEDESK_MAIL_AUTHSERV_ID`): one naming another server may
have been written by the sender and says nothing. When several name ours, the topmost (the last
added, nearest the desk) decides; if it cannot be read (or is longer than any server writes one),
the mail is not authenticated. Only that one header is parsed: a sender's many or huge headers
cost a string comparison each.

The `From` is authenticated when that header says `dmarc=pass` for the From's domain
(`header.from`), or `dkim=pass` with a signing domain (`header.d`) that is the From's domain or
a parent of it (a subset of DMARC's relaxed alignment that needs no public-suffix list). SPF
alone is not enough: it vouches for the envelope sender, not for `From`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import authres
import authres.dmarc

_FEATURES = authres.FeatureContext(authres.dmarc)
_FOLD = re.compile(r"\r?\n(?=[ \t])")
MAX_HEADER = 8192  # characters; a server's own header is a few hundred


def authenticated(results: Sequence[str], authserv_id: str | None, sender: str) -> bool:
    """Whether the header of `authserv_id` among `results` (the `Authentication-Results` values,
    topmost first) vouches for the address `sender`; never without a configured authserv-id."""
    if not authserv_id:
        return False
    header = _ours(results, authserv_id.strip().lower())
    domain = _domain(sender.rpartition("@")[2])
    return header is not None and bool(domain) and any(_vouches(result, domain) for result in header.results)


def _ours(results: Sequence[str], authserv_id: str) -> Any:
    value = next((value for value in results if _names(value, authserv_id)), None)
    if value is None or len(value) > MAX_HEADER:
        return None
    try:
        header = _FEATURES.parse_value(_FOLD.sub("", value))
    except (authres.AuthResError, RecursionError):  # unreadable (comments nested past the stack)
        return None
    return header if header.authserv_id == authserv_id else None


def _names(value: str, authserv_id: str) -> bool:
    """Whether the header's authserv-id (its first word) is `authserv_id`, without parsing the rest."""
    return re.match(rf"\s*{re.escape(authserv_id)}(?=[\s;(]|$)", value, re.IGNORECASE) is not None


def _vouches(result: Any, domain: str) -> bool:
    if str(result.result).lower() != "pass":
        return False
    method = str(result.method).lower()
    if method == "dmarc":
        return _property(result, "header", "from") == domain
    if method == "dkim":
        signer = _property(result, "header", "d")
        return bool(signer) and (domain == signer or domain.endswith(f".{signer}"))
    return False


def _property(result: Any, ptype: str, name: str) -> str:
    for found in result.properties:
        if str(found.type).lower() == ptype and str(found.name).lower() == name:
            return _domain(str(found.value).rpartition("@")[2])
    return ""


def _domain(text: str) -> str:
    return text.strip().strip(".").lower()
