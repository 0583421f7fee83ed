//! The crate's error type and its one conversion to what JavaScript sees.
//!
//! Functions inside the crate return [`Error`]; the exported functions return it too, and
//! wasm-bindgen throws it to the caller as a JavaScript `Error` whose `message` is the text
//! below (through `From<Error> for JsValue`). Unreadable pages are not errors: `extract`
//! answers them with an `{error}` object, since they are an everyday outcome.

use wasm_bindgen::{JsCast, JsValue};

/// Why an exported call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The global scope lacks something the call needs: a document (in a service worker),
    /// `crypto`, a 2-D canvas context.
    #[error("{0} is not available here")]
    Missing(&'static str),
    /// An argument could not be read; `name` is the parameter as the JavaScript API names it.
    #[error("{name}: {reason}")]
    Argument {
        /// The parameter.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The page reading is not something the server accepts as a report (a robot check, a
    /// personal price, a price range, a foreign currency...).
    #[error("this page cannot be reported: {0}")]
    NotReportable(String),
    /// A browser API threw.
    #[error("{api} failed: {message}")]
    Js {
        /// The API that threw.
        api: &'static str,
        /// Its exception's message.
        message: String,
    },
}

impl Error {
    /// An argument error.
    pub(crate) fn argument(name: &'static str, reason: impl ToString) -> Error {
        Error::Argument {
            name,
            reason: reason.to_string(),
        }
    }

    /// The error for a browser API that threw `exception`.
    pub(crate) fn js(api: &'static str, exception: &JsValue) -> Error {
        let message = match exception.dyn_ref::<js_sys::Error>() {
            Some(error) => String::from(error.message()),
            None => exception
                .as_string()
                .unwrap_or_else(|| format!("{exception:?}")),
        };
        Error::Js { api, message }
    }
}

impl From<Error> for JsValue {
    fn from(error: Error) -> JsValue {
        js_sys::Error::new(&error.to_string()).into()
    }
}
