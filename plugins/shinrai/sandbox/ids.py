"""Deterministic identifier helpers (all derived from a seeded ``random.Random``)."""

from __future__ import annotations

import math
import random
import uuid

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def rng_for(seed: int, kind: str, index: object = "") -> random.Random:
    """Per-record RNG: the same (seed, kind, index) always yields the same stream."""
    return random.Random(f"{seed}:{kind}:{index}")


def uuid4(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def hex24(rng: random.Random) -> str:
    return f"{rng.getrandbits(96):024x}"


def slack_style(rng: random.Random, prefix: str, length: int = 10) -> str:
    return prefix + "".join(rng.choice(ALNUM) for _ in range(length))


def lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return rng.lognormvariate(math.log(median), sigma)


def round_minute(t: float) -> float:
    return float(round(t / 60) * 60)


def round_ms(t: float) -> float:
    return round(t * 1000) / 1000
