"""What the engine tells the outside world while it runs: MQTT events and Prometheus metrics.

Both attach to the engine as observers of the core's steps, so neither can slow or break the
routing: mapping is pure, publishing is queued, metrics are counters.
"""
