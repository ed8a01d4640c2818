//! The rules of the house for `server/src`, read from the source itself:
//!
//! - no file imports another in a circle, and no top-level room (folder or file under `src/`)
//!   imports another in a circle;
//! - nothing inside imports `lib.rs` (an item at the crate root) or `main.rs`;
//! - only `ui.rs` names the UI crate's types (`app::`);
//! - every file opens with a `//!` paragraph saying what it holds;
//! - no file is longer than [`MAX_LINES`].
//!
//! An import is any path through `crate::`, `super::`, `self::` or a child module's name, in a
//! `use` or in code, outside the tests (`#[cfg(test)]` items at the bottom of a file, `tests.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The longest a file may be, its tests included (the aim is about 350).
const MAX_LINES: usize = 400;

/// A module's path from the crate root: `["live", "ws", "pump"]`.
type ModPath = Vec<String>;

struct Module {
    file: PathBuf,
    /// The file's text without its tests.
    code: String,
    /// The whole text.
    text: String,
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every module of the library crate, by path (main.rs is another crate).
fn modules() -> BTreeMap<ModPath, Module> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![src()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let rel = path.strip_prefix(src()).unwrap();
            let mut segments: ModPath = rel.iter().map(|s| s.to_string_lossy().into_owned()).collect();
            let last = segments.pop().unwrap();
            match last.as_str() {
                "main.rs" | "tests.rs" => continue,
                "lib.rs" | "mod.rs" => {}
                other => segments.push(other.trim_end_matches(".rs").to_owned()),
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code = without_tests(&text);
            out.insert(segments, Module { file: rel.to_owned(), code, text });
        }
    }
    out
}

/// `text` up to its first test-only item (`#[cfg(test)]`, `#[cfg(all(test, unix))]`, ...): tests
/// sit at the bottom of a file.
fn without_tests(text: &str) -> String {
    let mut end = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(") && trimmed.contains("test") {
            break;
        }
        end += line.len();
    }
    text[..end].to_owned()
}

/// `text` without comments and string literals, so that only code is read.
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '"' => {
                let mut escaped = false;
                for c in chars.by_ref() {
                    if c == '"' && !escaped {
                        break;
                    }
                    escaped = c == '\\' && !escaped;
                }
                out.push_str("\"\"");
            }
            c => out.push(c),
        }
    }
    out
}

/// Every path a `use` tree names: `a::{b, c::{d, e}}` gives `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str, prefix: &str, out: &mut Vec<String>) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let head = format!("{prefix}{}", &tree[..open]);
        let inner = &tree[open + 1..tree.rfind('}').unwrap()];
        let mut depth = 0;
        let mut start = 0;
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(&inner[start..i], &head, out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        expand(&inner[start..], &head, out);
    } else if !tree.is_empty() {
        let path = tree.split(" as ").next().unwrap().trim();
        out.push(format!("{prefix}{path}").trim_end_matches("::self").to_owned());
    }
}

/// The paths `code` names: whole `use` trees, and `crate::`/`super::` paths in code.
fn paths(code: &str) -> Vec<String> {
    let code = code_only(code);
    let mut out = Vec::new();
    let mut rest = code.as_str();
    while let Some(i) = rest.find("use ") {
        let before = rest[..i].chars().last();
        let after_use = &rest[i + 4..];
        if before.is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
            && let Some(end) = after_use.find(';')
        {
            expand(&after_use[..end], "", &mut out);
        }
        rest = after_use;
    }
    for start in ["crate::", "super::"] {
        let mut rest = code.as_str();
        while let Some(i) = rest.find(start) {
            let before = rest[..i].chars().last();
            let tail = &rest[i..];
            let end = tail.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).unwrap_or(tail.len());
            if before.is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == ':')) {
                out.push(tail[..end].trim_end_matches(':').to_owned());
            }
            rest = &tail[start.len()..];
        }
    }
    out
}

/// The module a path used in module `from` leads to, or `None` for paths outside the crate.
/// `Some(vec![])` is the crate root.
fn resolve(path: &str, from: &ModPath, modules: &BTreeMap<ModPath, Module>) -> Option<ModPath> {
    let mut segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
    let mut base: ModPath = match segments.first().copied() {
        Some("crate") => {
            segments.remove(0);
            Vec::new()
        }
        Some("super") => {
            let mut base = from.clone();
            while segments.first() == Some(&"super") {
                segments.remove(0);
                base.pop();
            }
            base
        }
        Some("self") => {
            segments.remove(0);
            from.clone()
        }
        Some(first) => {
            // A child module named without `self::`; anything else is another crate.
            let mut child = from.clone();
            child.push(first.to_owned());
            if !modules.contains_key(&child) {
                return None;
            }
            from.clone()
        }
        None => return None,
    };
    for segment in segments {
        let mut next = base.clone();
        next.push(segment.to_owned());
        if !modules.contains_key(&next) {
            break;
        }
        base = next;
    }
    Some(base)
}

