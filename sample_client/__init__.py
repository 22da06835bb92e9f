"""The reference offline-first client: local store, outbox, photo queue, sync engine, CLI.

It speaks to the server only through :mod:`sync_protocol` and HTTP (or any WSGI app
in-process, for tests), never by importing ``server``. :class:`FieldApp` is what a person
uses (``xuncha-client`` is a thin layer over it); :class:`Device` is the protocol underneath.
"""

from sample_client.app import FieldApp
from sample_client.device import Device
from sample_client.engine import Backoff, SyncEngine
from sample_client.errors import (ClientError, GaveUp, HandOverRefused, LoginRequired, NetworkError, ServerRefused,
                                  SyncStopped)
from sample_client.faults import FaultyLink
from sample_client.store import Store
from sample_client.transport import HttpTransport, WSGITransport
from sample_client.uploads import PhotoQueue

__all__ = ["Backoff", "ClientError", "Device", "FaultyLink", "FieldApp", "GaveUp", "HandOverRefused", "HttpTransport",
           "LoginRequired", "NetworkError", "PhotoQueue", "ServerRefused", "Store", "SyncEngine", "SyncStopped",
           "WSGITransport"]
