//! `robots.txt`: which paths a host lets PriceWatchBot fetch.
//!
//! The rules of RFC 9309: the group naming our product token (case-insensitive) applies,
//! else the `*` group; within it the longest matching `Allow`/`Disallow` path wins, `Allow`
//! on a tie; `*` matches any run of characters and a final `$` anchors the end. An empty
//! `Disallow` allows everything.

/// The product token the crawler answers to in `User-agent` lines.
pub const TOKEN: &str = "pricewatchbot";

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    allow: bool,
    pattern: String,
}

/// The rules that apply to PriceWatchBot on one host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Robots {
    rules: Vec<Rule>,
}

impl Robots {
    /// Everything allowed (no robots.txt, or a 4xx for it, per RFC 9309).
    pub fn allow_all() -> Robots {
        Robots::default()
    }

    /// Read a robots.txt body. Never fails: unknown lines are ignored, as crawlers must.
    pub fn parse(text: &str) -> Robots {
        // Groups as (agents, rules); consecutive User-agent lines share one group.
        let mut groups: Vec<(Vec<String>, Vec<Rule>)> = Vec::new();
        let mut open_agents = false;
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or_default().trim();
            let Some((field, value)) = line.split_once(':') else {
                continue;
            };
            let field = field.trim().to_ascii_lowercase();
            let value = value.trim();
            match field.as_str() {
                "user-agent" => {
                    let agent = value.to_ascii_lowercase();
                    match groups.last_mut() {
                        Some((agents, _)) if open_agents => agents.push(agent),
                        _ => groups.push((vec![agent], Vec::new())),
                    }
                    open_agents = true;
                }
                "allow" | "disallow" => {
                    open_agents = false;
                    if let Some((_, rules)) = groups.last_mut() {
                        if !value.is_empty() {
                            rules.push(Rule {
                                allow: field == "allow",
                                pattern: value.to_owned(),
                            });
                        }
                    }
                }
                _ => open_agents = false,
            }
        }
        let mine: Vec<Rule> = groups
            .iter()
            .filter(|(agents, _)| agents.iter().any(|a| a == TOKEN))
            .flat_map(|(_, r)| r.iter().cloned())
            .collect();
        let rules = if mine.is_empty()
            && !groups
                .iter()
                .any(|(agents, _)| agents.iter().any(|a| a == TOKEN))
        {
            groups
                .iter()
                .filter(|(agents, _)| agents.iter().any(|a| a == "*"))
                .flat_map(|(_, r)| r.iter().cloned())
                .collect()
        } else {
            mine
        };
        Robots { rules }
    }

    /// Whether `path` (with its query) may be fetched.
    pub fn allowed(&self, path: &str) -> bool {
        let mut best: Option<(usize, bool)> = None;
        for rule in &self.rules {
            if matches(&rule.pattern, path) {
                let len = rule.pattern.len();
                let better = match best {
                    None => true,
                    Some((l, allow)) => len > l || (len == l && rule.allow && !allow),
                };
                if better {
                    best = Some((len, rule.allow));
                }
            }
        }
        best.is_none_or(|(_, allow)| allow)
    }
}

/// Whether a robots.txt path pattern matches `path`: a prefix match, where `*` matches any
/// run of characters and a final `$` requires the match to reach the end.
fn matches(pattern: &str, path: &str) -> bool {
    let mut glob: Vec<u8> = pattern.as_bytes().to_vec();
    match glob.last() {
        Some(b'$') => {
            glob.pop();
        }
        _ => glob.push(b'*'),
    }
    whole_glob(&glob, path.as_bytes())
}

/// `*`-only glob over the whole text, with the usual single backtrack point.
fn whole_glob(glob: &[u8], text: &[u8]) -> bool {
    let (mut g, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if g < glob.len() && glob[g] == b'*' {
            star = Some((g, t));
            g += 1;
        } else if g < glob.len() && glob[g] == text[t] {
            g += 1;
            t += 1;
        } else if let Some((sg, st)) = star {
            g = sg + 1;
            t = st + 1;
            star = Some((sg, st + 1));
        } else {
            return false;
        }
    }
    glob[g..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_matching_rule_of_the_group_naming_us_decides() {
        let r = Robots::parse(
            "User-agent: *\nDisallow: /\n\n\
             User-agent: OtherBot\nUser-agent: PriceWatchBot\nDisallow: /gp/\nAllow: /gp/product/\n\
             Disallow: /*/ref=\n",
        );
        assert!(
            r.allowed("/dp/B0CX7K2M4Q"),
            "our group overrides the * group"
        );
        assert!(!r.allowed("/gp/cart"));
        assert!(r.allowed("/gp/product/B0CX7K2M4Q"), "longer allow wins");
        assert!(
            !r.allowed("/dp/B0CX7K2M4Q/ref=sr_1"),
            "wildcards match runs"
        );
    }

    #[test]
    fn the_star_group_applies_when_no_group_names_us() {
        let r = Robots::parse("User-agent: *\nDisallow: /_shop/\nDisallow: /*.json$\n# c\n");
        assert!(r.allowed("/dp/B0CX7K2M4Q"));
        assert!(!r.allowed("/_shop/mode"));
        assert!(!r.allowed("/data/x.json"));
        assert!(r.allowed("/data/x.json?y=1"), "$ anchors the end");
    }

    #[test]
    fn empty_or_missing_rules_allow_everything_and_disallow_all_blocks_all() {
        assert!(Robots::allow_all().allowed("/dp/X"));
        assert!(Robots::parse("User-agent: *\nDisallow:\n").allowed("/dp/X"));
        assert!(!Robots::parse("user-agent: *\ndisallow: /\n").allowed("/dp/X"));
        assert!(Robots::parse("garbage\n\u{feff}").allowed("/"));
    }
}
