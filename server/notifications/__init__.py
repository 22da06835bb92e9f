"""Notifications: the in-app notices people read, and the outbox that carries them by email and webhook."""
