"""Benchmark cashdrawer.change.make_change on large realistic drawers and adversarial ones.

    python bench/change_bench.py [--search SECONDS] [--capped SECONDS] [--seed N] [--unbounded]

Times fixed cases (realistic drawers and the slowest inputs found so far by random search),
then runs a short random search for slow inputs of its own and times the worst it found.
Prints best/median/max wall-clock milliseconds per case ("budget" in the pieces column: the
search gave up at its step budget, which a bill answers with 409 `change_too_complex`).

``--capped`` then searches adversarially over drawers within the drawer's caps (at most
MAX_DENOMINATIONS values, each at most MAX_VALUE, counts at most MAX_COUNT): random shapes, then
hill-climbing from the slowest, and prints the worst time any of them took, refusals included,
against the 50 ms target. ``--unbounded`` runs everything without the budget (slow: seconds per
adversarial case). Takes about a minute with the defaults.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cashdrawer.change import DEFAULT_STEP_BUDGET, SearchBudgetExceeded, make_change
from cashdrawer.limits import MAX_COUNT, MAX_DENOMINATIONS, MAX_VALUE

TARGET_MS = 50.0
BUDGET: int | None = DEFAULT_STEP_BUDGET
REFUSED = "budget"

D = Decimal
INR = ["2000", "500", "200", "100", "50", "20", "10", "5", "2", "1"]
COINS = ["0.50", "0.25"]
USD = ["100", "50", "20", "10", "5", "2", "1", "0.50", "0.25", "0.10", "0.05", "0.01"]

Drawer = dict[Decimal, int]
Case = tuple[str, Decimal, Drawer]


def drawer(values: list[str], counts: list[int] | int) -> Drawer:
    if isinstance(counts, int):
        counts = [counts] * len(values)
    return {D(v): c for v, c in zip(values, counts, strict=True)}


def cents_case(name: str, values: list[int], counts: list[int], amount: int) -> Case:
    """A case given in cents, as the random search produces them."""
    available = {D(v).scaleb(-2): c for v, c in zip(values, counts, strict=True)}
    return name, D(amount).scaleb(-2), available


REALISTIC: list[Case] = [
    ("INR 10 notes/coins x1000, 99999.00", D("99999.00"), drawer(INR, 1000)),
    ("INR + 0.50/0.25 x5000, 99999.75", D("99999.75"), drawer(INR + COINS, 5000)),
    ("INR + coins x2^31-1, 99999.75", D("99999.75"), drawer(INR + COINS, 2**31 - 1)),
    (
        "INR till (real counts), 4387.75",
        D("4387.75"),
        drawer(INR + COINS, [5, 40, 30, 60, 40, 80, 100, 50, 80, 100, 20, 10]),
    ),
    (
        "INR short counts, 54321.75",
        D("54321.75"),
        drawer(INR + COINS, [10, 40, 100, 7, 3, 500, 2, 1, 1000, 3, 1, 7]),
    ),
    (
        "INR short counts, 99999.00 (None: too little)",
        D("99999.00"),
        drawer(INR + COINS, [10, 40, 100, 7, 3, 500, 2, 1, 1000, 3, 1, 7]),
    ),
    (
        "INR no 1/5/0.25, odd amount (None)",
        D("71677.50"),
        drawer(INR + COINS, [45, 0, 0, 2864, 10, 2691, 3521, 0, 396, 0, 1, 0]),
    ),
    ("INR 50x1 20x3, 60 (non-greedy)", D("60"), drawer(["50", "20"], [1, 3])),
    ("USD x3000, 99999.99", D("99999.99"), drawer(USD, 3000)),
]

# Slowest inputs found by random search (values, counts and amount in cents): many close,
# pairwise coprime denominations with thousands of pieces each. Nothing like a real drawer.
ADVERSARIAL: list[Case] = [
    cents_case(
        "16 close values 27.07..34.39",
        [3439, 3389, 3338, 3211, 3202, 3154, 3145, 3062, 2992, 2940, 2923, 2899, 2779, 2755, 2737, 2707],
        [122, 3989, 3876, 3733, 49, 1840, 1833, 1517, 3277, 3410, 4248, 4568, 896, 3866, 3062, 1038],
        122018942,
    ),
    cents_case(
        "12 close values 12.33..14.19, near-total",
        [1419, 1409, 1408, 1379, 1309, 1303, 1289, 1251, 1243, 1239, 1237, 1233],
        [1797, 2496, 1933, 1299, 3102, 360, 1776, 1476, 1115, 1254, 3649, 2705],
        24962188,
    ),
    cents_case(
        "10 close values 29.73..38.85",
        [3885, 3672, 3594, 3453, 3209, 3162, 3091, 3070, 3060, 2973],
        [464, 1994, 0, 0, 1, 2790, 0, 0, 737, 997],
        7116184,
    ),
    cents_case(
        "12 random values 78.80..490.45",
        [49045, 46661, 46426, 44781, 39085, 33610, 30417, 29333, 27601, 22019, 10688, 7880],
        [4666, 863, 3241, 4633, 2540, 2336, 4899, 2635, 4509, 4011, 554, 2064],
        321448030,
    ),
    cents_case(
        "14 random values 3.36..487.92",
        [48792, 47474, 46819, 46299, 42643, 42318, 35991, 30456, 11264, 8177, 4929, 3609, 2453, 336],
        [2798, 2146, 4346, 4930, 2442, 1736, 3360, 446, 1825, 1504, 4034, 3563, 3165, 1134],
        5989927,
    ),
    cents_case(
        "8 close values 2.59..3.25",
        [325, 317, 292, 291, 287, 275, 271, 259],
        [2521, 3152, 1121, 710, 1801, 2130, 4859, 3878],
        4585433,
    ),
    cents_case(
        "11 close values 21.67..27.92, few pieces",
        [2792, 2731, 2695, 2687, 2686, 2662, 2504, 2464, 2392, 2272, 2167],
        [3, 19, 1, 94, 2, 0, 4052, 33, 45, 2861, 2],
        11651163,
    ),
]


def run_once(amount: Decimal, available: Drawer) -> tuple[float, dict[Decimal, int] | str | None]:
    """Seconds taken, and the change, None (no exact change) or REFUSED (the budget ran out)."""
    start = time.perf_counter()
    try:
        result: dict[Decimal, int] | str | None = make_change(amount, available, budget=BUDGET)
    except SearchBudgetExceeded:
        result = REFUSED
    return time.perf_counter() - start, result


def time_case(amount: Decimal, available: Drawer, budget: float, max_runs: int = 50) -> tuple[list[float], str]:
    """Run until ``budget`` seconds are spent (at least once); times in seconds, and the pieces."""
    times: list[float] = []
    result = None
    while not times or (sum(times) < budget and len(times) < max_runs):
        elapsed, result = run_once(amount, available)
        times.append(elapsed)
    if isinstance(result, dict):
        assert sum(value * k for value, k in result.items()) == amount
        assert all(k <= available[value] for value, k in result.items())
        return times, str(sum(result.values()))
    return times, str(result)


# --- random search for slow inputs --------------------------------------------------------------


def random_drawer(rng: random.Random) -> tuple[list[int], list[int], int]:
    """Values (cents, descending), counts and an amount (cents) of one of a few shapes."""
    shape = rng.choice(["close", "random", "inr"])
    if shape == "inr":
        values = [int(D(v) * 100) for v in INR + COINS]
    elif shape == "close":
        base = rng.randint(20, 3000)
        values = rng.sample(range(base, base + base // 3 + 16), rng.randint(3, 12))
    else:
        values = rng.sample(range(1, rng.choice([500, 5000, 50000])), rng.randint(3, 12))
    values.sort(reverse=True)
    counts = [rng.choice([rng.randint(0, 5), rng.randint(0, 100), rng.randint(0, 3000)]) for _ in values]
    total = sum(v * c for v, c in zip(values, counts, strict=True))
    return values, counts, rng.randint(0, max(total, 1))


def mutate(rng: random.Random, case: tuple[list[int], list[int], int]) -> tuple[list[int], list[int], int]:
    values, counts, amount = case
    counts = list(counts)
    if rng.random() < 0.5:
        i = rng.randrange(len(counts))
        counts[i] = max(0, counts[i] + rng.randint(-20, 20))
    else:
        amount = max(0, amount + rng.randint(-1000, 1000))
    return values, counts, amount


def search_slow_inputs(seconds: float, seed: int) -> tuple[float, Case, int] | None:
    """Random sampling for half the time, then hill-climbing from the slowest input found.

    One input can run past the deadline, so the bound is soft (by the slowest input's time).
    """
    rng = random.Random(seed)
    start = time.perf_counter()
    worst_time, worst = -1.0, None
    tried = 0
    while time.perf_counter() - start < seconds:
        exploring = worst is None or time.perf_counter() - start < seconds / 2
        case = random_drawer(rng) if exploring or worst is None else mutate(rng, worst)
        _, amount, available = cents_case("", *case)
        elapsed = run_once(amount, available)[0]
        if elapsed > worst_time:
            elapsed = min(elapsed, run_once(amount, available)[0])  # confirm: not just noise
            if elapsed > worst_time:
                worst_time, worst = elapsed, case
        tried += 1
    if worst is None:
        return None
    values, counts, cents = worst
    return worst_time, cents_case(f"search worst ({len(values)} values)", values, counts, cents), tried


# --- adversarial search within the drawer's caps -------------------------------------------------

MAX_VALUE_CENTS = int(MAX_VALUE * 100)


def capped_drawer(rng: random.Random) -> tuple[list[int], list[int], int]:
    """A drawer within every cap, of one of several shapes that make change-making hard."""
    n = rng.choice([MAX_DENOMINATIONS, MAX_DENOMINATIONS, rng.randint(3, MAX_DENOMINATIONS)])
    shape = rng.choice(["close", "random", "odd-small", "currency-ish", "wide"])
    if shape == "close":
        base = rng.choice([rng.randint(20, 3000), rng.randint(3000, 100_000)])
        values = rng.sample(range(base, base + base // 3 + 3 * n), n)
    elif shape == "random":
        values = rng.sample(range(1, rng.choice([500, 5_000, 50_000, 500_000])), n)
    elif shape == "odd-small":
        values = rng.sample(range(3, 400, 2), n)
    elif shape == "currency-ish":
        values = sorted({rng.choice([1, 2, 3, 5, 7]) * 10 ** rng.randint(0, 7) for _ in range(n)})
    else:
        values = rng.sample(range(1, MAX_VALUE_CENTS + 1), n)
    values = sorted({min(v, MAX_VALUE_CENTS) for v in values}, reverse=True)
    counts = [rng.choice([rng.randint(0, 5), rng.randint(0, 200), rng.randint(0, 5000), MAX_COUNT]) for _ in values]
    total = sum(v * c for v, c in zip(values, counts, strict=True))
    amount = rng.choice([rng.randint(0, max(total, 1)), total - rng.randint(0, 1000), rng.randint(0, 10**7)])
    return values, counts, max(0, amount)


def capped_mutate(rng: random.Random, case: tuple[list[int], list[int], int]) -> tuple[list[int], list[int], int]:
    values, counts, amount = case
    counts = list(counts)
    roll = rng.random()
    if roll < 0.4:
        i = rng.randrange(len(counts))
        counts[i] = min(MAX_COUNT, max(0, counts[i] + rng.randint(-50, 50)))
    elif roll < 0.6:
        i = rng.randrange(len(counts))
        counts[i] = rng.choice([0, MAX_COUNT, rng.randint(0, 5000)])
    else:
        amount = max(0, amount + rng.randint(-10_000, 10_000))
    return values, counts, amount


def search_capped(seconds: float, seed: int) -> tuple[float, Case, int, int]:
    """The slowest input (refusals included) found within the caps: (seconds, case, tried, refused)."""
    rng = random.Random(seed)
    start = time.perf_counter()
    worst_time, worst = -1.0, capped_drawer(rng)
    tried = refused = 0
    while time.perf_counter() - start < seconds:
        exploring = time.perf_counter() - start < seconds * 0.6
        case = capped_drawer(rng) if exploring else capped_mutate(rng, worst)
        _, amount, available = cents_case("", *case)
        elapsed, result = run_once(amount, available)
        refused += result == REFUSED
        if elapsed > worst_time:
            elapsed = min(elapsed, run_once(amount, available)[0])  # confirm: not just noise
            if elapsed > worst_time:
                worst_time, worst = elapsed, case
        tried += 1
    values, counts, cents = worst
    return worst_time, cents_case(f"capped worst ({len(values)} values)", values, counts, cents), tried, refused


# --- report --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--search", type=float, default=5.0, help="seconds of random search (0: none)")
    parser.add_argument("--capped", type=float, default=30.0, help="seconds of search within the caps (0: none)")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--unbounded", action="store_true", help="no step budget (slow)")
    args = parser.parse_args()
    global BUDGET
    if args.unbounded:
        BUDGET = None

    rows: list[tuple[str, str, str, int, float, float, float]] = []

    def bench(group: str, cases: list[Case], budget: float) -> None:
        for name, amount, available in cases:
            times, pieces = time_case(amount, available, budget)
            ms = [t * 1000 for t in times]
            rows.append((group, name, pieces, len(ms), min(ms), statistics.median(ms), max(ms)))
            print(f"  {group:<11} {name:<46} done", file=sys.stderr)

    bench("realistic", REALISTIC, budget=0.2)
    bench("adversarial", ADVERSARIAL, budget=1.0)
    found = None
    if args.search > 0:
        print(f"  random search for slow inputs, {args.search:g} s ...", file=sys.stderr)
        found = search_slow_inputs(args.search, args.seed)
        if found is not None:
            bench("searched", [found[1]], budget=1.0)
    capped = None
    if args.capped > 0:
        print(f"  adversarial search within the caps, {args.capped:g} s ...", file=sys.stderr)
        capped = search_capped(args.capped, args.seed)
        bench("capped", [capped[1]], budget=1.0)

    columns = ("group", "case", "pieces", "runs", "best ms", "median ms", "max ms")
    widths = (-11, -46, 6, 4, 9, 9, 9)
    print(" ".join(f"{title:<{-w}}" if w < 0 else f"{title:>{w}}" for title, w in zip(columns, widths, strict=True)))
    for group, name, pieces, runs, best, median, worst in rows:
        print(f"{group:<11} {name:<46} {pieces:>6} {runs:>4} {best:>9.2f} {median:>9.2f} {worst:>9.2f}")
    if found is not None:
        _, (name, amount, available), tried = found
        values = [str(v) for v in available]
        print(f"\nrandom search (seed {args.seed}): {tried} inputs tried; slowest: amount {amount},")
        print(f"  values {values}")
        print(f"  counts {list(available.values())}")
    if capped is not None:
        worst_time, (name, amount, available), tried, refused = capped
        print(
            f"\nwithin the caps ({MAX_DENOMINATIONS} values <= {MAX_VALUE}, counts <= {MAX_COUNT}; "
            f"budget {BUDGET} steps): {tried} drawers tried, {refused} refused at the budget"
        )
        print(f"  slowest single call: {worst_time * 1000:.1f} ms (target {TARGET_MS:g} ms): amount {amount},")
        print(f"  values {[str(v) for v in available]}")
        print(f"  counts {list(available.values())}")
        # The median of each case's repeated runs: the max also catches the other processes of a
        # shared machine taking the CPU away, which is not the search's own time.
        worst_ms = max(row[5] for row in rows)
        verdict = "within" if worst_ms < TARGET_MS else "OVER"
        print(f"worst median time of any case in this run: {worst_ms:.1f} ms, {verdict} the {TARGET_MS:g} ms target")


if __name__ == "__main__":
    main()
