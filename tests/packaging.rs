//! The packaging as systemd and an operator see it: the unit verifies, its hardening
//! scores 2.0 or better in `systemd-analyze security`, and the production configuration
//! example passes `check-config`.

mod support;

use std::process::Command;
use support::{workspace, Daemon};

/// The unit with its programs pointing at the binary under test (verify checks they
/// exist), in a folder of its own.
fn unit() -> (tempfile::TempDir, std::path::PathBuf) {
    let text = std::fs::read_to_string(workspace().join("packaging/pennantd.service")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pennantd.service");
    std::fs::write(
        &path,
        text.replace("/usr/bin/pennantd", env!("CARGO_BIN_EXE_pennantd")),
    )
    .unwrap();
    (dir, path)
}

fn systemd_analyze(args: &[&str]) -> (bool, String) {
    let output = Command::new("systemd-analyze")
        .args(args)
        .output()
        .expect("systemd-analyze runs (cargo xtask test installs systemd when missing)");
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

#[test]
fn the_unit_verifies() {
    let (_dir, path) = unit();
    let (ok, text) = systemd_analyze(&["verify", path.to_str().unwrap()]);
    assert!(ok, "{text}");
    let complaints: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("pennantd.service"))
        .collect();
    assert!(complaints.is_empty(), "{text}");
}

#[test]
fn the_unit_is_hardened_to_an_exposure_of_2_or_less() {
    let (_dir, path) = unit();
    let (_, text) = systemd_analyze(&["security", "--offline=true", path.to_str().unwrap()]);
    let level: f64 = text
        .lines()
        .find_map(|l| {
            l.split("Overall exposure level for pennantd.service:")
                .nth(1)
        })
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level in: {text}"));
    assert!(level <= 2.0, "exposure {level}:\n{text}");
}

#[test]
fn the_production_configuration_example_is_valid() {
    let path = workspace().join("packaging/pennant.toml");
    let (status, output) =
        Daemon::start(&["check-config", "--config", path.to_str().unwrap()]).wait_exit();
    assert_eq!(status.code(), Some(0), "{output:?}");
}

/// The Prometheus alerting rules are valid, and their unit tests (series in, alerts out,
/// `packaging/prometheus/pennant.rules.test.yml`) pass.
#[test]
fn the_alerting_rules_check_and_pass_their_tests() {
    let dir = workspace().join("packaging/prometheus");
    for args in [
        &["check", "rules", "pennant.rules.yml"][..],
        &["test", "rules", "pennant.rules.test.yml"][..],
    ] {
        let output = Command::new("promtool")
            .args(args)
            .current_dir(&dir)
            .output()
            .expect("promtool runs (cargo xtask test installs Debian's prometheus package)");
        let said = String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "promtool {args:?}: {said}");
        assert!(said.contains("SUCCESS"), "promtool {args:?}: {said}");
    }
}
