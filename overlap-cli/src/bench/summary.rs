//! The rounds of each cell summed up: median, spread and range of every figure, and the main
//! figure against the floors'.

use super::cell::Cell;
use super::path::Path;
use super::sample::Sample;

/// One figure over the rounds.
#[derive(Clone, Debug)]
pub(crate) struct Stat {
    pub(crate) name: &'static str,
    pub(crate) median: f64,
    /// Half the range of the rounds, as a fraction of the median.
    pub(crate) spread: f64,
    /// The lowest of the rounds.
    pub(crate) min: f64,
    /// The highest of the rounds.
    pub(crate) max: f64,
    pub(crate) higher_is_better: bool,
}

/// One row of the report.
#[derive(Clone, Debug)]
pub(crate) struct Row {
    pub(crate) workload: &'static str,
    pub(crate) setting: String,
    pub(crate) path: Path,
    pub(crate) stats: Vec<Stat>,
    /// The main figure against the floor's in the same workload and setting: above 1 is better
    /// than the floor (for costs too: floor cost / this cost).
    pub(crate) vs_floor: Option<f64>,
    /// For `port/uring`: the main figure against the raw io_uring floor's, likewise.
    pub(crate) vs_uring_floor: Option<f64>,
    pub(crate) error: Option<String>,
}

/// The median of `v` (sorts it).
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Medians, spreads and ranges per cell, and ratios to the floor.
pub(crate) fn summarize(cells: &[Cell], samples: &[Vec<Result<Sample, String>>]) -> Vec<Row> {
    let mut rows: Vec<Row> = cells
        .iter()
        .zip(samples)
        .map(|(cell, runs)| {
            let ok: Vec<&Sample> = runs.iter().filter_map(|r| r.as_ref().ok()).collect();
            let error = runs.iter().find_map(|r| r.as_ref().err().cloned());
            let stats = match ok.first() {
                None => Vec::new(),
                Some(first) => (0..first.figures.len())
                    .map(|k| {
                        let mut v: Vec<f64> = ok.iter().map(|s| s.figures[k].value).collect();
                        let m = median(&mut v);
                        let (min, max) = (v.first().copied().unwrap_or(m), v.last().copied().unwrap_or(m));
                        let spread = if m > 0.0 { (max - min) / 2.0 / m } else { 0.0 };
                        let f = &first.figures[k];
                        Stat { name: f.name, median: m, spread, min, max, higher_is_better: f.higher_is_better }
                    })
                    .collect(),
            };
            Row {
                workload: cell.workload,
                setting: cell.setting.clone(),
                path: cell.path,
                stats,
                vs_floor: None,
                vs_uring_floor: None,
                error,
            }
        })
        .collect();
    let floors_of = |floor: Path| -> Vec<(&'static str, String, f64)> {
        rows.iter()
            .filter(|r| r.path == floor)
            .filter_map(|r| r.stats.first().map(|s| (r.workload, r.setting.clone(), s.median)))
            .collect()
    };
    let (floors, uring_floors) = (floors_of(Path::Floor), floors_of(Path::FloorUring));
    let ratio = |floors: &[(&'static str, String, f64)], row: &Row| -> Option<f64> {
        let main = row.stats.first()?;
        let &(_, _, f) = floors.iter().find(|(w, s, _)| *w == row.workload && *s == row.setting)?;
        (f > 0.0 && main.median > 0.0).then(|| if main.higher_is_better { main.median / f } else { f / main.median })
    };
    for row in &mut rows {
        row.vs_floor = ratio(&floors, row);
        if matches!(
            row.path,
            Path::Port(overlap::PortBackend::Uring) | Path::BufferEventPort(overlap::PortBackend::Uring)
        ) {
            row.vs_uring_floor = ratio(&uring_floors, row);
        }
    }
    rows
}
