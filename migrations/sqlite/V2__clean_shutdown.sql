-- The `seq` of the record a clean shutdown leaves last: when it is the last `seq`
-- written, every order id given was recorded, and a restart continues right after the
-- highest one instead of jumping past ids that might have been lost in a crash.
ALTER TABLE journal ADD COLUMN clean_shutdown_seq BIGINT NOT NULL DEFAULT 0;
