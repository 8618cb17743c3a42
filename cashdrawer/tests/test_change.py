"""Tests for cashdrawer.change.make_change: pure functions, no database."""

from __future__ import annotations

import math
from collections import deque
from decimal import Decimal
from itertools import product
from types import MappingProxyType
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing_project.core.testing.properties import examples
from cashdrawer import change
from cashdrawer.change import make_change

D = Decimal
INR = [D("2000"), D("500"), D("200"), D("100"), D("50"), D("20"), D("10"), D("5"), D("2"), D("1")]
COINS = [D("0.50"), D("0.25")]


# --- references -------------------------------------------------------------------------------


def brute_force(values: list[int], counts: list[int], amount: int) -> list[tuple[int, ...]]:
    """Every way to pay ``amount`` exactly: count vectors aligned with ``values``."""
    return [
        combo
        for combo in product(*(range(c + 1) for c in counts))
        if sum(k * v for k, v in zip(combo, values, strict=True)) == amount
    ]


def best_of(solutions: list[tuple[int, ...]]) -> tuple[int, ...] | None:
    """The fewest pieces; among those the lexicographically largest (values are descending)."""
    if not solutions:
        return None
    fewest = min(sum(s) for s in solutions)
    return max(s for s in solutions if sum(s) == fewest)


