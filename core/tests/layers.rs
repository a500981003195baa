//! One direction: each module of confab-core uses only modules below it, so
//! no two modules depend on each other, directly or round a circle.
//!
//! Reads every `src/**.rs`, collects each file's uses of other modules
//! (`crate::<module>` in code, `use` lines, `use crate::{…}` groups and doc
//! links; a `crate::<macro>!` by the module that defines the macro; a
//! `super::` chain that climbs out of the file's top module), and fails on
//! any use of a module that comes later in [`LAYERS`], naming the file and
//! line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The modules, lowest first, in layers. A module may use the modules
/// before it in this list (earlier ones of its own layer included), never
/// one after it. ARCHITECTURE.md draws the same order.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "leaf utilities",
        &[
            "order",
            "clock",
            "units",
            "recency",
            "bytes",
            "outcome",
            "telemetry",
            "transport",
            "markdown",
        ],
    ),
    ("storage", &["storage"]),
    ("sessions", &["session"]),
    ("the manager", &["manager"]),
    (
        "features",
        &[
            "settings",
            "profiles",
            "attachments",
            "chat",
            "agent",
            "search",
            "sync",
            "transfer",
            "notice",
            "actions",
        ],
    ),
];

/// Uses the order allows but the design does not: what is stored keeps
/// types of its own, so a wire format can change without a change of the
/// stored format (the manager once kept the wire's `Usage` in its calls).
const KEPT_APART: &[(&str, &str)] = &[
    ("storage", "transport"),
    ("session", "transport"),
    ("manager", "transport"),
];

/// Each module's place in the order, and its layer's name.
fn ranks() -> BTreeMap<&'static str, (usize, &'static str)> {
    LAYERS
        .iter()
        .flat_map(|(layer, modules)| modules.iter().map(move |m| (*m, *layer)))
        .enumerate()
        .map(|(rank, (module, layer))| (module, (rank, layer)))
        .collect()
}

fn source_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("src/ is readable")
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            source_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// A file's module path below the crate root (`storage/keys.rs` and
/// `storage/keys/mod.rs` are both `["storage", "keys"]`); empty for lib.rs.
fn module_path(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let file = parts.pop().expect("a file name");
    let stem = file.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_owned());
    }
    parts
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The identifier at the start of `text`.
fn ident(text: &str) -> &str {
    let end = text.find(|c| !is_ident_char(c)).unwrap_or(text.len());
    &text[..end]
}

/// One use of a name at the crate root: the line, the name, and whether it
/// is a macro (`name!`).
#[derive(Debug, PartialEq)]
struct RootUse {
    line: usize,
    name: String,
    is_macro: bool,
}

/// The first identifier of each item of the group that starts `text`
/// (just after `{`), up to its closing brace.
fn group_items(text: &str) -> Vec<(usize, String)> {
    let mut items = Vec::new();
    let mut depth = 0;
    let mut at_item = true;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => at_item = true,
            c if at_item && is_ident_char(c) => {
                items.push((i, ident(&text[i..]).to_owned()));
                at_item = false;
            }
            _ => {}
        }
    }
    items
}

/// Every name used at the crate root in `text`, of a file whose module path
/// is `path`: `crate::name` (also `$crate::`), each item of `crate::{…}`,
/// and `super::…::name` when the chain is at least as long as `path` (it
/// leaves the file's top module, at least; inline modules make it longer,
/// so a name that is no module there is not counted).
fn root_uses(text: &str, path: &[String], modules: &[&str]) -> Vec<RootUse> {
    let line_of = |at: usize| text[..at].matches('\n').count() + 1;
    let mut uses = Vec::new();
    let mut push = |at: usize, name: &str| {
        let is_macro = text[at + name.len()..].starts_with('!');
        uses.push(RootUse {
            line: line_of(at),
            name: name.to_owned(),
            is_macro,
        });
    };
    for (at, _) in text.match_indices("crate::") {
        if text[..at].chars().next_back().is_some_and(is_ident_char) {
            continue;
        }
        let rest = &text[at + "crate::".len()..];
        let start = at + "crate::".len();
        if let Some(group) = rest.strip_prefix('{') {
            for (offset, name) in group_items(group) {
                push(start + 1 + offset, &name);
            }
        } else {
            let name = ident(rest);
            if !name.is_empty() {
                push(start, name);
            }
        }
    }
    for (at, _) in text.match_indices("super::") {
        if text[..at].chars().next_back().is_some_and(is_ident_char)
            || text[..at].ends_with("super::")
        {
            continue;
        }
        let mut end = at;
        let mut climbs = 0;
        while text[end..].starts_with("super::") {
            end += "super::".len();
            climbs += 1;
        }
        let name = ident(&text[end..]);
        if climbs >= path.len() && modules.contains(&name) {
            push(end, name);
        }
    }
    uses
}

