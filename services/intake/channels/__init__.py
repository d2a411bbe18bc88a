"""The inbound channels: e-mail (SMTP and IMAP), web chat and messenger webhooks, landing in one thread."""
