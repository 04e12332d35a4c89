-- Every record carries `seq`, the engine's journal sequence number: writes are
-- idempotent (a batch written twice leaves one copy) and ordered.
-- Prices, quantities and amounts are fixed point with 8 decimals (raw integers);
-- times are nanoseconds since the Unix epoch.

-- Every state change of every order.
CREATE TABLE orders (
    seq BIGINT PRIMARY KEY,
    ts BIGINT NOT NULL,
    strategy TEXT NOT NULL,
    order_id BIGINT NOT NULL,
    client_order_id BIGINT NOT NULL,
    instrument TEXT NOT NULL,
    side TEXT NOT NULL,
    kind TEXT NOT NULL,
    time_in_force TEXT NOT NULL,
    price BIGINT NOT NULL,
    qty BIGINT NOT NULL,
    status TEXT NOT NULL,
    filled_qty BIGINT NOT NULL,
    reason TEXT
);
CREATE INDEX orders_by_order ON orders (order_id, seq);

-- The latest state of every order: what the order queries and recovery read.
CREATE TABLE order_state (
    order_id BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL,
    created BIGINT NOT NULL,
    ts BIGINT NOT NULL,
    strategy TEXT NOT NULL,
    client_order_id BIGINT NOT NULL,
    instrument TEXT NOT NULL,
    side TEXT NOT NULL,
    kind TEXT NOT NULL,
    time_in_force TEXT NOT NULL,
    price BIGINT NOT NULL,
    qty BIGINT NOT NULL,
    status TEXT NOT NULL,
    filled_qty BIGINT NOT NULL,
    reason TEXT
);
CREATE INDEX order_state_by_strategy ON order_state (strategy, created);
CREATE INDEX order_state_by_instrument ON order_state (instrument, created);
CREATE INDEX order_state_by_status ON order_state (status, created);

CREATE TABLE fills (
    seq BIGINT PRIMARY KEY,
    ts BIGINT NOT NULL,
    strategy TEXT NOT NULL,
    order_id BIGINT NOT NULL,
    instrument TEXT NOT NULL,
    side TEXT NOT NULL,
    price BIGINT NOT NULL,
    qty BIGINT NOT NULL,
    fee BIGINT NOT NULL,
    liquidity TEXT NOT NULL,
    realized_pnl BIGINT NOT NULL
);
CREATE INDEX fills_by_strategy ON fills (strategy, ts);
CREATE INDEX fills_by_instrument ON fills (instrument, ts);

-- A strategy's position in an instrument after each change.
CREATE TABLE positions (
    seq BIGINT PRIMARY KEY,
    ts BIGINT NOT NULL,
    strategy TEXT NOT NULL,
    instrument TEXT NOT NULL,
    qty BIGINT NOT NULL,
    avg_price BIGINT NOT NULL,
    realized_pnl BIGINT NOT NULL,
    fees BIGINT NOT NULL
);
CREATE INDEX positions_by_key ON positions (strategy, instrument, seq);

-- Loaded, swapped, reconfigured, stopped, quarantined, refused...
CREATE TABLE strategy_events (
    seq BIGINT PRIMARY KEY,
    ts BIGINT NOT NULL,
    strategy TEXT NOT NULL,
    event TEXT NOT NULL,
    version TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX strategy_events_by_strategy ON strategy_events (strategy, ts);

-- Each strategy's last snapshot of its state.
CREATE TABLE strategy_states (
    strategy TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    ts BIGINT NOT NULL,
    state BLOB NOT NULL
);

-- Rejections, trading state changes, kill switch, limit changes, with the actor.
CREATE TABLE risk_events (
    seq BIGINT PRIMARY KEY,
    ts BIGINT NOT NULL,
    strategy TEXT,
    kind TEXT NOT NULL,
    reason TEXT,
    actor TEXT,
    scope TEXT,
    state TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX risk_events_by_time ON risk_events (ts);
CREATE INDEX risk_events_by_state ON risk_events (scope, seq) WHERE state IS NOT NULL;
CREATE INDEX risk_events_by_strategy ON risk_events (strategy, ts);

CREATE TABLE signals (
    seq BIGINT PRIMARY KEY,
    ts BIGINT NOT NULL,
    strategy TEXT NOT NULL,
    instrument TEXT NOT NULL,
    side TEXT NOT NULL,
    strength REAL NOT NULL,
    target BIGINT,
    stop BIGINT,
    note TEXT NOT NULL
);
CREATE INDEX signals_by_instrument ON signals (instrument, side, ts);
CREATE INDEX signals_by_strategy ON signals (strategy, ts);

-- The last journal sequence number written, so numbering resumes after a restart.
CREATE TABLE journal (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq BIGINT NOT NULL
);
INSERT INTO journal (id, last_seq) VALUES (1, 0);
