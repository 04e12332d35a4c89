-- Where each signal's instrument went: its mark when the signal was emitted
-- (reference) and as each horizon after it passed (price).
CREATE TABLE signal_outcomes (
    seq BIGINT PRIMARY KEY,
    ts BIGINT NOT NULL,
    strategy TEXT NOT NULL,
    instrument TEXT NOT NULL,
    side TEXT NOT NULL,
    signal_ts BIGINT NOT NULL,
    horizon_secs BIGINT NOT NULL,
    reference BIGINT NOT NULL,
    price BIGINT NOT NULL
);
CREATE INDEX signal_outcomes_by_strategy ON signal_outcomes (strategy, signal_ts);
