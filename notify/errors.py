"""Delivery errors: permanent (the message can never go: a refused address, a receiver that says no) or transient
(the server is down, busy or slow: try again later). Codes are stable; they end up in `notifications.last_error`."""

from __future__ import annotations


class DeliveryError(Exception):
    code = "delivery_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"{self.code}: {self.args[0]}"


class PermanentDeliveryError(DeliveryError):
    """Retrying cannot help: the notification ends `failed`."""

    code = "permanent_delivery_failure"


class TransientDeliveryError(DeliveryError):
    """Retry with backoff: the next attempt may succeed."""

    code = "transient_delivery_failure"


class InvalidRecipient(PermanentDeliveryError):
    """The recipient's address is not one mailbox address (`local@domain.tld`): no server could take it, so nothing is
    sent and the notification fails at its first attempt."""

    code = "invalid_address"
