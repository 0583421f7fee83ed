//! Moving serde values across the boundary, one way for every export.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_wasm_bindgen::Serializer;
use wasm_bindgen::JsValue;

use crate::error::Error;

/// A Rust value as the plain JavaScript object `JSON.parse` would give for its JSON: `null`
/// for `None` (not `undefined`), objects (not `Map`s) for maps, so `JSON.stringify` of the
/// result is exactly what the API takes.
pub(crate) fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, Error> {
    value
        .serialize(&Serializer::json_compatible())
        .map_err(|e| Error::Js {
            api: "serde-wasm-bindgen",
            message: e.to_string(),
        })
}

/// Read argument `name`: the parsed object (what `await response.json()` gives) or its JSON
/// text, whichever the caller holds.
pub(crate) fn from_js<T: DeserializeOwned>(name: &'static str, value: JsValue) -> Result<T, Error> {
    let value = match value.as_string() {
        Some(text) => js_sys::JSON::parse(&text).map_err(|e| Error::js("JSON.parse", &e))?,
        None => value,
    };
    serde_wasm_bindgen::from_value(value).map_err(|e| Error::argument(name, e))
}

/// Optional argument `name`: `undefined` and `null` read as the default.
pub(crate) fn from_js_or_default<T: DeserializeOwned + Default>(
    name: &'static str,
    value: JsValue,
) -> Result<T, Error> {
    if value.is_undefined() || value.is_null() {
        Ok(T::default())
    } else {
        from_js(name, value)
    }
}

/// Argument `name`, a JavaScript number, as the whole number it must be (one a JS number
/// holds exactly: at most 2^53 - 1 either side of zero).
pub(crate) fn whole_number(name: &'static str, value: f64) -> Result<i64, Error> {
    const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
    if !value.is_finite() || value.fract() != 0.0 || value.abs() > MAX_SAFE {
        return Err(Error::argument(
            name,
            format!("{value} is not a whole number"),
        ));
    }
    // Exact: a whole number of at most 53 bits.
    Ok(value as i64)
}
