//! Measuring the cells round-robin, and reporting: medians and spreads, ratios to the floor, the
//! table, JSON and the SVG chart.

use std::io::{self, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use super::{sys, Cell, Path};

/// One figure of one measurement.
#[derive(Clone, Debug)]
pub(crate) struct Figure {
    pub(crate) name: &'static str,
    pub(crate) value: f64,
    /// Throughputs: more is better; costs and latencies: less is.
    pub(crate) higher_is_better: bool,
}

impl Figure {
    pub(crate) fn higher(name: &'static str, value: f64) -> Figure {
        Figure { name, value, higher_is_better: true }
    }
    pub(crate) fn lower(name: &'static str, value: f64) -> Figure {
        Figure { name, value, higher_is_better: false }
    }
}

/// What one run of one cell measured; the first figure is the main one.
#[derive(Clone, Debug)]
pub(crate) struct Sample {
    pub(crate) figures: Vec<Figure>,
}

/// Runs every cell `rounds` times, round-robin (all cells once, then again), so that a drift of
/// the machine touches every path alike. A failed run is kept as its error.
pub(crate) fn measure(cells: &[Cell], rounds: usize, secs: Duration) -> io::Result<Vec<Vec<Result<Sample, String>>>> {
    // The servers run on CPU 0 (threads inherit it from here), the clients pin themselves to 1.
    sys::pin_to(0);
    let bar = ProgressBar::new((cells.len() * rounds) as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} cells, {elapsed} {msg}").map_err(io::Error::other)?,
    );
    let mut out: Vec<Vec<Result<Sample, String>>> = vec![Vec::new(); cells.len()];
    for round in 0..rounds {
        for (i, cell) in cells.iter().enumerate() {
            bar.set_message(format!("round {}: {} {} on {}", round + 1, cell.workload, cell.setting, cell.path));
            out[i].push((cell.run)(cell, secs).map_err(|e| e.to_string()));
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    Ok(out)
}

/// One figure over the rounds.
#[derive(Clone, Debug)]
pub(crate) struct Stat {
    pub(crate) name: &'static str,
    pub(crate) median: f64,
    /// Half the range of the rounds, as a fraction of the median.
    pub(crate) spread: f64,
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

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Medians and spreads per cell, and ratios to the floor.
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
                        let range = v.last().unwrap_or(&m) - v.first().unwrap_or(&m);
                        let spread = if m > 0.0 { range / 2.0 / m } else { 0.0 };
                        let f = &first.figures[k];
                        Stat { name: f.name, median: m, spread, higher_is_better: f.higher_is_better }
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
        if row.path == Path::Port(overlap::PortBackend::Uring) {
            row.vs_uring_floor = ratio(&uring_floors, row);
        }
    }
    rows
}

/// 123456 → "123.5k".
fn human(v: f64) -> String {
    match v {
        v if v >= 10_000_000.0 => format!("{:.1}M", v / 1e6),
        v if v >= 10_000.0 => format!("{:.1}k", v / 1e3),
        v if v >= 100.0 => format!("{v:.0}"),
        v => format!("{v:.1}"),
    }
}

/// The table, on `out`.
pub(crate) fn print_table(out: &mut impl Write, rows: &[Row], rounds: usize, secs: Duration) -> io::Result<()> {
    writeln!(
        out,
        "median of {rounds} round(s) of {:.2} s per cell, cells run round-robin; ± is half the range",
        secs.as_secs_f64()
    )?;
    writeln!(
        out,
        "{:<8} {:<22} {:<15} {:>24} {:>9} {:>9}  more",
        "workload", "setting", "path", "figure", "±", "vs floor"
    )?;
    for r in rows {
        let path = r.path.to_string();
        let Some(main) = r.stats.first() else {
            let why = r.error.as_deref().unwrap_or("no result");
            writeln!(out, "{:<8} {:<22} {:<15} failed: {why}", r.workload, r.setting, path)?;
            continue;
        };
        let figure = format!("{} {}", human(main.median), main.name);
        let spread = format!("±{:.0}%", main.spread * 100.0);
        let ratio = r.vs_floor.map_or("-".to_string(), |x| format!("{x:.2}×"));
        let mut more: Vec<String> = r.stats[1..].iter().map(|s| format!("{} {}", human(s.median), s.name)).collect();
        if let Some(x) = r.vs_uring_floor {
            more.push(format!("{x:.2}× raw-uring"));
        }
        let line = format!(
            "{:<8} {:<22} {:<15} {:>24} {:>9} {:>9}  {}",
            r.workload,
            r.setting,
            path,
            figure,
            spread,
            ratio,
            more.join(", ")
        );
        writeln!(out, "{}", line.trim_end())?;
        if let Some(e) = &r.error {
            writeln!(out, "{:<8} {:<22} {:<15} (a round failed: {e})", "", "", "")?;
        }
    }
    Ok(())
}

/// A JSON string literal.
fn quote(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            c if (c as u32) < 0x20 => q.push_str(&format!("\\u{:04x}", c as u32)),
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

/// Every row as JSON.
pub(crate) fn json(machine: &str, rows: &[Row], rounds: usize, secs: Duration) -> String {
    let mut s =
        format!("{{\"machine\":{},\"rounds\":{rounds},\"secs\":{},\"rows\":[", quote(machine), secs.as_secs_f64());
    for (i, r) in rows.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let stats: Vec<String> = r
            .stats
            .iter()
            .map(|st| {
                format!(
                    "{{\"name\":{},\"median\":{},\"spread\":{},\"higher_is_better\":{}}}",
                    quote(st.name),
                    st.median,
                    st.spread,
                    st.higher_is_better
                )
            })
            .collect();
        s.push_str(&format!(
            "{{\"workload\":{},\"setting\":{},\"path\":{},\"figures\":[{}],\"vs_floor\":{},\"vs_raw_uring\":{},\"error\":{}}}",
            quote(r.workload),
            quote(&r.setting),
            quote(&r.path.to_string()),
            stats.join(","),
            r.vs_floor.map_or("null".into(), |x| x.to_string()),
            r.vs_uring_floor.map_or("null".into(), |x| x.to_string()),
            r.error.as_deref().map_or("null".into(), quote),
        ));
    }
    s.push_str("]}\n");
    s
}

/// A grouped bar chart of the echo throughputs: one group per setting, one bar per path.
pub(crate) fn svg(rows: &[Row]) -> String {
    let echo: Vec<&Row> = rows.iter().filter(|r| r.workload == "echo" && !r.stats.is_empty()).collect();
    let mut settings: Vec<&str> = Vec::new();
    let mut paths: Vec<String> = Vec::new();
    for r in &echo {
        if !settings.contains(&r.setting.as_str()) {
            settings.push(&r.setting);
        }
        let p = r.path.to_string();
        if !paths.contains(&p) {
            paths.push(p);
        }
    }
    let top = echo.iter().map(|r| r.stats[0].median).fold(1.0_f64, f64::max);
    let (w, h, left, bottom, plot_h) = (860.0, 420.0, 70.0, 60.0, 300.0);
    let group_w = (w - left - 180.0) / settings.len().max(1) as f64;
    let bar_w = group_w * 0.8 / paths.len().max(1) as f64;
    const COLORS: [&str; 12] = [
        "#555555", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf",
        "#aec7e8", "#98df8a",
    ];
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{left}\" y=\"24\" font-size=\"15\">overlap bench: TCP echo, messages/s (median of rounds)</text>\n"
    );
    let y0 = h - bottom;
    for k in 0..=4 {
        let v = top * k as f64 / 4.0;
        let y = y0 - plot_h * k as f64 / 4.0;
        s.push_str(&format!(
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#dddddd\"/>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\n",
            w - 180.0,
            left - 6.0,
            y + 4.0,
            human(v)
        ));
    }
    for (g, setting) in settings.iter().enumerate() {
        let gx = left + g as f64 * group_w + group_w * 0.1;
        for r in echo.iter().filter(|r| r.setting == *setting) {
            let p = paths.iter().position(|p| *p == r.path.to_string()).unwrap_or(0);
            let v = r.stats[0].median;
            let bh = plot_h * v / top;
            s.push_str(&format!(
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"{}\"><title>{} {}: {}</title></rect>\n",
                gx + p as f64 * bar_w,
                y0 - bh,
                bar_w * 0.9,
                COLORS[p % COLORS.len()],
                r.path,
                setting,
                human(v)
            ));
        }
        s.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{setting}</text>\n",
            gx + group_w * 0.4,
            y0 + 18.0
        ));
    }
    for (p, name) in paths.iter().enumerate() {
        let y = 60.0 + p as f64 * 20.0;
        s.push_str(&format!(
            "<rect x=\"{}\" y=\"{y}\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{}\" y=\"{}\">{name}</text>\n",
            w - 170.0,
            COLORS[p % COLORS.len()],
            w - 152.0,
            y + 10.0
        ));
    }
    s.push_str("</svg>\n");
    s
}
