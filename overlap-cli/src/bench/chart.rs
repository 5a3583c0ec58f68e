//! The SVG chart of the echo throughputs: one group of bars per setting, one bar per path, the
//! bar at the median of the rounds and a whisker from the lowest round to the highest.

use std::fmt::Write as _;

use super::human::human;
use super::summary::Row;

/// Colours of the paths, in table order (the floor grey).
const COLORS: [&str; 16] = [
    "#555555", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf",
    "#aec7e8", "#98df8a", "#ffbb78", "#c5b0d5", "#c49c94", "#f7b6d2",
];

/// The whiskers' colour.
const INK: &str = "#222222";

/// Text made safe inside SVG.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The smallest of 1, 2, 2.5 and 5 times a power of ten that is at least `x` (> 0).
fn round_step(x: f64) -> f64 {
    let p = 10f64.powf(x.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0].into_iter().map(|m| m * p).find(|&v| v >= x).unwrap_or(10.0 * p)
}

/// A grouped bar chart of the echo throughputs over `rounds` rounds.
pub(crate) fn svg(rows: &[Row], rounds: usize) -> String {
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
    // The scale reaches the highest round, so that every whisker fits, in four round steps.
    let highest = echo.iter().map(|r| r.stats[0].max.max(r.stats[0].median)).fold(1.0_f64, f64::max);
    let top = 4.0 * round_step(highest / 4.0);
    let (w, h, left, bottom, plot_h) = (860.0, 440.0, 70.0, 60.0, 300.0);
    let legend_x = w - 170.0;
    let group_w = (w - left - 180.0) / settings.len().max(1) as f64;
    let bar_w = group_w * 0.8 / paths.len().max(1) as f64;
    let whisker = if rounds > 1 {
        format!("bar: median of {rounds} rounds; whisker: lowest to highest round")
    } else {
        "bar: one round (no spread to show: run --rounds 3 or more for whiskers)".to_string()
    };
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{left}\" y=\"24\" font-size=\"15\">overlap bench: TCP echo, messages/s</text>\n\
         <text x=\"{left}\" y=\"42\" font-size=\"11\" fill=\"#444444\">{whisker}</text>\n"
    );
    let y0 = h - bottom;
    let y_of = |v: f64| y0 - plot_h * v / top;
    for k in 0..=4 {
        let v = top * k as f64 / 4.0;
        let y = y_of(v);
        let _ = writeln!(
            s,
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#dddddd\"/>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            w - 180.0,
            left - 6.0,
            y + 4.0,
            human(v)
        );
    }
    if echo.is_empty() {
        let _ = writeln!(s, "<text x=\"{left}\" y=\"{:.1}\">no echo figures in this run</text>", y0 - plot_h / 2.0);
    }
    for (g, setting) in settings.iter().enumerate() {
        let gx = left + g as f64 * group_w + group_w * 0.1;
        for r in echo.iter().filter(|r| r.setting == *setting) {
            let p = paths.iter().position(|p| *p == r.path.to_string()).unwrap_or(0);
            let st = &r.stats[0];
            let (x, bw) = (gx + p as f64 * bar_w, bar_w * 0.9);
            let _ = writeln!(
                s,
                "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{bw:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{} {}: {} (rounds {} to {})</title></rect>",
                y_of(st.median),
                y0 - y_of(st.median),
                COLORS[p % COLORS.len()],
                esc(&r.path.to_string()),
                esc(setting),
                human(st.median),
                human(st.min),
                human(st.max)
            );
            if st.max > st.min {
                let (cx, cap) = (x + bw / 2.0, (bw * 0.3).min(6.0));
                let (y_lo, y_hi) = (y_of(st.min), y_of(st.max));
                let _ = writeln!(
                    s,
                    "<path d=\"M{cx:.1} {y_lo:.1}V{y_hi:.1}M{:.1} {y_lo:.1}h{:.1}M{:.1} {y_hi:.1}h{:.1}\" stroke=\"{INK}\" stroke-width=\"1.2\" fill=\"none\"/>",
                    cx - cap,
                    2.0 * cap,
                    cx - cap,
                    2.0 * cap
                );
            }
        }
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            gx + group_w * 0.4,
            y0 + 18.0,
            esc(setting)
        );
    }
    for (p, name) in paths.iter().enumerate() {
        let y = 60.0 + p as f64 * 20.0;
        let _ = writeln!(
            s,
            "<rect x=\"{legend_x}\" y=\"{y}\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{}\" y=\"{}\">{}</text>",
            COLORS[p % COLORS.len()],
            legend_x + 18.0,
            y + 10.0,
            esc(name)
        );
    }
    if rounds > 1 && !echo.is_empty() {
        // The whisker's key, under the paths'.
        let y = 60.0 + paths.len() as f64 * 20.0 + 8.0;
        let _ = writeln!(
            s,
            "<path d=\"M{cx} {y}V{}M{} {y}h8M{} {}h8\" stroke=\"{INK}\" stroke-width=\"1.2\" fill=\"none\"/>\
             <text x=\"{}\" y=\"{}\">lowest–highest round</text>",
            y + 14.0,
            legend_x + 2.0,
            legend_x + 2.0,
            y + 14.0,
            legend_x + 18.0,
            y + 11.0,
            cx = legend_x + 6.0
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::path::Path;
    use super::super::summary::Stat;

    fn row(setting: &str, path: Path, min: f64, median: f64, max: f64) -> Row {
        let stat = Stat { name: "msgs/s", median, spread: 0.0, min, max, higher_is_better: true };
        Row {
            workload: "echo",
            setting: setting.into(),
            path,
            stats: vec![stat],
            vs_floor: None,
            vs_uring_floor: None,
            error: None,
        }
    }

    /// The whisker paths of a chart, as (x, y of the low end, y of the high end).
    fn whiskers(svg: &str) -> Vec<(f64, f64, f64)> {
        svg.lines()
            .filter_map(|l| l.strip_prefix("<path d=\"M"))
            .map(|d| {
                let n: Vec<f64> = d.split(['M', 'V', ' ', 'h', '"']).filter_map(|t| t.parse().ok()).collect();
                (n[0], n[1], n[2])
            })
            .collect()
    }

    #[test]
    fn each_bar_with_a_spread_has_a_whisker_from_its_lowest_to_its_highest_round() {
        let rows = [
            row("1 conns × 64 B", Path::Floor, 80.0, 100.0, 120.0),
            row("1 conns × 64 B", Path::FloorUring, 90.0, 90.0, 90.0), // no spread: no whisker
        ];
        let svg = svg(&rows, 3);
        assert!(svg.contains("whisker: lowest to highest round"), "the caption says what a whisker is: {svg}");
        let w = whiskers(&svg);
        assert_eq!(w.len(), 2, "one whisker and its key in the legend: {svg}");
        // The scale tops at 4 × 50 = 200: 120 is 60 % up, 80 is 40 % up the 300-pixel plot.
        let (y0, plot_h) = (380.0, 300.0);
        let (_, lo, hi) = w[0];
        assert!((lo - (y0 - 0.4 * plot_h)).abs() < 0.2 && (hi - (y0 - 0.6 * plot_h)).abs() < 0.2, "{w:?}");
    }

    #[test]
    fn one_round_says_so_and_draws_no_whisker() {
        let svg = svg(&[row("1 conns × 64 B", Path::Floor, 100.0, 100.0, 100.0)], 1);
        assert!(svg.contains("bar: one round"), "{svg}");
        assert!(whiskers(&svg).is_empty(), "{svg}");
    }

    #[test]
    fn steps_are_round() {
        assert_eq!(round_step(41_700.0), 50_000.0);
        assert_eq!(round_step(20_000.0), 20_000.0);
        assert_eq!(round_step(0.3), 0.5);
        assert_eq!(round_step(2.1), 2.5);
    }
}
