"""Kafka for every service: consuming, relaying, topics. Importing the package patches aiokafka before any of
its modules opens a connection: a connection written to after it closed under uvloop fails as a broken
connection (`kafka_connections.py`), and a fetch that leaves out partitions holding records waits briefly at
the broker (`fetch_pacing.py`)."""

from services.chassis.messaging import fetch_pacing, kafka_connections

kafka_connections.install()
fetch_pacing.install()
