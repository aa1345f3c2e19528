"""Webhook integrations: subscriptions, Standard Webhooks signing, ordered retried delivery."""
