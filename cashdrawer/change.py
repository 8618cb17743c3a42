"""Change-making for the cash drawer: the exact change with the fewest pieces.

Pure Python on purpose (no Django imports), so it can be tested and benchmarked on its own.
Callers load the drawer's counts, call :func:`make_change`, and book the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from math import gcd

__all__ = ["DEFAULT_STEP_BUDGET", "SearchBudgetExceeded", "make_change"]

# The most work one call may do, in steps: a search node or loop turn, or one step of building a
# helper table. A step costs well under a microsecond, so the budget bounds a call to a few tens
# of milliseconds (bench/change_bench.py measures it) and its memory to a few megabytes. Real
# currencies take a few hundred steps; only contrived drawers come near it.
DEFAULT_STEP_BUDGET = 10_000


class SearchBudgetExceeded(Exception):
    """make_change gave up: finding the fewest-pieces change would take more than its budget."""


def make_change(
    amount: Decimal, available: Mapping[Decimal, int], *, budget: int | None = DEFAULT_STEP_BUDGET
) -> dict[Decimal, int] | None:
    """Return the exact change for ``amount`` with the fewest pieces, or None if none exists.

    ``amount`` is a non-negative Decimal in whole cents (paise); ``available`` maps each denomination
    value (a positive Decimal in whole cents) to the number of pieces the drawer holds. The result
    maps denomination -> count, holds only counts > 0 (``{}`` for an amount of 0), never uses more
    of a denomination than is available, and sums exactly to ``amount``. The keys are the keys of
    ``available``, as given.

    Tie-break: among all solutions with the minimum number of pieces, the one returned uses the
    most pieces of the largest denomination, then the most of the next largest, and so on, i.e.
    the lexicographically largest count vector with denominations ordered by value, descending.

    Algorithm. All arithmetic is on integers: values and amount in cents, divided by the gcd of
    the usable denominations (None at once if that gcd does not divide the amount). A depth-first
    branch-and-bound then fixes the count of one denomination per level, largest value first,
    trying the largest count first. It prunes with:

    - residues: what is left for the levels below must be a multiple of their gcd, so only every
      (gcd below / gcd here)-th count is tried;
    - the linear relaxation: the levels below need at least the pieces they take when used largest
      first, as far as the drawer holds them, the last one fractionally. The first count that cannot
      beat the best solution so far by this bound (or leaves too much to pay) ends the loop, as the
      bound only grows as the count falls;
    - the exchange rule: for v_i > v_j with g = gcd(v_i, v_j), v_i/g pieces of v_j are worth v_j/g
      pieces of v_i, so an optimal solution that could still take v_j/g more of v_i uses fewer
      than v_i/g of v_j. This caps the smaller counts as soon as a larger denomination is not
      (nearly) used up, and keeps the search close to greedy on real currencies;
    - dominance: a remainder that an earlier prefix left at the same level with no more pieces is
      not searched again;
    - a closed form for the last two levels: for a > b, paying r as k pieces of a and (r - k a) / b
      of b takes fewer pieces the larger k is, so k is the largest count in its residue class
      modulo b / gcd(a, b) that both counts allow;
    - for hard inputs (odd denominations, many pieces), per-level tables, built only once the
      search has spent a comparable amount of work at that level: exact tables (fewest pieces for
      every remainder the smaller denominations can pay) when small enough, and residue tables
      (for each remainder modulo a denomination, a lower bound on the pieces, by shortest paths
      over the residues; see _residue_table).

    Why it is exact: let x* be the lexicographically largest optimal solution. The search visits
    prefixes in lexicographically descending order and replaces its best solution only by one with
    strictly fewer pieces, so it returns x* as long as no rule discards x*, and none does: the bounds
    are true lower bounds, the residue and range tests are necessary for any solution, x* obeys the
    exchange rule (breaking it would leave a solution with fewer pieces), and x*'s prefixes are
    never dominated (an earlier, lexicographically larger, prefix leaving the same remainder with no
    more pieces would complete with x*'s own suffix to an optimal solution larger than x*). The
    closed form and the exact tables give the lexicographically largest optimal completion, which
    is x*'s. Without any solution, nothing is ever recorded and the result is None.

    Budget: the search counts its steps (nodes, loop turns, table entries built) and raises
    SearchBudgetExceeded once it has spent more than ``budget`` of them, so a contrived drawer
    costs a bounded time and memory instead of minutes and gigabytes. ``None`` means no limit.

    An int amount or denomination is taken as whole units. Raises ValueError for a negative or
    fractional-cent amount, a non-positive or fractional-cent denomination, or a negative count;
    TypeError for amounts or denominations that are not Decimal or int, and counts that are not int.
    """
    target = _to_cents(amount, "amount")
    if target < 0:
        raise ValueError(f"amount must not be negative, got {amount!r}")

    usable: list[tuple[int, int, Decimal]] = []
    for value, count in available.items():
        cents = _to_cents(value, "denomination")
        if cents <= 0:
            raise ValueError(f"denomination must be positive, got {value!r}")
        if not isinstance(count, int) or isinstance(count, bool):
            raise TypeError(f"count for {value!r} must be an int, got {count!r}")
        if count < 0:
            raise ValueError(f"count for {value!r} must not be negative, got {count}")
        if count and cents <= target:
            usable.append((cents, min(count, target // cents), value))
    if target == 0:
        return {}
    if not usable:
        return None
    usable.sort(key=lambda item: item[0], reverse=True)

    divisor = 0
    for cents, _, _ in usable:
        divisor = gcd(divisor, cents)
    if target % divisor:
        return None
    values = [cents // divisor for cents, _, _ in usable]
    counts = [count for _, count, _ in usable]

    solution = _solve(values, counts, target // divisor, budget)
    if solution is None:
        return None
    return {key: k for (_, _, key), k in zip(usable, solution, strict=True) if k}


def _to_cents(value: object, what: str) -> int:
    """Exact value in cents of a Decimal (or int) that is a whole number of cents."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{what} must be a Decimal, got {value!r}")
    if isinstance(value, int):
        return value * 100
    if not value.is_finite():
        raise ValueError(f"{what} must be finite, got {value!r}")
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite
    magnitude = int("".join(map(str, digits)) or "0")
    shift = exponent + 2
    if shift >= 0:
        cents = magnitude * 10**shift
    else:
        cents, rest = divmod(magnitude, 10**-shift)
        if rest:
            raise ValueError(f"{what} must be a whole number of cents, got {value!r}")
    return -cents if sign else cents


