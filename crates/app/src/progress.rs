//! Terminal progress bars for long CLI work (first start, imports, benchmarks).

use indicatif::{ProgressBar, ProgressStyle};

#[allow(clippy::expect_used, reason = "each expect states an invariant this code guarantees")]
pub fn bar(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({percent}%) {elapsed}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    pb.set_message(what.to_string());
    pb
}
