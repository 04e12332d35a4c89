-- The venue of every order and fill, and the client order id the venue knows an order
-- by (`DAEMONID-ORDERID`). Rows written before this migration have '' in both: they
-- were all on the one venue a daemon had then.
ALTER TABLE orders ADD COLUMN venue TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN venue_client_id TEXT NOT NULL DEFAULT '';
ALTER TABLE order_state ADD COLUMN venue TEXT NOT NULL DEFAULT '';
ALTER TABLE order_state ADD COLUMN venue_client_id TEXT NOT NULL DEFAULT '';
ALTER TABLE fills ADD COLUMN venue TEXT NOT NULL DEFAULT '';
