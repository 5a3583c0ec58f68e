//! The files of every crate of the workspace import one another one way only: no file imports a
//! file that imports it back, directly or through others (DESIGN.md: no crate has an import loop
//! inside it). And the core's floors depend downward only: the backends (`sys/`) never name the
//! models above them (`reactor/`, `port/`, `op/`), the floor they share (`contract/`) names
//! neither, and `error.rs` names nothing of the crate.
//!
//! File level: every `use` and every path in the code that starts with `crate::`, `super::`,
//! `self::` or the name of a child module is an edge to the file that defines what it names
//! (the deepest module the path walks through; a module inline in a file is that file). Every
//! `mod` counts, whatever its `#[cfg]`, and `#[path]` is followed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    /// `::`
    Sep,
    Punct(char),
    /// A plain string literal, unescaped (for `#[path = "…"]`).
    Str(String),
}

/// The identifiers, `::`, punctuation and plain string literals of Rust source; comments, raw
/// strings, character literals, lifetimes and numbers left out.
fn lex(src: &str) -> Vec<Tok> {
    let c: Vec<char> = src.chars().collect();
    let (mut i, mut out) = (0, Vec::new());
    let at = |i: usize| c.get(i).copied().unwrap_or('\0');
    while i < c.len() {
        let ch = c[i];
        if ch == '/' && at(i + 1) == '/' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            loop {
                if at(i) == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if at(i) == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else if i >= c.len() {
                    break;
                } else {
                    i += 1;
                }
            }
        } else if ch == 'r' && (at(i + 1) == '"' || (at(i + 1) == '#' && matches!(at(i + 2), '"' | '#'))) {
            // A raw string: r"…", r#"…"#.
            let mut hashes = 0;
            i += 1;
            while at(i) == '#' {
                hashes += 1;
                i += 1;
            }
            i += 1;
            while i < c.len() && !(c[i] == '"' && (1..=hashes).all(|k| at(i + k) == '#')) {
                i += 1;
            }
            i += 1 + hashes;
        } else if ch == '"' {
            i += 1;
            let start = i;
            while i < c.len() && c[i] != '"' {
                i += if c[i] == '\\' { 2 } else { 1 };
            }
            out.push(Tok::Str(c[start..i.min(c.len())].iter().collect()));
            i += 1;
        } else if ch == '\'' {
            // A character literal ('x', '\n', '\u{..}'), else a lifetime ('a).
            if at(i + 1) == '\\' {
                i += 2;
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                i += 1;
                while at(i).is_alphanumeric() || at(i) == '_' {
                    i += 1;
                }
            }
        } else if ch.is_alphabetic() || ch == '_' {
            let start = i;
            while at(i).is_alphanumeric() || at(i) == '_' {
                i += 1;
            }
            out.push(Tok::Ident(c[start..i].iter().collect()));
        } else if ch.is_ascii_digit() {
            while at(i).is_alphanumeric() || at(i) == '_' || (at(i) == '.' && at(i + 1).is_ascii_digit()) {
                i += 1;
            }
        } else if ch == ':' && at(i + 1) == ':' {
            out.push(Tok::Sep);
            i += 2;
        } else {
            if !ch.is_whitespace() {
                out.push(Tok::Punct(ch));
            }
            i += 1;
        }
    }
    out
}

fn ident(t: Option<&Tok>) -> Option<&str> {
    match t {
        Some(Tok::Ident(s)) => Some(s),
        _ => None,
    }
}

/// The paths of a `use` tree starting at `toks[*i]` (`a::b::{c, d::e as f}`), each a list of
/// segments; `*i` ends past the tree.
fn use_tree(toks: &[Tok], i: &mut usize, prefix: &[String]) -> Vec<Vec<String>> {
    let mut path = prefix.to_vec();
    loop {
        match toks.get(*i) {
            Some(Tok::Ident(s)) if s == "as" => *i += 2, // the alias
            Some(Tok::Ident(s)) => {
                path.push(s.clone());
                *i += 1;
            }
            Some(Tok::Sep) => *i += 1,
            Some(Tok::Punct('{')) => {
                *i += 1;
                let mut all = Vec::new();
                while !matches!(toks.get(*i), Some(Tok::Punct('}')) | None) {
                    all.extend(use_tree(toks, i, &path));
                    if toks.get(*i) == Some(&Tok::Punct(',')) {
                        *i += 1;
                    }
                }
                *i += 1;
                return all;
            }
            Some(Tok::Punct('*')) => *i += 1,
            _ => return vec![path],
        }
    }
}

/// A module: its path from the crate root, its file, and the token range that is its body.
struct Module {
    path: Vec<String>,
    file: PathBuf,
    toks: std::ops::Range<usize>,
}