# A helper table for a level is built only once the search has made enough bound checks at
# that level to justify it: one check is taken to be worth this many table-building steps.
# Easy searches (every realistic drawer) build none, or only tiny ones.
_TABLE_STEPS_PER_CHECK = 32
# Largest tables worth building at all, in steps (about 0.1 to 0.2 s of work each).
_MAX_EXACT_TABLE_STEPS = 1 << 18
_MAX_RESIDUE_TABLE_STEPS = 1 << 19
_NEVER = 1 << 62


def _solve(values: list[int], counts: list[int], amount: int, budget: int | None) -> list[int] | None:
    """Counts, aligned with ``values`` (strictly descending, gcd 1), of the change make_change wants."""
    if sum(v * c for v, c in zip(values, counts, strict=True)) < amount:
        return None
    if len(values) == 1:
        k, left = divmod(amount, values[0])
        return [k] if not left and k <= counts[0] else None
    return _Search(values, counts, _NEVER if budget is None else budget).run(amount)


class _Search:
    """One branch-and-bound run; see make_change for the algorithm and why it is exact.

    Levels are denomination indices, largest value first. ``caps`` (one per level) are the
    counts still allowed after the exchange rule has tightened them for the current prefix.
    """

    def __init__(self, values: list[int], counts: list[int], budget: int) -> None:
        n = self.n = len(values)
        self.left = budget  # steps this run may still spend; see spend()
        self.values = values
        self.counts = counts

        # Every remainder at level i is a multiple of suffix_gcd[i]. At level i only counts k
        # with k = residue (mod steps[i]) keep it a multiple of suffix_gcd[i + 1]; the residue is
        # (rem / suffix_gcd[i]) * inverses[i] mod steps[i].
        self.suffix_gcd = suffix_gcd = [0] * (n + 1)
        suffix_total = [0] * (n + 1)
        for i in range(n - 1, -1, -1):
            suffix_gcd[i] = gcd(values[i], suffix_gcd[i + 1])
            suffix_total[i] = suffix_total[i + 1] + values[i] * counts[i]
        self.steps = [1] * n
        self.inverses = [0] * n
        for i in range(n - 1):
            self.steps[i] = suffix_gcd[i + 1] // suffix_gcd[i]
            if self.steps[i] > 1:
                self.inverses[i] = pow(values[i] // suffix_gcd[i], -1, self.steps[i])

        # Exchange rule, per level i, by threshold descending: (threshold, j, cap) means
        # "if count_i <= threshold, then count_j <= cap".
        self.exchanges: list[list[tuple[int, int, int]]] = []
        for i in range(n):
            rules = []
            for j in range(i + 1, n):
                g = gcd(values[i], values[j])
                rules.append((counts[i] - values[j] // g, j, values[i] // g - 1))
            rules.sort(reverse=True)
            self.exchanges.append(rules)

        self.best_pieces = sum(counts) + 1  # more than any solution uses
        self.unreachable = self.best_pieces + 1
        self.best: list[int] | None = None
        self.chosen = [0] * n
        # Dominance memo: seen[i][rem] = fewest pieces of an earlier prefix that left rem at i.
        self.seen: list[dict[int, int]] = [{} for _ in range(n)]

        # Helper tables for the levels 1..n-3 (the ones bounded inside the search loop), built
        # lazily (see _TABLE_STEPS_PER_CHECK): exact[t] maps each reachable remainder to
        # (fewest pieces from levels t.., count at level t of the lexicographically largest such
        # solution); residue[t] is a _residue_table. spent[t] counts the bound checks at t.
        self.exact: list[dict[int, tuple[int, int]] | None] = [None] * n + [{0: (0, 0)}]
        self.residue: list[list[int] | None] = [None] * n
        self.spent = [0] * n
        self.exact_due = [_NEVER] * n
        self.residue_due = [_NEVER] * n
        # Estimated steps to build exact[t] (with the tables below it), _NEVER if too many.
        self.exact_cost = [_NEVER] * n + [0]
        size, cost = 1, 0
        for t in range(n - 1, 0, -1):
            cost += size * (counts[t] + 1)
            size = min(size * (counts[t] + 1), suffix_total[t] // suffix_gcd[t] + 1)
            if cost > _MAX_EXACT_TABLE_STEPS:
                break
            self.exact_cost[t] = cost
        for t in range(1, n - 2):
            modulus = values[t] // suffix_gcd[t]
            if self.exact_cost[t] < _NEVER:
                self.exact_due[t] = self.exact_cost[t] // _TABLE_STEPS_PER_CHECK
            if self.exact_cost[t + 1] < _NEVER:  # bounded table, from exact[t + 1]
                self.residue_due[t] = (self.exact_cost[t + 1] + modulus) // _TABLE_STEPS_PER_CHECK
            elif modulus * (n - t - 1) <= _MAX_RESIDUE_TABLE_STEPS:
                self.residue_due[t] = modulus * (n - t - 1) // _TABLE_STEPS_PER_CHECK

    def spend(self, steps: int) -> None:
        """Charge ``steps`` to the budget; raise SearchBudgetExceeded once it is overspent."""
        self.left -= steps
        if self.left < 0:
            raise SearchBudgetExceeded("the change search ran out of its budget of steps")

    def run(self, amount: int) -> list[int] | None:
        self.search(0, amount, 0, self.counts.copy())
        return self.best

    def relaxation_bound(self, start: int, rem: int, caps: list[int]) -> int:
        """Pieces levels start.. need for rem in the linear relaxation, a lower bound.

        Takes the largest denominations first, as many as ``caps`` allows, the last one
        fractionally (rounded up); ``unreachable`` if they cannot hold rem at all.
        """
        values = self.values
        pieces = 0
        for j in range(start, self.n):
            v = values[j]
            held = caps[j] * v
            if held >= rem:
                return pieces + (rem + v - 1) // v
            pieces += caps[j]
            rem -= held
        return self.unreachable

    def finish_last_two(self, rem: int, pieces: int, caps: list[int]) -> None:
        """Closed form for the last two levels: take the most of the larger that still works."""
        n = self.n
        a, b = self.values[n - 2], self.values[n - 1]
        step = self.steps[n - 2]
        x = min(caps[n - 2], rem // a)
        if step > 1:
            x -= (x - (rem // self.suffix_gcd[n - 2]) * self.inverses[n - 2] % step) % step
        if x < 0 or rem - x * a > caps[n - 1] * b:
            return  # fewer of the larger only needs more of the smaller
        y = (rem - x * a) // b
        if pieces + x + y < self.best_pieces:
            self.chosen[n - 2] = x
            self.chosen[n - 1] = y
            self.best_pieces = pieces + x + y
            self.best = self.chosen.copy()

    def finish_last_three(self, rem: int, pieces: int, caps: list[int], k: int) -> None:
        """The search loop of level n-3 (from count k down), specialised: it is the hot spot.

        Same steps as in search (exchange caps, relaxation bound, then the closed form of
        finish_last_two), written out for three denominations a > b > c.
        """
        n = self.n
        a, b, c = self.values[n - 3 :]
        step = self.steps[n - 3]
        b_step, b_inverse, b_gcd = self.steps[n - 2], self.inverses[n - 2], self.suffix_gcd[n - 2]
        cap_b, cap_c = caps[n - 2], caps[n - 1]
        rules = self.exchanges[n - 3]
        r = 0
        chosen = self.chosen
        turns, limit = 0, self.left
        while k >= 0:
            turns += 1
            if turns > limit:
                self.spend(turns)
            while r < len(rules) and rules[r][0] >= k:
                _, j, cap = rules[r]
                if j == n - 2:
                    cap_b = min(cap_b, cap)
                else:
                    cap_c = min(cap_c, cap)
                r += 1
            rest = rem - k * a
            if cap_b * b >= rest:
                bound = (rest + b - 1) // b
            else:
                left = rest - cap_b * b
                if left > cap_c * c:
                    break  # and it only gets worse as k falls
                bound = cap_b + (left + c - 1) // c
            if pieces + k + bound >= self.best_pieces:
                break
            x = min(cap_b, rest // b)
            if b_step > 1:
                x -= (x - (rest // b_gcd) * b_inverse % b_step) % b_step
            if x >= 0 and rest - x * b <= cap_c * c:
                y = (rest - x * b) // c
                if pieces + k + x + y < self.best_pieces:
                    chosen[n - 3], chosen[n - 2], chosen[n - 1] = k, x, y
                    self.best_pieces = pieces + k + x + y
                    self.best = chosen.copy()
            k -= step
        self.spend(turns)

    def record_exact(self, t: int, rem: int, total: int) -> None:
        """Record the best solution: chosen[:t], then the exact table's completion for rem."""
        chosen, values, exact = self.chosen, self.values, self.exact
        for u in range(t, self.n):
            table = exact[u]
            assert table is not None
            k = table[rem][1]
            chosen[u] = k
            rem -= k * values[u]
        self.best_pieces = total
        self.best = chosen.copy()

    def build_exact(self, t: int) -> None:
        """Exact tables for levels n-1 up to t: fewest pieces for every reachable remainder.

        Counts are tried largest first and an entry is only replaced by strictly fewer pieces,
        so each entry keeps the lexicographically largest of its optimal solutions.
        """
        for u in range(self.n - 1, t - 1, -1):
            if self.exact[u] is not None:
                continue
            below = self.exact[u + 1]
            assert below is not None
            self.spend((self.counts[u] + 1) * len(below))
            v = self.values[u]
            table: dict[int, tuple[int, int]] = {}
            for k in range(self.counts[u], -1, -1):
                base = k * v
                for rest, (pieces, _) in below.items():
                    total = base + rest
                    entry = table.get(total)
                    if entry is None or pieces + k < entry[0]:
                        table[total] = (pieces + k, k)
            self.exact[u] = table
        self.exact_due[t] = self.residue_due[t] = _NEVER
        if t >= 2:
            self.residue[t - 1] = self.bounded_residue_table(t - 1)
            self.residue_due[t - 1] = _NEVER

    def bounded_residue_table(self, s: int) -> list[int]:
        """A _residue_table for level s that respects the counts of levels s+1.., from exact[s + 1].

        Same meaning and use as _residue_table, but the minimum is only over the combinations the
        drawer can actually pay out below level s, which makes the bound much tighter when those
        counts are small.
        """
        below = self.exact[s + 1]
        assert below is not None
        unit = self.suffix_gcd[s]
        modulus = self.values[s] // unit
        self.spend(len(below) + modulus)  # the table has one entry per residue: charge it first
        table = [-1] * modulus
        for rest, (pieces, _) in below.items():
            rest //= unit
            weight = modulus * pieces - rest
            slot = rest % modulus
            if table[slot] < 0 or weight < table[slot]:
                table[slot] = weight
        return table

    def search(self, i: int, rem: int, pieces: int, caps: list[int]) -> None:
        """Try each useful count of level i for rem, largest first, and go on to level i + 1."""
        n = self.n
        self.spend(1)
        if rem == 0:
            if pieces < self.best_pieces:
                for j in range(i, n):
                    self.chosen[j] = 0
                self.best_pieces = pieces
                self.best = self.chosen.copy()
            return
        if i == n - 2:
            self.finish_last_two(rem, pieces, caps)
            return

        level_seen = self.seen[i]
        earlier = level_seen.get(rem)
        if earlier is not None and earlier <= pieces:
            return
        level_seen[rem] = pieces

        t = i + 1  # the child level
        if self.spent[t] >= self.exact_due[t]:
            self.build_exact(t)
        elif self.spent[t] >= self.residue_due[t]:
            if self.exact_cost[t + 1] < _NEVER:
                self.build_exact(t + 1)  # which also builds the bounded residue[t]
            else:
                self.spend(2 * (self.values[t] // self.suffix_gcd[t]) * (n - t - 1))
                self.residue[t] = _residue_table(self.values, t, self.suffix_gcd[t])
                self.residue_due[t] = _NEVER
        exact = self.exact[t]
        residue = self.residue[t]
        child_value = self.values[t]
        child_gcd = self.suffix_gcd[t]

        v = self.values[i]
        step = self.steps[i]
        k = min(caps[i], rem // v)
        if step > 1:
            k -= (k - (rem // self.suffix_gcd[i]) * self.inverses[i] % step) % step
        if i == n - 3:
            self.finish_last_three(rem, pieces, caps, k)
            return
        child_caps = caps.copy()
        rules = self.exchanges[i]
        r = 0
        rule_count = len(rules)
        checks = 0
        while k >= 0:
            checks += 1
            if checks > self.left:  # children spend from self.left too
                self.spend(checks)
            while r < rule_count and rules[r][0] >= k:
                _, j, cap = rules[r]
                if cap < child_caps[j]:
                    child_caps[j] = cap
                r += 1
            rest = rem - k * v
            # pieces + k + bound only grows as k falls (a piece of v dropped needs more than one
            # smaller piece, and the caps only tighten), as does infeasibility: stop at the first.
            if child_caps[t] * child_value >= rest:  # the usual case of relaxation_bound, inline
                bound = (rest + child_value - 1) // child_value
            else:
                bound = self.relaxation_bound(t, rest, child_caps)
            if pieces + k + bound >= self.best_pieces:
                break
            if exact is not None:
                entry = exact.get(rest)
                if entry is not None and pieces + k + entry[0] < self.best_pieces:
                    self.chosen[i] = k
                    self.record_exact(t, rest, pieces + k + entry[0])
            elif residue is not None and (
                (extra := residue[rest // child_gcd % len(residue)]) < 0
                or pieces + k + (rest + extra * child_gcd) // child_value >= self.best_pieces
            ):
                pass
            else:
                self.chosen[i] = k
                self.search(t, rest, pieces + k, child_caps)
            k -= step
        self.spent[t] += checks
        self.spend(checks)


def _residue_table(values: list[int], t: int, unit: int) -> list[int]:
    """Lower-bound table for the subproblems at level t, modulo v = values[t].

    Any solution for rem from levels t.. has pieces * v = rem + sum_{j>t} x_j (v - v_j), and its
    smaller pieces sum to S = sum_{j>t} x_j v_j = rem (mod v). table[s] is the least weight
    sum_{j>t} x_j (v - v_j) of any combination with S = s (mod v), counts unlimited, so
    pieces >= (rem + table[rem mod v]) / v; it is -1 where no combination gets S = s (mod v),
    so rem is out of reach. All values are divided by ``unit`` (the gcd of values[t:]).

    Shortest paths over the residues with the round-robin algorithm (Böcker and Lipták):
    for each denomination, one pass around each residue cycle it generates, started at the
    cycle's smallest entry.
    """
    modulus = values[t] // unit
    infinite = modulus * modulus  # a shortest path has < modulus edges, each weighing < modulus
    table = [infinite] * modulus
    table[0] = 0
    for j in range(t + 1, len(values)):
        step = values[j] // unit
        weight = modulus - step
        cycles = gcd(step, modulus)
        length = modulus // cycles
        for start in range(cycles):
            low = s = start
            for _ in range(length):
                if table[s] < table[low]:
                    low = s
                s = (s + step) % modulus
            if table[low] == infinite:
                continue
            s = low
            for _ in range(length):
                nxt = (s + step) % modulus
                if table[s] + weight < table[nxt]:
                    table[nxt] = table[s] + weight
                s = nxt
    return [-1 if entry == infinite else entry for entry in table]
