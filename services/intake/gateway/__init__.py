"""What the gateway keeps of its own: the API keys of systems."""
