"""Intake's HTTP routes, mounted in one place (app.py)."""
