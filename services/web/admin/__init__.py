"""The admin's screens: each one a page of the setting it changes, every change an API call that
records events with the admin as actor."""
