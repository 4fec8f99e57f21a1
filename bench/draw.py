"""How long freezing and drawing take for large contests.

Prints, for each list size, the time to build the canonical list digest and to draw
winners and alternates, and the ratio to the smallest size (a linear algorithm shows
ratios close to the size ratios).
"""

from __future__ import annotations

import secrets
import time

from contests.draw import FrozenEntry, commitment, draw_order, list_digest, new_seed

SIZES = (1_000, 10_000, 100_000)
PICKS = 50


def measure(size: int) -> tuple[float, float]:
    entries = [FrozenEntry(secrets.token_urlsafe(12), 1 + i % 7) for i in range(size)]
    seed = new_seed()
    commitment(seed)
    started = time.perf_counter()
    digest = list_digest(entries)
    digested = time.perf_counter()
    draw_order(seed, digest, entries, PICKS)
    drawn = time.perf_counter()
    return digested - started, drawn - digested


def main() -> None:
    print(f"{'entries':>9} {'digest ms':>10} {'draw ms':>9} {'digest x':>9} {'draw x':>7}")
    base: tuple[float, float] | None = None
    for size in SIZES:
        digest_s, draw_s = measure(size)
        base = base or (digest_s, draw_s)
        print(
            f"{size:>9} {digest_s * 1000:>10.1f} {draw_s * 1000:>9.1f} "
            f"{digest_s / base[0]:>9.1f} {draw_s / base[1]:>7.1f}"
        )
    print(f"({PICKS} winners and alternates per draw)")


if __name__ == "__main__":
    main()
