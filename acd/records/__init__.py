"""Call detail records, agent state history, callbacks, messages, recordings and reviews in SQL.

SQLite in the lab, PostgreSQL later. The modules, by what they hold:

- `models`: the tables and `make_engine`; `migrate` and `migrations`: the schema's versions.
- `items`: what the records hold besides the core's decisions, and `Record` (all the writer
  takes); `rows`: each item as its table row; `batch`: the registry of row builders and one
  transaction's statements; `writer`: `RecordWriter`, the queue and retries.
- `store`: `Records`, the one engine for the reads (`queries`, `history`, `sessions`, shaped
  by `shapes`) and the case work (`casework`); one per process, opened by its owner.
- `timeline` and `queue_log`: the core's facts as call timelines and Asterisk queue_log lines.

Nothing is imported here, so that `acd.records.items` (used by the IVR and the MQTT mapper)
does not load SQLAlchemy.
"""
