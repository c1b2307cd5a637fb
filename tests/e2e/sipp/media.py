"""RTP for the SIPp phones: RFC 2833 DTMF pcaps and the PCMA speech a caller or agent sends.

sipp plays media with ``play_pcap_audio``: it needs CAP_NET_RAW (raw socket, run as root);
RTP leaves from the ``-mp`` port; a new play cancels the one still playing (one media thread
per call); the packets keep the pcap's own payload type, SSRC, sequence numbers and
timestamps (g711a.pcap is PCMA, payload 8: decodable only if PCMA was negotiated), only the
UDP ports are sipp's. A ``-key`` pcap is substituted when the scenario is loaded, so it must
name an existing file even when unused (:func:`spare_pcap`).

Asterisk 22 drops every RTP packet whose sequence number is older than the newest one of
the call - also after an SSRC change - without a log line. A replayed pcap is therefore
dropped as a whole (looping g711a.pcap: only its first 7 s arrive, and nothing after a DTMF
pcap; digits after audio do arrive, their numbers being "newer"). So a phone's pcaps are
built here with numbers that only go forward: :func:`media_pcaps`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.sipp.common import PCAP_DIR, SippError

DTMF_EVENTS = {
    **{str(d): d for d in range(10)},
    "*": 10,
    "#": 11,
    "A": 12,
    "B": 13,
    "C": 14,
    "D": 15,
}
_DTMF_NAMES = {"*": "star", "#": "pound"}

PTIME_MS = 30  # g711a.pcap: 236 PCMA packets of 30 ms
#: packets of the ring pcap: its sequence numbers step by 65536 // RING_PACKETS, so that each
#: replay continues the sequence (the last packet is one step before the first)
RING_PACKETS = 256
DTMF_EVENT_MS = 140  # the stock RFC 2833 event (8 packets, end sent 3x)
AUDIO_RESUME_MS = 200  # audio pause after the last packet of a DTMF entry
#: the smallest gap between two digits' starts in a phone's timeline pcap
MIN_DTMF_GAP_MS = DTMF_EVENT_MS + 20
#: RTP SSRCs of the two sides, so a capture tells them apart
CALLER_SSRC = 0x5A6E7A02
AGENT_SSRC = 0x5A6E7A01


def check_digits(digits: str) -> None:
    """Raise SippError unless ``digits`` is a non-empty string of 0-9 * # A-D."""
    if not digits or any(d not in DTMF_EVENTS for d in digits):
        raise SippError(f"bad DTMF string {digits!r}")


def dtmf_len_ms(digits: str, gap_ms: int) -> int:
    """Time from the first to the last packet of one DTMF entry."""
    return (len(digits) - 1) * gap_ms + DTMF_EVENT_MS


# --------------------------------------------------------------------------
# pcap bytes
# --------------------------------------------------------------------------


def _csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def read_pcap(path: Path) -> tuple[bytes, list[tuple[float, bytes]]]:
    """A pcap's file header and its (time, Ethernet frame) records."""
    data = path.read_bytes()
    if data[:4] != b"\xd4\xc3\xb2\xa1":
        raise SippError(f"{path}: only little-endian microsecond pcaps are supported")
    pkts, off = [], 24
    while off + 16 <= len(data):
        sec, usec, incl, _orig = struct.unpack("<IIII", data[off : off + 16])
        pkts.append((sec + usec / 1e6, data[off + 16 : off + 16 + incl]))
        off += 16 + incl
    return data[:24], pkts


def rtp_of(frame: bytes) -> bytes:
    """The RTP packet inside an Ethernet/IPv4/UDP frame."""
    return frame[14 + (frame[14] & 0x0F) * 4 + 8 :]


