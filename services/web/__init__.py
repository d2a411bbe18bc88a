"""The browser's desk: the agent workspace (and later the supervisor's, the admin's and the portal's pages).

A client of the public gateway API with the signed-in person's token: it keeps nothing of its own
but sessions (services/web/sessions.py).
"""
