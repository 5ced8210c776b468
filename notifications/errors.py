"""How a channel tells the sender whether to try again."""


class SendError(Exception):
    """A send failed and may succeed later (network, provider 5xx, rate limit)."""


class PermanentSendError(SendError):
    """A send failed and retrying cannot help (invalid number, rejected content, bad credentials)."""
