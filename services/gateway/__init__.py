"""The gateway: the only door from outside (HTTP for apps, webhooks, the ops dashboard)."""
