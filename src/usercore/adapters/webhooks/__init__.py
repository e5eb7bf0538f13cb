"""Webhooks: events POSTed as JSON, signed per the Standard Webhooks specification (httpx)."""

from usercore.adapters.webhooks.sender import WebhookSender, parse_secret, sign

__all__ = ["WebhookSender", "parse_secret", "sign"]
