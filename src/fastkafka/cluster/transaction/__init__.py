"""Kafka's transaction coordinator: transactional ids, their producer id/epoch and transaction
state in `__transaction_state`, and the COMMIT/ABORT markers written to the partitions."""