/// The module of each macro defined in `src` (by `macro_rules!`).
fn macro_homes(files: &[(Vec<String>, String)]) -> BTreeMap<String, String> {
    let mut homes = BTreeMap::new();
    for (path, text) in files {
        for (at, _) in text.match_indices("macro_rules!") {
            let name = ident(text[at + "macro_rules!".len()..].trim_start());
            if let Some(module) = path.first() {
                homes.insert(name.to_owned(), module.clone());
            }
        }
    }
    homes
}

/// What lib.rs re-exports at the root (`pub use module::Name;`), by name.
fn reexports(lib: &str) -> BTreeMap<String, String> {
    lib.lines()
        .filter_map(|line| line.trim().strip_prefix("pub use ")?.strip_suffix(';'))
        .filter_map(|path| {
            let (module, name) = path.split_once("::")?;
            Some((
                ident(name.rsplit("::").next()?).to_owned(),
                module.to_owned(),
            ))
        })
        .collect()
}

#[test]
fn every_module_uses_only_modules_below_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    source_files(&root, &mut paths);
    let files: Vec<(Vec<String>, String)> = paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).expect("a readable source file");
            (
                module_path(p.strip_prefix(&root).expect("below src/")),
                text,
            )
        })
        .collect();
    let ranks = ranks();
    let modules: Vec<&str> = ranks.keys().copied().collect();
    let macros = macro_homes(&files);
    let lib = &files
        .iter()
        .find(|(path, _)| path.is_empty())
        .expect("lib.rs")
        .1;
    let reexported = reexports(lib);

    let mut wrong = Vec::new();
    let mut checked = 0;
    for ((path, text), file) in files.iter().zip(&paths) {
        let Some(own) = path.first() else {
            continue; // lib.rs: the root declares the modules.
        };
        let workspace = root
            .parent()
            .and_then(Path::parent)
            .expect("core/ in a workspace");
        let shown = file.strip_prefix(workspace).expect("below it").display();
        let Some(&(own_rank, own_layer)) = ranks.get(own.as_str()) else {
            wrong.push(format!("{shown}: module `{own}` is in no layer of LAYERS"));
            continue;
        };
        for found in root_uses(text, path, &modules) {
            let target = if found.is_macro {
                macros.get(&found.name).cloned()
            } else if modules.contains(&found.name.as_str()) {
                Some(found.name.clone())
            } else {
                reexported.get(&found.name).cloned()
            };
            let Some(target) = target else {
                wrong.push(format!(
                    "{shown}:{}: `crate::{}` names no module of LAYERS",
                    found.line, found.name
                ));
                continue;
            };
            checked += 1;
            if target == *own {
                continue;
            }
            let (rank, layer) = ranks[target.as_str()];
            if KEPT_APART.contains(&(own.as_str(), target.as_str())) {
                wrong.push(format!(
                    "{shown}:{}: `{own}` uses `{target}`, which KEPT_APART forbids: \
                     give `{own}` a type of its own",
                    found.line
                ));
            } else if rank > own_rank {
                wrong.push(format!(
                    "{shown}:{}: `{own}` ({own_layer}) uses `{target}` ({layer}), which comes after it: \
                     move what it needs down, or the code up",
                    found.line
                ));
            }
        }
    }
    assert!(
        checked > 50,
        "only {checked} uses found: is the scan broken?"
    );
    assert!(
        wrong.is_empty(),
        "uses against the order of the layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_layers_name_every_module_of_the_crate_once() {
    let lib = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs"))
        .expect("lib.rs");
    let mut declared: Vec<&str> = lib
        .lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix("pub mod ")
                .or(l.trim().strip_prefix("mod "))
        })
        .filter_map(|l| l.strip_suffix(';'))
        .collect();
    declared.sort();
    let mut layered: Vec<&str> = LAYERS.iter().flat_map(|(_, m)| m.iter().copied()).collect();
    layered.sort();
    assert_eq!(layered, declared);
}

#[test]
fn the_scan_finds_every_form_of_use() {
    let text = "use crate::{storage::{KvStore, keys}, session};\n\
                let x = crate::sync::merge(); // see [`crate::chat`]\n\
                $crate::settings::x!();\n\
                crate::session_contract_tests!(x);\n\
                use super::super::agent::Run;\n\
                use super::*;\n\
                my_crate::ignored; notcrate::ignored;\n";
    let modules = ["storage", "session", "sync", "chat", "settings", "agent"];
    let path = ["manager".to_owned(), "calls".to_owned()];
    let uses = root_uses(text, &path, &modules);
    let found: Vec<(usize, &str, bool)> = uses
        .iter()
        .map(|u| (u.line, u.name.as_str(), u.is_macro))
        .collect();
    assert_eq!(
        found,
        [
            (1, "storage", false),
            (1, "session", false),
            (2, "sync", false),
            (2, "chat", false),
            (3, "settings", false),
            (4, "session_contract_tests", true),
            (5, "agent", false),
        ]
    );
    assert_eq!(
        module_path(Path::new("storage/keys.rs")),
        ["storage", "keys"]
    );
    assert_eq!(module_path(Path::new("manager/mod.rs")), ["manager"]);
    assert_eq!(module_path(Path::new("lib.rs")), Vec::<String>::new());
}
