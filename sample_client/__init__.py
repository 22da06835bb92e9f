"""The reference offline-first client: local store, outbox, sync engine and uploader.

It speaks to the server only through :mod:`sync_protocol` and HTTP, never by importing ``server``.
"""
