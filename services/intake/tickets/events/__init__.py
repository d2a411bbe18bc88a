"""What can happen to a ticket: one module per area, one class per event (base.py says how they are stored)."""
