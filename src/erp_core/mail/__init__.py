"""Transactional e-mail: Spanish messages on the brand, an outbox written in the event's
transaction, and a retried queue task that sends it over SMTP after commit (issue 16)."""
