"""Which sandbox organisation a SHINRAI_HOME holds, so `shinrai demo` and `shinrai airflow` never mix two.

The sandbox at another seed or scale is another organisation (other people, other keys), and an
anchor earlier than one already extracted is a past that the landing files have outlived, and another
shape (``shapes.py``) names the same records otherwise (other keys, other field types): feeding
either into a home filled from the first would read as mass deletions. So the home records the
organisation it holds (``sandbox.json``: seed, scale, shape and the latest anchor served into it), and
``claim`` starts over when another one comes: it moves everything of the home aside, under
``previous/`` (nothing is deleted), and says so. The same organisation on a later day continues.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

MARKER = "sandbox.json"
PREVIOUS = "previous"


@dataclass(frozen=True)
class Organisation:
    seed: int
    scale: float
    anchor: date
    shape: str = "default"

    def describe(self) -> str:
        shaped = f" in the {self.shape} shape" if self.shape != "default" else ""
        return f"seed {self.seed} at scale {self.scale:g}{shaped} (up to {self.anchor.isoformat()})"


def recorded(home: Path) -> Organisation | None:
    """The organisation the home's marker names, or None (no marker, or one that cannot be read)."""
    try:
        data = json.loads((home / MARKER).read_text(encoding="utf-8"))
        return Organisation(int(data["seed"]), float(data["scale"]), date.fromisoformat(data["anchor"]),
                            str(data.get("shape", "default")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def claim(home: Path, seed: int, scale: float, anchor: date, shape: str = "default") -> str | None:
    """Make ``home`` the home of the sandbox organisation (seed, scale) as of ``anchor``.

    Returns None when the home is new or already holds this organisation up to ``anchor`` or an
    earlier day; otherwise moves the home's contents to ``previous/<when>-...`` and returns the
    message to show (the caller then runs into an empty home).
    """
    wanted = Organisation(int(seed), float(scale), anchor, shape)
    held = recorded(home)
    contents = [p for p in home.iterdir() if p.name not in (MARKER, PREVIOUS)] if home.is_dir() else []
    reason = None
    if contents and held is None:
        reason = "data of no recorded sandbox organisation"
    elif contents and held is not None and (held.seed, held.scale) != (wanted.seed, wanted.scale):
        reason = f"the sandbox organisation {held.describe()}, another organisation than seed {seed} at " \
                 f"scale {scale:g}"
    elif contents and held is not None and held.shape != wanted.shape:
        reason = f"the sandbox organisation {held.describe()}, in another shape than {shape}"
    elif contents and held is not None and anchor < held.anchor:
        reason = f"the sandbox organisation {held.describe()}, later than {anchor.isoformat()}"
    message = None
    if reason is not None:
        label = f"seed{held.seed}-scale{held.scale:g}" if held is not None else "unrecorded"
        aside = home / PREVIOUS / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{label}"
        aside.mkdir(parents=True)
        for path in contents:
            shutil.move(str(path), aside / path.name)
        (home / MARKER).unlink(missing_ok=True)
        message = f"{home} held {reason}: starting over (its files are now in {aside})"
    home.mkdir(parents=True, exist_ok=True)
    latest = max(anchor, held.anchor) if held is not None and reason is None else anchor
    marker: dict[str, object] = {"seed": wanted.seed, "scale": wanted.scale, "anchor": latest.isoformat()}
    if wanted.shape != "default":  # a home of the default shape keeps the marker it always had
        marker["shape"] = wanted.shape
    (home / MARKER).write_text(json.dumps(marker) + "\n", encoding="utf-8")
    return message
