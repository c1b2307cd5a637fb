"""Free loopback ports, and stopping a process group, for the tools that run the lab.

The end-to-end tests (tests/e2e) and the load benchmarks (benchmarks/sipp_load) both start
servers and sipp processes on this machine's loopback, next to the lab Asterisk
(`acd.lab`). They need the same few things: a TCP port nobody listens on (the web pages,
mosquitto), UDP ports for sipp (its SIP and control ports, and a media port p with p..p+3
free, since sipp binds -mp and -mp+2 and their RTCP ports), and a hard kill of a sipp that
runs in its own session.

Why here and not in tests/: benchmarks must not import tests, and neither may own what the
other needs; `acd` is what both already import. The engine itself needs none of this (it
binds the ports its config names), so this module is a leaf that nothing in the engine uses.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket

LOOPBACK = "127.0.0.1"


class NoFreePort(RuntimeError):
    """No run of free media ports was found (the ephemeral range is exhausted)."""


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port that nobody listens on right now (the OS picks an ephemeral one)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def free_udp_port(host: str = LOOPBACK) -> int:
    """A UDP port that is free right now (the OS picks an ephemeral one)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def udp_port_free(port: int, host: str = LOOPBACK) -> bool:
    """Nobody has bound UDP `port` (how a tool sees whether a sipp is listening yet)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_media_port(host: str = LOOPBACK) -> int:
    """An even port p with p..p+3 free: sipp binds -mp and -mp+2 (and their RTCP ports)."""
    for _ in range(200):
        port = free_udp_port(host) & ~1
        if port + 3 < 65536 and all(udp_port_free(port + i, host) for i in range(4)):
            return port
    raise NoFreePort("no free media port pair found")


def kill_group(proc: asyncio.subprocess.Process, sig: int = signal.SIGKILL) -> None:
    """Signal the whole process group of `proc` (started with `start_new_session=True`, so
    its group id is its pid), if it still runs: sipp's own quit waits for open calls."""
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)