def pcap_record(t_s: float, template: bytes, rtp: bytes) -> bytes:
    """A pcap record: ``template``'s Ethernet/IPv4/UDP headers around ``rtp``.

    One UDP port pair for all: sipp sends each packet to the SDP port
    plus (its UDP destination port - the lowest one in the pcap).
    """
    ihl = (template[14] & 0x0F) * 4
    ip = bytearray(template[14 : 14 + ihl])
    udp = bytearray(template[14 + ihl : 14 + ihl + 8])
    struct.pack_into("!H", ip, 2, ihl + 8 + len(rtp))
    struct.pack_into("!H", ip, 10, 0)
    struct.pack_into("!H", ip, 10, _csum(bytes(ip)))
    struct.pack_into("!HH", udp, 4, 8 + len(rtp), 0)
    pseudo = bytes(ip[12:20]) + struct.pack("!BBH", 0, 17, 8 + len(rtp))
    struct.pack_into("!H", udp, 6, _csum(pseudo + bytes(udp) + rtp) or 0xFFFF)
    frame = template[:14] + bytes(ip) + bytes(udp) + rtp
    sec = int(t_s)
    usec = min(999_999, round((t_s - sec) * 1e6))
    return struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame


# --------------------------------------------------------------------------
# DTMF alone
# --------------------------------------------------------------------------


def dtmf_pcap_for(digit: str) -> Path:
    """The stock sip-tester pcap for one digit (0-9, * or #)."""
    if digit not in DTMF_EVENTS or digit in "ABCD":
        raise SippError(f"no stock RFC 2833 pcap for digit {digit!r}")
    return PCAP_DIR / f"dtmf_2833_{_DTMF_NAMES.get(digit, digit)}.pcap"


def spare_pcap() -> Path:
    """A stock pcap for a ``-key`` pcap argument that is not played (it must exist)."""
    return dtmf_pcap_for("1")


def build_dtmf_pcap(digits: str, out: Path, *, gap_ms: int = 250) -> Path:
    """Write an RFC 2833 pcap that sends ``digits`` one after another.

    Each digit is the stock ``dtmf_2833_1.pcap`` event (8 packets, ~140 ms,
    end packet sent 3x) with its event code replaced; digits start ``gap_ms``
    apart and get increasing RTP sequence numbers and timestamps, so the
    receiver sees distinct events. Accepts 0-9 * # A-D.
    """
    check_digits(digits)
    header, tmpl = read_pcap(dtmf_pcap_for("1"))
    t0 = tmpl[0][0]
    seq, records = 1000, []
    for i, digit in enumerate(digits):
        prev_seq = None
        for t, frame in tmpl:
            rtp = bytearray(rtp_of(frame))
            orig_seq = struct.unpack("!H", rtp[2:4])[0]
            if prev_seq is not None and orig_seq != prev_seq:
                seq += 1
            prev_seq = orig_seq
            struct.pack_into("!HI", rtp, 2, seq & 0xFFFF, (8000 + i * gap_ms * 8) & 0xFFFFFFFF)
            rtp[12] = DTMF_EVENTS[digit]
            records.append(pcap_record(t0 + i * gap_ms / 1000 + (t - t0), frame, bytes(rtp)))
        seq += 1
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(header + b"".join(records))
    return out


def dtmf_pcap(dtmf: str | None, workdir: Path, gap_ms: int = 250) -> Path:
    """The pcap that keys ``dtmf`` in: a stock one for one digit, else built in ``workdir``."""
    if not dtmf:
        return spare_pcap()  # must exist even when unused
    if len(dtmf) == 1 and dtmf not in "ABCD":
        return dtmf_pcap_for(dtmf)
    return build_dtmf_pcap(dtmf, workdir / "dtmf.pcap", gap_ms=gap_ms)


# --------------------------------------------------------------------------
# speech with digits: a phone's whole call
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class MediaPcaps:
    """A phone's pcaps and when its scenario plays them (ms after the ACK; -1 = never)."""

    media_pcap: Path
    media_at_ms: int
    ring_pcap: Path
    ring_at_ms: int
    ring_ms: int


