"""Kafka for every service: consuming, relaying, topics. Importing the package makes aiokafka's connections
fail as broken connections when written to after they closed under uvloop (`kafka_connections.py`), before
any of its modules opens one."""

from services.chassis.messaging import kafka_connections

kafka_connections.install()
