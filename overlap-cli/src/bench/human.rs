//! Numbers as people read them, in the table and the chart.

/// 123456 → "123.5k"; below 1, two significant digits (0.034 → "0.034": a small figure is
/// never shown as 0.0).
pub(crate) fn human(v: f64) -> String {
    match v {
        v if v >= 10_000_000.0 => format!("{:.1}M", v / 1e6),
        v if v >= 10_000.0 => format!("{:.1}k", v / 1e3),
        v if v >= 100.0 => format!("{v:.0}"),
        v if v >= 1.0 || v <= 0.0 || !v.is_finite() => format!("{v:.1}"),
        v => format!("{v:.*}", (1 - v.log10().floor() as i64).clamp(1, 9) as usize),
    }
}

/// A byte count: "64 B", "4 KiB", "16 MiB" where exact, else bytes.
pub(crate) fn bytes(n: usize) -> String {
    match n {
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        n => format!("{n} B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_figures_keep_two_significant_digits() {
        assert_eq!(human(0.034), "0.034");
        assert_eq!(human(0.5), "0.50");
        assert_eq!(human(2.345), "2.3");
        assert_eq!(human(0.0), "0.0");
        assert_eq!(human(123_456.0), "123.5k");
    }

    #[test]
    fn bytes_in_the_largest_exact_unit() {
        assert_eq!(bytes(64), "64 B");
        assert_eq!(bytes(4096), "4 KiB");
        assert_eq!(bytes(1500), "1500 B");
        assert_eq!(bytes(64 << 20), "64 MiB");
    }
}