/// Which modules each module imports (itself and its own ancestors by `super::` aside when the
/// path ends at an item of a child).
fn imports(modules: &BTreeMap<ModPath, Module>) -> BTreeMap<ModPath, BTreeSet<ModPath>> {
    modules
        .iter()
        .map(|(from, module)| {
            let targets =
                paths(&module.code).iter().filter_map(|p| resolve(p, from, modules)).filter(|to| to != from).collect();
            (from.clone(), targets)
        })
        .collect()
}

/// A circle in `graph`, if there is one.
fn circle<N: Ord + Clone>(graph: &BTreeMap<N, BTreeSet<N>>) -> Option<Vec<N>> {
    fn visit<N: Ord + Clone>(
        node: &N,
        graph: &BTreeMap<N, BTreeSet<N>>,
        done: &mut BTreeSet<N>,
        stack: &mut Vec<N>,
    ) -> Option<Vec<N>> {
        if let Some(i) = stack.iter().position(|n| n == node) {
            let mut found = stack[i..].to_vec();
            found.push(node.clone());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, done, stack) {
                return Some(found);
            }
        }
        stack.pop();
        done.insert(node.clone());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|node| visit(node, graph, &mut done, &mut Vec::new()))
}

fn show(path: &ModPath) -> String {
    if path.is_empty() { "lib.rs".to_owned() } else { path.join("::") }
}

#[test]
fn no_file_imports_another_in_a_circle() {
    let modules = modules();
    let graph = imports(&modules);
    let found = circle(&graph).map(|c| c.iter().map(show).collect::<Vec<_>>().join(" -> "));
    assert_eq!(found, None, "an import circle between files");
}

#[test]
fn no_top_level_room_imports_another_in_a_circle() {
    let modules = modules();
    let mut rooms: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, targets) in imports(&modules) {
        let Some(room) = from.first() else { continue };
        let entry = rooms.entry(room.clone()).or_default();
        entry.extend(targets.iter().filter_map(|t| t.first()).filter(|t| *t != room).cloned());
    }
    assert_eq!(circle(&rooms), None, "an import circle between rooms");
}

#[test]
fn nothing_inside_imports_the_crate_root() {
    let modules = modules();
    let climbing: Vec<String> = imports(&modules)
        .into_iter()
        .filter(|(from, targets)| !from.is_empty() && targets.contains(&Vec::new()))
        .map(|(from, _)| show(&from))
        .collect();
    assert!(climbing.is_empty(), "these import lib.rs: {climbing:?}");
}

#[test]
fn only_ui_rs_names_the_ui_crate() {
    let modules = modules();
    let naming: Vec<String> = modules
        .iter()
        .filter(|(_, m)| m.file != Path::new("ui.rs"))
        .filter(|(_, m)| paths(&m.code).iter().any(|p| p == "app" || p.starts_with("app::")))
        .map(|(_, m)| m.file.display().to_string())
        .collect();
    let code_mentions: Vec<String> = modules
        .iter()
        .filter(|(_, m)| m.file != Path::new("ui.rs"))
        .filter(|(_, m)| {
            let code = code_only(&m.code);
            code.match_indices("app::")
                .any(|(i, _)| code[..i].chars().last().is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == ':')))
        })
        .map(|(_, m)| m.file.display().to_string())
        .collect();
    assert!(naming.is_empty() && code_mentions.is_empty(), "{naming:?} {code_mentions:?}");
}

#[test]
fn every_file_says_what_it_holds_and_stays_short() {
    for module in modules().values() {
        let file = module.file.display();
        assert!(module.text.starts_with("//! "), "{file} opens without a //! paragraph");
        let lines = module.text.lines().count();
        assert!(lines <= MAX_LINES, "{file} has {lines} lines (at most {MAX_LINES}): split it");
    }
}

#[test]
fn the_reader_sees_through_use_trees_comments_and_strings() {
    let mut out = Vec::new();
    expand("super::{a, b::{c, d as e}, self}", "", &mut out);
    assert_eq!(out, ["super::a", "super::b::c", "super::b::d", "super"]);
    let code = "use crate::x::{y, z};\n// crate::comment::ignored\nlet s = \"crate::in::string\";\ncrate::w::f();";
    let found = paths(code);
    assert!(found.contains(&"crate::x::y".to_owned()) && found.contains(&"crate::w::f".to_owned()), "{found:?}");
    assert!(!found.iter().any(|p| p.contains("comment") || p.contains("string")), "{found:?}");
    let graph = BTreeMap::from([(1, BTreeSet::from([2])), (2, BTreeSet::from([3])), (3, BTreeSet::from([1]))]);
    assert_eq!(circle(&graph), Some(vec![1, 2, 3, 1]));
    let graph = BTreeMap::from([(1, BTreeSet::from([2, 3])), (2, BTreeSet::from([3])), (3, BTreeSet::new())]);
    assert_eq!(circle(&graph), None);
}
