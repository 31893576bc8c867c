"""Accounts and roles (the login blueprint arrives with the editor)."""
