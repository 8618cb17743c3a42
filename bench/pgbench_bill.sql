-- One bill's worth of SQL in one transaction, for pgbench: the machine's raw limit for ringing up
-- bills, measured in the same run as the app (bench/run.py). It mirrors the statements that
-- purchases.services.purchase_create sends, in the same lock order, on a copy of the app's schema
-- with the same constraints and indexes: the payment methods with the timeouts and the customer
-- get-or-create (one statement), the till's store's stock rows locked by product id and the stock
-- taken (one guarded UPDATE whose CTE takes the locks), the bill with its 3 lines, its cash payment and its
-- stock ledger rows (one statement), then (last, as the app does) the till row FOR UPDATE, every denomination of the
-- till FOR UPDATE by value carrying the open session, and one statement for the rest: the guarded
-- drawer UPDATE with the drawer movements and the invoice email's job (the outbox row) as CTEs of
-- the invoice number's (the counter upsert) UPDATE of the bill's till, session and number. The
-- arithmetic is done in SQL, so this is an upper bound for what any app on this schema can do.
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
-- The payment methods, with the bill's timeouts and the customer's get-or-create as CTEs (the
-- insert runs only once the timeouts are set). Lost the race for a new email (the insert waited,
-- then did nothing): read the winner's row, as the app does.
WITH bill_timeouts AS MATERIALIZED (
    SELECT set_config('lock_timeout', '3000ms', true), set_config('statement_timeout', '10000ms', true),
           set_config('idle_in_transaction_session_timeout', '30000ms', true)
), customer_found AS (SELECT id, email, created_at FROM customers_customer WHERE email = 'pgbench-' || :c || '@example.com'),
customer_created AS (
    INSERT INTO customers_customer (email, created_at) SELECT 'pgbench-' || :c || '@example.com', now()
    WHERE NOT EXISTS (SELECT FROM customer_found) AND EXISTS (SELECT FROM bill_timeouts)
    ON CONFLICT (lower(email)) DO NOTHING RETURNING id, email, created_at
), customer AS (SELECT id, email, created_at FROM customer_found UNION ALL SELECT id, email, created_at FROM customer_created LIMIT 1)
SELECT m.id AS mid, m.is_cash, coalesce((SELECT id FROM customer), 0) AS cid,
       COALESCE((SELECT store_id FROM cashdrawer_till WHERE id = 1), (SELECT id FROM catalog_store WHERE is_default)) AS store
FROM bill_timeouts
LEFT JOIN purchases_paymentmethod AS m ON m.code = ANY('{}') OR m.is_cash ORDER BY m.is_cash DESC, m.code LIMIT 1 \gset
\if :cid = 0
SELECT id AS cid FROM customers_customer WHERE email = 'pgbench-' || :c || '@example.com' \gset
\endif
-- The till's store's stock rows locked in product-id order (the CTE runs to the end first: the
-- UPDATE waits on its count) and the stock taken where the product is active and the store has
-- enough; the products with their price at the store (a store price, else their own). The store is
-- the till's, read by the first statement.
WITH locked AS (SELECT s.id FROM catalog_storestock AS s WHERE s.store_id = :store
                AND s.product_id IN (:p1, :p2, :p3) ORDER BY s.product_id FOR UPDATE)
UPDATE catalog_storestock AS s SET stock = s.stock - v.qty, updated_at = now()
FROM (VALUES (:p1, :q1), (:p2, :q2), (:p3, :q3)) AS v (pid, qty) JOIN catalog_product AS p ON p.id = v.pid
WHERE s.store_id = :store AND s.product_id = v.pid AND p.is_active
  AND s.stock - v.qty >= 0 AND (SELECT count(*) FROM locked) = 3
RETURNING p.id, p.name,
          COALESCE((SELECT sp.price FROM catalog_storeprice AS sp WHERE sp.store_id = s.store_id AND sp.product_id = p.id), p.price),
          p.tax_percent, s.stock, p.is_active;
