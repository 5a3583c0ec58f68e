//! The table on stdout.

use std::io::{self, Write};
use std::time::Duration;

use super::human::human;
use super::summary::Row;

/// The table, on `out`.
pub(crate) fn print_table(out: &mut impl Write, rows: &[Row], rounds: usize, secs: Duration) -> io::Result<()> {
    writeln!(
        out,
        "median of {rounds} round(s) of {:.2} s per cell, cells run round-robin; ± is half the range",
        secs.as_secs_f64()
    )?;
    // The path column is as wide as the longest path (bufferevent-completion/uring is 28).
    let w = rows.iter().map(|r| r.path.to_string().chars().count()).max().unwrap_or(0).max(17);
    writeln!(
        out,
        "{:<8} {:<22} {:<w$} {:>24} {:>9} {:>9}  more",
        "workload", "setting", "path", "figure", "±", "vs floor"
    )?;
    for r in rows {
        let path = r.path.to_string();
        let Some(main) = r.stats.first() else {
            let why = r.error.as_deref().unwrap_or("no result");
            writeln!(out, "{:<8} {:<22} {:<w$} failed: {why}", r.workload, r.setting, path)?;
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
            "{:<8} {:<22} {:<w$} {:>24} {:>9} {:>9}  {}",
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
            writeln!(out, "{:<8} {:<22} {:<w$} (a round failed: {e})", "", "", "")?;
        }
    }
    Ok(())
}