/// The `#[path = "…"]` among the attributes in front of the `mod` at `t[at]`, if any.
fn path_attr(t: &[Tok], at: usize) -> Option<String> {
    let mut j = at;
    // Visibility: `pub`, `pub(crate)`, `pub(in …)`.
    let visibility = |tok: &Tok| match tok {
        Tok::Ident(s) => ["pub", "crate", "super", "self", "in"].contains(&s.as_str()),
        tok => matches!(tok, Tok::Punct('(' | ')')),
    };
    while j > 0 && visibility(&t[j - 1]) {
        j -= 1;
    }
    // Attributes, last first: `#[…]`.
    while j > 0 && t[j - 1] == Tok::Punct(']') {
        let mut k = j - 1;
        let mut depth = 0;
        loop {
            match t[k] {
                Tok::Punct(']') => depth += 1,
                Tok::Punct('[') => depth -= 1,
                _ => {}
            }
            if depth == 0 || k == 0 {
                break;
            }
            k -= 1;
        }
        if k == 0 || t[k - 1] != Tok::Punct('#') {
            return None;
        }
        if let [Tok::Ident(name), Tok::Punct('='), Tok::Str(p)] = &t[k + 1..j - 1] {
            if name == "path" {
                return Some(p.clone());
            }
        }
        j = k - 1;
    }
    None
}

/// The file of child module `name` declared in `parent` (`name.rs` or `name/mod.rs` beside
/// `main.rs`/`lib.rs`/`mod.rs`, else in the folder named after the parent file).
fn child_file(parent: &Path, name: &str) -> Option<PathBuf> {
    let mut dir = parent.parent()?.to_path_buf();
    let stem = parent.file_stem()?.to_str()?;
    if !["main", "lib", "mod"].contains(&stem) {
        dir.push(stem);
    }
    [dir.join(format!("{name}.rs")), dir.join(name).join("mod.rs")].into_iter().find(|p| p.exists())
}

