//! A throwaway PostgreSQL cluster: `initdb` into a temporary folder, `pg_ctl` on a free
//! port on loopback, trust authentication for the user `pennant`. As root (CI
//! containers), the server runs as the `postgres` user, as PostgreSQL insists.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A running cluster, stopped and deleted when dropped.
pub struct PgCluster {
    _dir: tempfile::TempDir,
    data: PathBuf,
    bin: PathBuf,
    /// Its port on 127.0.0.1.
    pub port: u16,
    run_as: Option<&'static str>,
}

/// The folder of PostgreSQL's server programs (`initdb`, `pg_ctl`, `createdb`): that of
/// the `initdb` on the PATH if it has them all, else Debian's newest versioned one.
fn find_bin_dir() -> Option<PathBuf> {
    let complete = |dir: &Path| {
        ["initdb", "pg_ctl", "createdb"]
            .iter()
            .all(|p| dir.join(p).exists())
    };
    let mut candidates = Vec::new();
    if let Ok(out) = Command::new("sh")
        .args(["-c", "command -v initdb"])
        .output()
    {
        let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if let Some(dir) = Path::new(&path).parent() {
            candidates.push(dir.to_owned());
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dir| dir.flatten().map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    versions.sort();
    candidates.extend(versions.into_iter().rev());
    candidates.into_iter().find(|dir| complete(dir))
}

fn bin_dir() -> PathBuf {
    find_bin_dir().expect(
        "PostgreSQL server programs (initdb, pg_ctl, createdb): install the postgresql package",
    )
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl PgCluster {
    /// True when the server programs are installed.
    pub fn available() -> bool {
        find_bin_dir().is_some()
    }

    /// Creates and starts a cluster.
    pub fn start() -> PgCluster {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let data = dir.path().join("data");
        let root = is_root();
        let run_as = root.then_some("postgres");
        if root {
            // The server user must reach and own its folder.
            let _ = Command::new("chmod").arg("755").arg(dir.path()).status();
            std::fs::create_dir(&data).expect("the data folder");
            let status = Command::new("chown")
                .arg("postgres:")
                .arg(&data)
                .status()
                .expect("chown runs");
            assert!(status.success(), "cannot give the data folder to postgres");
        }
        let cluster = PgCluster {
            _dir: dir,
            data,
            bin: bin_dir(),
            port: free_port(),
            run_as,
        };
        let data = cluster.data.display().to_string();
        cluster.run(
            "initdb",
            &[
                "-D",
                &data,
                "-A",
                "trust",
                "-U",
                "pennant",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        );
        cluster.start_server();
        cluster
    }

    /// A server program, run as the server's user.
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        match self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&path);
                c
            }
            None => Command::new(&path),
        }
    }

    fn run(&self, program: &str, args: &[&str]) {
        let output = self
            .command(program)
            .args(args)
            .current_dir("/")
            .output()
            .unwrap_or_else(|err| panic!("{program} runs: {err}"));
        assert!(
            output.status.success(),
            "{program} {args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Starts the server (again) and waits until it accepts connections.
    pub fn start_server(&self) {
        let data = self.data.display().to_string();
        let log = self.data.join("server.log").display().to_string();
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            self.port, data
        );
        self.run(
            "pg_ctl",
            &["-D", &data, "-l", &log, "-o", &options, "-w", "start"],
        );
    }

    /// Stops the server, as an outage would.
    pub fn stop_server(&self) {
        let data = self.data.display().to_string();
        self.run("pg_ctl", &["-D", &data, "-m", "fast", "-w", "stop"]);
    }

    /// Creates a database; returns its URL (no password: trust authentication).
    pub fn database(&self, name: &str) -> String {
        let port = self.port.to_string();
        self.run(
            "createdb",
            &["-h", "127.0.0.1", "-p", &port, "-U", "pennant", name],
        );
        self.url(name)
    }

    /// The URL of a database.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://pennant@127.0.0.1:{}/{name}", self.port)
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let data = self.data.display().to_string();
        let _ = self
            .command("pg_ctl")
            .args(["-D", &data, "-m", "immediate", "stop"])
            .output();
    }
}
