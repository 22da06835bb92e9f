"""The reference offline-first client: local store, outbox, sync engine.

It speaks to the server only through :mod:`sync_protocol` and HTTP (or any WSGI app
in-process, for tests), never by importing ``server``.
"""

from sample_client.device import Device
from sample_client.errors import ClientError, NetworkError, ServerRefused
from sample_client.store import Store
from sample_client.transport import HttpTransport, WSGITransport

__all__ = ["ClientError", "Device", "HttpTransport", "NetworkError", "ServerRefused", "Store", "WSGITransport"]
