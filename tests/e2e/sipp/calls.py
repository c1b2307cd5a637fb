"""Placing calls: a caller dialling a service (caller.xml) and an agent's softphone dialling a
feature code (agent_dial.xml), each one sipp run that ends with a :class:`CallResult`.

``caller.xml`` (UAC, ``-m 1``): INVITE ``sip:<service>@asterisk`` with From/Contact user =
the caller number, no auth, SDP offering PCMA(8) PCMU(0) telephone-event/8000(101). After
200/ACK a 100 ms tick loop plays the DTMF pcap once at ``pre_dtmf_ms`` or - with audio - the
timeline and ring pcaps of :func:`tests.e2e.sipp.media.media_pcaps`, and ends on the far
end's BYE, on our own BYE after ``hangup_ms``, or (failure, exit 1) at ``max_ms``.

``agent_dial.xml`` (UAC, ``-m 1``): INVITE with From/Contact user = the agent number (PJSIP
identifies the endpoint by username), digest auth after the 401/407 (sipp's digest ``uri``
is ``sip:<host>:<port>``, which PJSIP accepts), then the same tick loop without audio. A
final 403/404/480/486/488/500/503/603 (or 401/407 to the authenticated INVITE = wrong
password) is ACKed, logged ``DIAL REJECTED code=NNN`` and sipp exits 97 at once. The
endpoint's ``context`` must hold the dialled code.

Numeric scenario settings are ``-set`` globals: a ``-key`` is substituted in messages and
logs but not in numeric attributes (``pause milliseconds``, ``timeout``). The scenarios'
own comments list every argument.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from acd.labhost import free_media_port, free_udp_port
from tests.e2e.sipp.common import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    LOCAL_IP,
    SAFETY_MARGIN_S,
    SippError,
)
from tests.e2e.sipp.media import (
    CALLER_SSRC,
    MIN_DTMF_GAP_MS,
    MediaPcaps,
    check_digits,
    dtmf_pcap,
    media_pcaps,
    spare_pcap,
)
from tests.e2e.sipp.process import (
    SippRun,
    cleanup,
    make_workdir,
    run_sipp,
)
from tests.e2e.sipp.trace import log_events

_REJECTED_RE = re.compile(r"^DIAL REJECTED code=(\d+)")


class EndedBy(StrEnum):
    """Who ended a call, from the scenario's log."""

    REMOTE = "remote"  # the far end's BYE
    LOCAL = "local"  # our own BYE after hangup_ms
    MAX_TIME = "max_time"  # nobody hung up within max_ms: a failure


#: log event -> ending; when several were logged, the later one here wins
_ENDINGS = {"REMOTE_BYE": EndedBy.REMOTE, "LOCAL_BYE": EndedBy.LOCAL, "MAX_TIME": EndedBy.MAX_TIME}


@dataclass
class CallResult:
    """Outcome of :func:`place_call` or :func:`agent_dial`."""

    run: SippRun
    answered: bool
    dtmf_sent: bool
    ended_by: EndedBy | None
    rejected: int | None = None  # agent_dial only: final error code (403, 404, 486...)

    @classmethod
    def of(cls, run: SippRun, prefix: str) -> CallResult:
        """What the run's ``<prefix> EVENT ...`` log lines say about the call."""
        events = log_events(run.log, prefix)
        ended_by = None
        for name, value in _ENDINGS.items():
            if name in events:
                ended_by = value
        rejected = None
        for ln in run.log:
            m = _REJECTED_RE.match(ln)
            if m:
                rejected = int(m.group(1))
        return cls(run, "ANSWERED" in events, "DTMF_SENT" in events, ended_by, rejected)

    @property
    def returncode(self) -> int | None:
        return self.run.returncode

    @property
    def ok(self) -> bool:
        """sipp exit 0 and the call ended by a BYE (either side)."""
        return self.run.ok and self.ended_by in (EndedBy.REMOTE, EndedBy.LOCAL)

    @property
    def stdout(self) -> str:
        return self.run.stdout

    @property
    def stderr(self) -> str:
        return self.run.stderr

    @property
    def stats(self) -> dict[str, str]:
        return self.run.stats


def _talk_ms(hangup_after_ms: int | None, max_ms: int) -> int:
    return max_ms if hangup_after_ms is None else min(max_ms, hangup_after_ms + 5000)


def _timing_args(
    dtmf: str | None, pre_dtmf_ms: int, hangup_after_ms: int | None, talk_ms: int
) -> list[str]:
    """The tick loop's ``-set`` globals both scenarios share."""
    return [
        *("-set", "pre_dtmf_ms", str(pre_dtmf_ms if dtmf else -1)),
        *("-set", "hangup_ms", str(hangup_after_ms if hangup_after_ms else 0)),
        *("-set", "max_ms", str(talk_ms)),
    ]


