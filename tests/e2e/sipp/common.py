"""Where sipp, its pcaps, its scenarios and the Asterisk under test are, and the harness's error.

A leaf: every other module of the harness reads these, so they sit apart from the
process, trace, media, call and agent code (which would otherwise import each other).

Environment overrides: ``SIPP_BIN``, ``SIPP_PCAP_DIR``, ``SIPP_TARGET`` (``host:port`` of
Asterisk), ``SIPP_KEEP_WORKDIRS=1`` (keep the temp dirs of successful runs too).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

#: the scenario XML files live next to the harness modules
SCENARIO_DIR = Path(__file__).resolve().parent
SIPP_BIN = os.environ.get("SIPP_BIN") or shutil.which("sipp") or "/usr/bin/sipp"
PCAP_DIR = Path(os.environ.get("SIPP_PCAP_DIR", "/usr/share/sip-tester"))
_target = os.environ.get("SIPP_TARGET", "127.0.0.1:5060")
DEFAULT_HOST, _, _port = _target.rpartition(":")
DEFAULT_PORT = int(_port)
LOCAL_IP = "127.0.0.1"
KEEP_WORKDIRS = os.environ.get("SIPP_KEEP_WORKDIRS") == "1"

#: seconds a helper waits beyond its own protocol timing before killing sipp
SAFETY_MARGIN_S = 10.0


class SippError(RuntimeError):
    """sipp could not be started or a helper's precondition failed."""
