-- One bill's worth of SQL in one transaction, for pgbench: the machine's raw limit for ringing up
-- bills, measured in the same run as the app (bench/run.py). It mirrors the statements that
-- purchases.services.purchase_create sends, in the same lock order, on a copy of the app's schema
-- with the same constraints and indexes: timeouts, customer get-or-create, products FOR UPDATE
-- by id, the bill, 3 lines, one guarded stock UPDATE, then (last, as the app does) the till row
-- FOR UPDATE, its open session, every denomination of the till FOR UPDATE by value, one guarded
-- drawer UPDATE, the drawer movements, the cash payment, the invoice number (one counter upsert)
-- and the bill's till, session and number. The arithmetic is done in SQL, so this is an upper bound
-- for what any app on this schema can do.
--
-- Expects products with ids 1..50, till 1 with an open session 1 and the INR denominations at
-- till 1 (run.py seeds them).
\set c random(1, 9600)
\set p1 random(1, 16)
\set p2 random(17, 33)
\set p3 random(34, 50)
\set q1 random(1, 3)
\set q2 random(1, 3)
\set q3 random(1, 3)
BEGIN;
SELECT set_config('lock_timeout', '3000ms', true), set_config('statement_timeout', '10000ms', true);
INSERT INTO customers_customer (email, created_at) VALUES ('pgbench-' || :c || '@example.com', now()) ON CONFLICT DO NOTHING;
SELECT id AS cid FROM customers_customer WHERE email = 'pgbench-' || :c || '@example.com' \gset
SELECT id, name, price, tax_percent, stock, is_active FROM catalog_product WHERE id IN (:p1, :p2, :p3) ORDER BY id FOR UPDATE OF catalog_product;
WITH l AS (
    SELECT p.price * q.qty AS sub, round(p.price * q.qty * p.tax_percent / 100, 2) AS tax
    FROM catalog_product p JOIN (VALUES (:p1, :q1), (:p2, :q2), (:p3, :q3)) AS q (pid, qty) ON p.id = q.pid
), b AS (
    SELECT sum(sub) AS sub, sum(tax) AS tax, round(sum(sub) + sum(tax)) AS payable FROM l
)
INSERT INTO purchases_purchase (customer_id, created_by_id, created_at, subtotal, tax_total, total, rounding, payable, paid_amount, cash_paid, change_due)
SELECT :cid, NULL, now(), sub, tax, sub + tax, payable - (sub + tax), payable, ceil(payable / 500) * 500 + 500,
       ceil(payable / 500) * 500 + 500, ceil(payable / 500) * 500 + 500 - payable FROM b
RETURNING id AS bill, paid_amount AS paid, change_due AS change \gset
INSERT INTO purchases_payment (purchase_id, method_id, is_cash, amount, reference)
SELECT :bill, m.id, true, :paid, '' FROM purchases_paymentmethod m WHERE m.is_cash;
INSERT INTO purchases_purchaseitem (purchase_id, created_at, product_id, product_name, quantity, unit_price, tax_percent, gross, discount_percent, discount_amount, subtotal, tax_amount, total)
SELECT :bill, now(), p.id, p.name, q.qty, p.price, p.tax_percent, p.price * q.qty, 0, 0, p.price * q.qty, round(p.price * q.qty * p.tax_percent / 100, 2),
       p.price * q.qty + round(p.price * q.qty * p.tax_percent / 100, 2)
FROM catalog_product p JOIN (VALUES (:p1, :q1), (:p2, :q2), (:p3, :q3)) AS q (pid, qty) ON p.id = q.pid;
UPDATE catalog_product SET stock = stock - CASE id WHEN :p1 THEN :q1 WHEN :p2 THEN :q2 ELSE :q3 END, updated_at = now()
WHERE (id = :p1 AND stock >= :q1) OR (id = :p2 AND stock >= :q2) OR (id = :p3 AND stock >= :q3);
SELECT id, code, is_active, requires_open_session FROM cashdrawer_till WHERE id = 1 FOR UPDATE OF cashdrawer_till;
SELECT id AS sid FROM cashdrawer_tillsession WHERE till_id = 1 AND status = 'open' LIMIT 1 \gset
SELECT id, value, count FROM cashdrawer_denomination WHERE till_id = 1 ORDER BY value FOR UPDATE OF cashdrawer_denomination;
WITH d (value, delta) AS (
    VALUES (500.00, (:paid / 500)::int), (100.00, -floor(:change / 100)::int), (1.00, -(:change - floor(:change / 100) * 100)::int)
)
UPDATE cashdrawer_denomination AS den SET count = den.count + d.delta
FROM d WHERE den.till_id = 1 AND den.value = d.value AND d.delta <> 0 AND den.count + d.delta >= 0;
WITH d (value, kind, delta) AS (
    VALUES (500.00, 'tender_in', (:paid / 500)::int), (100.00, 'change_out', -floor(:change / 100)::int),
           (1.00, 'change_out', -(:change - floor(:change / 100) * 100)::int)
)
INSERT INTO cashdrawer_drawermovement (till_id, session_id, denomination_id, kind, delta, count_after, purchase_id, user_id, reason, created_at)
SELECT 1, :sid, den.id, d.kind, d.delta, den.count, :bill, NULL, 'bill #' || :bill, now()
FROM d JOIN cashdrawer_denomination den ON den.till_id = 1 AND den.value = d.value WHERE d.delta <> 0;
WITH counter AS (
    INSERT INTO purchases_documentcounter (series, financial_year, last_number)
    SELECT coalesce(t.invoice_series, t.id::text),
           CASE WHEN extract(month FROM now()) >= 4 THEN to_char(now(), 'YY') || to_char(now() + interval '1 year', 'YY')
                ELSE to_char(now() - interval '1 year', 'YY') || to_char(now(), 'YY') END, 1
    FROM cashdrawer_till t WHERE t.id = 1
    ON CONFLICT (series, financial_year) DO UPDATE SET last_number = purchases_documentcounter.last_number + 1
    RETURNING series || '/' || financial_year || '/' || lpad(last_number::text, 6, '0') AS number
)
UPDATE purchases_purchase SET till_id = 1, session_id = :sid, number = (SELECT number FROM counter) WHERE id = :bill;
COMMIT;
