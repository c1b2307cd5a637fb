"""Spoken prompts: YAML texts rendered to 8 kHz audio with espeak-ng and sox.

Files are named by a hash of voice and text, so the dialplan and the IVR can name a prompt
without a manifest, an edited text gets a new file, and re-rendering skips what exists.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

from acd.config.models import Config

VOICES = {"zh": "cmn", "en": "en"}
SOUND_SUBDIR = "acd"


def prompt_id(text: str, language: str) -> str:
    digest = hashlib.sha256(f"{VOICES[language]}\0{text}".encode()).hexdigest()[:16]
    return f"{language}-{digest}"


def sound_name(config: Config, prompt: str, language: str) -> str:
    """The name Asterisk's Playback/STREAM FILE takes, relative to its sounds directory."""
    text = getattr(config.prompts[prompt], language)
    if text is None:
        raise KeyError(f"prompt {prompt!r} has no {language!r} text")
    return f"{SOUND_SUBDIR}/{prompt_id(text, language)}"


def needed(config: Config) -> dict[str, tuple[str, str]]:
    """file id -> (text, language) for every prompt text in the config."""
    out: dict[str, tuple[str, str]] = {}
    for texts in config.prompts.values():
        for language in VOICES:
            text = getattr(texts, language)
            if text:
                out[prompt_id(text, language)] = (text, language)
    return out


def render_prompts(config: Config, sounds_dir: Path) -> list[Path]:
    """Render missing prompt files into `sounds_dir/acd/`; returns the files written."""
    target = sounds_dir / SOUND_SUBDIR
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for file_id, (text, language) in needed(config).items():
        out = target / f"{file_id}.wav"
        if out.exists():
            continue
        _speak(text, language, out)
        written.append(out)
    return written


def missing_prompts(config: Config, sounds_dir: Path) -> list[str]:
    target = sounds_dir / SOUND_SUBDIR
    return [f for f in needed(config) if not (target / f"{f}.wav").exists()]


def _speak(text: str, language: str, out: Path) -> None:
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is not installed; run the setup script")
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        subprocess.run(
            ["espeak-ng", "-v", VOICES[language], "-s", "150", "-w", str(raw), text],
            check=True,
            capture_output=True,
        )
        tmp_out = Path(tmp) / "out.wav"
        subprocess.run(
            ["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(tmp_out)],
            check=True,
            capture_output=True,
        )
        shutil.move(str(tmp_out), out)
        out.chmod(0o644)
