"""Attachment content kept outside the event store."""
