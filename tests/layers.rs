//! The daemon's layers, as ARCHITECTURE.md draws them ("Layers and arrows"): every
//! `crate::MODULE` path in a module's shipping code names a module of a lower layer.
//! Test code (`tests.rs` files, and what follows a file's `#[cfg(test)]`) and comments
//! are left out: the rule is for the code that ships.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// From the bottom up; a module may use the modules of the layers below its own.
const LAYERS: &[&[&str]] = &[
    &["config", "market", "plugin", "records"],
    &["alert"],
    &["venue"],
    &["account"],
    &["risk"],
    &["engine"],
    &["store"],
    &["assembly", "metrics", "service"],
    &["feed", "monitor", "recorder", "reload"],
    &["api"],
    &["daemon", "backtest"],
    &["lib", "main"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The `crate::MODULE` names a file's shipping code uses, also inside a group
/// (`use crate::{a::X, b};`, over several lines).
fn uses(text: &str) -> Vec<String> {
    let code: String = text
        .lines()
        .take_while(|line| !line.starts_with("#[cfg(test)]"))
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    // A module's name; an item of the crate root (`crate::Item`) lives in lib.rs.
    let name = |s: &str| -> String {
        let ident: String = s
            .trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if ident.starts_with(|c: char| c.is_ascii_uppercase()) {
            "lib".to_owned()
        } else {
            ident
        }
    };
    let mut found = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // The top-level items of the group, up to its closing brace.
            let mut depth = 0;
            let mut item_start = 0;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        found.push(name(&group[item_start..i]));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        found.push(name(&group[item_start..i]));
                        item_start = i + 1;
                    }
                    _ => {}
                }
            }
        } else {
            found.push(name(rest));
        }
    }
    found.retain(|n| !n.is_empty() && n != "self");
    found
}

#[test]
fn every_arrow_between_the_daemons_modules_points_down() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut wrong = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        if relative.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let module = match relative.components().count() {
            1 => relative.file_stem().unwrap().to_string_lossy().into_owned(),
            _ => relative
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_string_lossy()
                .into_owned(),
        };
        let Some(own) = layer_of(&module) else {
            wrong.push(format!(
                "{}: module {module} is in no layer",
                relative.display()
            ));
            continue;
        };
        *seen.entry(module.clone()).or_default() += 1;
        let text = std::fs::read_to_string(file).unwrap();
        for used in uses(&text) {
            if used == module {
                continue;
            }
            match layer_of(&used) {
                Some(layer) if layer < own => {}
                Some(_) => wrong.push(format!(
                    "{}: {module} uses crate::{used}, which is not below it",
                    relative.display()
                )),
                None => wrong.push(format!(
                    "{}: crate::{used} is in no layer",
                    relative.display()
                )),
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "arrows pointing up:\n{}",
        wrong.join("\n")
    );
    // Every layer's modules exist, so the table cannot drift from the code unnoticed.
    for module in LAYERS.iter().flat_map(|l| l.iter()) {
        assert!(
            seen.contains_key(*module),
            "no module {module} in daemon/src"
        );
    }
}

#[test]
fn the_check_sees_an_upward_arrow_and_ignores_comments_and_tests() {
    let text = "use crate::engine::Core; // crate::api\n/// [`crate::daemon`]\nfn f() { crate::store::x(); }\nuse crate::{\n    market::{A, B},\n    venue,\n};\nlet x = crate::Root;\n#[cfg(test)]\nmod tests { use crate::api; }\n";
    assert_eq!(uses(text), ["engine", "store", "market", "venue", "lib"]);
}