async def place_call(
    service: str,
    caller: str,
    *,
    dtmf: str | None = "1",
    pre_dtmf_ms: int = 1500,
    dtmf_gap_ms: int = 250,
    hangup_after_ms: int | None = None,
    max_ms: int = 60000,
    audio: bool = False,
    local_port: int = 0,
    media_port: int = 0,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    setup_timeout_ms: int = 10000,
    workdir: Path | None = None,
) -> CallResult:
    """Call ``service`` from ``caller`` with caller.xml and wait for the end.

    ``dtmf``: digits sent once, ``pre_dtmf_ms`` after the ACK (None/"" = none;
    several digits are sent ``dtmf_gap_ms`` apart). ``hangup_after_ms``: we
    hang up that long after the ACK; None = wait for the far end's BYE, for
    at most ``max_ms`` after the ACK (then the call fails:
    ``ended_by="max_time"``). ``audio`` sends PCMA speech (g711a.pcap, looped;
    needs PCMA negotiated - the offer lists it first) for the whole call,
    also after the digits: the workdir gets ``timeline.pcap`` (audio from the
    ACK on with the digits at ``pre_dtmf_ms``, the audio paused from 30 ms
    before them to 200 ms after) and ``ring.pcap`` (the audio after that,
    replayed every 7.68 s), with sequence numbers that only go forward (see
    :func:`tests.e2e.sipp.media.media_pcaps`); ``dtmf_gap_ms`` must then be
    >= 160. Without ``audio`` only the DTMF pcap is sent. ``local_port``/
    ``media_port`` 0 = pick free ones. The whole helper is bounded by
    setup_timeout_ms + max_ms + margin.
    """
    wd = make_workdir("caller", workdir)
    talk_ms = _talk_ms(hangup_after_ms, max_ms)
    spare = str(spare_pcap())
    media_args = ["-key", "media_pcap", spare, "-key", "ring_pcap", spare]
    media_args += ["-set", "media_at_ms", "-1", "-set", "ring_at_ms", "-1", "-set", "ring_ms", "0"]
    if audio:
        media = _caller_media(wd, dtmf, pre_dtmf_ms, dtmf_gap_ms)
        media_args = ["-key", "media_pcap", str(media.media_pcap)]
        media_args += ["-key", "ring_pcap", str(media.ring_pcap)]
        media_args += ["-set", "media_at_ms", str(media.media_at_ms)]
        media_args += ["-set", "ring_at_ms", str(media.ring_at_ms)]
        media_args += ["-set", "ring_ms", str(media.ring_ms)]
    args = [
        *("-s", service, "-key", "caller", caller),
        *("-key", "dtmf_pcap", spare if audio else str(dtmf_pcap(dtmf, wd, dtmf_gap_ms))),
        *_timing_args(dtmf, pre_dtmf_ms, hangup_after_ms, talk_ms),
        *("-set", "audio", "1" if audio else "0"),
        *media_args,
        *("-m", "1", "-l", "1", "-i", LOCAL_IP),
        *("-p", str(local_port or free_udp_port())),
        *("-mp", str(media_port or free_media_port())),
        f"{host}:{port}",
    ]
    timeout_s = (setup_timeout_ms + talk_ms) / 1000 + SAFETY_MARGIN_S
    run = await run_sipp(
        "caller.xml", args, timeout_s=timeout_s, workdir=wd, prefix="caller", host_port=(host, port)
    )
    result = CallResult.of(run, "CALLER")
    cleanup(wd, result.ok and workdir is None)
    return result


def _caller_media(workdir: Path, dtmf: str | None, pre_dtmf_ms: int, gap_ms: int) -> MediaPcaps:
    """The pcaps for ``place_call(audio=True)``: the digits once, over the speech."""
    if gap_ms < MIN_DTMF_GAP_MS:
        raise SippError(f"dtmf_gap_ms must be >= {MIN_DTMF_GAP_MS} with audio")
    if dtmf:
        check_digits(dtmf)
    entries = [(pre_dtmf_ms, dtmf)] if dtmf and pre_dtmf_ms >= 0 else []
    return media_pcaps(workdir, entries, gap_ms, True, CALLER_SSRC)


async def agent_dial(
    number: str,
    password: str,
    service: str,
    *,
    dtmf: str | None = None,
    pre_dtmf_ms: int = 1000,
    hangup_after_ms: int | None = None,
    max_ms: int = 20000,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    workdir: Path | None = None,
    setup_timeout_ms: int = 10000,
) -> CallResult:
    """Agent ``number`` dials ``service`` (e.g. a feature code ``*41``).

    Runs agent_dial.xml: INVITE with From user ``number`` (the PJSIP
    endpoint name), digest auth with ``number``/``password`` after the
    401/407, and after the answer the same timing as :func:`place_call`:
    ``dtmf`` sent once ``pre_dtmf_ms`` after the ACK (None/"" = none; several
    digits, e.g. ``"1001#123456#"``, go in one pcap 250 ms apart),
    ``hangup_after_ms`` = we hang up then, None = wait for the far end's BYE
    for at most ``max_ms`` (then ``ended_by="max_time"``, a failure). No
    registration is needed (and none is made). The agent's media comes from
    a free port; nothing listens for calls to the agent.

    A final error response (403/404/480/486/488/500/503/603, or 401/407 to
    the authenticated INVITE = wrong password) sets ``rejected`` to the code
    (``answered`` False, ``ended_by`` None, sipp exit 97, ``ok`` False).
    The whole helper is bounded by setup_timeout_ms + max_ms + margin.
    """
    wd = make_workdir(f"dial{number}", workdir)
    talk_ms = _talk_ms(hangup_after_ms, max_ms)
    args = [
        *("-s", service, "-key", "agent", number, "-au", number, "-ap", password),
        *("-key", "dtmf_pcap", str(dtmf_pcap(dtmf, wd))),
        *_timing_args(dtmf, pre_dtmf_ms, hangup_after_ms, talk_ms),
        *("-m", "1", "-l", "1", "-i", LOCAL_IP),
        *("-p", str(free_udp_port()), "-mp", str(free_media_port())),
        f"{host}:{port}",
    ]
    timeout_s = (setup_timeout_ms + talk_ms) / 1000 + SAFETY_MARGIN_S
    run = await run_sipp(
        "agent_dial.xml",
        args,
        timeout_s=timeout_s,
        workdir=wd,
        prefix=f"dial{number}",
        host_port=(host, port),
    )
    result = CallResult.of(run, "DIAL")
    cleanup(wd, result.ok and workdir is None)
    return result
