"""Notifications: notice events, in-app notifications per user, and the mail outbox."""
