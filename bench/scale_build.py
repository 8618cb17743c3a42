"""The chain that ``bench/scale.py`` times, built with set-based SQL on a migrated database.

Every statement is in ``SQL`` below, by name; the functions only run them in order. The data is
deterministic (every choice is arithmetic on a bill's number ``n``), so two builds of one size hold
the same rows. Every row meets the tables' CHECK and UNIQUE constraints:

- stores share one GSTIN (one registration, state 29); each has 8 tills (the default store's MAIN
  till is one of them), each till its own invoice and credit-note series, and a session per day
  (closed) plus an open one now;
- products: an eighth weighed (``kg``, with a PLU, no barcode), the rest sold each with an EAN-13
  (valid check digit) and a SKU; every product is stocked at every store, with an ``opening`` row
  in the stock ledger;
- bills of 1-5 lines (each line's product distinct), a tenth discounted 5 %, paid in cash (some with
  change, rounded to the rupee), by card, by UPI or card + cash; 40 % with a customer, of whom one
  in fifty is a B2B buyer (half of those in another state: IGST); numbered per till and financial
  year through ``purchases_documentcounter`` as the app numbers them;
- one bill in ``--refund-every`` gets a refund of its first line (one unit, or the whole weighed
  line) half an hour later at the same till, restocked, paid back the way it was paid;
- each store receives goods weekly (receipts with 40 lines); every sale, refund and receipt has its
  stock-ledger row, whose ``balance_after`` runs on from the store's stock, which follows it;
- at the end each store posts a stock count that finds some products short (the low-stock list).

Not built: drawer movements (cash bills leave the drawer ledger alone, as listbench.py's do), the
closed sessions' frozen reports (an empty report), transfers and adjustments.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg

GSTIN_STATE = "29"  # Karnataka: every store; B2B buyers in 29 or 27 (Maharashtra, IGST)
TILLS_PER_STORE = 8
SUPPLIERS = 5
RECEIPT_LINES = 40
BIG_SESSION_BILLS = 2000  # the open session of the MAIN till (its Z report is timed)
VIP_BILLS = 2000  # the bills of the customer whose profile is timed
PDF_BILLS = 40  # 12-line bills at till 2's open session, never printed (originals to time)
PROFILE = bool(os.environ.get("SCALE_PROFILE"))  # print each chunk statement's time
BIG_TABLES = (
    "purchases_purchase",
    "purchases_purchaseitem",
    "purchases_payment",
    "purchases_refund",
    "purchases_refundline",
    "purchases_refundpayment",
    "catalog_stockmovement",
    "catalog_receiptline",
    "cashdrawer_tillsession",
    "customers_customer",
)

PRODUCT_WORDS = (
    "Basmati Rice,Toor Dal,Moong Dal,Chana Dal,Atta,Maida,Sooji,Sugar,Jaggery,Salt,Sunflower Oil,"
    "Mustard Oil,Ghee,Butter,Paneer,Curd,Milk,Tea,Coffee,Biscuits,Namkeen,Cornflakes,Oats,Poha,"
    "Turmeric,Chilli Powder,Coriander Powder,Garam Masala,Cumin,Mustard Seeds,Soap,Shampoo,"
    "Toothpaste,Detergent,Dishwash,Floor Cleaner,Tomato,Onion,Potato,Banana"
)
BRANDS = "Aashirvaad,Tata,Fortune,Amul,Britannia,Haldiram,MDH,Everest,Surf,Vim,Patanjali,Nestle,Dabur,Parle,Saffola"

# Every statement of the build, by name. %(...)s are parameters; {...} are filled by ``chunk_sql``.
SQL: dict[str, str] = {
    "session": "SET timezone = 'UTC'; SET synchronous_commit = off; SET jit = off; SET work_mem = '256MB'; SET maintenance_work_mem = '1GB'",
    "stores": """
        UPDATE catalog_store SET name = 'Store 01', legal_name = 'Scale Retail Pvt Ltd',
            address = 'MG Road, Bengaluru', state_code = %(state)s, gstin = %(gstin)s WHERE is_default;
        INSERT INTO catalog_store (code, name, legal_name, address, state_code, gstin, is_active, is_default, created_at)
        SELECT 'S' || lpad(s::text, 2, '0'), 'Store ' || lpad(s::text, 2, '0'), 'Scale Retail Pvt Ltd',
               'Road ' || s || ', Bengaluru', %(state)s, %(gstin)s, true, false, now() - interval '3 years'
        FROM generate_series(2, %(stores)s) AS s""",
    "store_map": """
        CREATE TEMP TABLE scale_stores AS
        SELECT id, (row_number() OVER (ORDER BY is_default DESC, id))::int AS rn FROM catalog_store""",
    "cashiers": """
        INSERT INTO auth_user (username, password, is_superuser, first_name, last_name, email, is_staff, is_active,
                               date_joined)
        SELECT 'scale-till-' || t, '!', false, 'Cashier', t::text, '', false, true, now() - interval '3 years'
        FROM generate_series(1, %(tills)s) AS t""",
    "tills": """
        UPDATE cashdrawer_till SET requires_open_session = true WHERE code = 'MAIN';
        INSERT INTO cashdrawer_till (code, name, is_active, requires_open_session, created_at, invoice_series,
                                     credit_series, store_id)
        SELECT 'S' || lpad(s.rn::text, 2, '0') || '-' || k, 'Store ' || s.rn || ' counter ' || k, true, true,
               now() - interval '3 years', 'T' || lpad(((s.rn - 1) * %(per)s + k)::text, 3, '0'),
               'R' || lpad(((s.rn - 1) * %(per)s + k)::text, 3, '0'), s.id
        FROM scale_stores s CROSS JOIN generate_series(1, %(per)s) AS k
        WHERE NOT (s.rn = 1 AND k = 1)""",
    "till_map": """
        CREATE TEMP TABLE scale_tills AS
        SELECT t.*, u.id AS cashier
        FROM (SELECT id, store_id, invoice_series AS series, credit_series AS cseries,
                     (row_number() OVER (ORDER BY code = 'MAIN' DESC, id))::int AS rn FROM cashdrawer_till) t
        JOIN auth_user u ON u.username = 'scale-till-' || t.rn""",
    # One closed session per till and day (08:00-22:00), and an open one since three hours ago.
    "sessions": """
        INSERT INTO cashdrawer_tillsession (status, opened_at, opening_counted, opening_variance, auto_opened, closed_at,
            closing_counted, expected, variance, variance_total, report, note, opened_by_id, closed_by_id, till_id,
            approval_reason, rejected_counts, store_id)
        SELECT 'closed', d + interval '8 hours', '[]', 0, false, d + interval '22 hours', '[]', '{}', '{}', 0, '{}',
               '', t.cashier, t.cashier, t.id, '', '[]', t.store_id
        FROM scale_tills t
        CROSS JOIN generate_series(%(first)s::timestamp, %(last)s::timestamp, interval '1 day') AS d
        ORDER BY d, t.id;
        INSERT INTO cashdrawer_tillsession (status, opened_at, opening_counted, opening_variance, auto_opened, note,
            opened_by_id, till_id, approval_reason, rejected_counts, store_id)
        SELECT 'open', now() - interval '3 hours', '[]', 0, false, '', t.cashier, t.id, '', '[]', t.store_id
        FROM scale_tills t ORDER BY t.id""",
    "session_map": """
        CREATE TEMP TABLE scale_sessions AS
        SELECT id, till_id, opened_at::date AS day FROM cashdrawer_tillsession WHERE status = 'closed';
        CREATE UNIQUE INDEX ON scale_sessions (till_id, day); ANALYZE scale_sessions""",
    "suppliers": """
        INSERT INTO catalog_supplier (name, gstin, phone, email, address, created_at)
        SELECT 'Supplier ' || s, '29AAACS' || lpad(s::text, 4, '0') || 'F1Z5', '', '', 'Peenya, Bengaluru', now()
        FROM generate_series(1, %(n)s) AS s""",
    # Products: n % 8 = 0 weighed (kg, PLU n / 8), the rest each with an EAN-13 890nnnnnnnnnC.
    "products": """
        INSERT INTO catalog_product (sku, name, price, tax_percent, is_active, created_at, updated_at, hsn_code, mrp,
                                     barcode, plu, unit, cost_price, lead_time_days)
        SELECT 'SKU' || lpad(n::text, 6, '0'),
               (string_to_array(%(words)s, ','))[1 + n %% 40] || ' ' || (string_to_array(%(brands)s, ','))[1 + (n / 40) %% 15]
                 || CASE WHEN n %% 8 = 0 THEN ' loose' ELSE ' ' || (1 + n %% 9) * 100 || ' g' END || ' #' || n,
               p.price, CASE WHEN n %% 8 = 0 THEN (ARRAY[0, 5])[1 + n %% 2] ELSE (ARRAY[0, 5, 12, 18])[1 + n %% 4] END,
               true, now() - interval '3 years', now() - interval '3 years',
               (ARRAY['1006', '0713', '04051000', '1701', '1905', '3401', '33051090', '0701'])[1 + n %% 8],
               CASE WHEN n %% 3 = 0 THEN p.price + (n %% 20) END,
               CASE WHEN n %% 8 <> 0 THEN e.code || ((10 - e.s %% 10) %% 10)::text END,
               CASE WHEN n %% 8 = 0 THEN (n / 8)::text END,
               CASE WHEN n %% 8 = 0 THEN 'kg' ELSE 'each' END, round(p.price * 0.78, 2), 7
        FROM generate_series(1, %(products)s) AS n
        CROSS JOIN LATERAL (SELECT (10 + (n * 37) %% 990 + ((n * 13) %% 100) / 100.0)::numeric(12, 2) AS price) p
        CROSS JOIN LATERAL (SELECT '890' || lpad(n::text, 9, '0') AS code) c
        CROSS JOIN LATERAL (SELECT c.code, sum(substr(c.code, i, 1)::int * CASE WHEN i %% 2 = 0 THEN 3 ELSE 1 END) AS s
                            FROM generate_series(1, 12) AS i) e
        ORDER BY n""",
    "product_map": """
        CREATE TEMP TABLE scale_products AS
        SELECT id, (row_number() OVER (ORDER BY id) - 1)::int AS rn, name, price, tax_percent, hsn_code, mrp, unit,
               cost_price FROM catalog_product WHERE sku LIKE 'SKU%%';
        CREATE UNIQUE INDEX ON scale_products (rn); ANALYZE scale_products""",
    "stock": """
        INSERT INTO catalog_storestock (stock, updated_at, product_id, store_id)
        SELECT CASE WHEN p.unit = 'kg' THEN 400 ELSE 600 END, %(at)s, p.id, s.id
        FROM scale_stores s CROSS JOIN scale_products p ORDER BY s.id, p.id;
        INSERT INTO catalog_stockmovement (kind, quantity, balance_after, unit_cost, reason, created_at, product_id,
                                           store_id)
        SELECT 'opening', stock, stock, NULL, 'opening stock', %(at)s, product_id, store_id
        FROM catalog_storestock ORDER BY store_id, product_id""",
    # Customers: phones +919nnnnnnnnn; a quarter with an email; one in fifty B2B (half in state 27).
    # Customer 1 is the one with VIP_BILLS bills.
    "customers": """
        INSERT INTO customers_customer (email, created_at, name, phone, billing_address, gstin, legal_name, state_code)
        SELECT CASE WHEN c %% 4 = 0 THEN 'scale-' || c || '@example.com' END, now() - interval '2 years',
               CASE WHEN c = 1 THEN 'Two Thousand Bills' ELSE 'Customer ' || c END,
               '+919' || lpad(c::text, 9, '0'), CASE WHEN c %% 50 = 0 THEN 'Plot ' || c || ', Industrial Area' ELSE '' END,
               CASE WHEN c %% 50 = 0 THEN g.state || 'BCDE' || chr(65 + (c / 10000) %% 26) || lpad((c %% 10000)::text, 4, '0')
                                          || 'F1Z5' END,
               CASE WHEN c %% 50 = 0 THEN 'Buyer ' || c || ' Traders' ELSE '' END,
               CASE WHEN c %% 50 = 0 THEN g.state END
        FROM generate_series(1, %(customers)s) AS c
        CROSS JOIN LATERAL (SELECT CASE WHEN c %% 100 = 0 THEN '27' ELSE %(state)s END AS state) g""",
    "customer_map": """
        CREATE TEMP TABLE scale_customers AS
        SELECT id, (row_number() OVER (ORDER BY id) - 1)::int AS rn, gstin, state_code, legal_name, billing_address
        FROM customers_customer WHERE phone LIKE '+919%%';
        CREATE UNIQUE INDEX ON scale_customers (rn); ANALYZE scale_customers""",
    "store_seller": """
        CREATE TEMP TABLE scale_seller AS
        SELECT s.id, s.name, s.legal_name, s.address, s.gstin, s.state_code FROM catalog_store s""",
    # ---- one chunk of bills: scale_b (the bills), scale_l (lines), scale_a (amounts) ----
    # The generic bills n0..n1: day (n - 1) / per_day from `first`, 09:00-21:00, a till by hash.
    "chunk_bills": """
        CREATE TEMP TABLE scale_b AS
        SELECT n, %(id_base)s + n AS id, t.id AS till, t.store_id AS store, t.series, t.cseries, t.cashier,
               ss.id AS session, at,
               1 + ((n * 40503) %% 100) / 20 AS nlines,
               CASE WHEN n %% 10 = 3 THEN 5 ELSE 0 END AS disc, n %% 10 AS mode,
               CASE WHEN n %% %(vip_step)s = 0 THEN 0
                    WHEN (n * 7) %% 10 < 4 THEN 1 + ((n * 2654435761) >> 3) %% (%(customers)s - 1) END AS crn
        FROM generate_series(%(n0)s::bigint, %(n1)s::bigint) AS n
        CROSS JOIN LATERAL (SELECT least((n - 1) / %(per_day)s, %(days)s - 1)::int AS d) dd
        CROSS JOIN LATERAL (SELECT %(first)s::date + dd.d AS day,
            %(first)s::date + dd.d + interval '9 hours'
              + (((n - 1) - dd.d * %(per_day)s)::float8 / %(per_day)s) * interval '12 hours' AS at) w
        JOIN scale_tills t ON t.rn = 1 + ((n * 2246822519) >> 7) %% %(tills)s
        JOIN scale_sessions ss ON ss.till_id = t.id AND ss.day = w.day""",
    # Special bills in a till's open session, the last two hours: ``nlines`` lines each.
    "chunk_bills_open": """
        CREATE TEMP TABLE scale_b AS
        SELECT n, %(id_base)s + n AS id, t.id AS till, t.store_id AS store, t.series, t.cseries, t.cashier,
               s.id AS session, now() - interval '2 hours' + (n - %(n0)s) * interval '3 seconds' AS at,
               %(nlines)s AS nlines, 0 AS disc, n %% 10 AS mode,
               CASE WHEN (n * 7) %% 10 < 4 THEN 1 + ((n * 2654435761) >> 3) %% (%(customers)s - 1) END AS crn
        FROM generate_series(%(n0)s::bigint, %(n1)s::bigint) AS n
        JOIN scale_tills t ON t.rn = %(till_rn)s
        JOIN cashdrawer_tillsession s ON s.till_id = t.id AND s.status = 'open'""",
    # Lines: k-th line's product (h + k * P / 13) mod P (distinct within a bill); quantity 1-3, or
    # 0.250-2.000 kg; the first line of every refund_every-th bill is refunded (one unit, or the whole
    # weighed line).
    "chunk_lines": """
        ANALYZE scale_b;
        CREATE TEMP TABLE scale_l AS
        SELECT *, sub + tax AS total,
               CASE WHEN refunded AND unit = 'each' AND quantity > 1 THEN 1 WHEN refunded THEN quantity ELSE 0 END AS rqty
        FROM (
          SELECT b.id AS purchase_id, b.n, k, b.at, b.store, p.id AS product_id, p.name, p.price, p.tax_percent AS rate,
                 p.hsn_code, p.mrp, p.unit, p.cost_price, q.quantity, g.gross, b.disc AS disc_pct, g.discount,
                 g.gross - g.discount AS sub, round((g.gross - g.discount) * p.tax_percent / 100, 2) AS tax,
                 (k = 0 AND ((b.n * 2654435761) >> 9) %% %(refund_every)s = 0 AND b.mode <> 9) AS refunded
          FROM scale_b b CROSS JOIN generate_series(0, b.nlines - 1) AS k
          JOIN scale_products p ON p.rn = (((b.n * 2654435761) >> 5) %% %(products)s + k * (%(products)s / 13)) %% %(products)s
          CROSS JOIN LATERAL (SELECT CASE WHEN p.unit = 'kg' THEN 0.250 * (1 + (b.n + k) %% 8)
                                          ELSE 1 + ((b.n + k * 13) %% 5) / 2 END::numeric(13, 3) AS quantity) q
          CROSS JOIN LATERAL (SELECT round(p.price * q.quantity, 2) AS gross,
                                     round(round(p.price * q.quantity, 2) * b.disc / 100, 2) AS discount) g
        ) l;
        ALTER TABLE scale_l ADD COLUMN rsub numeric, ADD COLUMN rtax numeric;
        UPDATE scale_l SET rsub = CASE WHEN rqty = quantity THEN sub ELSE round(sub / quantity * rqty, 2) END,
                           rtax = CASE WHEN rqty = quantity THEN tax ELSE round(tax / quantity * rqty, 2) END
        WHERE refunded;
        ANALYZE scale_l""",
    # Amounts. Modes: 0-3 cash (n % 3 = 0: tendered up to the next 100), 4-6 card, 7-8 UPI, 9 card +
    # cash. Cash rounds to the rupee; card and UPI never round. B2B when the customer has a GSTIN.
    "chunk_amounts": """
        CREATE TEMP TABLE scale_a AS
        SELECT *, card + upi + cash AS payable, card + upi + cash - total AS rounding,
               cash + change AS cash_paid,
               CASE WHEN rtotal IS NULL THEN NULL WHEN mode <= 3 THEN round(rtotal) ELSE rtotal END AS ramount
        FROM (
          SELECT b.*, l.sub, l.tax, l.cgst, l.discount, l.cost, l.sub + l.tax AS total, l.rtotal, l.rsub, l.rtax,
                 c.id AS customer, c.gstin, c.state_code AS buyer_state, c.legal_name AS buyer_name,
                 c.billing_address AS buyer_address,
                 CASE WHEN b.mode BETWEEN 4 AND 6 THEN l.sub + l.tax WHEN b.mode = 9 THEN trunc((l.sub + l.tax) / 2, 2)
                      ELSE 0 END AS card,
                 CASE WHEN b.mode IN (7, 8) THEN l.sub + l.tax ELSE 0 END AS upi,
                 CASE WHEN b.mode <= 3 THEN round(l.sub + l.tax)
                      WHEN b.mode = 9 THEN round(l.sub + l.tax - trunc((l.sub + l.tax) / 2, 2)) ELSE 0 END AS cash,
                 CASE WHEN b.mode <= 3 AND b.n %% 3 = 0 THEN (floor(round(l.sub + l.tax) / 100) + 1) * 100 - round(l.sub + l.tax)
                      ELSE 0 END AS change
          FROM scale_b b
          JOIN (SELECT purchase_id, sum(sub) AS sub, sum(tax) AS tax, sum(round(tax / 2, 2)) AS cgst,
                       sum(discount) AS discount, sum(round(cost_price * quantity, 2)) AS cost,
                       sum(rsub + rtax) AS rtotal, sum(rsub) AS rsub, sum(rtax) AS rtax
                FROM scale_l GROUP BY purchase_id) l ON l.purchase_id = b.id
          LEFT JOIN scale_customers c ON c.rn = b.crn
        ) a;
        ANALYZE scale_a""",
    # Numbers: the series' counter for the financial year, then one up per bill in time order.
    "chunk_numbers": """
        CREATE TEMP TABLE scale_num AS
        SELECT a.id, a.series || '/' || f.fy || '/'
                 || lpad((coalesce(dc.last_number, 0) + row_number() OVER (PARTITION BY a.series, f.fy ORDER BY a.at, a.n))::text,
                         6, '0') AS number, a.series, f.fy
        FROM scale_a a
        CROSS JOIN LATERAL (SELECT to_char(a.at - interval '3 months', 'YY')
                                   || to_char(a.at - interval '3 months' + interval '1 year', 'YY') AS fy) f
        LEFT JOIN purchases_documentcounter dc ON dc.series = a.series AND dc.financial_year = f.fy;
        INSERT INTO purchases_documentcounter (series, financial_year, last_number)
        SELECT series, fy, count(*) FROM scale_num GROUP BY series, fy
        ON CONFLICT (series, financial_year) DO UPDATE SET last_number = purchases_documentcounter.last_number + excluded.last_number""",
    "chunk_purchases": """
        INSERT INTO purchases_purchase (id, customer_id, created_by_id, created_at, till_id, session_id, store_id, number,
            subtotal, tax_total, total, rounding, payable, paid_amount, change_due, cash_paid, discount_percent,
            discount_total, discount_reason, invoice_status, invoice_round, invoice_attempts, invoice_last_error,
            cgst_total, sgst_total, igst_total, cost_total, refundable, cash_refundable, supply_type, customer_gstin,
            place_of_supply, buyer_legal_name, buyer_address, seller_name, seller_legal_name, seller_address,
            seller_gstin, seller_state_code)
        SELECT a.id, a.customer, a.cashier, a.at, a.till, a.session, a.store, num.number,
               a.sub, a.tax, a.total, a.rounding, a.payable, a.payable + a.change, a.change, a.cash_paid, a.disc,
               a.discount, CASE WHEN a.disc > 0 THEN 'loyalty' ELSE '' END, 'skipped', 0, 0, '',
               CASE WHEN igst THEN 0 ELSE a.cgst END, CASE WHEN igst THEN 0 ELSE a.tax - a.cgst END,
               CASE WHEN igst THEN a.tax ELSE 0 END, a.cost,
               a.payable - coalesce(a.ramount, 0),
               least(a.cash_paid - a.change - CASE WHEN a.mode <= 3 THEN coalesce(a.ramount, 0) ELSE 0 END,
                     a.payable - coalesce(a.ramount, 0)),
               CASE WHEN a.gstin IS NULL THEN 'B2C' ELSE 'B2B' END, a.gstin, coalesce(a.buyer_state, se.state_code),
               coalesce(a.buyer_name, ''), coalesce(a.buyer_address, ''),
               se.name, se.legal_name, se.address, se.gstin, se.state_code
        FROM scale_a a JOIN scale_num num ON num.id = a.id JOIN scale_seller se ON se.id = a.store
        CROSS JOIN LATERAL (SELECT coalesce(a.buyer_state <> se.state_code, false) AS igst) i""",
    "chunk_items": """
        INSERT INTO purchases_purchaseitem (purchase_id, created_at, store_id, product_id, product_name, quantity,
            unit_price, tax_percent, gross, discount_percent, discount_amount, subtotal, tax_amount, total,
            refunded_quantity, refunded_subtotal, refunded_tax_amount, cgst, sgst, igst, hsn_code, mrp, unit, cost_price)
        SELECT l.purchase_id, l.at, l.store, l.product_id, l.name, l.quantity, l.price, l.rate, l.gross, l.disc_pct,
               l.discount, l.sub, l.tax, l.total, l.rqty, coalesce(l.rsub, 0), coalesce(l.rtax, 0),
               CASE WHEN i.igst THEN 0 ELSE round(l.tax / 2, 2) END,
               CASE WHEN i.igst THEN 0 ELSE l.tax - round(l.tax / 2, 2) END, CASE WHEN i.igst THEN l.tax ELSE 0 END,
               l.hsn_code, l.mrp, l.unit, l.cost_price
        FROM scale_l l JOIN scale_a a ON a.id = l.purchase_id JOIN scale_seller se ON se.id = a.store
        CROSS JOIN LATERAL (SELECT coalesce(a.buyer_state <> se.state_code, false) AS igst) i
        ORDER BY l.purchase_id, l.k""",
    "chunk_payments": """
        INSERT INTO purchases_payment (purchase_id, method_id, is_cash, amount, reference, store_id)
        SELECT a.id, m.id, m.is_cash, x.amount, CASE WHEN m.is_cash THEN '' ELSE 'REF' || a.n END, a.store
        FROM scale_a a
        CROSS JOIN LATERAL (VALUES ('card', a.card), ('upi', a.upi), ('cash', a.cash_paid)) AS x (code, amount)
        JOIN purchases_paymentmethod m ON m.code = x.code
        WHERE x.amount > 0 ORDER BY a.id""",
    "chunk_refunds": """
        CREATE TEMP TABLE scale_r AS
        SELECT nextval(pg_get_serial_sequence('purchases_refund', 'id')) AS id, a.id AS purchase_id, a.n, a.mode,
               a.till, a.session, a.store, a.cashier, a.cseries, a.at + interval '30 minutes' AS at,
               a.rsub, a.rtax, a.rtotal, a.ramount, l.product_id, l.rqty, i.id AS item_id
        FROM scale_a a JOIN scale_l l ON l.purchase_id = a.id AND l.refunded
        JOIN purchases_purchaseitem i ON i.purchase_id = a.id AND i.product_id = l.product_id
        WHERE a.ramount IS NOT NULL;
        CREATE TEMP TABLE scale_rnum AS
        SELECT r.id, r.cseries || '/' || f.fy || '/'
                 || lpad((coalesce(dc.last_number, 0) + row_number() OVER (PARTITION BY r.cseries, f.fy ORDER BY r.at, r.n))::text,
                         6, '0') AS number, r.cseries AS series, f.fy
        FROM scale_r r
        CROSS JOIN LATERAL (SELECT to_char(r.at - interval '3 months', 'YY')
                                   || to_char(r.at - interval '3 months' + interval '1 year', 'YY') AS fy) f
        LEFT JOIN purchases_documentcounter dc ON dc.series = r.cseries AND dc.financial_year = f.fy;
        INSERT INTO purchases_documentcounter (series, financial_year, last_number)
        SELECT series, fy, count(*) FROM scale_rnum GROUP BY series, fy
        ON CONFLICT (series, financial_year) DO UPDATE SET last_number = purchases_documentcounter.last_number + excluded.last_number;
        INSERT INTO purchases_refund (id, purchase_id, till_id, session_id, store_id, created_by_id, created_at, reason,
                                      restock, subtotal, tax_total, total, rounding, amount, number, cost_total)
        SELECT r.id, r.purchase_id, r.till, r.session, r.store, r.cashier, r.at, 'customer returned it', true, r.rsub,
               r.rtax, r.rtotal, r.ramount - r.rtotal, r.ramount, num.number, 0
        FROM scale_r r JOIN scale_rnum num ON num.id = r.id;
        INSERT INTO purchases_refundline (refund_id, item_id, quantity, subtotal, tax_amount, total, store_id)
        SELECT id, item_id, rqty, rsub, rtax, rtotal, store FROM scale_r;
        INSERT INTO purchases_refundpayment (refund_id, method, is_cash, amount, reference, store_id)
        SELECT id, CASE WHEN mode <= 3 THEN 'cash' WHEN mode IN (7, 8) THEN 'upi' ELSE 'card' END, mode <= 3, ramount,
               '', store FROM scale_r WHERE ramount > 0""",
    # Receipts in the chunk's days: each store on the days d with (d + store) % 7 = 0, at 08:30.
    "chunk_receipts": """
        CREATE TEMP TABLE scale_rc AS
        SELECT nextval(pg_get_serial_sequence('catalog_receipt', 'id')) AS id, s.id AS store, s.rn AS srn, d,
               (%(first)s::date + d) + interval '8 hours 30 minutes' AS at
        FROM scale_stores s CROSS JOIN generate_series(%(d0)s::int, %(d1)s::int) AS d WHERE (d + s.rn) %% 7 = 0;
        CREATE TEMP TABLE scale_rcl AS
        SELECT rc.id AS receipt_id, rc.store, rc.at, p.id AS product_id, q.quantity, p.cost_price AS unit_cost,
               p.tax_percent, round(q.quantity * p.cost_price, 2) AS sub,
               round(round(q.quantity * p.cost_price, 2) * p.tax_percent / 100, 2) AS tax
        FROM scale_rc rc CROSS JOIN generate_series(0, %(lines)s::int - 1) AS k
        JOIN scale_products p ON p.rn = ((rc.d * 7919 + rc.srn * 104729) %% %(products)s + k * (%(products)s / 41)) %% %(products)s
        CROSS JOIN LATERAL (SELECT CASE WHEN p.unit = 'kg' THEN 25 ELSE 48 END::numeric(13, 3) AS quantity) q;
        INSERT INTO catalog_receipt (id, supplier_invoice, invoice_date, note, subtotal, tax_total, total, created_at,
                                     supplier_id, store_id)
        SELECT rc.id, 'SI-' || rc.id, rc.at::date, '', l.sub, l.tax, l.sub + l.tax, rc.at,
               (SELECT min(id) FROM catalog_supplier) + rc.id %% %(suppliers)s, rc.store
        FROM scale_rc rc JOIN (SELECT receipt_id, sum(sub) AS sub, sum(tax) AS tax FROM scale_rcl GROUP BY 1) l
          ON l.receipt_id = rc.id;
        INSERT INTO catalog_receiptline (quantity, unit_cost, tax_percent, subtotal, tax_amount, product_id, receipt_id)
        SELECT quantity, unit_cost, tax_percent, sub, tax, product_id, receipt_id FROM scale_rcl""",
    # The chunk's stock ledger: sales out, refunds and receipts in, each balance running on from
    # the store's stock; then the stock itself.
    "chunk_ledger": """
        CREATE TEMP TABLE scale_m AS
        SELECT 'sale' AS kind, -l.quantity AS quantity, l.at, l.store, l.product_id, l.purchase_id, NULL::bigint AS refund_id,
               NULL::bigint AS receipt_id, NULL::numeric AS unit_cost, l.n AS seq FROM scale_l l
        UNION ALL
        SELECT 'refund_restock', r.rqty, r.at, r.store, r.product_id, NULL, r.id, NULL, NULL, r.n FROM scale_r r
        UNION ALL
        SELECT 'receipt', c.quantity, c.at, c.store, c.product_id, NULL, NULL, c.receipt_id, c.unit_cost, 0 FROM scale_rcl c;
        INSERT INTO catalog_stockmovement (kind, quantity, balance_after, unit_cost, reason, created_at, product_id,
                                           purchase_id, refund_id, receipt_id, store_id)
        SELECT m.kind, m.quantity,
               s.stock + sum(m.quantity) OVER (PARTITION BY m.store, m.product_id ORDER BY m.at, m.seq, m.kind
                                               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
               m.unit_cost, '', m.at, m.product_id, m.purchase_id, m.refund_id, m.receipt_id, m.store
        FROM scale_m m JOIN catalog_storestock s ON s.store_id = m.store AND s.product_id = m.product_id
        ORDER BY m.at, m.seq;
        UPDATE catalog_storestock s SET stock = s.stock + d.delta, updated_at = d.at
        FROM (SELECT store, product_id, sum(quantity) AS delta, max(at) AS at FROM scale_m GROUP BY 1, 2) d
        WHERE s.store_id = d.store AND s.product_id = d.product_id""",
    "chunk_drop": """
        DROP TABLE IF EXISTS scale_b, scale_l, scale_a, scale_num, scale_r, scale_rnum, scale_rc, scale_rcl, scale_m""",
    # Each store counts every 50th product and finds it short: down to 2-6 units (the low-stock list).
    "stock_counts": """
        CREATE TEMP TABLE scale_sc AS
        SELECT nextval(pg_get_serial_sequence('catalog_stockcount', 'id')) AS id, s.id AS store
        FROM scale_stores s;
        INSERT INTO catalog_stockcount (id, status, note, created_at, posted_at, store_id)
        SELECT id, 'posted', 'year-end count', now() - interval '4 hours', now() - interval '3 hours 30 minutes', store
        FROM scale_sc;
        CREATE TEMP TABLE scale_scl AS
        SELECT sc.id AS count_id, sc.store, st.product_id, st.stock AS expected,
               least(st.stock, 2 + p.rn %% 5)::numeric(13, 3) AS counted
        FROM scale_sc sc JOIN catalog_storestock st ON st.store_id = sc.store
        JOIN scale_products p ON p.id = st.product_id AND p.rn %% 50 = 0;
        INSERT INTO catalog_stockcountline (opening, counted, expected, difference, counted_at, count_id, product_id)
        SELECT expected, counted, expected, counted - expected, now() - interval '4 hours', count_id, product_id
        FROM scale_scl;
        INSERT INTO catalog_stockmovement (kind, quantity, balance_after, reason, created_at, product_id, stock_count_id,
                                           store_id)
        SELECT 'count', counted - expected, counted, 'stock count', now() - interval '3 hours 30 minutes', product_id,
               count_id, store FROM scale_scl WHERE counted <> expected;
        UPDATE catalog_storestock s SET stock = c.counted, updated_at = now() - interval '3 hours 30 minutes'
        FROM scale_scl c WHERE s.store_id = c.store AND s.product_id = c.product_id""",
    "sequences": """
        SELECT setval(pg_get_serial_sequence('purchases_purchase', 'id'), (SELECT max(id) FROM purchases_purchase))""",
    "droppable_indexes": """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = 'public' AND i.tablename = ANY(%(tables)s) AND i.indexdef NOT LIKE 'CREATE UNIQUE%%'
          AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conname = i.indexname)""",
    # The foreign keys of the tables the load fills: dropped for the load and added back after it,
    # as pg_restore does, so each is checked once over the whole table (a join) instead of row by
    # row at every chunk's commit (about a third of the load's time).
    "foreign_keys": """
        SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
        WHERE c.contype = 'f' AND c.conrelid::regclass::text = ANY(%(tables)s)
        ORDER BY 1, 2""",
    "counts": """
        SELECT (SELECT count(*) FROM catalog_store), (SELECT count(*) FROM cashdrawer_till),
               (SELECT count(*) FROM catalog_product), (SELECT count(*) FROM purchases_purchase),
               (SELECT count(*) FROM purchases_purchaseitem), (SELECT count(*) FROM purchases_payment),
               (SELECT count(*) FROM purchases_refund), (SELECT count(*) FROM catalog_stockmovement),
               (SELECT count(*) FROM catalog_receipt), (SELECT pg_size_pretty(pg_database_size(current_database())))""",
}


@dataclass
class Size:
    bills: int = 5_000_000
    products: int = 50_000
    stores: int = 20
    days: int = 400
    chunk_days: int = 7
    refund_every: int = 100

    @property
    def tills(self) -> int:
        return self.stores * TILLS_PER_STORE

    @property
    def customers(self) -> int:
        return max(1000, self.bills // 25)


def gstin_with_check(body: str) -> str:
    """``body`` (14 characters) with its GSTIN check character (the API checks it)."""
    from stdnum.in_ import gstin

    return next(body + c for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" if gstin.is_valid(body + c))


def build(db: psycopg.Connection, size: Size, log: Callable[[str], None]) -> float:
    """Fill the migrated database of ``db`` (autocommit) with the chain; returns seconds taken."""
    t0 = time.perf_counter()
    db.execute(SQL["session"])
    indexes = db.execute(SQL["droppable_indexes"], {"tables": list(BIG_TABLES)}).fetchall()
    for name, _ in indexes:
        db.execute(f'DROP INDEX "{name}"')
    foreign_keys = db.execute(SQL["foreign_keys"], {"tables": list(BIG_TABLES)}).fetchall()
    for table, name, _ in foreign_keys:
        db.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    log(f"dropped {len(indexes)} indexes and {len(foreign_keys)} foreign keys for the load")
    seed_chain(db, size, log)
    load_bills(db, size, log)
    step("stock counts", db, SQL["stock_counts"], {}, log)
    step("sequences", db, SQL["sequences"], {}, log)
    log(f"recreating {len(indexes)} indexes")
    for _, definition in indexes:
        db.execute(definition)
    log(f"adding back {len(foreign_keys)} foreign keys, each checked over its whole table")
    for table, name, definition in foreign_keys:
        db.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    log("VACUUM ANALYZE")
    db.execute("VACUUM (ANALYZE)")
    counts = db.execute(SQL["counts"]).fetchone()
    assert counts is not None
    log(
        "stores {}, tills {}, products {:,}, bills {:,}, lines {:,}, payments {:,}, refunds {:,}, "
        "ledger rows {:,}, receipts {:,}; database {}".format(*counts)
    )
    return time.perf_counter() - t0


def step(name: str, db: psycopg.Connection, sql: str, params: dict, log: Callable[[str], None] | None = None) -> None:
    t0 = time.perf_counter()
    with db.transaction():
        for statement in split(sql):
            db.execute(statement, params)
    if log:
        log(f"{name}: {time.perf_counter() - t0:.1f} s")


def split(sql: str) -> list[str]:
    return [s.strip() for s in sql.split(";") if s.strip()]


def seed_chain(db: psycopg.Connection, size: Size, log) -> None:
    from datetime import date, timedelta

    today = date.today()
    first = today - timedelta(days=size.days)
    gstin = gstin_with_check(f"{GSTIN_STATE}AABCS1234K1Z")
    step("stores", db, SQL["stores"], {"state": GSTIN_STATE, "gstin": gstin, "stores": size.stores}, log)
    step("store map", db, SQL["store_map"], {})
    step("cashiers", db, SQL["cashiers"], {"tills": size.tills})
    step("tills", db, SQL["tills"], {"per": TILLS_PER_STORE}, log)
    step("till map", db, SQL["till_map"], {})
    step("sessions", db, SQL["sessions"], {"first": first, "last": today - timedelta(days=1)}, log)
    step("session map", db, SQL["session_map"], {})
    step("suppliers", db, SQL["suppliers"], {"n": SUPPLIERS})
    step("products", db, SQL["products"], {"products": size.products, "words": PRODUCT_WORDS, "brands": BRANDS}, log)
    step("product map", db, SQL["product_map"], {})
    opening = f"{first - timedelta(days=1)} 20:00+00"
    step("store stock", db, SQL["stock"], {"at": opening}, log)
    step("customers", db, SQL["customers"], {"customers": size.customers, "state": GSTIN_STATE}, log)
    step("customer map", db, SQL["customer_map"], {})
    step("seller", db, SQL["store_seller"], {})


def load_bills(db: psycopg.Connection, size: Size, log) -> None:
    from datetime import date, timedelta

    first = date.today() - timedelta(days=size.days)
    per_day = max(1, size.bills // size.days)
    id_base = db.execute("SELECT coalesce(max(id), 0) FROM purchases_purchase").fetchone()[0]  # type: ignore[index]
    common = {
        "id_base": id_base,
        "first": first,
        "per_day": per_day,
        "days": size.days,
        "tills": size.tills,
        "customers": size.customers,
        "products": size.products,
        "vip_step": max(1, size.bills // VIP_BILLS),
        "refund_every": size.refund_every,
        "suppliers": SUPPLIERS,
        "lines": RECEIPT_LINES,
    }
    t0 = time.perf_counter()
    for d0 in range(0, size.days, size.chunk_days):
        d1 = min(size.days, d0 + size.chunk_days) - 1
        n0 = d0 * per_day + 1
        n1 = size.bills if d1 == size.days - 1 else (d1 + 1) * per_day
        chunk(db, "chunk_bills", {**common, "n0": n0, "n1": n1, "d0": d0, "d1": d1})
        done = n1 / size.bills
        elapsed = time.perf_counter() - t0
        log(
            f"bills {n1:,} of {size.bills:,} (day {d1 + 1}): {elapsed:.0f} s, about {elapsed / done - elapsed:.0f} s to go"
        )
    n = size.bills
    # The open sessions: the MAIN till's with BIG_SESSION_BILLS bills, till 2's with the PDF bills.
    no_receipts = {"d0": 1, "d1": 0, "refund_every": 10**9}  # no refund in the future
    chunk(
        db,
        "chunk_bills_open",
        {
            **common,
            **no_receipts,
            "n0": n + 1,
            "n1": n + BIG_SESSION_BILLS,
            "till_rn": 1,
            "nlines": "1 + ((n * 40503) % 100) / 20",
        },
    )
    n += BIG_SESSION_BILLS
    chunk(
        db, "chunk_bills_open", {**common, **no_receipts, "n0": n + 1, "n1": n + PDF_BILLS, "till_rn": 2, "nlines": 12}
    )
    log(f"open sessions: {BIG_SESSION_BILLS} bills at the MAIN till, {PDF_BILLS} bills of 12 lines at till 2")


def chunk(db: psycopg.Connection, bills_sql: str, params: dict) -> None:
    """One chunk of bills, from ``bills_sql`` (which makes scale_b) to the stock ledger."""
    names = (
        bills_sql,
        "chunk_lines",
        "chunk_amounts",
        "chunk_numbers",
        "chunk_purchases",
        "chunk_items",
        "chunk_payments",
        "chunk_refunds",
        "chunk_receipts",
        "chunk_ledger",
        "chunk_drop",
    )
    with db.transaction():
        for name in names:
            sql = SQL[name]
            if "nlines" in params and name == "chunk_bills_open":
                sql = sql.replace("%(nlines)s", str(params["nlines"]).replace("%", "%%"))
            for statement in split(sql):
                t0 = time.perf_counter()
                db.execute(statement, params)
                if PROFILE:
                    print(f"  {time.perf_counter() - t0:7.2f} s  {name}: {' '.join(statement.split())[:90]}")
