"""Mail the desk refuses before it opens anything: machines answering machines, and its own mail.

An auto-reply answered by the desk's acknowledgement answered by the auto-reply again is the
classic mail loop; a bounce opening a ticket is the other. Each refusal carries the reason (the
metric label and log field) and the SMTP reply the sender's server gets.
"""

from __future__ import annotations

from services.intake.channels import mail_threads
from services.intake.channels.mime import Mail

_BULK = frozenset({"bulk", "junk", "auto_reply"})


class Refusal(Exception):
    """Mail refused: `reason` for metrics and logs, `code` and `text` for the SMTP reply."""

    def __init__(self, reason: str, code: int, text: str) -> None:
        super().__init__(f"{reason}: {code} {text}")
        self.reason = reason
        self.code = code
        self.text = text

    @property
    def reply(self) -> str:
        return f"{self.code} {self.text}"


def refusal(mail: Mail, envelope_sender: str, domain: str) -> Refusal | None:
    """Why the desk refuses `mail` (sent with SMTP `MAIL FROM:<envelope_sender>`), or None to take it."""
    if envelope_sender.strip("<> ") == "" or mail.report is not None:
        kind = f"a {mail.report} report" if mail.report else "mail from the null sender"
        return Refusal("bounce", 550, f"5.7.1 {kind} is not accepted: delivery reports never open tickets")
    if mail_threads.is_ours(mail.message_id, domain):
        return Refusal("ours", 554, "5.4.6 loop detected: this message was sent by the desk itself")
    if mail.auto_submitted not in (None, "no"):
        return Refusal("auto_submitted", 550, f"5.7.1 Auto-Submitted: {mail.auto_submitted} mail is not accepted")
    if mail.auto_reply_header or mail.precedence in _BULK:
        return Refusal("auto_reply", 550, "5.7.1 automatic replies and bulk mail are not accepted")
    return None
