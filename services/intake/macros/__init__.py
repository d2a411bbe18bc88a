"""Macros: canned replies with actions, a tenant's shared ones and an agent's own."""