def media_pcaps(
    workdir: Path, entries: list[tuple[int, str]], gap_ms: int, audio: bool, ssrc: int
) -> MediaPcaps:
    """Build a phone's media pcaps in ``workdir``; shared by callers and agents.

    Asterisk drops RTP whose sequence number goes back (also across an SSRC
    change), so a call's packets must only go forward. ``timeline.pcap``:
    each entry's digits at ``at_ms`` (+ i * gap_ms) and, with ``audio``,
    PCMA every 30 ms from the ACK on, paused from 30 ms before an entry to
    200 ms after its last packet; played once at its first packet's time.
    ``ring.pcap`` (``audio``): the audio after that, 256 packets whose
    sequence numbers step by 256 so each replay (every 7.68 s) continues the
    sequence. The audio is g711a.pcap's speech (its leading 0.6 s of digital
    silence left out: looped, it gave up to 1.2 s of silence in a row). One
    SSRC, one UDP port pair, RTP timestamps = 8 * ms since the ACK.

    An unused pcap is a spare stock one and its time -1.
    """
    header, stock = read_pcap(PCAP_DIR / "g711a.pcap")
    _, event = read_pcap(dtmf_pcap_for("1"))
    template = stock[0][1]
    pcma = [rtp_of(f) for _, f in stock]
    pcma = pcma[next(i for i, p in enumerate(pcma) if set(p[12:]) - {0x55, 0xD5}) :]
    # (ms since the ACK, same sequence number as the previous packet?, RTP)
    timeline: list[tuple[float, bool, bytearray]] = []
    pauses: list[tuple[int, int]] = []
    for at, digits in entries:
        for i, digit in enumerate(digits):
            start = at + i * gap_ms
            prev_seq = None
            for t, frame in event:  # marker on the first packet, as in the template
                rtp = bytearray(rtp_of(frame))
                seq = struct.unpack_from("!H", rtp, 2)[0]
                rtp[12] = DTMF_EVENTS[digit]
                struct.pack_into("!I", rtp, 4, start * 8)
                # the end packet's repeats keep its sequence number
                timeline.append((start + (t - event[0][0]) * 1000, seq == prev_seq, rtp))
                prev_seq = seq
        last = at + dtmf_len_ms(digits, gap_ms)
        pauses.append((at - PTIME_MS, last + AUDIO_RESUME_MS))
    ring_at = max((end for _, end in pauses), default=0)
    n, talkspurt = 0, False
    while audio and n * PTIME_MS < ring_at:
        t = n * PTIME_MS
        paused = any(lo <= t < hi for lo, hi in pauses)
        if not paused:
            rtp = bytearray(pcma[n % len(pcma)])
            rtp[1] = (rtp[1] & 0x7F) | (0 if talkspurt else 0x80)
            struct.pack_into("!I", rtp, 4, t * 8)
            timeline.append((t, False, rtp))
        talkspurt = not paused
        n += 1
    timeline.sort(key=lambda p: p[0])  # stable: an event's packets keep their order
    seq, records = 999, []
    for t, repeat, rtp in timeline:
        seq += 0 if repeat else 1
        struct.pack_into("!H", rtp, 2, seq & 0xFFFF)
        struct.pack_into("!I", rtp, 8, ssrc)
        records.append(pcap_record((t - timeline[0][0]) / 1000, template, bytes(rtp)))
    media_pcap, media_at = spare_pcap(), -1
    if records:
        media_pcap, media_at = workdir / "timeline.pcap", round(timeline[0][0])
        media_pcap.write_bytes(header + b"".join(records))
    ring_pcap, ring_ms = spare_pcap(), RING_PACKETS * PTIME_MS
    if audio:
        step = 65536 // RING_PACKETS
        records = []
        for i in range(RING_PACKETS):
            rtp = bytearray(pcma[(n + i) % len(pcma)])
            rtp[1] = (rtp[1] & 0x7F) | (0x80 if i == 0 else 0)
            ts = (ring_at + i * PTIME_MS) * 8
            struct.pack_into("!HII", rtp, 2, (seq + 1 + i * step) & 0xFFFF, ts, ssrc)
            records.append(pcap_record(i * PTIME_MS / 1000, template, bytes(rtp)))
        ring_pcap = workdir / "ring.pcap"
        ring_pcap.write_bytes(header + b"".join(records))
    return MediaPcaps(media_pcap, media_at, ring_pcap, ring_at, ring_ms)
