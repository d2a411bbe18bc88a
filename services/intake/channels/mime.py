"""An incoming e-mail, parsed with the standard library (`email`, policy=default) into what a ticket needs.

The text is the plain body when there is one, else the HTML body reduced to text; quoted history is
trimmed. Every other leaf part with a file name, or that is not text, is an attachment, bytes as
sent. A message without a Message-ID gets one derived from its bytes, so a retried delivery of it
is still recognised.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr

from services.intake.channels import quotes
from services.intake.channels.html_text import html_to_text

_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_FILENAME_BAD = re.compile(r'[/\\<>:"|?*]')
MAX_FILENAME = 255


class MalformedMailError(ValueError):
    """Mail the desk cannot read; `part` names what is wrong (a header, the body)."""

    def __init__(self, part: str, problem: str) -> None:
        super().__init__(f"{part}: {problem}")
        self.part = part


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class Mail:
    message_id: str  # with its angle brackets
    subject: str
    sender: str  # the From address: anyone can write it (`mail_authentication` says who vouched for it)
    sender_name: str | None
    text: str  # quoted history trimmed
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    auto_submitted: str | None = None  # lower-cased; "no" for mail a person sent
    precedence: str | None = None
    auto_reply_header: bool = False  # X-Autoreply / X-Autorespond present
    report: str | None = None  # the report-type of a multipart/report (a bounce, a read receipt)
    language: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    authentication_results: list[str] = field(default_factory=list)  # the header's values, topmost first

    @property
    def thread_ids(self) -> list[str]:
        """The Message-IDs this one answers, oldest first, each once."""
        return list(dict.fromkeys(self.references + self.in_reply_to))


def parse(raw: bytes) -> Mail:
    """The mail in `raw` (RFC 5322 bytes); MalformedMailError when it cannot be read."""
    if not raw.strip():
        raise MalformedMailError("message", "the message is empty")
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        return _mail(message, raw)
    except MalformedMailError:
        raise
    except (ValueError, TypeError, LookupError, IndexError, AttributeError) as error:
        raise MalformedMailError("message", f"unreadable: {error}") from None


def _mail(message: EmailMessage, raw: bytes) -> Mail:
    name, sender = _from(message)
    body = message.get_body(preferencelist=("plain", "html"))
    text = ""
    if body is not None:
        content = _text_of(body)
        text = html_to_text(content) if body.get_content_subtype() == "html" else content
    content_type = message.get_content_type()
    return Mail(
        message_id=_message_id(message, raw),
        subject=_header(message, "Subject").strip(),
        sender=sender,
        sender_name=name or None,
        text=quotes.trim(text),
        in_reply_to=_ids(message, "In-Reply-To"),
        references=_ids(message, "References"),
        auto_submitted=_lower(message, "Auto-Submitted"),
        precedence=_lower(message, "Precedence"),
        auto_reply_header=any(h in message for h in ("X-Autoreply", "X-Autorespond", "X-Autoresponse")),
        report=str(message.get_param("report-type") or "unknown") if content_type == "multipart/report" else None,
        language=(_lower(message, "Content-Language") or "").split(",")[0].strip()[:2] or None,
        attachments=_attachments(message, body),
        authentication_results=[str(value) for value in message.get_all("Authentication-Results", [])],
    )


def _from(message: EmailMessage) -> tuple[str, str]:
    header = _header(message, "From")
    found = [(name, address) for name, address in getaddresses([header]) if "@" in address]
    if not found:
        name, address = parseaddr(header)
        if "@" not in address:
            raise MalformedMailError("From", "no sender address")
        found = [(name, address)]
    name, address = found[0]
    return name.strip(), address.strip()


def _header(message: Message, name: str) -> str:
    value = message.get(name)
    return "" if value is None else str(value)


def _lower(message: Message, name: str) -> str | None:
    value = _header(message, name).strip().lower()
    return value or None


def _ids(message: Message, name: str) -> list[str]:
    return _MESSAGE_ID.findall(_header(message, name))


def _message_id(message: Message, raw: bytes) -> str:
    found = _ids(message, "Message-ID")
    return found[0] if found else f"<{hashlib.sha256(raw).hexdigest()}@no-message-id.invalid>"


def _text_of(part: Message) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
    except (LookupError, UnicodeError, ValueError):  # an unknown or lying charset
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return content if isinstance(content, str) else content.decode("utf-8", "replace")


def _attachments(message: EmailMessage, body: Message | None) -> list[Attachment]:
    found: list[Attachment] = []
    for part in message.walk():
        if part is body or part.is_multipart():
            continue
        filename = part.get_filename()
        disposition = part.get_content_disposition()
        if filename is None and disposition != "attachment" and part.get_content_maintype() == "text":
            continue  # the other alternative of the body
        if part.get_content_type() == "message/delivery-status":
            continue
        found.append(
            Attachment(
                safe_filename(filename, part.get_content_type(), len(found) + 1),
                part.get_content_type(),
                _bytes_of(part),
            )
        )
    return found


def _bytes_of(part: Message) -> bytes:
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload
    inner = part.get_payload()
    if isinstance(inner, list) and inner and isinstance(inner[0], Message):  # message/rfc822, as it was sent
        return inner[0].as_bytes()
    return str(inner).encode()


def safe_filename(filename: str | None, content_type: str, n: int) -> str:
    """A file name without folders or control characters; `attachment-<n>` when it had none."""
    name = unicodedata.normalize("NFC", filename or "").strip()
    name = "".join(c for c in _FILENAME_BAD.sub("_", name) if not unicodedata.category(c).startswith("C"))
    name = name.strip(". ")[:MAX_FILENAME]
    if not name:
        extension = {"message/rfc822": ".eml", "text/plain": ".txt", "text/html": ".html"}.get(content_type, "")
        name = f"attachment-{n}{extension}"
    return name
