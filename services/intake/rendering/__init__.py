"""Texts the desk's staff write and the desk fills in: notifications, macros, triggers' notes."""
