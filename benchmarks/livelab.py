"""A private lab for the live benchmarks: a copy of the lab root, its own ports, its own engine.

The shared lab (`.lab/root`, SIP 5060) belongs to the end-to-end tests and the lead; the
benchmarks copy its Debian root once (`/tmp/bench-root` unless told otherwise) and run that
Asterisk on other ports, so both can run on one host. The Asterisk files the benchmark adds
(app_queue, a queue of the same agents, dialplan entries that skip the IVR) are written into
that copy only: the shipped `asterisk-conf/` and `acd render` stay as they are.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from acd import lab
from acd.config import load_config
from acd.records.store import Records
from acd.secrets import load_secrets

PROJECT = lab.PROJECT
SHARED_ROOT = PROJECT / ".lab" / "root"
DEFAULT_ROOT = Path("/tmp/bench-root")
ACD = str(Path(sys.executable).with_name("acd"))

#: Dialled by the benchmark callers (the `callers` endpoint's context, acd-inbound).
ENGINE_EXTEN = "7100"  # straight into the engine's queue, as the IVR leaves a caller
APPQUEUE_EXTEN = "7200"  # Queue(bench)
APPQUEUE_REC_EXTEN = "7201"  # Queue(bench-rec): the same, recorded by MixMonitor
HOTLINE_EXTEN = "100"  # the shipped hotline, IVR and all (the soak)
#: app_queue tries the members again this long after a round found none free (default 5 s;
#: 1 s is what a careful admin sets, and the figure that favours app_queue).
APPQUEUE_RETRY = 1


@dataclass(frozen=True)
class Ports:
    """Everything the private lab listens on, away from the shared lab's 5060/5038/4573/8080."""

    sip: int = 5160
    ami: int = 5138
    agi: int = 4673
    http: int = 8180
    partners: int = 5199
    outbound: int = 5198
    rtp_start: int = 21000
    rtp_end: int = 29999

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.sip}"


BENCH_PORTS = Ports()
#: The soak's own lab, so a soak can run beside a benchmark.
SOAK_PORTS = Ports(5260, 5238, 4773, 8280, 5299, 5298, 30000, 32000)


def prepare_root(root: Path) -> Path:
    """Copy the shared lab root once; refuse to run on the shared one."""
    root = root.resolve()
    if root == SHARED_ROOT.resolve():
        raise SystemExit(f"{root} is the shared lab: give the benchmark a copy of its own")
    if not (root / "usr/sbin/asterisk").exists():
        if not (SHARED_ROOT / "usr/sbin/asterisk").exists():
            raise SystemExit(f"no lab root to copy at {SHARED_ROOT}: run scripts/setup first")
        print(f"copying {SHARED_ROOT} to {root} (about 500 MB, once)", flush=True)
        subprocess.run(["cp", "-a", str(SHARED_ROOT), str(root)], check=True)
    os.environ["ACD_LAB_ROOT"] = str(root)
    return root


def agent_numbers(count: int, first: int = 2001) -> list[str]:
    return [str(first + n) for n in range(count)]


