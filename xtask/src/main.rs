//! `cargo xtask`: the project's tasks, in Rust so they run wherever cargo does.
//!
//! - `cargo xtask demo [ARGS]`: set up (wasm target, strategy components) and run
//!   pennantd with `config/pennant.toml`; extra arguments go to pennantd. With
//!   `--binance-fake`, against the fake Binance exchange (`fake-binance`) with
//!   `config/binance-fake.toml` instead.
//! - `cargo xtask test`: formatting, clippy (host and wasm), then every test.
//! - `cargo xtask build-strategies`: build the strategy components into `target/strategies/`.
//! - `cargo xtask bench [--quick]`: the benchmark report, release build, into `target/bench/`.
//! - `cargo xtask deb`: the Debian package (cargo-deb), into `target/debian/`, and its contents.
//! - `cargo xtask new-strategy NAME`: a new strategy crate in `strategies/NAME`
//!   ([`scaffold`]); `cargo xtask check-scaffold` builds, lints and tests one in a
//!   workspace of its own under `target/` (`test` does it too).

mod scaffold;

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

const WASM_TARGET: &str = "wasm32-wasip2";
/// The cargo profile strategy components are built with (see the workspace Cargo.toml).
const WASM_PROFILE: &str = "wasm";

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let task = args.next().unwrap_or_default();
    let rest: Vec<String> = args.collect();
    match task.as_str() {
        "demo" => demo(&rest),
        "test" => test(),
        "build-strategies" => build_strategies().map(|_| ()),
        "bench" => bench(&rest),
        "deb" => deb(),
        "check-scaffold" => check_scaffold(),
        "new-strategy" => match rest.first() {
            Some(name) => scaffold::new_strategy(&root(), name),
            None => {
                eprintln!("usage: cargo xtask new-strategy NAME");
                std::process::exit(2);
            }
        },
        _ => {
            eprintln!("usage: cargo xtask <demo [--binance-fake] [pennantd args] | test | build-strategies | bench [--quick] | deb | new-strategy NAME | check-scaffold>");
            std::process::exit(2);
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

fn run(mut cmd: Command) -> Result<()> {
    eprintln!("xtask: running {cmd:?}");
    let status = cmd
        .status()
        .with_context(|| format!("cannot run {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}

/// Adds the wasm32-wasip2 target with rustup if this toolchain lacks it.
fn ensure_wasm_target() -> Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context("cannot run rustup: it installs the wasm32-wasip2 target")?;
    if String::from_utf8_lossy(&installed.stdout)
        .lines()
        .any(|l| l.trim() == WASM_TARGET)
    {
        return Ok(());
    }
    let mut cmd = Command::new("rustup");
    cmd.args(["target", "add", WASM_TARGET]);
    run(cmd)
}

/// The package names of the strategy crates: every `strategies/*/Cargo.toml`.
fn strategy_packages() -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(root().join("strategies")).context("cannot list strategies/")? {
        let manifest = entry?.path().join("Cargo.toml");
        if !manifest.exists() {
            continue;
        }
        let text = std::fs::read_to_string(&manifest)?;
        let value: toml::Table = text
            .parse()
            .with_context(|| format!("cannot parse {}", manifest.display()))?;
        if let Some(name) = value
            .get("package")
            .and_then(|p| p.get("name"))
            .and_then(|n| n.as_str())
        {
            names.push(name.to_owned());
        }
    }
    names.sort();
    Ok(names)
}

/// Builds every strategy component and copies it to `target/strategies/`.
fn build_strategies() -> Result<Vec<PathBuf>> {
    ensure_wasm_target()?;
    let packages = strategy_packages()?;
    let mut cmd = cargo();
    cmd.args(["build", "--target", WASM_TARGET, "--profile", WASM_PROFILE]);
    for package in &packages {
        cmd.args(["--package", package]);
    }
    run(cmd)?;
    let built = root().join("target").join(WASM_TARGET).join(WASM_PROFILE);
    let out = root().join("target").join("strategies");
    std::fs::create_dir_all(&out)?;
    let mut files = Vec::new();
    for package in packages {
        let file = format!("{}.wasm", package.replace('-', "_"));
        let dest = out.join(&file);
        // Copied aside and renamed into place: a running daemon watching this folder
        // hot-reloads whole files only, and an unchanged file keeps its content hash.
        let temp = out.join(format!(".{file}.part"));
        std::fs::copy(built.join(&file), &temp).with_context(|| format!("cannot copy {file}"))?;
        std::fs::rename(&temp, &dest).with_context(|| format!("cannot rename {file}"))?;
        files.push(dest);
    }
    eprintln!("xtask: strategy components in {}", out.display());
    Ok(files)
}

fn demo(args: &[String]) -> Result<()> {
    if args.iter().any(|a| a == "--binance-fake") {
        let rest: Vec<String> = args
            .iter()
            .filter(|a| *a != "--binance-fake")
            .cloned()
            .collect();
        return demo_binance_fake(&rest);
    }
    build_strategies()?;
    let mut build = cargo();
    build.args(["build", "--package", "pennant-daemon", "--bin", "pennantd"]);
    run(build)?;
    let binary = root().join("target").join("debug").join("pennantd");
    let mut cmd = Command::new(binary);
    cmd.current_dir(root())
        .arg("--config")
        .arg(root().join("config/pennant.toml"))
        .args(args);
    eprintln!("xtask: starting pennantd (Ctrl-C stops it gracefully)");
    // Become pennantd, so that Ctrl-C and signals reach it directly.
    use std::os::unix::process::CommandExt;
    Err(cmd.exec()).context("cannot start pennantd")
}

/// Where the fake exchange of the Binance demo listens (config/binance-fake.toml).
const FAKE_BINANCE: &str = "127.0.0.1:18090";

/// The demo against the fake Binance exchange: starts `fake-binance`, waits until it
/// listens, runs pennantd with `config/binance-fake.toml` and the demo keys, and stops
/// the fake when pennantd exits.
fn demo_binance_fake(args: &[String]) -> Result<()> {
    build_strategies()?;
    let mut build = cargo();
    build.args([
        "build",
        "--package",
        "pennant-daemon",
        "--bin",
        "pennantd",
        "--package",
        "pennant-testkit",
        "--bin",
        "fake-binance",
    ]);
    run(build)?;
    let bin = root().join("target").join("debug");
    let keys = [
        ("BINANCE_API_KEY", "demo-key"),
        ("BINANCE_API_SECRET", "demo-secret"),
    ];
    let mut fake = Command::new(bin.join("fake-binance"))
        .args(["--listen", FAKE_BINANCE])
        .envs(keys)
        .spawn()
        .context("cannot start fake-binance")?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::net::TcpStream::connect(FAKE_BINANCE).is_err() {
        if let Some(status) = fake.try_wait()? {
            bail!("fake-binance exited with {status}");
        }
        if std::time::Instant::now() > deadline {
            let _ = fake.kill();
            bail!("fake-binance does not listen on {FAKE_BINANCE}");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    eprintln!("xtask: fake Binance on {FAKE_BINANCE}; starting pennantd (Ctrl-C stops both)");
    let status = Command::new(bin.join("pennantd"))
        .current_dir(root())
        .arg("--config")
        .arg(root().join("config/binance-fake.toml"))
        .args(args)
        .envs(keys)
        .status()
        .context("cannot start pennantd");
    let _ = fake.kill();
    let _ = fake.wait();
    let status = status?;
    if !status.success() {
        bail!("pennantd exited with {status}");
    }
    Ok(())
}

/// Builds everything in release mode and runs the benchmark report.
fn bench(args: &[String]) -> Result<()> {
    build_strategies()?;
    let mut cmd = cargo();
    cmd.args([
        "run",
        "--release",
        "--package",
        "pennant-bench",
        "--",
        "--components",
    ])
    .arg(root().join("target").join("strategies"))
    .arg("--out")
    .arg(root().join("target").join("bench"))
    .args(args);
    run(cmd)
}

/// Builds the Debian package (installing cargo-deb first if need be) and lists what it
/// holds.
fn deb() -> Result<()> {
    build_strategies()?;
    let installed = Command::new("cargo")
        .args(["deb", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        let mut install = cargo();
        install.args(["install", "cargo-deb", "--locked"]);
        run(install)?;
    }
    // The binary is installed stripped; its debug symbols go to a -dbgsym package
    // (/usr/lib/debug/.build-id/..., found by gdb and debuginfod by the build id).
    let folder = root().join("target").join("debian");
    let _ = std::fs::remove_dir_all(&folder);
    let mut build = cargo();
    build.args(["deb", "--package", "pennant-daemon", "--dbgsym"]);
    run(build)?;
    let packages: Vec<PathBuf> = std::fs::read_dir(&folder)?
        .flatten()
        .map(|e| e.path())
        // The symbols package is a .ddeb, as Debian names them.
        .filter(|p| p.extension().is_some_and(|e| e == "deb" || e == "ddeb"))
        .collect();
    let is_dbgsym = |p: &PathBuf| p.to_string_lossy().contains("-dbgsym");
    let package = packages
        .iter()
        .find(|p| !is_dbgsym(p))
        .context("cargo deb made no .deb")?;
    let symbols = packages
        .iter()
        .find(|p| is_dbgsym(p))
        .context("cargo deb made no -dbgsym .deb")?;
    for deb in [package, symbols] {
        let mut list = Command::new("dpkg-deb");
        list.arg("--contents").arg(deb);
        run(list)?;
    }
    // The release check: the installed binary has no debug sections, the symbols
    // package has them for that very binary.
    let unpacked = folder.join("unpacked");
    for deb in [package, symbols] {
        let mut extract = Command::new("dpkg-deb");
        extract.arg("-x").arg(deb).arg(&unpacked);
        run(extract)?;
    }
    let binary = unpacked.join("usr/bin/pennantd");
    let sections = |file: &Path| -> Result<String> {
        let out = Command::new("readelf")
            .args(["-S", "-W"])
            .arg(file)
            .output()?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    // (`.debug_gdb_scripts` stays: it is loaded, and names Rust's pretty-printers.)
    let has_debug_info = |text: &str| text.contains(".debug_info") || text.contains(".debug_line");
    if has_debug_info(&sections(&binary)?) {
        bail!("{} still has debug sections", binary.display());
    }
    let debug = walk(&unpacked.join("usr/lib/debug"))
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "debug"))
        .context("the -dbgsym package holds no .debug file")?;
    if !has_debug_info(&sections(&debug)?) {
        bail!("{} has no debug sections", debug.display());
    }
    let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len()) / (1 << 20);
    eprintln!(
        "xtask: {} (pennantd {} MiB, stripped) and {} (its symbols, {} MiB)",
        package.display(),
        size(&binary),
        symbols.display(),
        size(&debug)
    );
    Ok(())
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}

fn test() -> Result<()> {
    ensure_wasm_target()?;
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--", "--check"]);
    run(fmt)?;
    let mut clippy = cargo();
    clippy.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    run(clippy)?;
    // The guest side of the SDK only compiles for wasm32: lint it there too.
    let mut clippy_wasm = cargo();
    clippy_wasm.args(["clippy", "--target", WASM_TARGET, "--profile", WASM_PROFILE]);
    for package in strategy_packages()? {
        clippy_wasm.args(["--package", &package]);
    }
    clippy_wasm.args(["--", "-D", "warnings"]);
    run(clippy_wasm)?;
    build_strategies()?;
    check_scaffold()?;
    ensure_postgresql()?;
    // The packaging tests run systemd-analyze verify and security; the API tests run
    // the scraped metrics through promtool.
    ensure_command("systemd-analyze", "--version", "systemd")?;
    ensure_command("promtool", "--version", "prometheus")?;
    // The API test runs schemathesis against the real daemon.
    let schemathesis = ensure_schemathesis()?;
    // The backtest report's page is opened in Debian's chromium, driven by playwright-core.
    ensure_command("chromium", "--version", "chromium")?;
    let playwright = ensure_playwright()?;
    let mut tests = cargo();
    tests
        .args(["test", "--workspace"])
        .env("PENNANT_SCHEMATHESIS", schemathesis)
        .env("PENNANT_PLAYWRIGHT", playwright)
        .env("PENNANT_CHROMIUM", "chromium");
    run_tests(tests)
}

/// The schemathesis version the API conformance test runs (from PyPI).
const SCHEMATHESIS: &str = "schemathesis==4.32.5";

/// Installs schemathesis into a virtual environment under `target/tools/` (once);
/// returns its `st` command.
fn ensure_schemathesis() -> Result<PathBuf> {
    let venv = root().join("target").join("tools").join("schemathesis");
    let st = venv.join("bin").join("st");
    let marker = venv.join(".installed");
    // A venv moved with its target folder keeps scripts that point at the old path:
    // the command must run, not only exist.
    let runs = || {
        Command::new(&st)
            .arg("--version")
            .output()
            .is_ok_and(|out| out.status.success())
    };
    if std::fs::read_to_string(&marker).is_ok_and(|v| v == SCHEMATHESIS) && runs() {
        return Ok(st);
    }
    let mut create = Command::new("python3");
    create.args(["-m", "venv", "--clear"]).arg(&venv);
    run(create)?;
    let mut install = Command::new(venv.join("bin").join("pip"));
    install.args(["install", "--quiet", SCHEMATHESIS]);
    run(install)?;
    std::fs::write(&marker, SCHEMATHESIS)?;
    Ok(st)
}

/// Makes the crate `new-strategy` makes, in a workspace of its own under `target/`
/// (this SDK as its dependency, this workspace's lock file), then runs its unit test,
/// lints it and builds its component: what an author's first three commands do.
fn check_scaffold() -> Result<()> {
    let dir = root().join("target").join("scaffold-check");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("strategies"))?;
    let manifest = format!(
        "[workspace]\nresolver = \"2\"\nmembers = [\n]\n\n[workspace.package]\n\
         version = \"0.1.0\"\nedition = \"2021\"\nrust-version = \"1.99\"\n\
         license = \"Apache-2.0\"\n\n[workspace.dependencies]\npennant-sdk = {{ path = {:?} }}\n",
        root().join("sdk").display().to_string()
    );
    std::fs::write(dir.join("Cargo.toml"), manifest)?;
    std::fs::copy(root().join("Cargo.lock"), dir.join("Cargo.lock"))?;
    scaffold::new_strategy(&dir, "scaffold-check")?;
    let manifest = dir.join("Cargo.toml");
    for args in [
        &["test"][..],
        &["clippy", "--all-targets", "--", "-D", "warnings"][..],
        &["build", "--release", "--target", WASM_TARGET][..],
    ] {
        let mut cmd = cargo();
        cmd.arg(args[0])
            .arg("--manifest-path")
            .arg(&manifest)
            .args(&args[1..])
            .env(
                "CARGO_TARGET_DIR",
                root().join("target").join("scaffold-check-target"),
            );
        run(cmd)?;
    }
    Ok(())
}

/// The playwright-core version the page tests drive chromium with (from npm).
const PLAYWRIGHT: &str = "playwright-core@1.65.2";

/// Installs playwright-core from npm into `target/tools/playwright` (Node.js and npm
/// from Debian when missing); returns its `node_modules` folder.
fn ensure_playwright() -> Result<PathBuf> {
    let dir = root().join("target").join("tools").join("playwright");
    let modules = dir.join("node_modules");
    let marker = dir.join(".installed");
    if std::fs::read_to_string(&marker).is_ok_and(|v| v == PLAYWRIGHT)
        && modules.join("playwright-core").exists()
    {
        return Ok(modules);
    }
    ensure_command("node", "--version", "nodejs")?;
    ensure_command("npm", "--version", "npm")?;
    std::fs::create_dir_all(&dir)?;
    let mut install = Command::new("npm");
    install
        .args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"])
        .arg(&dir)
        .arg(PLAYWRIGHT);
    run(install)?;
    std::fs::write(&marker, PLAYWRIGHT)?;
    Ok(modules)
}

/// The store's tests start throwaway PostgreSQL clusters: they need the server programs
/// (`initdb`, `pg_ctl`, `createdb`). Installs Debian's package when they are missing.
fn ensure_postgresql() -> Result<()> {
    let has = |dir: &Path| {
        ["initdb", "pg_ctl", "createdb"]
            .iter()
            .all(|p| dir.join(p).exists())
    };
    let debian = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dir| dir.flatten().any(|e| has(&e.path().join("bin"))))
        .unwrap_or(false);
    let on_path = Command::new("sh")
        .args(["-c", "command -v initdb"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .and_then(|p| Path::new(&p).parent().map(has))
        .unwrap_or(false);
    if debian || on_path {
        return Ok(());
    }
    install_debian_package("postgresql")
}

/// Installs Debian's `package` when `command` does not run.
fn ensure_command(command: &str, version_arg: &str, package: &str) -> Result<()> {
    let runs = Command::new(command)
        .arg(version_arg)
        .output()
        .is_ok_and(|o| o.status.success());
    if runs {
        Ok(())
    } else {
        install_debian_package(package)
    }
}

/// `apt-get install` (through sudo unless root).
fn install_debian_package(package: &str) -> Result<()> {
    eprintln!("xtask: installing the Debian package {package}");
    let privileged = |args: &[&str]| {
        let mut cmd = if is_root() {
            Command::new(args[0])
        } else {
            let mut c = Command::new("sudo");
            c.arg(args[0]);
            c
        };
        cmd.args(&args[1..])
            .env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    run(privileged(&["apt-get", "update", "-qq"]))?;
    run(privileged(&["apt-get", "install", "-y", "-qq", package]))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs `cargo test`, echoing its output, and closes with one line that totals every
/// test binary's results (cargo's own last line is about the last binary only).
fn run_tests(mut cmd: Command) -> Result<()> {
    use std::io::{BufRead, BufReader};
    eprintln!("xtask: running {cmd:?}");
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {cmd:?}"))?;
    let (mut passed, mut failed, mut ignored) = (0u64, 0u64, 0u64);
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line = line?;
            println!("{line}");
            if let Some(result) = line.strip_prefix("test result: ") {
                for part in result.split(['.', ';']) {
                    let mut words = part.split_whitespace();
                    if let (Some(n), Some(what)) = (words.next(), words.next()) {
                        let n: u64 = n.parse().unwrap_or(0);
                        match what {
                            "passed" => passed += n,
                            "failed" => failed += n,
                            "ignored" => ignored += n,
                            _ => {}
                        }
                    }
                }
            }
        }
    }
    let status = child.wait()?;
    println!("tests: {passed} passed, {failed} failed, {ignored} skipped");
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}
