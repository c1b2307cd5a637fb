"""Where the engine keeps its state, resolved once from config and environment.

The environment wins over YAML so a test or a second instance can move the state elsewhere
without editing the files ops own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from acd.config.models import Config


@dataclass(frozen=True)
class Paths:
    state_dir: Path
    secrets_file: Path
    control_socket: Path
    database_url: str

    @classmethod
    def resolve(cls, config: Config) -> Paths:
        state = Path(os.environ.get("ACD_STATE_DIR") or config.engine.state_dir).absolute()
        secrets = Path(os.environ.get("ACD_SECRETS_FILE") or state / "secrets.json")
        url = (
            os.environ.get("ACD_DATABASE_URL")
            or config.engine.database_url
            or f"sqlite+aiosqlite:///{state / 'acd.db'}"
        )
        return cls(state, secrets, state / "run" / "acd.sock", url)