/// Every module of the tree under `path`, read from `file`, tokens kept per file.
fn walk(
    path: Vec<String>,
    file: &Path,
    toks: &std::ops::Range<usize>,
    all: &mut Vec<Module>,
    lexed: &mut BTreeMap<PathBuf, Vec<Tok>>,
) {
    let t = lexed[file].clone();
    all.push(Module { path: path.clone(), file: file.to_path_buf(), toks: toks.clone() });
    let (mut i, mut depth) = (toks.start, 0);
    while i < toks.end {
        match &t[i] {
            Tok::Punct('{') => depth += 1,
            Tok::Punct('}') => depth -= 1,
            Tok::Ident(m) if m == "mod" && depth == 0 => {
                if let Some(name) = ident(t.get(i + 1)) {
                    let child = [path.clone(), vec![name.to_string()]].concat();
                    if t.get(i + 2) == Some(&Tok::Punct(';')) {
                        let f = match path_attr(&t, i) {
                            Some(p) => file.parent().expect("a folder").join(p),
                            None => {
                                child_file(file, name).unwrap_or_else(|| panic!("no file for mod {name} in {file:?}"))
                            }
                        };
                        let src = std::fs::read_to_string(&f).expect("a source file");
                        let n = lex(&src);
                        let range = 0..n.len();
                        lexed.insert(f.clone(), n);
                        walk(child, &f, &range, all, lexed);
                    } else if t.get(i + 2) == Some(&Tok::Punct('{')) {
                        let (start, mut end, mut d) = (i + 3, i + 3, 1);
                        while d > 0 {
                            d += match t[end] {
                                Tok::Punct('{') => 1,
                                Tok::Punct('}') => -1,
                                _ => 0,
                            };
                            end += 1;
                        }
                        walk(child, file, &(start..end - 1), all, lexed);
                        i = end - 1;
                        continue;
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
}

/// The file-to-file imports of the crate whose root is `main`.
fn imports(main: &Path) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let mut lexed = BTreeMap::new();
    let n = lex(&std::fs::read_to_string(main).expect("the crate root"));
    let range = 0..n.len();
    lexed.insert(main.to_path_buf(), n);
    let mut mods = Vec::new();
    walk(Vec::new(), main, &range, &mut mods, &mut lexed);
    let file_of: BTreeMap<Vec<String>, PathBuf> = mods.iter().map(|m| (m.path.clone(), m.file.clone())).collect();
    let mut edges: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
    for m in &mods {
        let t = &lexed[&m.file];
        // Tokens of inner inline modules belong to those (they are walked on their own).
        let inner: Vec<_> = mods
            .iter()
            .filter(|o| o.file == m.file && o.path.len() > m.path.len() && o.path.starts_with(&m.path))
            .map(|o| o.toks.clone())
            .collect();
        let mut paths = Vec::new();
        let mut i = m.toks.start;
        while i < m.toks.end {
            if inner.iter().any(|r| r.contains(&i)) {
                i += 1;
                continue;
            }
            if ident(t.get(i)) == Some("use") {
                i += 1;
                paths.extend(use_tree(t, &mut i, &[]));
                continue;
            }
            if let Some(first) = ident(t.get(i)) {
                if t.get(i + 1) == Some(&Tok::Sep) && (i == 0 || t[i - 1] != Tok::Sep) {
                    let mut p = vec![first.to_string()];
                    let mut j = i + 1;
                    while let (Some(Tok::Sep), Some(s)) = (t.get(j), ident(t.get(j + 1))) {
                        p.push(s.to_string());
                        j += 2;
                    }
                    paths.push(p);
                    i = j;
                    continue;
                }
            }
            i += 1;
        }
        for p in paths {
            let mut segs = p.as_slice();
            let mut at = match segs.first().map(String::as_str) {
                Some("crate") => {
                    segs = &segs[1..];
                    Vec::new()
                }
                Some("super" | "self") => {
                    let mut at = m.path.clone();
                    while let Some(s @ ("super" | "self")) = segs.first().map(String::as_str) {
                        if s == "super" {
                            at.pop();
                        }
                        segs = &segs[1..];
                    }
                    at
                }
                Some(name) if file_of.contains_key(&[m.path.clone(), vec![name.to_string()]].concat()) => {
                    m.path.clone()
                }
                _ => continue, // std, another crate, a local item
            };
            while let Some(s) = segs.first() {
                let next = [at.clone(), vec![s.clone()]].concat();
                if !file_of.contains_key(&next) {
                    break;
                }
                at = next;
                segs = &segs[1..];
            }
            let target = &file_of[&at];
            if *target != m.file {
                edges.entry(m.file.clone()).or_default().insert(target.clone());
            }
        }
    }
    edges
}

/// A cycle through `from`, if there is one: the files along it.
fn cycle(edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>, from: &Path) -> Option<Vec<PathBuf>> {
    fn dfs(edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>, goal: &Path, at: &Path, trail: &mut Vec<PathBuf>) -> bool {
        for next in edges.get(at).into_iter().flatten() {
            if next == goal {
                return true;
            }
            if !trail.contains(next) {
                trail.push(next.clone());
                if dfs(edges, goal, next, trail) {
                    return true;
                }
                trail.pop();
            }
        }
        false
    }
    let mut trail = vec![from.to_path_buf()];
    dfs(edges, from, from, &mut trail).then_some(trail)
}

/// The first import cycle among `edges`, as the names of its files.
fn first_cycle(edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>, root: &Path) -> Option<String> {
    let rel = |p: &Path| p.strip_prefix(root).unwrap_or(p).display().to_string();
    edges.keys().find_map(|file| cycle(edges, file)).map(|c| {
        let names: Vec<String> = c.iter().map(|p| rel(p)).collect();
        format!("{} → {}", names.join(" → "), names[0])
    })
}

/// The workspace's folder.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace").to_path_buf()
}

#[test]
fn no_file_imports_a_file_that_imports_it_back() {
    let src = workspace().join("overlap-cli/src");
    let edges = imports(&src.join("main.rs"));
    // The scan sees the imports it should (a broken scan must not pass for want of edges).
    let has = |a: &str, b: &str| edges.get(&src.join(a)).is_some_and(|t| t.contains(&src.join(b)));
    assert!(has("bench/peers/mod.rs", "bench/server.rs") && has("bench/wakeup.rs", "bench/side.rs"), "{edges:#?}");
    assert!(has("bench/mod.rs", "bench/echo.rs") && has("echo/readiness.rs", "echo/running.rs"), "{edges:#?}");
    if let Some(c) = first_cycle(&edges, &src) {
        panic!("an import cycle in overlap-cli: {c}");
    }
    for krate in ["overlap-buf", "overlap-event"] {
        let root = workspace().join(krate).join("src");
        if let Some(c) = first_cycle(&imports(&root.join("lib.rs")), &root) {
            panic!("an import cycle in {krate}: {c}");
        }
    }
}

#[test]
fn the_core_has_no_import_loop_and_its_floors_depend_downward() {
    let src = workspace().join("overlap/src");
    let edges = imports(&src.join("lib.rs"));
    let has = |a: &str, b: &str| edges.get(&src.join(a)).is_some_and(|t| t.contains(&src.join(b)));
    // The scan sees the imports it should, `#[path]` modules and per-OS files among them.
    assert!(has("sys/uring/mod.rs", "contract/queue.rs") && has("port/completion_port.rs", "op/mod.rs"), "{edges:#?}");
    assert!(has("contract/loom_model.rs", "contract/completion.rs"), "#[path] not followed: {edges:#?}");
    assert!(has("sys/windows/iocp.rs", "contract/driver.rs"), "{edges:#?}");
    if let Some(c) = first_cycle(&edges, &src) {
        panic!("an import cycle in overlap: {c}");
    }
    let under = |p: &Path, dir: &str| p.strip_prefix(&src).is_ok_and(|r| r.starts_with(dir));
    for (file, targets) in &edges {
        for t in targets {
            let edge = || format!("{} imports {}", file.display(), t.display());
            if under(file, "sys") {
                assert!(!["reactor", "port", "op"].iter().any(|d| under(t, d)), "a backend reaches up: {}", edge());
            }
            if under(file, "contract") {
                let up = ["sys", "reactor", "port", "op"].iter().any(|d| under(t, d));
                assert!(!up, "the floor below the backends reaches up: {}", edge());
            }
            assert!(file != &src.join("error.rs"), "error.rs names the crate's types: {}", edge());
        }
    }
}
