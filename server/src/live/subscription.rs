//! What a socket subscribed to (`/ws?sub=LIST`) and the filter its frames pass.
//!
//! [`Subs::parse`] reads the list (comma-separated, any order): `all` (every source: also what no
//! `sub` at all means), `configured` (the sources of the config file, not the fleet's hosts: what
//! [`SourceClass`] says), `host:NAME` (that source), `overview` (the fleet's summary rows) and
//! `figure:NAME` (one figure of every host). An unknown token or figure is a [`SubError`] naming it.
//!
//! [`Filter`] is the sources' part resolved to the hub's source indices, so that the socket's
//! check per frame is a bit test, no parsing; an `all` socket does no check at all. A source
//! registered after the socket subscribed (a host added to the fleet) is resolved by name the
//! first time one of its frames passes.

use std::sync::Arc;

use livedash::fleet::FIGURES;

/// Which sources are the config file's (`configured`), as opposed to the fleet's hosts.
pub trait SourceClass: Send + Sync {
    /// Whether `source` is one of the config file's sources.
    fn is_configured(&self, source: &str) -> bool;
}

/// Every source is configured: a server without a fleet.
pub struct NoFleet;

impl SourceClass for NoFleet {
    fn is_configured(&self, _source: &str) -> bool {
        true
    }
}

/// A `sub` list that does not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubError {
    /// A token that is none of the known ones.
    #[error("sub: unknown subscription {0:?} (known: all, configured, host:NAME, overview, figure:NAME)")]
    Unknown(String),
    /// `figure:NAME` with a NAME not among the figures.
    #[error("sub: unknown figure {0:?} (known: cpu_pct, mem_pct, disk_pct, load1, net_in_bps, net_out_bps, uptime_s)")]
    Figure(String),
    /// `host:` without a name.
    #[error("sub: host: needs a source name")]
    EmptyHost,
}

/// Which summary frames a socket takes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct SummaryWants {
    /// The overview's `fleet` frames.
    pub overview: bool,
    /// The `points` frames of these figures: bit `i` is [`FIGURES`]`[i]`.
    pub figures: u8,
}

impl SummaryWants {
    /// Whether it takes any summary frame.
    pub fn any(self) -> bool {
        self.overview || self.figures != 0
    }

    /// Whether it takes the points of figure `i`.
    pub fn figure(self, i: usize) -> bool {
        i < FIGURES.len() && self.figures & (1 << i) != 0
    }
}

/// A socket's subscription, as parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subs {
    /// Every source (no check per frame).
    pub all: bool,
    /// The config file's sources.
    pub configured: bool,
    /// These sources, by name (sorted, without repeats).
    pub hosts: Vec<Arc<str>>,
    /// The summary frames.
    pub summary: SummaryWants,
}

impl Default for Subs {
    /// What no `sub` means: everything (API clients, old pages).
    fn default() -> Self {
        Self { all: true, configured: false, hosts: Vec::new(), summary: SummaryWants::default() }
    }
}

impl Subs {
    /// Reads a `sub` list; `None` (no `sub`) is [`Subs::default`].
    pub fn parse(list: Option<&str>) -> Result<Self, SubError> {
        let Some(list) = list else { return Ok(Self::default()) };
        let mut subs = Self { all: false, ..Self::default() };
        for token in list.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            match token {
                "all" => subs.all = true,
                "configured" => subs.configured = true,
                "overview" => subs.summary.overview = true,
                _ => {
                    if let Some(name) = token.strip_prefix("host:") {
                        if name.is_empty() {
                            return Err(SubError::EmptyHost);
                        }
                        subs.hosts.push(Arc::from(name));
                    } else if let Some(figure) = token.strip_prefix("figure:") {
                        let i = FIGURES.iter().position(|f| *f == figure).ok_or(SubError::Figure(figure.into()))?;
                        subs.summary.figures |= 1 << i;
                    } else {
                        return Err(SubError::Unknown(token.into()));
                    }
                }
            }
        }
        subs.hosts.sort_unstable();
        subs.hosts.dedup();
        Ok(subs)
    }

    /// Whether it takes the source `name`.
    pub fn takes(&self, name: &str, class: &dyn SourceClass) -> bool {
        self.all
            || self.hosts.binary_search_by(|h| (**h).cmp(name)).is_ok()
            || (self.configured && class.is_configured(name))
    }

    /// Its sources' part written out in one way (the shared `hello`'s key): equal for equal
    /// subscriptions whatever order their tokens came in.
    pub fn key(&self) -> String {
        if self.all {
            return "all".into();
        }
        let mut key = String::from(if self.configured { "configured" } else { "" });
        for host in &self.hosts {
            key.push_str(",host:");
            key.push_str(host);
        }
        key
    }
}

