//! Every row as JSON (serde): the machine line, the run's settings, and per row its figures
//! with their median, spread and range over the rounds.

use std::io;
use std::time::Duration;

use serde::Serialize;

use super::summary::{Row, Stat};

/// The whole report.
#[derive(Serialize)]
struct Report<'a> {
    machine: &'a str,
    rounds: usize,
    secs: f64,
    rows: Vec<JsonRow<'a>>,
}

/// One row.
#[derive(Serialize)]
struct JsonRow<'a> {
    workload: &'a str,
    setting: &'a str,
    path: String,
    figures: Vec<JsonFigure<'a>>,
    vs_floor: Option<f64>,
    vs_raw_uring: Option<f64>,
    error: Option<&'a str>,
}

/// One figure over the rounds.
#[derive(Serialize)]
struct JsonFigure<'a> {
    name: &'a str,
    median: f64,
    /// Half the range, as a fraction of the median.
    spread: f64,
    min: f64,
    max: f64,
    higher_is_better: bool,
}

impl<'a> From<&'a Stat> for JsonFigure<'a> {
    fn from(s: &'a Stat) -> Self {
        JsonFigure {
            name: s.name,
            median: s.median,
            spread: s.spread,
            min: s.min,
            max: s.max,
            higher_is_better: s.higher_is_better,
        }
    }
}

/// Every row as JSON, on one line.
pub(crate) fn json(machine: &str, rows: &[Row], rounds: usize, secs: Duration) -> io::Result<String> {
    let report = Report {
        machine,
        rounds,
        secs: secs.as_secs_f64(),
        rows: rows
            .iter()
            .map(|r| JsonRow {
                workload: r.workload,
                setting: &r.setting,
                path: r.path.to_string(),
                figures: r.stats.iter().map(JsonFigure::from).collect(),
                vs_floor: r.vs_floor,
                vs_raw_uring: r.vs_uring_floor,
                error: r.error.as_deref(),
            })
            .collect(),
    };
    let mut s = serde_json::to_string(&report).map_err(io::Error::other)?;
    s.push('\n');
    Ok(s)
}
