//! Random bytes from the browser's `crypto.getRandomValues`, looked up on the global scope so
//! that the same code runs in a page, a content script and a service worker (which has no
//! `window`).

use wasm_bindgen::{JsCast, JsValue};

use crate::error::Error;

/// Fill `bytes` with cryptographically strong random bytes.
pub(crate) fn fill(bytes: &mut [u8]) -> Result<(), Error> {
    let crypto = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("crypto"))
        .map_err(|e| Error::js("globalThis.crypto", &e))?;
    let crypto: web_sys::Crypto = crypto
        .dyn_into()
        .map_err(|_| Error::Missing("crypto.getRandomValues"))?;
    crypto
        .get_random_values_with_u8_array(bytes)
        .map_err(|e| Error::js("crypto.getRandomValues", &e))?;
    // All zeros from 16 or 32 random bytes means a broken source (a stub, a polyfill), and
    // keys or nonces made from it would collide with every other such client.
    if bytes.iter().all(|b| *b == 0) {
        return Err(Error::Missing("a working crypto.getRandomValues"));
    }
    Ok(())
}
