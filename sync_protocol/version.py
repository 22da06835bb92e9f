"""Protocol versions. The server serves the current version and the one before it."""

PROTOCOL_VERSION = 1
#: Versions a server of this release accepts; an app on any other version must upgrade.
SUPPORTED_VERSIONS = frozenset({1})
