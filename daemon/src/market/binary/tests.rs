//! Records read back as written; bad records and headers are named.

use super::*;
use pennant_sdk::testing::{instrument, px, qty};
use pennant_sdk::{BookFlags, BookLevel, Quote, Side, Trade};

fn events() -> Vec<MarketEvent> {
    vec![
        MarketEvent::Trade(Trade {
            instrument: 2,
            ts: 1_700_000_000_000_000_001,
            price: px("50000.12345678"),
            qty: qty("0.015"),
            aggressor: Side::Sell,
        }),
        MarketEvent::Quote(Quote {
            instrument: 2,
            ts: 1_700_000_000_000_000_002,
            bid_price: px("49999.9"),
            bid_qty: qty("0"),
            ask_price: px("50000.1"),
            ask_qty: qty("2.5"),
        }),
        MarketEvent::Book(BookLevel {
            instrument: 2,
            ts: 1_700_000_000_000_000_003,
            seq: u64::MAX - 1,
            side: Side::Sell,
            price: px("50000.1"),
            qty: qty("0"),
            flags: BookFlags::RESET.with(BookFlags::LAST),
        }),
    ]
}

#[test]
fn records_read_back_as_written() {
    for event in events() {
        let record = encode(&event, 7);
        assert_eq!(record_instrument(&record), 7);
        assert_eq!(decode(&record, 2), Ok(event));
    }
}

#[test]
fn bad_records_are_named() {
    let check = |patch: &dyn Fn(&mut [u8; RECORD_LEN]), event: usize, error: RecordError| {
        let mut record = encode(&events()[event], 0);
        patch(&mut record);
        assert_eq!(decode(&record, 1), Err(error));
    };
    check(&|r| r[8] = 9, 0, RecordError::Kind(9));
    check(&|r| r[9] = 2, 0, RecordError::Side(2));
    check(&|r| r[16..24].fill(0), 0, RecordError::NotPositive("price"));
    check(&|r| r[24..32].fill(0), 0, RecordError::NotPositive("qty"));
    check(
        &|r| r[24..32].fill(0xff),
        1,
        RecordError::Negative("bid_qty"),
    );
    check(&|r| r[24..32].fill(0xff), 2, RecordError::Negative("qty"));
    check(
        &|r| r[32..40].fill(0),
        1,
        RecordError::NotPositive("ask_price"),
    );
}

#[test]
fn a_header_maps_symbols_and_waits_for_its_bytes() {
    let known = Instruments::new([
        instrument(0, "ETH-USDT", "0.01", "0.001"),
        instrument(0, "BTC-USDT", "0.01", "0.001"),
    ]);
    let mut file = Vec::new();
    write_header(&mut file, &["BTC-USDT", "DOGE-USDT"]).unwrap();
    assert_eq!(file.len() % 8, 0);
    for cut in 0..file.len() {
        assert_eq!(
            Header::read(&file[..cut], &known).unwrap(),
            None,
            "cut {cut}"
        );
    }
    let header = Header::read(&file, &known).unwrap().unwrap();
    assert_eq!(header.len, file.len());
    assert_eq!(header.instruments, vec![Some(2), None]);
    let trade = encode(&events()[0], 0);
    assert_eq!(header.decode(&trade).unwrap().instrument(), 2);
    let unknown = encode(&events()[0], 1);
    assert_eq!(header.decode(&unknown), Err(RecordError::Instrument(1)));
    let beyond = encode(&events()[0], 5);
    assert_eq!(header.decode(&beyond), Err(RecordError::Instrument(5)));

    let mut other = file.clone();
    other[8] = 9;
    assert_eq!(
        Header::read(&other, &known).unwrap_err().to_string(),
        "binary replay format version 9: this pennantd reads version 1"
    );
    assert_eq!(
        Header::read(b"1700000000,trade,BTC", &known)
            .unwrap_err()
            .to_string(),
        "not a binary replay file"
    );
}
