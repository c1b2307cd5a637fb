"""SIPp load for the live benchmarks: callers, a bank of agent phones, and their traces.

Scenarios are generated per run (timings are literal numbers in SIPp XML, and a `-key`
cannot go into a numeric attribute). Every sipp writes a message trace (`-trace_msg`) with
the host clock's microsecond timestamps; the figures come from those traces, so one clock
times both sides of a call (callers and agents run on the same host as Asterisk).

- Callers (UAC): INVITE from a number unique per call, then, once answered, PCMA speech
  from the first packet on (Asterisk's Answer() waits up to 500 ms for the caller's first
  media frame; a real phone sends it at once), and wait for the far end's BYE (a caller who
  is never connected hangs up after `max_ms`).
- Agents (UAS, one sipp for every agent: each endpoint registers the same contact, the
  Request-URI's user names the agent): 180 at once, 200 after `answer_ms`, PCMA speech, and
  the agent's own BYE after a fixed or an exponential talk time.

The modules, imported directly (nothing is re-exported here): `scenarios` (the generated
SIPp XML), `phones` (running the callers' sipp and the agent bank), `traces` (reading the
message traces into caller and agent legs).
"""
