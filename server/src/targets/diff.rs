//! What changed between two sets of targets, by name ([`diff`]): what the hub must start, stop
//! or restart, leaving every other host untouched.

use std::collections::HashMap;

use super::target::Target;

/// The difference between an old and a new set of targets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diff {
    /// Names only in the new set, in its order.
    pub added: Vec<Target>,
    /// Names only in the old set, in its order.
    pub removed: Vec<Target>,
    /// Names in both whose kind, URL or labels differ: `(old, new)`, in the new set's order.
    pub changed: Vec<(Target, Target)>,
}

impl Diff {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// What turns `old` into `new`, matching targets by name (names are unique in a set). A target
/// whose name, kind, URL and labels are all unchanged is in none of the lists, wherever it moved
/// in the file.
pub fn diff(old: &[Target], new: &[Target]) -> Diff {
    let before: HashMap<&str, &Target> = old.iter().map(|t| (&*t.name, t)).collect();
    let after: HashMap<&str, &Target> = new.iter().map(|t| (&*t.name, t)).collect();
    let mut out = Diff::default();
    for target in new {
        match before.get(&*target.name) {
            None => out.added.push(target.clone()),
            Some(was) if *was != target => out.changed.push(((*was).clone(), target.clone())),
            Some(_) => {}
        }
    }
    out.removed = old.iter().filter(|t| !after.contains_key(&*t.name)).cloned().collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::file::parse;

    fn set(json: &str) -> Vec<Target> {
        parse(std::path::Path::new("t.json"), json.as_bytes()).expect("valid")
    }

    #[test]
    fn added_removed_and_changed_are_told_apart_by_name() {
        let old = set(r#"[{"targets": ["a:1", "b:1", "c:1", "d:1"], "labels": {"env": "prod"}}]"#);
        let new = set(r#"[{"targets": ["d:1", "a:1"], "labels": {"env": "prod"}},
                {"targets": ["b:1"], "labels": {"env": "test"}},
                {"targets": ["c:1", "e:1"], "labels": {"env": "prod", "__metrics_path__": "/m"}}]"#);
        let d = diff(&old, &new);
        let names = |ts: &[Target]| ts.iter().map(|t| t.name.to_string()).collect::<Vec<_>>();
        assert_eq!(names(&d.added), ["e:1"]);
        assert!(d.removed.is_empty(), "{:?}", d.removed);
        let changed: Vec<_> = d.changed.iter().map(|(o, n)| (o.name.to_string(), n.name.to_string())).collect();
        assert_eq!(changed, [("b:1".to_owned(), "b:1".to_owned()), ("c:1".to_owned(), "c:1".to_owned())]);
        assert_eq!(d.changed[0].0.labels["env"], "prod");
        assert_eq!(d.changed[0].1.labels["env"], "test");
        assert_eq!(d.changed[1].1.kind.url().path(), "/m");
        let back = diff(&new, &old);
        assert_eq!(names(&back.removed), ["e:1"]);
        assert!(diff(&old, &old).is_empty());
    }
}
