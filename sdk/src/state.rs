//! Serializing strategy state for [`crate::Strategy::snapshot`] and
//! [`crate::Strategy::restore`], with postcard: compact, and stable for a given type.

use crate::params::InitError;

/// Serializes a value for a snapshot.
pub fn encode<T: serde::Serialize>(value: &T) -> Vec<u8> {
    // Serializing plain data into a growable buffer cannot fail; an empty snapshot is the
    // safe fallback should a type's Serialize impl report an error of its own.
    postcard::to_allocvec(value).unwrap_or_default()
}

/// Deserializes a snapshot; an error names what went wrong.
pub fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, InitError> {
    postcard::from_bytes(bytes).map_err(|err| InitError(format!("cannot read saved state: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct State {
        count: u64,
        prices: Vec<crate::Price>,
    }

    #[test]
    fn round_trips_and_rejects_garbage() {
        let state = State {
            count: 3,
            prices: vec!["1.5".parse().unwrap()],
        };
        assert_eq!(decode::<State>(&encode(&state)), Ok(state));
        assert!(decode::<State>(&[0xff, 0xff, 0xff])
            .unwrap_err()
            .0
            .starts_with("cannot read saved state"));
    }
}
