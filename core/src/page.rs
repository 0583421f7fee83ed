//! The `Page` trait: the small window through which extraction rules see a document.
//!
//! Rules only ever ask three things of a page: the elements a CSS selector matches, an
//! element's text, and an element's attribute. The extension implements this over the live
//! DOM (`web-sys`), the crawler and the CLI over fetched HTML (`scraper`, in [`crate::html`]),
//! so a selector fixed once helps both.

/// A parsed document that answers CSS selectors.
pub trait Page {
    /// An element of the document. Cheap to clone (a reference or a handle).
    type Element<'a>: Element
    where
        Self: 'a;

    /// Every element matching `selector`, in document order. A selector the backend cannot
    /// parse matches nothing: rules are constants, and a test parses every one of them.
    fn select<'a>(&'a self, selector: &str) -> Vec<Self::Element<'a>>;

    /// The first element matching `selector`.
    fn first<'a>(&'a self, selector: &str) -> Option<Self::Element<'a>> {
        self.select(selector).into_iter().next()
    }

    /// Whether anything matches `selector`.
    fn exists(&self, selector: &str) -> bool {
        self.first(selector).is_some()
    }
}

/// One element of a [`Page`].
pub trait Element: Sized + Clone {
    /// All text below the element, as `textContent` gives it.
    fn text(&self) -> String;

    /// An attribute's value.
    fn attr(&self, name: &str) -> Option<String>;

    /// Descendants of this element matching `selector`, in document order.
    fn select(&self, selector: &str) -> Vec<Self>;

    /// The first descendant matching `selector`.
    fn first(&self, selector: &str) -> Option<Self> {
        self.select(selector).into_iter().next()
    }

    /// The text with runs of white space folded to one space and trimmed.
    fn clean_text(&self) -> String {
        collapse_whitespace(&self.text())
    }
}

/// Fold runs of white space (including no-break spaces) to a single space and trim.
pub fn collapse_whitespace(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c == '\u{200B}')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Split `#id rest` into the id and the rest, when the selector starts with a plain id
/// followed by a descendant combinator (or nothing) and is not a selector list.
///
/// Both backends answer such selectors by looking the id up first (as `getElementById`
/// does: the first element carrying it) and searching only below it: it is what makes rules
/// cheap on megabyte pages, and doing it the same way keeps the backends' answers equal even
/// on pages that repeat an id.
pub fn split_id_prefix(selector: &str) -> Option<(&str, &str)> {
    let rest = selector.strip_prefix('#')?;
    if selector.contains(',') {
        return None;
    }
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(rest.len());
    let (id, tail) = rest.split_at(end);
    if id.is_empty() {
        return None;
    }
    if tail.is_empty() {
        return Some((id, ""));
    }
    let trimmed = tail.trim_start();
    let descendant = tail.starts_with(' ') && !trimmed.starts_with(['>', '+', '~']);
    descendant.then_some((id, trimmed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_followed_by_descendants_splits_and_anything_else_does_not() {
        assert_eq!(split_id_prefix("#a"), Some(("a", "")));
        assert_eq!(split_id_prefix("#a .p span"), Some(("a", ".p span")));
        assert_eq!(
            split_id_prefix("#core-price_1  .x"),
            Some(("core-price_1", ".x"))
        );
        assert_eq!(
            split_id_prefix("#a > .p"),
            None,
            "a child combinator needs the id element itself"
        );
        assert_eq!(split_id_prefix("#a.box .p"), None);
        assert_eq!(
            split_id_prefix("#a .p, #b .p"),
            None,
            "selector lists are left whole"
        );
        assert_eq!(split_id_prefix("div#a .p"), None);
        assert_eq!(split_id_prefix("# .p"), None);
    }
}
