"""What routing records: one module per aggregate, one class per event, each named on its aggregate in
domain.py so it keeps its stored topic `services.routing.domain:<Aggregate>.<Event>`."""
