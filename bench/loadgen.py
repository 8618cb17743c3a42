"""The load generator: C client threads, each with its own keep-alive HTTP connection, ringing up
bills with ``POST /api/v1/purchases`` for T seconds. Standard library only.

The client does not repeat the bill arithmetic: it over-pays with notes (an upper bound of the
payable amount, rounded up to whole hundreds, sometimes plus a note) and lets the server work out
the payable amount and the change.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import Any

NOTES = [Decimal(v) for v in ("2000", "500", "200", "100")]
EXTRA_NOTES = [Decimal(0), Decimal(0), Decimal(100), Decimal(500), Decimal(2000)]
DISCOUNT_EVERY = 4  # every 4th bill has a 5 % bill discount (with its reason), as a loyalty offer would
# The weighed scenario: the share of its bills rung up for a walk-in customer (no email). 0 until
# bills without a customer are taken (issue 25, section 1); `--walk-in-share` sets it then.
WALK_IN_SHARE = 0.3
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class ProductInfo:
    id: int
    price: Decimal
    tax_percent: Decimal


@dataclass
class Result:
    status: int  # 0 when the request errored (timeout, connection reset, ...)
    code: str  # error code from the body, or the exception class name, or "" for a 201
    latency: float  # seconds
    finished: float  # perf_counter at completion
    signature: tuple  # (email, ((product_id, quantity), ...), paid_amount) of the request
    bill_id: int | None = None
    items: dict[int, Decimal] = field(default_factory=dict)  # product_id -> quantity, from the 201 body
    tendered: dict[str, int] = field(default_factory=dict)  # value -> count, from the 201 body
    change: dict[str, int] = field(default_factory=dict)
    till: int | None = None  # the till that took the cash, from the 201 body
    body: dict | None = None  # the whole 201 body, kept for a sample of bills (audit: GET returns the same)
    kind: str = "bill"  # "bill", or "refund" (the mixed scenario)
    refund_id: int | None = None
    cash_out: dict[str, int] = field(default_factory=dict)  # a refund's pieces handed back, from its 201 body


@dataclass
class RunStats:
    scenario: str
    clients: int
    duration: float
    results: list[Result] = field(default_factory=list)
    cpu: dict = field(default_factory=dict)

    @property
    def created(self) -> list[Result]:
        return [r for r in self.results if r.status == 201 and r.kind == "bill"]

    @property
    def refunds(self) -> list[Result]:
        return [r for r in self.results if r.status == 201 and r.kind == "refund"]

    def summary(self) -> dict:
        by_status = Counter(r.status for r in self.results if r.kind == "bill")
        by_code = Counter(
            f"{'refund ' if r.kind == 'refund' else ''}{r.status} {r.code}" for r in self.results if r.status != 201
        )
        all_lat = sorted(r.latency for r in self.results if r.status)
        ok_lat = sorted(r.latency for r in self.created)
        return {
            "scenario": self.scenario,
            "clients": self.clients,
            "duration_s": round(self.duration, 2),
            "requests": len(self.results),
            "bills": by_status.get(201, 0),
            "refunds": len(self.refunds),
            "bills_per_s": round(by_status.get(201, 0) / self.duration, 1) if self.duration else 0.0,
            "requests_per_s": round(len(self.results) / self.duration, 1) if self.duration else 0.0,
            "p50_ms": percentile_ms(all_lat, 50),
            "p95_ms": percentile_ms(all_lat, 95),
            "p99_ms": percentile_ms(all_lat, 99),
            "max_ms": round(all_lat[-1] * 1000, 1) if all_lat else None,
            "bill_p50_ms": percentile_ms(ok_lat, 50),
            "bill_p99_ms": percentile_ms(ok_lat, 99),
            "by_status": {str(k): v for k, v in sorted(by_status.items())},
            "by_code": dict(sorted(by_code.items())),
            "errors_5xx": sum(v for k, v in by_status.items() if k >= 500),
            "request_errors": by_status.get(0, 0),
            "cpu": self.cpu,
        }


def percentile_ms(sorted_values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile, in milliseconds."""
    if not sorted_values:
        return None
    rank = max(1, -(-len(sorted_values) * pct // 100))
    return round(sorted_values[int(rank) - 1] * 1000, 1)


class Api:
    """A tiny JSON client over one keep-alive connection (reopened when the server closes it)."""

    def __init__(self, port: int, token: str | None = None, timeout: float = 30.0):
        self.port = port
        self.timeout = timeout
        self.headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            self.headers["Authorization"] = f"Token {token}"
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def request(self, method: str, path: str, body=None, headers: dict | None = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        try:
            self.conn.request(method, path, body=data, headers={**self.headers, **headers} if headers else self.headers)
            response = self.conn.getresponse()
            raw = response.read()
        except BaseException:
            self.conn.close()
            raise
        if response.will_close:
            self.conn.close()
        payload = (
            json.loads(raw) if raw and response.getheader("Content-Type", "").startswith("application/json") else raw
        )
        return response.status, payload

    def close(self) -> None:
        self.conn.close()


class BillMaker:
    """Random bills for one client: its own customers (some repeated) and its own RNG."""

    def __init__(
        self,
        *,
        scenario: str,
        spread: list[ProductInfo],
        hot: list[ProductInfo],
        client: int,
        seed: int,
        tills: list[int] | None = None,
        walk_in_share: float = 0.0,
    ):
        self.scenario = scenario
        self.walk_in_share = walk_in_share
        self.tills = tills or []
        self.made = 0
        self.spread = spread
        self.hot = hot
        self.client = client
        self.rng = random.Random(seed)

    def make(self) -> dict:
        rng = self.rng
        picked: list[tuple[ProductInfo, int | Decimal]]
        if self.scenario == "hot":
            picked = [(p, rng.randint(1, 2)) for p in rng.sample(self.hot, rng.randint(1, 2))]
            picked += [(p, rng.randint(1, 3)) for p in rng.sample(self.spread, rng.randint(0, 3))]
        elif self.scenario == "weighed":
            # The kirana's basket: loose goods weighed to the gram (``hot`` holds them here), with
            # packed goods sold each.
            picked = [(p, Decimal(rng.randint(50, 2500)) / 1000) for p in rng.sample(self.hot, rng.randint(1, 2))]
            picked += [(p, rng.randint(1, 3)) for p in rng.sample(self.spread, rng.randint(0, 3))]
        else:
            picked = [(p, rng.randint(1, 3)) for p in rng.sample(self.spread, rng.randint(1, 5))]
        # An upper bound of what the server will ask: lines with their tax, plus a rupee of cash rounding.
        paid, tendered = paid_in_notes(picked, rng.choice(EXTRA_NOTES))
        body: dict[str, object] = {
            # 300 customers per client: the first bills create them, later ones find them.
            "customer_email": f"bench-c{self.client}-{rng.randrange(300)}@example.com",
            "items": [{"product_id": p.id, "quantity": q if isinstance(q, int) else f"{q:.3f}"} for p, q in picked],
            "paid_amount": f"{paid:.2f}",
            "tendered": tendered,
        }
        if self.walk_in_share and rng.random() < self.walk_in_share:
            del body["customer_email"]  # a walk-in sale
        if self.made % DISCOUNT_EVERY == DISCOUNT_EVERY - 1:  # the bound above still holds: it only lowers the bill
            body["discount_percent"] = "5"
            body["discount_reason"] = "Loyalty offer"
        if self.tills:  # every bill names a till, in turn (each client starts at its own)
            body["till"] = self.tills[(self.client + self.made) % len(self.tills)]
        self.made += 1
        return body


def signature(body: dict) -> tuple:
    # Quantities as decimals, so 2, "2.000" and the database's 2.000 are one quantity.
    items = tuple(sorted((i["product_id"], Decimal(str(i["quantity"]))) for i in body["items"]))
    return ((body.get("customer_email") or "").lower(), items, body["paid_amount"])


def pieces(rows) -> dict[str, int]:
    return {f"{Decimal(r['value']):.2f}": int(r["count"]) for r in rows or ()}


def bill_result(status: int, payload, latency: float, finished: float, body: dict, *, keep_body: bool) -> Result:
    """A bill's outcome, from its answer; ``keep_body`` keeps the whole 201 body for the audits' sample."""
    if status != 201:
        code = payload.get("code", "") if isinstance(payload, dict) else "non_json"
        return Result(status, code, latency, finished, signature(body))
    return Result(
        201,
        "",
        latency,
        finished,
        signature(body),
        bill_id=payload["id"],
        items={i["product_id"]: Decimal(str(i["quantity"])) for i in payload["items"]},
        tendered=pieces(payload["tendered"]),
        change=pieces(payload["change"]),
        till=payload.get("till"),
        body=payload if keep_body else None,
    )


class OurBills:
    """How this system takes a bill: ``POST /api/v1/purchases`` with the body ``BillMaker`` makes,
    answered by the bill (``bill_result``). Another system's shape (``bench/side_by_side.py``) is an
    object with the same three members."""

    path = "/api/v1/purchases"

    def request(self, body: dict) -> dict:
        return body

    def result(self, status: int, payload, latency: float, finished: float, body: dict, *, keep_body: bool) -> Result:
        return bill_result(status, payload, latency, finished, body, keep_body=keep_body)


def paid_in_notes(
    lines: list[tuple[ProductInfo, int | Decimal]], extra: Decimal = Decimal(0)
) -> tuple[Decimal, list[dict]]:
    """An amount that surely covers ``lines`` with their tax and the cash rounding (rounded up to
    hundreds, plus ``extra``), and the notes that make it up, largest first."""
    bound = sum((p.price * q * (HUNDRED + p.tax_percent) / HUNDRED for p, q in lines), Decimal(1))
    paid = (bound / HUNDRED).to_integral_value(rounding=ROUND_CEILING) * HUNDRED + extra
    tendered, rest = [], paid
    for note in NOTES:
        count = int(rest // note)
        if count:
            tendered.append({"value": str(note), "count": count})
            rest -= note * count
    return paid, tendered


REFUND_EVERY = 10  # the mixed scenario: one refund per this many bills


def refund_request(bill: dict, till: int | None) -> tuple[str, dict, tuple]:
    """The refund the load makes of a bill: one unit of its first line (restocked), cash out of
    ``till``. Returns (path, body, signature)."""
    line = bill["items"][0]
    body: dict[str, object] = {"items": [{"product_id": line["product_id"], "quantity": 1}], "reason": "bench return"}
    if till is not None:
        body["till"] = till
    return f"/api/v1/purchases/{bill['id']}/refunds", body, ("refund", bill["id"], line["product_id"])


def refund_result(status: int, payload, latency: float, finished: float, sig: tuple, bill_id: int) -> Result:
    """A refund's outcome, from its answer (``status`` 0 when the request errored)."""
    if status != 201:
        code = payload.get("code", "") if isinstance(payload, dict) else "non_json"
        return Result(status, code, latency, finished, sig, kind="refund", bill_id=bill_id)
    return Result(
        201,
        "",
        latency,
        finished,
        sig,
        kind="refund",
        bill_id=bill_id,
        refund_id=payload["id"],
        items={i["product_id"]: Decimal(str(i["quantity"])) for i in payload["items"]},
        cash_out=pieces(payload["cash_out"]),
        till=payload["till"],
    )


def take_back(api: Api, bill: dict, till: int | None) -> Result:
    """Refund one unit of the bill's first line (restocked), cash out of the same till."""
    path, body, sig = refund_request(bill, till)
    t0 = time.perf_counter()
    try:
        status, payload = api.request("POST", path, body)
    except (OSError, http.client.HTTPException) as exc:
        t1 = time.perf_counter()
        return Result(0, type(exc).__name__, t1 - t0, t1, sig, kind="refund", bill_id=bill["id"])
    t1 = time.perf_counter()
    return refund_result(status, payload, t1 - t0, t1, sig, bill["id"])


def run_load(
    *,
    port: int,
    token: str,
    scenario: str,
    clients: int,
    duration: float,
    spread: list[ProductInfo],
    hot: list[ProductInfo],
    seed: int,
    timeout: float = 30.0,
    on_tick=None,
    tills: list[int] | None = None,
    idempotency_keys: bool = False,
    adapter=None,
) -> RunStats:
    """Drive ``clients`` threads for ``duration`` seconds; returns every request's outcome.

    With ``tills``, every bill names one of them, in turn. With ``idempotency_keys``, every bill
    carries an ``Idempotency-Key`` of its own, as a till that retries safely would send.
    ``adapter`` (default ``OurBills()``) turns each bill into another system's request and reads its
    answer, so the same bills can be rung up on the system this one replaces.

    ``on_tick(elapsed)`` is called about every 0.1 s from the calling thread while the load runs
    (the worker-kill fault check uses it)."""
    shape = adapter or OurBills()
    results: list[Result] = []
    lock = threading.Lock()
    start_barrier = threading.Barrier(clients + 1)
    state = {"deadline": 0.0}

    def client(index: int) -> None:
        api = Api(port, token, timeout=timeout)
        maker = BillMaker(
            scenario=scenario,
            spread=spread,
            hot=hot,
            client=index,
            seed=seed * 1000 + index,
            tills=tills,
            walk_in_share=WALK_IN_SHARE if scenario == "weighed" else 0.0,
        )
        mine: list[Result] = []
        start_barrier.wait()
        deadline = state["deadline"]
        try:
            while time.perf_counter() < deadline:
                body = maker.make()
                t0 = time.perf_counter()
                try:
                    headers = {"Idempotency-Key": uuid.uuid4().hex} if idempotency_keys else None
                    status, payload = api.request("POST", shape.path, shape.request(body), headers)
                except (OSError, http.client.HTTPException) as exc:
                    t1 = time.perf_counter()
                    mine.append(Result(0, type(exc).__name__, t1 - t0, t1, signature(body)))
                    continue
                t1 = time.perf_counter()
                mine.append(shape.result(status, payload, t1 - t0, t1, body, keep_body=len(mine) % 10 == 0))
                if status == 201 and scenario == "mixed" and maker.made % REFUND_EVERY == 0:
                    mine.append(take_back(api, payload, body.get("till")))
        finally:
            api.close()
            with lock:
                results.extend(mine)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    t_start = time.perf_counter()
    state["deadline"] = t_start + duration
    start_barrier.wait()
    while any(t.is_alive() for t in threads):
        elapsed = time.perf_counter() - t_start
        if on_tick is not None and elapsed < duration:
            on_tick(elapsed)
        if elapsed > duration + timeout + 5:
            break  # every request has its own timeout; this is only a backstop
        for t in threads:
            t.join(0.1 / max(1, len(threads)))
    t_end = max((r.finished for r in results), default=time.perf_counter())
    return RunStats(scenario=scenario, clients=clients, duration=max(t_end - t_start, 1e-9), results=results)


@dataclass
class Print:
    status: int  # 0 when the request errored
    code: str  # the error code of a refusal, or the exception class name
    latency: float  # seconds


class Reprinter:
    """Clients that reprint one PDF (``GET path``), each with its own token (its own user, so each
    has its own throttle budget), from ``start()`` to ``stop()``: all at the same moment, then again
    ``pause`` seconds after each answer (0: back to back). A 429 waits its ``Retry-After`` instead,
    as a till would."""

    def __init__(self, *, port: int, tokens: list[str], path: str, pause: float = 1.0, timeout: float = 30.0):
        self.port, self.tokens, self.path, self.pause, self.timeout = port, tokens, path, pause, timeout
        self.prints: list[Print] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._client, args=(t,), daemon=True) for t in tokens]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> list[Print]:
        self._stop.set()
        for thread in self._threads:
            thread.join(self.timeout + 5)
        return self.prints

    def _client(self, token: str) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        headers = {"Authorization": f"Token {token}", "Accept": "application/pdf, application/json"}
        mine: list[Print] = []
        try:
            while not self._stop.is_set():
                t0 = time.perf_counter()
                try:
                    conn.request("GET", self.path, headers=headers)
                    response = conn.getresponse()
                    raw = response.read()
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()
                    mine.append(Print(0, type(exc).__name__, time.perf_counter() - t0))
                    continue
                latency = time.perf_counter() - t0
                if response.will_close:
                    conn.close()
                code = ""
                if response.status != 200:
                    try:
                        code = json.loads(raw).get("code", "")
                    except ValueError:
                        code = "non_json"
                mine.append(Print(response.status, code, latency))
                if response.status == 429:
                    self._stop.wait(float(response.getheader("Retry-After") or 1))
                elif self.pause:
                    self._stop.wait(self.pause)
        finally:
            conn.close()
            with self._lock:
                self.prints.extend(mine)
