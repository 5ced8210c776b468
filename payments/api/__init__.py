"""The REST API of this app (an interface: docs/architecture.md)."""
