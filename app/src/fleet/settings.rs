//! The overview's settings (order, filter text, grouping tag), remembered per browser the way the
//! card layout is ([`crate::layout`]): in a cookie, so that the server renders the table already
//! sorted, filtered and grouped, and a reload shows the same view. Read defensively: a part that
//! does not parse is left at its default.

use super::view::{Column, Sort};
use crate::layout::{decode_component, encode_component};

/// The cookie's name.
pub const COOKIE: &str = "livedash_fleet";
/// The longest filter text kept.
const MAX_FILTER: usize = 500;

/// What the person chose on the overview.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Settings {
    /// The table's order.
    pub sort: Sort,
    /// The filter box's text.
    pub filter: String,
    /// The tag the rows are grouped by (empty: none).
    pub group: String,
}

impl Settings {
    /// Reads a value written by [`Settings::to_cookie`]: `s:COLUMN.d:1.f:TEXT.g:TAG`.
    pub fn parse(value: &str) -> Self {
        let mut s = Self::default();
        for part in value.split('.') {
            let (key, v) = part.split_once(':').unwrap_or((part, ""));
            match key {
                "s" => s.sort.column = Column::from_key(v),
                "d" => s.sort.descending = v == "1",
                "f" => s.filter = decode_component(v).unwrap_or_default().chars().take(MAX_FILTER).collect(),
                "g" => s.group = decode_component(v).unwrap_or_default(),
                _ => {}
            }
        }
        if s.sort.column.is_none() {
            s.sort.descending = false;
        }
        s
    }

    /// The cookie value (only letters, digits and `-_*/%.:`).
    pub fn to_cookie(&self) -> String {
        let filter: String = self.filter.chars().take(MAX_FILTER).collect();
        format!(
            "s:{}.d:{}.f:{}.g:{}",
            self.sort.column.map_or("", Column::key),
            u8::from(self.sort.descending),
            encode_component(&filter),
            encode_component(&self.group)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_through_the_cookie() {
        let s = Settings {
            sort: Sort { column: Some(Column::Figure(4)), descending: true },
            filter: "env:prod web; =~.%".into(),
            group: "role".into(),
        };
        let value = s.to_cookie();
        assert!(!value.contains([';', ',', ' ', '"', '=']), "{value}");
        assert_eq!(Settings::parse(&value), s);
        assert_eq!(Settings::parse(&Settings::default().to_cookie()), Settings::default());
    }

    #[test]
    fn bad_values_fall_back_to_the_defaults() {
        assert_eq!(Settings::parse("garbage"), Settings::default());
        let s = Settings::parse("s:bogus.d:1.f:%zz.g:env");
        assert_eq!(s, Settings { group: "env".into(), ..Settings::default() }, "no column: worst first, ascending");
        assert_eq!(crate::cookie::from_header("a=1; livedash_fleet=s:name; b=2", COOKIE).as_deref(), Some("s:name"));
        assert_eq!(Settings::parse(&format!("f:{}", "x".repeat(2000))).filter.len(), MAX_FILTER);
    }
}
