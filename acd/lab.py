"""The lab Asterisk: a Debian unstable root (made by scripts/setup) run with chroot.

Shared by the setup script and the end-to-end tests so both start Asterisk the same way. It
shares the host's loopback, so SIP, AMI and FastAGI all meet on 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from acd.config.models import Config
from acd.prompts import render_prompts
from acd.render import render_all
from acd.secrets import load_secrets
from acd.settings import Paths

PROJECT = Path(__file__).resolve().parent.parent
STATIC_CONF = PROJECT / "asterisk-conf"


def lab_root() -> Path:
    return Path(os.environ.get("ACD_LAB_ROOT") or PROJECT / ".lab" / "root")


class LabError(RuntimeError):
    pass


def asterisk_cli(
    root: Path, command: str, timeout: float = 10.0
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["chroot", str(root), "asterisk", "-rx", command],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def asterisk_running(root: Path) -> bool:
    try:
        result = asterisk_cli(root, "core show uptime", timeout=5)
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0 and "uptime" in result.stdout.lower()


def render(config: Config, conf_out: Path | None = None) -> list[Path]:
    """Render include files and prompts for `config`; returns the include files written."""
    paths = Paths.resolve(config)
    secrets = load_secrets(paths.secrets_file, [a.number for a in config.agents])
    out = conf_out or Path(config.asterisk.conf_dir)
    written = render_all(config, out, secrets)
    render_prompts(config, Path(config.asterisk.sounds_dir))
    return written


def sync_config(root: Path, generated: list[Path]) -> None:
    """Copy the static files and the generated includes into the root's /etc/asterisk."""
    etc = root / "etc" / "asterisk"
    for source in [*sorted(STATIC_CONF.glob("*.conf")), *generated]:
        target = etc / source.name
        shutil.copyfile(source, target)
        # The generated files hold secrets: readable by Asterisk's user only.
        target.chmod(0o640)
    subprocess.run(
        ["chroot", str(root), "chown", "-R", "root:asterisk", "/etc/asterisk"], check=True
    )
    # Where Asterisk writes messages and recordings: its own user's, not world-readable.
    spool = root / "var" / "spool" / "asterisk" / "acd"
    for folder in ("messages", "recordings", "supervision"):
        (spool / folder).mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["chroot", str(root), "chown", "-R", "asterisk:asterisk", "/var/spool/asterisk/acd"],
        check=True,
    )
    for path in (spool, *(spool / f for f in ("messages", "recordings", "supervision"))):
        path.chmod(0o750)
    # Asterisk resolves its own host name at start; without it in the root's hosts file every
    # start logs lookup errors.
    hosts = root / "etc" / "hosts"
    name = socket.gethostname()
    known = hosts.read_text(encoding="utf-8", errors="replace") if hosts.exists() else ""
    if not known:
        known = "127.0.0.1 localhost\n::1 localhost\n"
        hosts.write_text(known, encoding="utf-8")
    if name not in known.split():
        with hosts.open("a", encoding="utf-8") as handle:
            handle.write(f"127.0.1.1 {name}\n")


def start_asterisk(root: Path, timeout: float = 60.0) -> None:
    if asterisk_running(root):
        return
    if not (root / "usr" / "sbin" / "asterisk").exists():
        raise LabError(f"no Asterisk root at {root}: run scripts/setup first")
    # Run as the asterisk user: started as root it drops capabilities and cannot write its db.
    subprocess.run(
        ["chroot", str(root), "asterisk", "-U", "asterisk", "-G", "asterisk"],
        check=True,
        capture_output=True,
        timeout=30,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = asterisk_cli(root, "core waitfullybooted", timeout=timeout)
        if result.returncode == 0 and "fully booted" in result.stdout.lower():
            return
        time.sleep(0.2)
    raise LabError("Asterisk did not finish booting; see the root's /var/log/asterisk/messages.log")


def reload_asterisk(root: Path) -> None:
    for command in (
        "module reload res_pjsip.so",
        "dialplan reload",
        "manager reload",
        "moh reload",
    ):
        asterisk_cli(root, command)


def stop_asterisk(root: Path, timeout: float = 20.0) -> None:
    if not asterisk_running(root):
        return
    asterisk_cli(root, "core stop now", timeout=timeout)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and asterisk_running(root):
        time.sleep(0.2)


def up(config: Config, root: Path | None = None, restart: bool = False) -> None:
    """Render, sync and make sure the lab Asterisk runs this config."""
    root = root or lab_root()
    generated = render(config)
    sync_config(root, generated)
    if restart:
        stop_asterisk(root)
    if asterisk_running(root):
        reload_asterisk(root)
    else:
        start_asterisk(root)