-- The bill, its lines and its payment in one statement (the bill's INSERT is a CTE the others read).
WITH l AS (
    SELECT p.price * q.qty AS sub, round(p.price * q.qty * p.tax_percent / 100, 2) AS tax
    FROM catalog_product p JOIN (VALUES (:p1, :q1), (:p2, :q2), (:p3, :q3)) AS q (pid, qty) ON p.id = q.pid
), b AS (
    SELECT sum(sub) AS sub, sum(tax) AS tax, sum(round(tax / 2, 2)) AS cgst, round(sum(sub) + sum(tax)) AS payable FROM l
), bill AS (
    -- Intra-state B2C: each line's tax split into CGST (half, rounded half-up) and SGST (the rest).
    INSERT INTO purchases_purchase (customer_id, created_by_id, created_at, subtotal, tax_total, total, rounding, payable, paid_amount, cash_paid, change_due,
                                    cgst_total, sgst_total, igst_total, store_id)
    SELECT :cid, NULL, now(), sub, tax, sub + tax, payable - (sub + tax), payable, ceil(payable / 500) * 500 + 500,
           ceil(payable / 500) * 500 + 500, ceil(payable / 500) * 500 + 500 - payable, cgst, tax - cgst, 0,
           :store FROM b
    RETURNING id, created_at, paid_amount, change_due, store_id
), lines AS (
    INSERT INTO purchases_purchaseitem (purchase_id, created_at, product_id, product_name, quantity, unit_price, tax_percent, gross, discount_percent, discount_amount, subtotal, tax_amount, total,
                                        hsn_code, cgst, sgst, igst, cost_price, store_id)
    SELECT bill.id, bill.created_at, p.id, p.name, q.qty, p.price, p.tax_percent, p.price * q.qty, 0, 0, p.price * q.qty, t.tax,
           p.price * q.qty + t.tax, p.hsn_code, round(t.tax / 2, 2), t.tax - round(t.tax / 2, 2), 0, p.cost_price, bill.store_id
    FROM bill, catalog_product p JOIN (VALUES (:p1, :q1), (:p2, :q2), (:p3, :q3)) AS q (pid, qty) ON p.id = q.pid
    CROSS JOIN LATERAL (SELECT round(p.price * q.qty * p.tax_percent / 100, 2) AS tax) AS t
), payment AS (
    INSERT INTO purchases_payment (purchase_id, method_id, is_cash, amount, reference, store_id)
    SELECT bill.id, m.id, true, bill.paid_amount, '', bill.store_id FROM bill, purchases_paymentmethod m WHERE m.is_cash
), moves AS (
    -- The stock ledger's sale rows at the till's store: the locked rows' stock as the UPDATE above left it.
    INSERT INTO catalog_stockmovement (store_id, product_id, kind, quantity, balance_after, unit_cost, reason, purchase_id, created_at)
    SELECT s.store_id, p.id, 'sale', -q.qty, s.stock, p.cost_price, '', bill.id, bill.created_at
    FROM bill, catalog_product p JOIN (VALUES (:p1, :q1), (:p2, :q2), (:p3, :q3)) AS q (pid, qty) ON p.id = q.pid
    JOIN catalog_storestock s ON s.product_id = p.id AND s.store_id = :store
)
SELECT id AS bill, paid_amount AS paid, change_due AS change FROM bill \gset
SELECT id, code, is_active, requires_open_session FROM cashdrawer_till WHERE id = 1 FOR UPDATE OF cashdrawer_till;
-- The app reads every locked row with the session beside it; pgbench's \gset takes one row, so the
-- locking SELECT is a CTE here (the same rows locked in the same order, in one statement).
WITH d AS (SELECT id, value, count FROM cashdrawer_denomination WHERE till_id = 1 ORDER BY value FOR UPDATE)
SELECT count(*) AS ndenominations, (SELECT s.id FROM cashdrawer_tillsession s WHERE s.till_id = 1 AND s.status = 'open'
    ORDER BY s.opened_at DESC, s.id DESC LIMIT 1) AS sid FROM d \gset
-- The bill's last statement: the drawer's guarded UPDATE, its movements (written only when every
-- count was updated) and the invoice email's job, as CTEs of the invoice number's (the counter
-- upsert) UPDATE of the bill's till, session and number.
WITH d (value, kind, delta) AS (
    VALUES (500.00, 'tender_in', (:paid / 500)::int), (100.00, 'change_out', -floor(:change / 100)::int),
           (1.00, 'change_out', -(:change - floor(:change / 100) * 100)::int)
), drawer_guarded AS (
    UPDATE cashdrawer_denomination AS den SET count = den.count + d.delta
    FROM d WHERE den.till_id = 1 AND den.value = d.value AND d.delta <> 0 AND den.count + d.delta >= 0
    RETURNING den.id, den.value, den.count
), drawer_inserted AS (
    INSERT INTO cashdrawer_drawermovement (till_id, session_id, denomination_id, kind, delta, count_after, purchase_id, user_id, reason, created_at, store_id)
    SELECT 1, :sid, g.id, d.kind, d.delta, g.count, :bill, NULL, 'bill #' || :bill, now(), :store
    FROM d JOIN drawer_guarded g ON g.value = d.value
    WHERE (SELECT count(*) FROM drawer_guarded) = (SELECT count(*) FROM d WHERE d.delta <> 0)
    RETURNING id
), task_rows AS (
    INSERT INTO django_tasks_database_dbtaskresult (id, status, enqueued_at, args_kwargs, priority, task_path, worker_ids,
        queue_name, backend_name, run_after, exception_class_path, traceback)
    VALUES (gen_random_uuid(), 'READY', now(), jsonb_build_object('args', '[]'::jsonb, 'kwargs',
        jsonb_build_object('attempt', 1, 'invoice_round', 0, 'purchase_id', :bill)), 0, 'purchases.tasks.send_invoice_email',
        '[]', 'default', 'default', '9999-01-01 00:00:00+00', '', '')
), counter AS (
    INSERT INTO purchases_documentcounter (series, financial_year, last_number)
    SELECT coalesce(t.invoice_series, t.id::text),
           CASE WHEN extract(month FROM now()) >= 4 THEN to_char(now(), 'YY') || to_char(now() + interval '1 year', 'YY')
                ELSE to_char(now() - interval '1 year', 'YY') || to_char(now(), 'YY') END, 1
    FROM cashdrawer_till t WHERE t.id = 1
    ON CONFLICT (series, financial_year) DO UPDATE SET last_number = purchases_documentcounter.last_number + 1
    RETURNING series || '/' || financial_year || '/' || lpad(last_number::text, 6, '0') AS number
)
UPDATE purchases_purchase SET till_id = 1, session_id = :sid, number = (SELECT number FROM counter) WHERE id = :bill
RETURNING number, (SELECT coalesce(json_agg(id ORDER BY id), '[]') FROM drawer_inserted);
COMMIT;
