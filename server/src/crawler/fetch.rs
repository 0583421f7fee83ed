//! Fetching pages: one `reqwest` client with timeouts, bounded same-host redirects, a body
//! size cap and an honest User-Agent.

use std::time::{Duration, Instant};

use reqwest::redirect::Policy;

use super::settings::CrawlerSettings;

/// What a fetch brought back.
#[derive(Debug)]
pub struct Fetched {
    pub status: u16,
    /// The URL after redirects.
    pub url: String,
    pub body: String,
    pub elapsed: Duration,
}

/// Why a fetch brought nothing back.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("timed out")]
    Timeout,
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("redirected too often or to another host")]
    Redirect,
    #[error("the body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("{0}")]
    Other(String),
}

impl FetchError {
    /// Whether the host, rather than the page, is at fault (it gets backed off).
    pub fn is_host_failure(&self) -> bool {
        matches!(self, FetchError::Timeout | FetchError::Connect(_))
    }
}

fn classify(e: &reqwest::Error) -> FetchError {
    if e.is_timeout() {
        FetchError::Timeout
    } else if e.is_redirect() {
        FetchError::Redirect
    } else if e.is_connect() {
        FetchError::Connect(e.to_string())
    } else {
        // The cause chain says more than reqwest's top line.
        let mut text = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        FetchError::Other(text)
    }
}

/// The crawler's HTTP client.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    max_body: usize,
    user_agent: String,
}

impl Fetcher {
    pub fn new(settings: &CrawlerSettings, public_url: &str) -> Result<Fetcher, FetchError> {
        let user_agent = user_agent(public_url);
        let max_redirects = settings.max_redirects;
        let client = reqwest::Client::builder()
            .user_agent(user_agent.clone())
            .timeout(Duration::from_millis(settings.request_timeout_ms.max(1)))
            .connect_timeout(Duration::from_millis(settings.connect_timeout_ms.max(1)))
            .redirect(Policy::custom(move |attempt| {
                let first_host = attempt
                    .previous()
                    .first()
                    .map(|u| (u.host_str().map(str::to_owned), u.port_or_known_default()));
                let here = (
                    attempt.url().host_str().map(str::to_owned),
                    attempt.url().port_or_known_default(),
                );
                if attempt.previous().len() > max_redirects {
                    attempt.error("too many redirects")
                } else if first_host.is_some_and(|h| h != here) {
                    // Another host has its own robots.txt and its own rate: never follow.
                    attempt.error("redirect to another host")
                } else {
                    attempt.follow()
                }
            }))
            .build()
            .map_err(|e| classify(&e))?;
        Ok(Fetcher {
            client,
            max_body: settings.max_body_bytes,
            user_agent,
        })
    }

    pub fn user_agent(&self) -> &str {
        &self.user_agent
    }

    /// GET `url`, reading at most the size cap of its body.
    pub async fn get(&self, url: &str) -> Result<Fetched, FetchError> {
        let started = Instant::now();
        let mut res = self
            .client
            .get(url)
            .header(
                reqwest::header::ACCEPT,
                "text/html,text/plain;q=0.9,*/*;q=0.5",
            )
            .send()
            .await
            .map_err(|e| classify(&e))?;
        let status = res.status().as_u16();
        let final_url = res.url().to_string();
        if res
            .content_length()
            .is_some_and(|n| n > self.max_body as u64)
        {
            return Err(FetchError::TooLarge(self.max_body));
        }
        let mut body: Vec<u8> = Vec::new();
        while let Some(chunk) = res.chunk().await.map_err(|e| classify(&e))? {
            if body.len() + chunk.len() > self.max_body {
                return Err(FetchError::TooLarge(self.max_body));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched {
            status,
            url: final_url,
            // Prices and ids are ASCII: a page in another encoding still reads.
            body: String::from_utf8_lossy(&body).into_owned(),
            elapsed: started.elapsed(),
        })
    }
}

/// `PriceWatchBot/<version> (+<public_url>)`: who we are and where to read about us.
pub fn user_agent(public_url: &str) -> String {
    format!(
        "PriceWatchBot/{} (+{})",
        env!("CARGO_PKG_VERSION"),
        public_url.trim_end_matches('/')
    )
}

/// `scheme://host:port` of a URL: the unit of politeness and of robots.txt.
pub fn origin(url: &str) -> Option<String> {
    let parsed = reqwest::Url::parse(url).ok()?;
    let host = parsed.host_str()?;
    Some(match parsed.port_or_known_default() {
        Some(port) => format!("{}://{host}:{port}", parsed.scheme()),
        None => format!("{}://{host}", parsed.scheme()),
    })
}

/// The path and query of a URL, as robots.txt rules see it.
pub fn path_and_query(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        },
        Err(_) => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_and_paths_split_a_url_the_way_politeness_and_robots_need() {
        assert_eq!(
            origin("https://www.amazon.de/dp/B0C1234567").as_deref(),
            Some("https://www.amazon.de:443")
        );
        assert_eq!(
            origin("http://127.0.0.1:9000/de/dp/X").as_deref(),
            Some("http://127.0.0.1:9000")
        );
        assert_eq!(path_and_query("http://h/de/dp/X?th=1"), "/de/dp/X?th=1");
        assert_eq!(origin("not a url"), None);
    }

    #[test]
    fn the_user_agent_names_the_bot_its_version_and_where_to_read_about_it() {
        let ua = user_agent("https://prices.example/");
        assert!(ua.starts_with("PriceWatchBot/"));
        assert!(ua.ends_with("(+https://prices.example)"));
    }
}
