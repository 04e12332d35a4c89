//! A strategy of contract 0.1 (`sdk/wit-0.1`), written against the WIT with wit-bindgen
//! alone, as a component built before 0.2 is. It subscribes to the quotes of its
//! `instrument`, bids `qty` (raw, 8 decimal places) at the first best bid, and logs
//! every order update with its reason code as 0.1 names it: the daemon's tests read
//! that line to see a 0.2 refusal reach it as the nearest 0.1 code. On a host build the
//! crate is empty.

#[cfg(target_arch = "wasm32")]
mod guest {
    wit_bindgen::generate!({
        path: "../../sdk/wit-0.1",
        world: "plugin",
    });

    const CONTRACT: &str = "0.1";

    include!("legacy.rs");
}