/// A socket's sources' part resolved to the hub's source indices; taking every source, it holds
/// nothing (no allocation per socket).
#[derive(Clone, Default)]
pub struct Filter(Option<Box<Only>>);

/// A filter that does not take every source.
#[derive(Clone)]
struct Only {
    subs: Arc<Subs>,
    class: Arc<dyn SourceClass>,
    /// Bit `i` set: the source with index `i` is taken.
    taken: Vec<u64>,
    /// Indices from here on were not registered when last resolved.
    known_below: u32,
}

impl Filter {
    /// A filter taking every source.
    pub fn all() -> Self {
        Self(None)
    }

    /// A filter for `subs`, resolved later (by the hub, under its lock).
    pub fn new(subs: Arc<Subs>, class: Arc<dyn SourceClass>) -> Self {
        if subs.all {
            return Self::all();
        }
        Self(Some(Box::new(Only { subs, class, taken: Vec::new(), known_below: 0 })))
    }

    /// Whether it takes every source.
    pub fn is_all(&self) -> bool {
        self.0.is_none()
    }

    /// See [`Subs::key`].
    pub fn key(&self) -> String {
        self.0.as_ref().map_or_else(|| "all".to_owned(), |only| only.subs.key())
    }

    /// Resolves the sources registered since the last time: `sources` are `(index, name)` of
    /// those with an index at or above [`Filter::known_below`], `next` the next index the hub
    /// will give.
    pub fn resolve<'a>(&mut self, sources: impl IntoIterator<Item = (u32, &'a str)>, next: u32) {
        let Some(only) = &mut self.0 else { return };
        for (index, name) in sources {
            if index >= only.known_below && only.subs.takes(name, &*only.class) {
                let (word, bit) = ((index / 64) as usize, index % 64);
                if only.taken.len() <= word {
                    only.taken.resize(word + 1, 0);
                }
                only.taken[word] |= 1 << bit;
            }
        }
        only.known_below = only.known_below.max(next);
    }

    /// Where resolving must start from.
    pub fn known_below(&self) -> u32 {
        self.0.as_ref().map_or(0, |only| only.known_below)
    }

    /// Whether the source with `index` is taken: `None` when that index is newer than the last
    /// resolution (resolve, then ask again).
    pub fn takes(&self, index: u32) -> Option<bool> {
        let Some(only) = &self.0 else { return Some(true) };
        if index >= only.known_below {
            return None;
        }
        let (word, bit) = ((index / 64) as usize, index % 64);
        Some(only.taken.get(word).is_some_and(|w| w & (1 << bit) != 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fleet;
    impl SourceClass for Fleet {
        fn is_configured(&self, source: &str) -> bool {
            !source.starts_with("web")
        }
    }

    #[test]
    fn lists_read_in_any_order_and_bad_tokens_are_named() {
        assert_eq!(Subs::parse(None), Ok(Subs::default()));
        let subs = Subs::parse(Some("figure:load1,host:b,overview,host:a,host:b,configured")).unwrap_or_default();
        assert_eq!(subs.hosts, [Arc::from("a"), Arc::from("b")]);
        assert!(subs.configured && !subs.all && subs.summary.overview && subs.summary.figure(3));
        assert_eq!(subs.key(), "configured,host:a,host:b");
        assert_eq!(Subs::parse(Some("overview")).map(|s| (s.key(), s.all)), Ok((String::new(), false)));
        assert_eq!(Subs::parse(Some("everything")), Err(SubError::Unknown("everything".into())));
        assert_eq!(Subs::parse(Some("figure:temp")), Err(SubError::Figure("temp".into())));
        assert_eq!(Subs::parse(Some("host:")), Err(SubError::EmptyHost));
        assert!(SubError::Figure("temp".into()).to_string().contains("\"temp\""));
    }

    #[test]
    fn a_filter_takes_its_sources_by_index_and_learns_new_ones() {
        let subs = Subs::parse(Some("configured,host:web-2")).unwrap_or_default();
        let mut filter = Filter::new(Arc::new(subs), Arc::new(Fleet));
        filter.resolve([(0, "local"), (1, "web-1"), (2, "web-2")], 3);
        assert_eq!([0, 1, 2].map(|i| filter.takes(i)), [Some(true), Some(false), Some(true)]);
        assert_eq!(filter.takes(70), None, "registered after the resolution");
        filter.resolve([(70, "web-3"), (71, "api")], 72);
        assert_eq!([70, 71].map(|i| filter.takes(i)), [Some(false), Some(true)]);
        assert_eq!(Filter::all().takes(5), Some(true));
    }
}