def config_data(
    base: Path,
    root: Path,
    ports: Ports,
    agents: list[str],
    *,
    recording: bool,
    ring_timeout: float = 15.0,
    wrapup: float = 0.0,
    survey: bool = False,
) -> dict[str, Any]:
    """The shipped dialplans with the lab's ports and paths, and `agents` as the staff.

    Every agent has every skill, so the queue a caller picks never leaves them without one;
    the peak rules are dropped (app_queue has none to compare with) and nobody hears
    position announcements (app_queue's are off too).
    """
    data: dict[str, Any] = {}
    for path in sorted((PROJECT / "dialplans").glob("*.yaml")):
        data.update(yaml.safe_load(path.read_text(encoding="utf-8")))
    engine = data["engine"]
    engine["state_dir"] = str(base / "state")
    engine["ami"] = {**engine.get("ami", {}), "port": ports.ami}
    engine["agi"] = {**engine.get("agi", {}), "port": ports.agi}
    engine["http"] = {**engine.get("http", {}), "port": ports.http}
    data["asterisk"].update(
        conf_dir=str(base / "generated"),
        sounds_dir=str(root / "usr/share/asterisk/sounds"),
        spool_dir_local=str(root / "var/spool/asterisk/acd"),
    )
    data["sip"].update(
        port=ports.sip,
        qualify_seconds=0,
        partners_trunk=f"127.0.0.1:{ports.partners}",
        outbound_trunk=f"127.0.0.1:{ports.outbound}",
    )
    data["agents"] = [
        {
            "number": n,
            "name": f"bench {n}",
            "skills": {"housekeeping": 5, "repairs": 5, "jobs": 5},
            "auto_login": True,
        }
        for n in agents
    ]
    data["rules"] = []
    for queue in data["queues"]:
        queue.update(
            ring_timeout=ring_timeout,
            wrapup_seconds=wrapup,
            announce_every_seconds=0,
            strategy="longest-idle",
            virtual_hold=False,
            recording={"policy": "always" if recording else "never"},
        )
    for hotline in data["hotlines"]:
        hotline.pop("schedule", None)  # open at any hour
        if not survey:
            hotline.pop("survey", None)
            hotline["goodbye_prompt"] = None
    return data


