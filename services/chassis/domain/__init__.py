"""What the services' aggregates share: pure state shapes, no I/O."""
