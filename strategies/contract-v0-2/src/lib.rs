//! A strategy of contract 0.2 (`sdk/wit-0.2`), written against the WIT with wit-bindgen
//! alone, as a component built before 0.3 is: it takes market data one typed call per
//! event. The same body as `contract-v0-1` (its `legacy.rs`), with 0.2's bindings; the
//! daemon's tests load it beside 0.1 and 0.3 components. On a host build the crate is
//! empty.

#[cfg(target_arch = "wasm32")]
mod guest {
    wit_bindgen::generate!({
        path: "../../sdk/wit-0.2",
        world: "plugin",
    });

    const CONTRACT: &str = "0.2";

    include!("../../contract-v0-1/src/legacy.rs");
}
