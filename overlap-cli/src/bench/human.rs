//! Numbers as people read them, in the table and the chart.

/// 123456 → "123.5k".
pub(crate) fn human(v: f64) -> String {
    match v {
        v if v >= 10_000_000.0 => format!("{:.1}M", v / 1e6),
        v if v >= 10_000.0 => format!("{:.1}k", v / 1e3),
        v if v >= 100.0 => format!("{v:.0}"),
        v => format!("{v:.1}"),
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
    fn bytes_in_the_largest_exact_unit() {
        assert_eq!(bytes(64), "64 B");
        assert_eq!(bytes(4096), "4 KiB");
        assert_eq!(bytes(1500), "1500 B");
        assert_eq!(bytes(64 << 20), "64 MiB");
    }
}
