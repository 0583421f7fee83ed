//! The [`Page`] implementation over fetched HTML, backed by `scraper` (html5ever).
//!
//! Used by the crawler, the `pricewatch extract` command and the fixture-corpus tests. Amazon
//! pages are large (often 1–2 MB) and rules ask mostly for elements by id, so the page keeps an
//! id index and answers `#id rest-of-selector` by searching only below that element.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use ego_tree::NodeId;
use scraper::{ElementRef, Html, Selector};

use crate::page::{split_id_prefix, Element, Page};

/// A parsed HTML document.
pub struct HtmlPage {
    html: Html,
    /// Element ids to the first element carrying them (as `getElementById` answers).
    ids: HashMap<String, NodeId>,
    /// Parsed selectors, since rules ask for the same ones many times per page.
    selectors: RefCell<HashMap<String, Option<Rc<Selector>>>>,
}

impl HtmlPage {
    /// Parse a whole document. Never fails: html5ever recovers from any input as browsers do.
    pub fn parse(document: &str) -> HtmlPage {
        let html = Html::parse_document(document);
        let mut ids = HashMap::new();
        for el in html.root_element().descendent_elements() {
            if let Some(id) = el.value().id() {
                ids.entry(id.to_owned()).or_insert(el.id());
            }
        }
        HtmlPage {
            html,
            ids,
            selectors: RefCell::new(HashMap::new()),
        }
    }

    fn selector(&self, text: &str) -> Option<Rc<Selector>> {
        if let Some(cached) = self.selectors.borrow().get(text) {
            return cached.clone();
        }
        let parsed = Selector::parse(text).ok().map(Rc::new);
        self.selectors
            .borrow_mut()
            .insert(text.to_owned(), parsed.clone());
        parsed
    }

    fn by_id(&self, id: &str) -> Option<ElementRef<'_>> {
        let node = self.html.tree.get(*self.ids.get(id)?)?;
        ElementRef::wrap(node)
    }
}

impl Page for HtmlPage {
    type Element<'a> = HtmlElement<'a>;

    fn select<'a>(&'a self, selector: &str) -> Vec<HtmlElement<'a>> {
        if let Some((id, rest)) = split_id_prefix(selector) {
            let Some(scope) = self.by_id(id) else {
                // The id index is exact, so a missing id means no match at all.
                return Vec::new();
            };
            if rest.is_empty() {
                return vec![HtmlElement {
                    el: scope,
                    page: self,
                }];
            }
            let Some(sel) = self.selector(rest) else {
                return Vec::new();
            };
            return scope
                .select(&sel)
                .map(|el| HtmlElement { el, page: self })
                .collect();
        }
        let Some(sel) = self.selector(selector) else {
            return Vec::new();
        };
        self.html
            .select(&sel)
            .map(|el| HtmlElement { el, page: self })
            .collect()
    }
}

/// An element of an [`HtmlPage`].
#[derive(Clone, Copy)]
pub struct HtmlElement<'a> {
    el: ElementRef<'a>,
    page: &'a HtmlPage,
}

impl Element for HtmlElement<'_> {
    fn text(&self) -> String {
        self.el.text().collect()
    }

    fn attr(&self, name: &str) -> Option<String> {
        self.el.attr(name).map(str::to_owned)
    }

    fn select(&self, selector: &str) -> Vec<Self> {
        let Some(sel) = self.page.selector(selector) else {
            return Vec::new();
        };
        self.el
            .select(&sel)
            .map(|el| HtmlElement {
                el,
                page: self.page,
            })
            .collect()
    }
}

/// Whether `selector` is one the HTML backend can parse (rules are checked with this).
pub fn selector_parses(selector: &str) -> bool {
    Selector::parse(selector).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"<html><body>
        <div id="a" class="box"><span class="p">one</span><span class="p" data-x="y">two</span></div>
        <div id="b"><span class="p">three</span><div id="a">dup</div></div>
        <p class="p">four</p>
    </body></html>"#;

    #[test]
    fn selects_by_id_prefix_and_plainly_alike() {
        let page = HtmlPage::parse(DOC);
        let texts = |sel: &str| {
            page.select(sel)
                .iter()
                .map(|e| e.text())
                .collect::<Vec<_>>()
        };
        assert_eq!(texts("#a .p"), ["one", "two"]);
        assert_eq!(texts("div#a .p"), ["one", "two"]);
        assert_eq!(texts("#b .p"), ["three"]);
        assert_eq!(texts("#missing .p"), Vec::<String>::new());
        assert_eq!(texts(".p"), ["one", "two", "three", "four"]);
        assert_eq!(texts("#a > .p"), ["one", "two"]);
        assert_eq!(texts("#a.box .p"), ["one", "two"]);
        assert_eq!(page.select("#a").len(), 1, "ids answer like getElementById");
    }

    #[test]
    fn attributes_and_nested_selects_work() {
        let page = HtmlPage::parse(DOC);
        let Some(a) = page.first("#a") else {
            panic!("#a not found")
        };
        assert_eq!(a.attr("class").as_deref(), Some("box"));
        assert_eq!(
            a.first("[data-x]")
                .and_then(|e| e.attr("data-x"))
                .as_deref(),
            Some("y")
        );
        assert_eq!(a.select(".p").len(), 2);
    }

    #[test]
    fn an_unparsable_selector_matches_nothing() {
        let page = HtmlPage::parse(DOC);
        assert!(page.select("div[").is_empty());
        assert!(!selector_parses("div["));
        assert!(selector_parses("#a .p:not(.q)"));
    }
}
