"""Outgoing messages: SMS (and e-mail)."""
