"""The engine against Asterisk's own app_queue, on the same Asterisk with the same phones.

    .venv/bin/python -m benchmarks.app_queue [--quick] [--only latency,capacity,erlang]

It sets up a private lab (see benchmarks/livelab.py: a copy of the lab root at
/tmp/bench-root, SIP 5160, AMI 5138, FastAGI 4673, web 8180) and stops its Asterisk at the
end. Two routes for the same callers:

- app_queue: `Answer()` then `Queue(bench)`; queues.conf holds the same agents as static
  members `PJSIP/<n>`, strategy leastrecent (our longest-idle), ringinuse=no, the same ring
  timeout and wrap-up, retry 1 s (recorded: `Queue(bench-rec)`, monitor-type MixMonitor).
- engine: `Answer()`, the ACD_* variables the IVR would set, then acd-hold, where the engine
  takes over over AMI, exactly as after the IVR (which is left out of both routes).

The agents are one SIPp UAS (every endpoint registered to it) that rings, answers after a
set delay, sends speech and hangs up after a set (or exponential) talk time; the callers are
SIPp UACs that send speech once answered. Only one route runs at a time (the engine is
stopped while app_queue is measured), alternating route order between repeats. All times
come from the SIPp message traces (one host clock):

1. Offer latency. (a) idle: a caller enters the queue with agents free; from the caller's
   200 OK (Answer(), then straight into the queue) to the agent's INVITE. (b) next: two
   agents, a queue of callers; from an agent's BYE (free again, wrap-up 0) to the next
   INVITE that agent gets, counted only while callers were waiting.
2. Capacity: calls per second in steps of 10 s (agents answer after 100 ms and talk 2 s),
   until a step has a failed or unconnected call, an INVITE retransmission (to or from
   Asterisk) or a setup p99 over 500 ms (setup: caller's INVITE to the agent's INVITE);
   recording off and on. CPU seconds per call of the `acd run` process and of Asterisk.
3. Erlang check: 14 agents, Poisson arrivals of 1.11 calls/s (the same seeded arrival times
   for both routes), exponential talk of mean 9 s, agents answer at once, wrap-up 0. Erlang C
   says 88.8% answered within 1 s and 17.4% wait (and is printed again at the handle time the
   run's exponential draws really averaged). Measured from the traces: the wait from
   entering the queue to the agent's 200 OK, with 95% Wilson intervals; cross-checked with
   the engine's records (wait_seconds) and app_queue's queue_log (whole-second holdtime,
   hence bounds).

Each measurement is repeated (`--repeats`, default 3; capacity 2) and medians are printed:
another Asterisk shares this host at times. Figures, not a test: nothing asserts on them.

The modules: `lab` (the private lab and one route's session), `latency`, `capacity` and
`erlang` (the three measurements), `stats` (percentiles, intervals, ratios) and `cli` (the
command and its summary); `python -m benchmarks.app_queue` runs `cli.main`.
"""
