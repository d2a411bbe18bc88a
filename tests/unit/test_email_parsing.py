"""Incoming mail as a ticket needs it: parsed, reduced to text, history trimmed, loops recognised."""

from __future__ import annotations

from email.message import EmailMessage
from uuid import uuid4

import pytest

from services.intake.channels import loops, mail_threads, mime, quotes
from services.intake.channels.html_text import html_to_text

DOMAIN = "desk.example"


def a_mail(body: str = "My printer is on fire.", subtype: str = "plain", **headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = headers.pop("From", "Jane Roe <jane@example.com>")
    message["To"] = "support@acme.example"
    message["Subject"] = headers.pop("Subject", "Printer")
    message["Message-ID"] = headers.pop("Message_ID", f"<{uuid4()}@example.com>")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body, subtype=subtype)
    return message.as_bytes()


def test_a_plain_mail_gives_its_sender_subject_text_and_message_id() -> None:
    mail = mime.parse(a_mail(Message_ID="<abc@example.com>"))
    assert (mail.sender, mail.sender_name, mail.subject) == ("jane@example.com", "Jane Roe", "Printer")
    assert (mail.message_id, mail.text) == ("<abc@example.com>", "My printer is on fire.")


def test_replies_name_the_messages_they_answer_oldest_first() -> None:
    mail = mime.parse(a_mail(In_Reply_To="<b@x>", References="<a@x> <b@x>"))
    assert mail.thread_ids == ["<a@x>", "<b@x>"]


def test_a_mail_without_message_id_gets_one_from_its_bytes_so_a_retry_is_recognised() -> None:
    raw = a_mail().replace(b"Message-ID:", b"X-Old-ID:")
    assert mime.parse(raw).message_id == mime.parse(raw).message_id
    assert mime.parse(raw).message_id.endswith("@no-message-id.invalid>")


def test_an_html_only_mail_is_reduced_to_safe_text() -> None:
    html = (
        "<html><head><style>p{color:red}</style><script>alert('x')</script></head><body>"
        "<p>Hello&nbsp;desk,</p><p>the <b>VPN</b> drops. See <a href='https://status.example/vpn'>status</a>.</p>"
        "<ul><li>since Monday</li><li>every 10 min</li></ul><img src='https://tracker.example/p.gif'></body></html>"
    )
    text = mime.parse(a_mail(html, subtype="html")).text
    assert text == (
        "Hello desk,\n\nthe VPN drops. See status <https://status.example/vpn>.\n\n- since Monday\n- every 10 min"
    )
    assert "<" not in text.replace("<https://status.example/vpn>", "")


def test_html_blockquotes_are_quoted_history_and_trimmed() -> None:
    html = "<div>Yes, that fixed it.</div><blockquote type='cite'><p>Did a restart help?</p></blockquote>"
    assert quotes.trim(html_to_text(html)) == "Yes, that fixed it."


def test_the_plain_alternative_is_preferred_and_attachments_are_kept_as_sent() -> None:
    message = EmailMessage()
    message["From"], message["Subject"], message["Message-ID"] = "j@example.com", "Logs", "<logs@x>"
    message.set_content("See the log.")
    message.add_alternative("<p>See the <i>log</i>.</p>", subtype="html")
    message.add_attachment(b"\x00\x01binary", maintype="application", subtype="octet-stream", filename="../dump.bin")
    message.add_attachment("line 1\n", subtype="plain", filename="app.log")
    mail = mime.parse(message.as_bytes())
    assert mail.text == "See the log."
    assert [(a.filename, a.content_type) for a in mail.attachments] == [
        ("_dump.bin", "application/octet-stream"), ("app.log", "text/plain")
    ]  # fmt: skip
    assert mail.attachments[0].content == b"\x00\x01binary"


@pytest.mark.parametrize(
    "reply",
    [
        "Thanks, it works now.\n\nOn Mon, 1 Dec 2026 at 10:00, Acme Support <support@acme.example> wrote:\n> Try again",
        "Thanks, it works now.\n\nOn Mon, 1 Dec 2026 at 10:00, Acme Support <support@acme.example>\nwrote:\n> Try",
        "Thanks, it works now.\n-----Original Message-----\nFrom: Acme Support\nSent: Monday\nTry again",
        "Thanks, it works now.\n\nFrom: Acme Support <support@acme.example>\nSent: Monday, 1 December\nTo: Jane",
        "Thanks, it works now.\n\n1 дек. 2026 г., в 10:00, Служба поддержки <support@acme.example> пишет:\n> Ну?",
        "Thanks, it works now.\n> Try again\n>> and again",
    ],
)
def test_quoted_history_is_trimmed_from_a_reply(reply: str) -> None:
    assert quotes.trim(reply) == "Thanks, it works now."


def test_a_message_that_is_all_quote_is_kept_whole_rather_than_lost() -> None:
    assert quotes.trim("> only a quote") == "> only a quote"


@pytest.mark.parametrize(
    ("raw", "part"),
    [(b"", "message"), (b"Subject: no sender\r\n\r\nhello\r\n", "From"), (b"From: nobody\r\n\r\nhi\r\n", "From")],
)
def test_mail_that_cannot_be_read_is_malformed_naming_what(raw: bytes, part: str) -> None:
    with pytest.raises(mime.MalformedMailError) as refused:
        mime.parse(raw)
    assert refused.value.part == part


def refusal_of(raw: bytes, envelope_sender: str = "jane@example.com") -> str | None:
    found = loops.refusal(mime.parse(raw), envelope_sender, DOMAIN)
    return None if found is None else found.reason


def test_mail_a_person_wrote_is_taken() -> None:
    assert refusal_of(a_mail(Auto_Submitted="no")) is None


@pytest.mark.parametrize("value", ["auto-replied", "auto-generated", "auto-notified"])
def test_auto_submitted_mail_is_refused(value: str) -> None:
    assert refusal_of(a_mail(Auto_Submitted=value)) == "auto_submitted"


def test_vacation_replies_without_auto_submitted_are_refused_by_their_other_marks() -> None:
    assert refusal_of(a_mail(X_Autoreply="yes")) == "auto_reply"
    assert refusal_of(a_mail(Precedence="bulk")) == "auto_reply"


def test_bounces_are_refused_by_null_sender_and_by_delivery_report() -> None:
    assert refusal_of(a_mail(), envelope_sender="") == "bounce"
    report = (
        b"From: MAILER-DAEMON@mx.example\r\nMessage-ID: <bounce@mx.example>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type="delivery-status"; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nDelivery failed\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\nStatus: 5.1.1\r\n--b--\r\n"
    )
    refused = loops.refusal(mime.parse(report), "mailer-daemon@mx.example", DOMAIN)
    assert refused is not None
    assert (refused.reason, refused.code) == ("bounce", 550)


def test_our_own_message_coming_back_is_a_loop() -> None:
    ours = mail_threads.message_id(uuid4(), "7", DOMAIN)
    assert refusal_of(a_mail(Message_ID=ours)) == "ours"
    refused = loops.refusal(mime.parse(a_mail(Message_ID=ours)), "x@y", DOMAIN)
    assert refused is not None
    assert refused.reply.startswith("554 5.4.6")
