"""Saved views of the ticket list: a tenant's named filters, columns and order, personal or shared."""
