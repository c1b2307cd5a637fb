"""Reaching the MQTT broker: its address, the password and TLS, from `MqttSettings`.

Apart from the publisher so the connection's security rules (a password read at each
connect, owner-only files, a verified broker) are in one short module of their own.
"""

from __future__ import annotations

import logging
import os
import re
import ssl
import stat
from collections.abc import Mapping
from pathlib import Path

from acd.config.adapters import MqttSettings

log = logging.getLogger("acd.mqtt")


def broker_address(url: str) -> tuple[str, int, bool]:
    """(host, port, tls) of an mqtt:// or mqtts:// url (checked by `MqttSettings`)."""
    match = re.match(r"^(mqtts?)://(\[([^\]]+)\]|[^/:]+)(?::(\d+))?/?$", url)
    if match is None:
        raise ValueError(f"not an mqtt:// or mqtts:// url: {url!r}")
    tls = match.group(1) == "mqtts"
    host = match.group(3) or match.group(2)
    port = int(match.group(4)) if match.group(4) else (8883 if tls else 1883)
    return host, port, tls


def read_password(settings: MqttSettings, environ: Mapping[str, str] = os.environ) -> str | None:
    """The broker password: `password_file` if set, else the `password_env` variable.

    Read at every connect, so a rotated password is picked up without a restart.
    """
    if settings.password_file:
        path = Path(settings.password_file)
        if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            log.warning("MQTT password file %s is readable by others: chmod 600 it", path)
        return path.read_text(encoding="utf-8").strip() or None
    return environ.get(settings.password_env) or None


def tls_context(settings: MqttSettings) -> ssl.SSLContext:
    """Verifies the broker (against `ca_file`, else the system's CAs); client cert if set."""
    context = ssl.create_default_context(cafile=settings.ca_file)
    if settings.cert_file and settings.key_file:
        context.load_cert_chain(settings.cert_file, settings.key_file)
    return context
