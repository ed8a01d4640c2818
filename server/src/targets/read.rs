//! Reading a `file_sd` document into plain groups ([`RawGroup`]), from JSON or YAML alike (any
//! serde deserializer), before the rules of [`super::rules`] give them meaning.
//!
//! Faults the rules find after the parse (a bad target, a name used twice) are located by a
//! second read of the same text told to stop at their [`Place`]: it fails there on purpose, and
//! the parser says where that is. One reader serves both, so the places always agree; the
//! second read happens only for a file being refused.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// The message of the deliberate failure of a read told to stop.
pub(super) const STOP: &str = "livedash: stop here";

/// One `{"targets": [...], "labels": {...}}` group, as written.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct RawGroup {
    /// The target strings, in order.
    pub targets: Vec<String>,
    /// The labels, in the order written (a name given twice is refused while reading).
    pub labels: Vec<(String, String)>,
}

/// A place in the file: a group, a target of a group, a label of a group (by their indexes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    /// The group itself.
    Group(usize),
    /// The group's target at this index.
    Target(usize, usize),
    /// The value of the group's label at this index (in the order written).
    Label(usize, usize),
    /// The name of the group's label at this index.
    LabelName(usize, usize),
}

/// What the reader carries down: where to stop, and how many targets it may take.
pub(super) struct Reader {
    stop: Option<Place>,
    max_targets: usize,
    seen: Cell<usize>,
    over: Cell<bool>,
}

impl Reader {
    /// A reader that takes at most `max_targets` targets and, when `stop` is given, fails there.
    pub fn new(stop: Option<Place>, max_targets: usize) -> Self {
        Self { stop, max_targets, seen: Cell::new(0), over: Cell::new(false) }
    }

    /// The groups of the document `de` reads.
    pub fn read<'de, D: Deserializer<'de>>(&self, de: D) -> Result<Vec<RawGroup>, D::Error> {
        de.deserialize_seq(FileVisitor(self))
    }

    /// Whether the read stopped because the file has more than `max_targets` targets.
    pub fn over_cap(&self) -> bool {
        self.over.get()
    }

    fn check<E: de::Error>(&self, here: Place) -> Result<(), E> {
        if self.stop == Some(here) { Err(E::custom(STOP)) } else { Ok(()) }
    }
}

struct FileVisitor<'r>(&'r Reader);

impl<'de> Visitor<'de> for FileVisitor<'_> {
    type Value = Vec<RawGroup>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of target groups ([{\"targets\": [\"host:9100\"], \"labels\": {...}}])")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut groups = Vec::new();
        while let Some(group) = seq.next_element_seed(GroupSeed(self.0, groups.len()))? {
            groups.push(group);
        }
        Ok(groups)
    }
}

struct GroupSeed<'r>(&'r Reader, usize);

impl<'de> DeserializeSeed<'de> for GroupSeed<'_> {
    type Value = RawGroup;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<RawGroup, D::Error> {
        de.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for GroupSeed<'_> {
    type Value = RawGroup;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a target group: {\"targets\": [...], \"labels\": {...}}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawGroup, A::Error> {
        let GroupSeed(reader, group) = self;
        reader.check(Place::Group(group))?;
        let (mut targets, mut labels) = (None, None);
        while let Some(is_targets) = map.next_key_seed(GroupKey(targets.is_some(), labels.is_some()))? {
            if is_targets {
                targets = Some(map.next_value_seed(TargetsSeed(reader, group))?);
            } else {
                labels = Some(map.next_value_seed(LabelsSeed(reader, group))?);
            }
        }
        Ok(RawGroup { targets: targets.unwrap_or_default(), labels: labels.unwrap_or_default() })
    }
}

/// A group's key: `targets` (true) or `labels` (false), each once; refused where it is written.
struct GroupKey(bool, bool);

impl<'de> DeserializeSeed<'de> for GroupKey {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<bool, D::Error> {
        de.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for GroupKey {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("`targets` or `labels`")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<bool, E> {
        match key {
            "targets" if !self.0 => Ok(true),
            "labels" if !self.1 => Ok(false),
            "targets" | "labels" => Err(E::custom(format!("`{key}` is given twice in one group"))),
            other => Err(E::custom(format!("unknown key `{other}`: a group has `targets` and `labels` only"))),
        }
    }
}

struct TargetsSeed<'r>(&'r Reader, usize);

impl<'de> DeserializeSeed<'de> for TargetsSeed<'_> {
    type Value = Vec<String>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Vec<String>, D::Error> {
        de.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for TargetsSeed<'_> {
    type Value = Vec<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of target strings")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
        let TargetsSeed(reader, group) = self;
        let mut out = Vec::new();
        while let Some(target) = seq.next_element_seed(Leaf(reader, Place::Target(group, out.len()), &[]))? {
            out.push(target);
        }
        Ok(out)
    }
}

struct LabelsSeed<'r>(&'r Reader, usize);

impl<'de> DeserializeSeed<'de> for LabelsSeed<'_> {
    type Value = Vec<(String, String)>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for LabelsSeed<'_> {
    type Value = Vec<(String, String)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of label names to string values")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_some<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_map(self)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let LabelsSeed(reader, group) = self;
        let mut out: Vec<(String, String)> = Vec::new();
        while let Some(name) = map.next_key_seed(Leaf(reader, Place::LabelName(group, out.len()), &out))? {
            let value = map.next_value_seed(Leaf(reader, Place::Label(group, out.len()), &[]))?;
            out.push((name, value));
        }
        Ok(out)
    }
}

/// A string at a place: a target (counted against the cap), a label's name (not one of the
/// group's labels before it) or value. Faults are raised here, so the parser places them at it.
struct Leaf<'r>(&'r Reader, Place, &'r [(String, String)]);

impl Leaf<'_> {
    fn take<E: de::Error>(self, v: String) -> Result<String, E> {
        let Leaf(reader, place, before) = self;
        reader.check(place)?;
        if let Place::Target(..) = place {
            let seen = reader.seen.get() + 1;
            if seen > reader.max_targets {
                reader.over.set(true);
                return Err(E::custom(format!("more than {} targets", reader.max_targets)));
            }
            reader.seen.set(seen);
        }
        if before.iter().any(|(name, _)| *name == v) {
            return Err(E::custom(format!("label `{v}` is given twice in one group")));
        }
        Ok(v)
    }
}

impl<'de> DeserializeSeed<'de> for Leaf<'_> {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<String, D::Error> {
        de.deserialize_string(self)
    }
}

impl<'de> Visitor<'de> for Leaf<'_> {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        self.take(v.to_owned())
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        self.take(v)
    }
}
