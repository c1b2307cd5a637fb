"""How the engine runs and what it talks to: AMI, FastAGI, the web pages, the MQTT broker, the
records, and the Asterisk it generates files for.

Kept apart from the contact centre's own rules (`models`: queues, agents, hotlines) because
ops change those weekly and these once per installation.
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from acd.config.base import Strict


class AmiSettings(Strict):
    # Loopback unless configured: AMI can originate calls, it must never face a network.
    host: str = "127.0.0.1"
    port: int = Field(default=5038, ge=1, le=65535)
    username: str = "acd"
    ping_interval: float = Field(default=10.0, gt=0)
    ping_timeout: float = Field(default=5.0, gt=0)


class AgiSettings(Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=4573, ge=1, le=65535)


class HttpSettings(Strict):
    """The wallboard, supervisor console and agent page (acd/web)."""

    enabled: bool = True
    # Loopback unless configured: these pages pause agents and listen in on calls. Put a
    # TLS reverse proxy in front (and set secure_cookies) before opening them to a network.
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    # A login lasts this long, then the user signs in again (a shift plus a margin).
    session_hours: float = Field(default=12.0, gt=0, le=24 * 7)
    # Send the session cookie over HTTPS only: on when a TLS proxy serves the pages.
    secure_cookies: bool = False


class MqttSettings(Strict):
    """The MQTT broker the engine publishes its events to (wallboards, agent desktops).

    See docs/events.md for the topics. The password never sits in YAML: it comes from the
    environment variable `password_env` or from `password_file` (owner-only).
    """

    # Loopback unless configured; mqtts:// for TLS (port 8883 unless given).
    url: str = "mqtt://127.0.0.1:1883"
    username: str | None = None
    password_env: str = "ACD_MQTT_PASSWORD"
    password_file: str | None = None
    # TLS: the CA that signed the broker's certificate (else the system's), and a client
    # certificate with its key for brokers that require one.
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    # Every topic starts with it: "acd/calls/...". Several centres can share a broker.
    topic_prefix: str = Field(default="acd", pattern=r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")
    # None: a random id per connection, so two engines never kick each other off the broker.
    client_id: str | None = None
    # Messages held while the broker is away; past this the oldest are dropped (and counted):
    # the engine never waits for the broker.
    queue_size: int = Field(default=10000, ge=1)
    # A publish not acknowledged by then counts as a lost connection (and is sent again).
    publish_timeout: float = Field(default=5.0, gt=0)
    # The screen pop waits this long for the caller's history; then it goes without it.
    screen_pop_timeout: float = Field(default=0.5, gt=0)

    @field_validator("url")
    @classmethod
    def _mqtt_url(cls, value: str) -> str:
        if not re.match(r"^mqtts?://(\[[0-9A-Fa-f:.]+\]|[^/@:\[\]]+)(:\d{1,5})?/?$", value):
            raise ValueError(
                "must be mqtt://HOST[:PORT] or mqtts://HOST[:PORT], without credentials "
                "(the password comes from password_env or password_file)"
            )
        return value

    @model_validator(mode="after")
    def _cert_with_key(self) -> MqttSettings:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together")
        if (self.ca_file or self.cert_file) and not self.url.startswith("mqtts://"):
            raise ValueError("ca_file and cert_file are for TLS: use an mqtts:// url")
        return self


class EngineSettings(Strict):
    state_dir: str = ".lab"
    # None: SQLite in the state dir, the embedded default.
    database_url: str | None = None
    # Asterisk-format queue_log (for existing queue reporting tools), relative to state_dir
    # unless absolute; None writes none.
    queue_log: str | None = "queue_log"
    ami: AmiSettings = AmiSettings()
    agi: AgiSettings = AgiSettings()
    http: HttpSettings = HttpSettings()
    # None: no events are published (metrics are always kept).
    mqtt: MqttSettings | None = None


class AsteriskSettings(Strict):
    # Where `acd render` writes the generated include files.
    conf_dir: str = "asterisk-conf/generated"
    # Asterisk's sounds directory: prompts are rendered into its `acd/` folder.
    sounds_dir: str = ".lab/root/usr/share/asterisk/sounds"
    # Messages and recordings, as Asterisk sees the folder and as the engine sees it (the same
    # path unless Asterisk runs in a chroot or container, like the lab's).
    spool_dir: str = "/var/spool/asterisk/acd"
    spool_dir_local: str = ".lab/root/var/spool/asterisk/acd"
    # Longest a caller holds with no engine decision before the dialplan's fallback route.
    max_hold_seconds: int = Field(default=1800, ge=10)


class SipSettings(Strict):
    bind: str = "127.0.0.1"
    port: int = Field(default=5060, ge=1, le=65535)
    # Where callers' calls come from (a trunk or test caller). Agents are identified by their
    # username first, so an agent on the same address is still an agent, not a caller.
    caller_match: list[str] = Field(default=["127.0.0.1"])
    # OPTIONS pings to agents' phones; 0 relies on registration expiry alone.
    qualify_seconds: int = Field(default=30, ge=0)
    codecs: list[str] = Field(default=["ulaw", "alaw"])
    # Phones behind NAT need Asterisk to reach them at the address their REGISTER came from;
    # on a LAN the Contact they send is right, and rewriting it would break phones that
    # register from one port and take calls on another.
    agents_behind_nat: bool = False
    # Where partners' numbers are dialled for IVR transfers (host:port of a SIP trunk).
    partners_trunk: str = "127.0.0.1:5099"
    # Where customers' numbers are dialled for callbacks (host:port of the outbound trunk).
    outbound_trunk: str = "127.0.0.1:5098"
