//! The report: sections of tables, the targets and whether they are met, as Markdown and
//! JSON.

use serde_json::{json, Value};
use std::fmt::Write;

/// One table of the report.
#[derive(Debug, Clone)]
pub struct Section {
    /// Heading.
    pub title: String,
    /// What was measured and how.
    pub method: String,
    /// Column names.
    pub header: Vec<String>,
    /// Rows of cells.
    pub rows: Vec<Vec<String>>,
    /// The same figures for machines.
    pub data: Value,
}

impl Section {
    /// A section with a heading, a method and a header.
    pub fn new(title: &str, method: &str, header: &[&str]) -> Self {
        Section {
            title: title.into(),
            method: method.into(),
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
            data: json!([]),
        }
    }

    /// Adds a row, and its JSON form.
    pub fn row(&mut self, cells: Vec<String>, data: Value) {
        self.rows.push(cells);
        if let Value::Array(items) = &mut self.data {
            items.push(data);
        }
    }
}

/// A performance target and where the measurement stands.
#[derive(Debug, Clone)]
pub struct Target {
    /// What.
    pub what: String,
    /// The goal.
    pub goal: String,
    /// The measurement.
    pub measured: String,
    /// Whether the goal is met.
    pub met: bool,
}

/// The whole report.
#[derive(Debug, Clone)]
pub struct Report {
    /// CPU model.
    pub cpu: String,
    /// Cores.
    pub cores: usize,
    /// When (UTC).
    pub date: String,
    /// Whether this was a quick (reduced) run.
    pub quick: bool,
    /// Targets.
    pub targets: Vec<Target>,
    /// Tables.
    pub sections: Vec<Section>,
}

impl Report {
    /// Markdown.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "# Pennant benchmark report\n");
        let _ = writeln!(
            md,
            "{} ({} cores), {}, release build{}. Reproduce with `cargo xtask bench`.\n",
            self.cpu,
            self.cores,
            self.date,
            if self.quick {
                ", QUICK run (reduced sizes, not for publication)"
            } else {
                ""
            }
        );
        let _ = writeln!(
            md,
            "## Targets\n\n| target | goal | measured | met |\n|---|---|---|---|"
        );
        for t in &self.targets {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                t.what,
                t.goal,
                t.measured,
                if t.met { "yes" } else { "**no**" }
            );
        }
        for section in &self.sections {
            let _ = writeln!(md, "\n## {}\n\n{}\n", section.title, section.method);
            if section.header.is_empty() {
                continue;
            }
            let _ = writeln!(md, "| {} |", section.header.join(" | "));
            let _ = writeln!(md, "|{}", "---|".repeat(section.header.len()));
            for row in &section.rows {
                let _ = writeln!(md, "| {} |", row.join(" | "));
            }
        }
        md
    }

    /// JSON.
    pub fn json(&self) -> Value {
        json!({
            "cpu": self.cpu,
            "cores": self.cores,
            "date": self.date,
            "quick": self.quick,
            "targets": self.targets.iter().map(|t| json!({
                "what": t.what, "goal": t.goal, "measured": t.measured, "met": t.met,
            })).collect::<Vec<_>>(),
            "sections": self.sections.iter().map(|s| json!({
                "title": s.title, "method": s.method, "data": s.data,
            })).collect::<Vec<_>>(),
        })
    }
}

/// Nanoseconds, readably: `850 ns`, `1.25 us`, `3.4 ms`.
pub fn duration(ns: f64) -> String {
    if ns < 1_000.0 {
        format!("{ns:.0} ns")
    } else if ns < 1_000_000.0 {
        format!("{:.2} us", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

/// A rate, readably: `12.3 M/s`.
pub fn rate(per_second: f64) -> String {
    if per_second >= 1e6 {
        format!("{:.2} M/s", per_second / 1e6)
    } else {
        format!("{:.0} k/s", per_second / 1e3)
    }
}

/// Bytes in MiB.
pub fn mib(bytes: f64) -> String {
    format!("{:.2} MiB", bytes / (1024.0 * 1024.0))
}

/// The value at quantile `q` of sorted samples.
pub fn quantile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_and_units() {
        let samples: Vec<u64> = (1..=1000).collect();
        assert_eq!(quantile(&samples, 0.5), 501);
        assert_eq!(quantile(&samples, 0.99), 990);
        assert_eq!(quantile(&samples, 1.0), 1000);
        assert_eq!(quantile(&[], 0.5), 0);
        assert_eq!(duration(850.0), "850 ns");
        assert_eq!(duration(1_250.0), "1.25 us");
        assert_eq!(rate(12_340_000.0), "12.34 M/s");
        assert_eq!(mib(3.0 * 1024.0 * 1024.0), "3.00 MiB");
    }

    #[test]
    fn markdown_has_the_machine_targets_and_tables() {
        let mut section = Section::new("Latency", "How.", &["a", "b"]);
        section.row(vec!["1".into(), "2".into()], json!({"a": 1}));
        let report = Report {
            cpu: "CPU".into(),
            cores: 2,
            date: "2026-01-01".into(),
            quick: false,
            targets: vec![Target {
                what: "x".into(),
                goal: "<= 1".into(),
                measured: "2".into(),
                met: false,
            }],
            sections: vec![section],
        };
        let md = report.markdown();
        assert!(md.contains("CPU (2 cores), 2026-01-01"));
        assert!(md.contains("| x | <= 1 | 2 | **no** |"));
        assert!(md.contains("| a | b |\n|---|---|\n| 1 | 2 |"));
        assert_eq!(report.json()["sections"][0]["data"][0]["a"], 1);
    }
}