def write_config(directory: Path, data: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "acd.yaml").write_text(
        yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return directory


def asterisk_extras(
    agents: list[str], ports: Ports, *, ring_timeout: float, wrapup: float
) -> dict[str, str]:
    """Files for the private root's /etc/asterisk on top of the shipped and generated ones."""
    static = lab.STATIC_CONF
    modules = (static / "modules.conf").read_text(encoding="utf-8")
    modules += "; benchmarks only: app_queue to compare with\nload => app_queue.so\n"
    extensions = (static / "extensions.conf").read_text(encoding="utf-8")
    extensions += "#include bench_extensions.conf\n"
    bench = f"""; benchmarks/livelab.py: what the benchmark callers dial (merged into acd-inbound).
[acd-inbound]
; The engine's queue as the IVR leaves a caller in it: variables set, then acd-hold.
exten => {ENGINE_EXTEN},1,Answer()
 same => n,Set(ACD_HOTLINE=home)
 same => n,Set(ACD_CALL_ID=${{UNIQUEID}})
 same => n,Set(ACD_PRIORITY=0)
 same => n,Set(ACD_ENTERED=${{EPOCH}})
 same => n,Set(ACD_QUEUE=general)
 same => n,Goto(acd-hold,s,1)
; app_queue with the same agents as static members.
exten => {APPQUEUE_EXTEN},1,Answer()
 same => n,Queue(bench,,,,)
 same => n,Hangup()
exten => {APPQUEUE_REC_EXTEN},1,Answer()
 same => n,Queue(bench-rec,,,,)
 same => n,Hangup()
"""
    members = "".join(f"member => PJSIP/{n},0,{n}\n" for n in agents)
    common = f"""strategy=leastrecent
timeout={int(ring_timeout)}
retry={APPQUEUE_RETRY}
wrapuptime={int(wrapup)}
ringinuse=no
autofill=yes
joinempty=yes
leavewhenempty=no
announce-frequency=0
periodic-announce-frequency=0
announce-holdtime=no
announce-position=no
musicclass=default
"""
    queues = f"""; benchmarks/livelab.py: app_queue with the benchmark agents (static members).
[general]
persistentmembers=no
autofill=yes
shared_lastcall=yes

[bench]
{common}{members}
[bench-rec]
{common}monitor-type=MixMonitor
monitor-format=wav
{members}"""
    rtp = f"[general]\nrtpstart={ports.rtp_start}\nrtpend={ports.rtp_end}\n"
    return {
        "modules.conf": modules,
        "extensions.conf": extensions,
        "bench_extensions.conf": bench,
        "queues.conf": queues,
        "rtp.conf": rtp,
    }


def asterisk_up(root: Path, conf_dir: Path, extras: dict[str, str]) -> None:
    """Render the engine's includes, add the extras, and (re)start this root's Asterisk."""
    config = load_config(conf_dir)
    generated = lab.render(config)
    lab.sync_config(root, generated)
    etc = root / "etc" / "asterisk"
    for name, text in extras.items():
        (etc / name).write_text(text, encoding="utf-8")
        (etc / name).chmod(0o640)
    subprocess.run(
        ["chroot", str(root), "chown", "-R", "root:asterisk", "/etc/asterisk"], check=True
    )
    lab.stop_asterisk(root)
    lab.start_asterisk(root)
    result = lab.asterisk_cli(root, "module show like app_queue")
    if "app_queue" not in result.stdout:
        raise lab.LabError(f"app_queue did not load: {result.stdout}")


def asterisk_down(root: Path) -> None:
    lab.stop_asterisk(root)


def alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def asterisk_pid(root: Path) -> int:
    """The Asterisk running in `root`: the one whose /proc root is that directory."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() == "asterisk" and Path(
                os.readlink(entry / "root")
            ) == root.resolve():
                return int(entry.name)
        except OSError:
            continue
    raise lab.LabError(f"no Asterisk runs in {root}")


def agent_passwords(conf_dir: Path, agents: list[str]) -> dict[str, str]:
    config = load_config(conf_dir)
    state = Path(config.engine.state_dir)
    secrets = load_secrets(state / "secrets.json", agents)
    return {n: str(secrets["agents"][n]) for n in agents}


# --------------------------------------------------------------------------------------------
# processes


@dataclass(frozen=True)
class ProcSample:
    cpu_seconds: float
    rss_bytes: int
    open_files: int


_TICK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def sample(pid: int) -> ProcSample:
    """CPU (user + system), resident memory and open descriptors of a live process."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    cpu = (int(fields[11]) + int(fields[12])) / _TICK
    rss = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE
    return ProcSample(cpu, rss, len(os.listdir(f"/proc/{pid}/fd")))


@dataclass
class Engine:
    """`acd run` as its own process, on its own SQLite file."""

    conf_dir: Path
    database: Path
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "ACD_DATABASE_URL": f"sqlite+aiosqlite:///{self.database}"}

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def cli(self, *args: str) -> Any:
        result = subprocess.run(
            [ACD, *args, "-c", str(self.conf_dir), "--json"],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=30,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"acd {' '.join(args)}: {result.stderr.strip()}")
        return json.loads(result.stdout)

    def start(self, agents: int, within: float = 60.0) -> None:
        """Start it and wait until every agent is ready on a phone that is free."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [ACD, "run", "-c", str(self.conf_dir), "--log-level", "INFO"],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=PROJECT,
            )
        deadline = time.monotonic() + within
        last: Any = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"acd run exited {self.proc.returncode}: see {self.log}")
            try:
                last = self.cli("status")
            except (RuntimeError, json.JSONDecodeError):
                time.sleep(0.3)
                continue
            free = [
                a for a in last["agents"] if a["state"] == "ready" and a["device"] == "NOT_INUSE"
            ]
            if last.get("ami_connected") and len(free) >= agents:
                return
            time.sleep(0.3)
        raise RuntimeError(f"engine not ready with {agents} agents in {within}s: {last}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    async def calls(self) -> list[dict[str, Any]]:
        """The run's call records, read once after it (one `Records` for the read)."""
        async with Records(self.env["ACD_DATABASE_URL"]) as records:
            rows = await records.recent_calls(limit=1_000_000)
        return [dict(r) for r in rows]


def clear_recordings(root: Path) -> None:
    """Drop the files a recorded run left (both systems'), so runs do not fill the disk."""
    for folder in (root / "var/spool/asterisk/monitor", root / "var/spool/asterisk/acd/recordings"):
        if folder.exists():
            for child in folder.iterdir():
                if child.is_dir():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)