def dp_reference(values: list[int], counts: list[int], amount: int) -> tuple[int, ...] | None:
    """Fewest-pieces change by dynamic programming over every remainder 0..amount.

    tables[i][r] is the fewest pieces levels i.. need for r (bounded counts, sliding-window
    minimum per residue class), O(len(values) * amount). The reconstruction takes, level by level,
    the largest count that stays optimal, so it returns the lexicographically largest optimum.
    """
    n = len(values)
    tables: list[list[float]] = [[] for _ in range(n + 1)]
    tables[n] = [0.0] + [math.inf] * amount
    for i in range(n - 1, -1, -1):
        v, c, below = values[i], counts[i], tables[i + 1]
        here = [math.inf] * (amount + 1)
        for start in range(min(v, amount + 1)):
            window: deque[tuple[int, float]] = deque()  # (m, below[start + m v] - m), keys rising
            for m, r in enumerate(range(start, amount + 1, v)):
                key = below[r] - m
                while window and window[-1][1] >= key:
                    window.pop()
                window.append((m, key))
                if window[0][0] < m - c:
                    window.popleft()
                here[r] = window[0][1] + m
        tables[i] = here
    if tables[0][amount] == math.inf:
        return None
    result, rem = [], amount
    for i in range(n):
        v = values[i]
        k = min(counts[i], rem // v)
        while k + tables[i + 1][rem - k * v] != tables[i][rem]:
            k -= 1
        result.append(k)
        rem -= k * v
    return tuple(result)


def greedy(values: list[int], counts: list[int], amount: int) -> tuple[int, ...] | None:
    """Largest denomination first, as many as held; None if that does not come out exact."""
    result = []
    for v, c in zip(values, counts, strict=True):
        k = min(c, amount // v)
        result.append(k)
        amount -= k * v
    return tuple(result) if amount == 0 else None


def assert_canonical(values: list[int]) -> None:
    """Greedy is optimal for every amount with unlimited counts (values descending, last is 1).

    Kozen and Zaks (1994): if greedy ever fails, it fails for some amount below the sum of the
    two largest values, so checking those amounts against a DP is a proof.
    """
    assert values[-1] == 1
    limit = values[0] + values[1]
    fewest = [0] + [limit] * limit
    for r in range(1, limit):
        fewest[r] = 1 + min(fewest[r - v] for v in values if v <= r)
        assert sum(greedy(values, [r] * len(values), r) or ()) == fewest[r], r


def cents(value: Decimal) -> int:
    return int(value * 100)


def solve_cents(
    values: list[int], counts: list[int], amount: int, budget: int | None = change.DEFAULT_STEP_BUDGET
) -> tuple[int, ...] | None:
    """make_change on cent values; the answer as a count vector aligned with ``values``."""
    as_decimal = [D(v).scaleb(-2) for v in values]
    result = make_change(D(amount).scaleb(-2), dict(zip(as_decimal, counts, strict=True)), budget=budget)
    if result is None:
        return None
    assert all(k > 0 for k in result.values())
    assert set(result) <= set(as_decimal)
    return tuple(result.get(v, 0) for v in as_decimal)


def check_valid(result: dict[Decimal, int], amount: Decimal, available: dict[Decimal, int]) -> None:
    assert sum(value * k for value, k in result.items()) == amount
    assert all(0 < k <= available[value] for value, k in result.items())


# --- property tests against the references ----------------------------------------------------

CURRENCY_CENTS = [10000, 5000, 2000, 1000, 500, 200, 100, 50, 25]


@st.composite
def small_drawers(draw: st.DrawFn) -> tuple[list[int], list[int], int]:
    """A few denominations (cents, descending), small counts, and an amount in cents."""
    if draw(st.booleans()):
        pool = st.sampled_from(CURRENCY_CENTS)
    else:  # odd, non-canonical values, still on a 0.25 grid (and so with 0.25/0.50-like coins)
        pool = st.integers(1, 40).map(lambda quarters: quarters * 25)
    values = sorted(draw(st.lists(pool, max_size=4, unique=True)), reverse=True)
    counts = [draw(st.integers(0, 4)) for _ in values]
    total = sum(v * c for v, c in zip(values, counts, strict=True))
    amount = draw(
        st.one_of(
            st.integers(0, total // 25 + 2).map(lambda quarters: quarters * 25),
            st.integers(0, 2000),  # mostly not a multiple of the denominations' gcd
        )
    )
    return values, counts, amount


@pytest.mark.property
@settings(max_examples=examples(500))
@given(small_drawers())
def test_matches_brute_force(drawer: tuple[list[int], list[int], int]) -> None:
    values, counts, amount = drawer
    solutions = brute_force(values, counts, amount)
    got = solve_cents(values, counts, amount)
    if not solutions:
        assert got is None
        return
    assert got is not None, "a solution exists but none was returned"
    assert sum(k * v for k, v in zip(got, values, strict=True)) == amount
    assert all(k <= c for k, c in zip(got, counts, strict=True))
    assert sum(got) == min(sum(s) for s in solutions)
    assert got == best_of(solutions)  # the documented tie-break


@st.composite
def medium_drawers(draw: st.DrawFn) -> tuple[list[int], list[int], int]:
    """Up to 7 arbitrary denominations (whole units), counts up to 60, amounts up to 3000."""
    values = sorted(draw(st.lists(st.integers(1, 200), min_size=1, max_size=7, unique=True)), reverse=True)
    counts = [draw(st.integers(0, 60)) for _ in values]
    total = sum(v * c for v, c in zip(values, counts, strict=True))
    amount = draw(st.integers(0, min(total + 5, 3000)))
    return values, counts, amount


# The search builds its helper tables only once it has worked hard; force them right away so
# the small examples exercise them too (exact and bounded-residue tables, or unbounded ones).
TABLE_MODES: dict[str, dict[str, Any]] = {
    "lazy": {"_TABLE_STEPS_PER_CHECK": change._TABLE_STEPS_PER_CHECK},
    "eager-exact": {"_TABLE_STEPS_PER_CHECK": 1 << 40},
    "eager-mixed": {"_TABLE_STEPS_PER_CHECK": 1 << 40, "_MAX_EXACT_TABLE_STEPS": 300},
    "eager-residue": {"_TABLE_STEPS_PER_CHECK": 1 << 40, "_MAX_EXACT_TABLE_STEPS": 0},
}


@pytest.mark.property
@pytest.mark.parametrize("mode", TABLE_MODES)
@settings(max_examples=examples(100), suppress_health_check=[HealthCheck.too_slow])
@given(drawer=medium_drawers())
def test_matches_dp_reference(mode: str, drawer: tuple[list[int], list[int], int]) -> None:
    values, counts, amount = drawer
    expected = dp_reference(values, counts, amount)
    # Forced tables can cost more than the default budget; "lazy" is the real search, budget and all.
    budget = change.DEFAULT_STEP_BUDGET if mode == "lazy" else None
    with patch.multiple(change, **TABLE_MODES[mode]):
        result = make_change(D(amount), {D(v): c for v, c in zip(values, counts, strict=True)}, budget=budget)
    got = None if result is None else tuple(result.get(D(v), 0) for v in values)
    assert got == expected


def test_dp_reference_agrees_with_brute_force() -> None:
    values, counts = [7, 5, 4, 3], [3, 4, 2, 5]
    for amount in range(70):
        assert dp_reference(values, counts, amount) == best_of(brute_force(values, counts, amount))


@pytest.mark.property
@settings(max_examples=examples(80))
@given(
    counts=st.lists(st.integers(0, 5000), min_size=12, max_size=12),
    amount_quarters=st.integers(0, 400_000),
)
def test_realistic_drawer_never_worse_than_greedy(counts: list[int], amount_quarters: int) -> None:
    values = [cents(v) for v in INR + COINS]
    amount = amount_quarters * 25
    got = solve_cents(values, counts, amount)
    greedy_result = greedy(values, counts, amount)
    if greedy_result is not None:
        assert got is not None
        assert sum(got) <= sum(greedy_result)
    if got is not None:
        assert sum(k * v for k, v in zip(got, values, strict=True)) == amount
        assert all(k <= c for k, c in zip(got, counts, strict=True))


# --- explicit cases ---------------------------------------------------------------------------


def test_greedy_is_not_enough() -> None:
    assert make_change(D("60"), {D("50"): 1, D("20"): 3}) == {D("20"): 3}
    assert make_change(D("60.00"), {D("50.00"): 1, D("20.00"): 3}) == {D("20.00"): 3}
    assert make_change(D("30"), {D("25"): 1, D("10"): 5, D("1"): 5}) == {D("10"): 3}
    # greedy would take 50 + 20 and be stuck at 10 short
    assert make_change(D("80"), {D("50"): 1, D("20"): 4}) == {D("20"): 4}


def test_amount_zero() -> None:
    assert make_change(D("0"), {D("10"): 3}) == {}
    assert make_change(D("0.00"), {}) == {}


def test_empty_drawer() -> None:
    assert make_change(D("5"), {}) is None
    assert make_change(D("5"), {D("5"): 0, D("1"): 0}) is None


@pytest.mark.parametrize(
    ("amount", "available"),
    [
        (D("3"), {D("2"): 10}),  # wrong parity
        (D("0.10"), {D("0.50"): 4, D("0.25"): 4}),  # not a multiple of the gcd
        (D("101"), {D("100"): 1}),  # not enough pieces
        (D("1000"), {D("500"): 1, D("200"): 2, D("100"): 0}),  # not enough value
        (D("8"), {D("5"): 3, D("2"): 1}),  # enough value, no exact combination
        (D("0.75"), {D("1"): 5, D("0.50"): 1}),  # needs a 0.25 the drawer lacks
        (D("6"), {D("10"): 5}),  # every denomination too large
    ],
)
def test_impossible_amounts(amount: Decimal, available: dict[Decimal, int]) -> None:
    assert make_change(amount, available) is None


def test_coins_50_and_25() -> None:
    coins = {D("1.00"): 0, D("0.50"): 2, D("0.25"): 1}
    assert make_change(D("0.75"), coins) == {D("0.50"): 1, D("0.25"): 1}
    assert make_change(D("1.25"), coins) == {D("0.50"): 2, D("0.25"): 1}
    assert make_change(D("1.50"), coins) is None
    # with no 0.50 left, four quarters are the only way
    assert make_change(D("1.00"), {D("0.50"): 0, D("0.25"): 4}) == {D("0.25"): 4}
    assert make_change(D("10.75"), {D("10"): 1, D("5"): 2, D("0.50"): 3, D("0.25"): 1}) == {
        D("10"): 1,
        D("0.50"): 1,
        D("0.25"): 1,
    }


def test_tie_break_prefers_larger_denominations() -> None:
    # 7 = 5 + 2 = 4 + 3: both two pieces, the one with more of the largest value wins
    assert make_change(D("7"), {D("5"): 1, D("4"): 1, D("3"): 1, D("2"): 1}) == {D("5"): 1, D("2"): 1}
    assert make_change(D("7"), {D("5"): 0, D("4"): 1, D("3"): 1, D("2"): 1}) == {D("4"): 1, D("3"): 1}
    # 10 = 6 + 4 = 5 + 5
    assert make_change(D("10"), {D("6"): 1, D("5"): 2, D("4"): 1}) == {D("6"): 1, D("4"): 1}
    # 12 = 6+6 = 5+4+3 ...: fewest pieces first, whatever the tie-break prefers
    assert make_change(D("12"), {D("6"): 2, D("5"): 2, D("4"): 3}) == {D("6"): 2}
    # order of the mapping does not matter
    assert make_change(D("10"), {D("4"): 1, D("5"): 2, D("6"): 1}) == {D("6"): 1, D("4"): 1}


def test_result_keys_are_the_given_keys() -> None:
    available = MappingProxyType({D("2000.00"): 5, D("500.00"): 5, D("0.50"): 3})
    result = make_change(D("2500.50"), available)
    assert result == {D("2000"): 1, D("500"): 1, D("0.5"): 1}
    assert [str(k) for k in result] == ["2000.00", "500.00", "0.50"]


def test_extra_decimal_zeros_are_fine() -> None:
    assert make_change(D("1.500"), {D("0.500"): 3}) == {D("0.500"): 3}
    assert make_change(D("1E+2"), {D("50"): 2}) == {D("50"): 2}


@pytest.mark.parametrize(
    ("amount", "available", "error"),
    [
        (D("-1"), {D("1"): 1}, ValueError),
        (D("0.001"), {D("1"): 1}, ValueError),
        (D("NaN"), {D("1"): 1}, ValueError),
        (D("1"), {D("0"): 1}, ValueError),
        (D("1"), {D("-1"): 1}, ValueError),
        (D("1"), {D("0.005"): 1}, ValueError),
        (D("1"), {D("1"): -1}, ValueError),
        (1.0, {D("1"): 1}, TypeError),
        (D("1"), {D("1"): 1.0}, TypeError),
        (D("1"), {D("1"): True}, TypeError),
    ],
)
def test_bad_input(amount: object, available: dict, error: type[Exception]) -> None:
    with pytest.raises(error):
        make_change(amount, available)  # type: ignore[arg-type]


# --- large amounts ----------------------------------------------------------------------------


def test_inr_with_coins_is_canonical() -> None:
    """Makes the large-amount tests below a proof: greedy is optimal for these systems."""
    assert_canonical([cents(v) // 100 for v in INR])
    assert_canonical([cents(v) // 25 for v in INR + COINS])


@pytest.mark.parametrize("amount", [D("99999.00"), D("99999.75"), D("12345.50"), D("3887.75"), D("0.25")])
@pytest.mark.parametrize("held", [1000, 5000, 2**31 - 1])
def test_large_amount_with_ample_counts_is_greedy(amount: Decimal, held: int) -> None:
    # Canonical system and counts the greedy answer fits in: greedy is the fewest pieces, and it
    # is lexicographically the largest of all solutions, so it is exactly the expected answer.
    denominations = INR + COINS
    available = dict.fromkeys(denominations, held)
    expected = greedy([cents(v) for v in denominations], [held] * 12, cents(amount))
    assert expected is not None
    result = make_change(amount, available)
    assert result is not None
    check_valid(result, amount, available)
    assert tuple(result.get(v, 0) for v in denominations) == expected


def test_99999_from_ten_denominations() -> None:
    available = dict.fromkeys(INR, 5000)
    result = make_change(D("99999.00"), available)
    # 49 x 2000, 3 x 500, 2 x 200, 50, 2 x 20, 5, 2 x 2: 60 pieces
    assert result == {D("2000"): 49, D("500"): 3, D("200"): 2, D("50"): 1, D("20"): 2, D("5"): 1, D("2"): 2}
    assert sum(result.values()) == 60


@pytest.mark.parametrize(
    ("counts", "amount"),
    [
        ([10, 40, 100, 7, 3, 500, 2, 1, 1000, 3], 24321),
        ([0, 3, 0, 200, 1, 0, 900, 0, 40, 0], 19998),
        ([7, 0, 50, 0, 9, 300, 0, 11, 2, 1], 17777),
        ([3, 1, 1, 1, 1, 1, 1, 1, 5000, 5000], 29999),
        ([12, 0, 0, 0, 1, 0, 0, 0, 0, 1], 24049),  # impossible
    ],
)
def test_large_amount_with_short_counts_matches_dp(counts: list[int], amount: int) -> None:
    values = [int(v) for v in INR]
    expected = dp_reference(values, counts, amount)
    result = make_change(D(amount), dict(zip(INR, counts, strict=True)))
    got = None if result is None else tuple(result.get(v, 0) for v in INR)
    assert got == expected


@pytest.mark.parametrize(
    ("values", "counts", "amount"),
    [
        # slowest inputs found by random search (see bench/change_bench.py), in cents
        (
            [2792, 2731, 2695, 2687, 2686, 2662, 2504, 2464, 2392, 2272, 2167],
            [3, 19, 1, 94, 2, 0, 4052, 33, 45, 2861, 2],
            11651163,
        ),
        ([325, 317, 292, 291, 287, 275, 271, 259], [2521, 3152, 1121, 710, 1801, 2130, 4859, 3878], 4585433),
    ],
)
def test_adversarial_inputs_finish_and_are_valid(values: list[int], counts: list[int], amount: int) -> None:
    got = solve_cents(values, counts, amount, budget=None)
    assert got is not None
    assert sum(k * v for k, v in zip(got, values, strict=True)) == amount
    assert all(k <= c for k, c in zip(got, counts, strict=True))
    assert got == solve_cents(values, counts, amount, budget=None)
