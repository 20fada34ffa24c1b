//! Spot-checks of hour records (抽查, 民政部令第67号 2021: civil-affairs departments check
//! records by sampling and publish the results). The sample is drawn by ranking every
//! record of the population by SHA-256(seed ":" record id) and taking the lowest: the draw
//! depends only on the seed and the set of records (not on their order, a random-number
//! library or its version), so anyone holding both can repeat it.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Most records one spot-check samples (each is checked by hand).
pub const MAX_SAMPLE: usize = 1000;
/// Longest period one spot-check covers.
pub const MAX_PERIOD_DAYS: i64 = 731;

/// How large a sample: a number of records, or a percentage of the population.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SampleSize {
    Count(u32),
    Percent(u32),
}

impl SampleSize {
    /// Checked request: a count of 1–MAX_SAMPLE or a percentage of 1–100.
    pub fn new(count: Option<u32>, percent: Option<u32>) -> Result<SampleSize, (&'static str, String)> {
        match (count, percent) {
            (Some(n), None) if (1..=MAX_SAMPLE as u32).contains(&n) => Ok(SampleSize::Count(n)),
            (Some(_), None) => Err(("sample_size", format!("抽样数量应在 1–{MAX_SAMPLE} 条之间"))),
            (None, Some(p)) if (1..=100).contains(&p) => Ok(SampleSize::Percent(p)),
            (None, Some(_)) => Err(("sample_percent", "抽样比例应在 1%–100% 之间".into())),
            (Some(_), Some(_)) => Err(("sample_size", "抽样数量和抽样比例只能填写一项".into())),
            (None, None) => Err(("sample_size", "请填写抽样数量或抽样比例".into())),
        }
    }

    pub fn mode(self) -> &'static str {
        match self {
            SampleSize::Count(_) => "count",
            SampleSize::Percent(_) => "percent",
        }
    }

    pub fn param(self) -> u32 {
        match self {
            SampleSize::Count(n) | SampleSize::Percent(n) => n,
        }
    }

    pub fn from_parts(mode: &str, param: u32) -> Option<SampleSize> {
        match mode {
            "count" => Some(SampleSize::Count(param)),
            "percent" => Some(SampleSize::Percent(param)),
            _ => None,
        }
    }

    /// "50 条" / "5%"
    pub fn label(self) -> String {
        match self {
            SampleSize::Count(n) => format!("{n} 条"),
            SampleSize::Percent(p) => format!("{p}%"),
        }
    }

    /// Records to draw from a population: the count (at most the population), or the
    /// percentage rounded up (at least one record), never more than MAX_SAMPLE.
    pub fn of(self, population: usize) -> usize {
        let n = match self {
            SampleSize::Count(n) => n as usize,
            SampleSize::Percent(p) => (population * p as usize).div_ceil(100).max(1),
        };
        n.min(population).min(MAX_SAMPLE)
    }
}

/// A period to check: both days inclusive, not in the future, at most MAX_PERIOD_DAYS long.
pub fn check_period(from: NaiveDate, to: NaiveDate, today: NaiveDate) -> Result<(), (&'static str, String)> {
    if to < from {
        return Err(("period_to", "结束日期不能早于开始日期".into()));
    }
    if to > today {
        return Err(("period_to", "只能抽查已经过去的服务（结束日期不能晚于今天）".into()));
    }
    if (to - from).num_days() + 1 > MAX_PERIOD_DAYS {
        return Err(("period_from", format!("抽查期间最长 {MAX_PERIOD_DAYS} 天")));
    }
    Ok(())
}

/// A seed typed by the official (e.g. a published lottery number, so the draw can be
/// witnessed): 4–64 visible ASCII characters.
pub fn check_seed(seed: &str) -> Result<(), (&'static str, String)> {
    let n = seed.chars().count();
    if !(4..=64).contains(&n) || !seed.chars().all(|c| c.is_ascii_graphic()) {
        return Err(("seed", "随机种子应为 4–64 个字母、数字或符号（不含空格和汉字）".into()));
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The rank of one record in the draw.
pub fn rank(seed: &str, record_id: i64) -> [u8; 32] {
    Sha256::digest(format!("{seed}:{record_id}").as_bytes()).into()
}

/// A draw over a population read once, in ascending record order, in constant memory: it
/// keeps the `keep` lowest-ranked records seen so far and fingerprints the population as it
/// goes (a province's records for a year need not be held at once).
pub struct Drawing {
    seed: String,
    keep: usize,
    lowest: std::collections::BinaryHeap<([u8; 32], i64)>,
    digest: Sha256,
    count: usize,
    last: Option<i64>,
}

impl Drawing {
    pub fn new(seed: &str, keep: usize) -> Drawing {
        Drawing {
            seed: seed.to_string(),
            keep,
            lowest: std::collections::BinaryHeap::with_capacity(keep + 1),
            digest: Sha256::new(),
            count: 0,
            last: None,
        }
    }

    /// The next record of the population; ids must come in ascending order (a repeat is
    /// ignored).
    pub fn push(&mut self, record_id: i64) {
        if self.last.is_some_and(|l| l >= record_id) {
            return;
        }
        if self.count > 0 {
            self.digest.update(b",");
        }
        self.digest.update(record_id.to_string().as_bytes());
        self.count += 1;
        self.last = Some(record_id);
        self.lowest.push((rank(&self.seed, record_id), record_id));
        if self.lowest.len() > self.keep {
            self.lowest.pop();
        }
    }

    /// Records in the population so far.
    pub fn population(&self) -> usize {
        self.count
    }

    /// The `n` lowest-ranked records in rank order (n ≤ keep), and the population's digest.
    pub fn finish(self, n: usize) -> (Vec<i64>, String) {
        let sample = self.lowest.into_sorted_vec().into_iter().take(n).map(|r| r.1).collect();
        (sample, hex(&self.digest.finalize()))
    }
}

/// Draw `n` records from `population`: the `n` with the lowest rank, in rank order.
pub fn draw(seed: &str, population: &[i64], n: usize) -> Vec<i64> {
    let mut ids = population.to_vec();
    ids.sort_unstable();
    let mut d = Drawing::new(seed, n);
    ids.into_iter().for_each(|id| d.push(id));
    d.finish(n).0
}

/// A fingerprint of the population: SHA-256 of its record ids in ascending order, comma
/// separated. Recorded with the draw, so a later re-draw shows whether it started from the
/// same records.
pub fn population_digest(population: &[i64]) -> String {
    let mut ids = population.to_vec();
    ids.sort_unstable();
    let mut d = Drawing::new("", 0);
    ids.into_iter().for_each(|id| d.push(id));
    d.finish(0).1
}

/// A fresh random seed (32 hex digits) from 16 random bytes.
pub fn seed_from_bytes(bytes: [u8; 16]) -> String {
    hex(&bytes)
}

/// What the checker found for one sampled record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Finding {
    /// 属实: the service happened as recorded.
    Genuine,
    /// 不属实: the record is wrong; the organization must correct it.
    Untrue,
    /// 存疑: not settled; the organization should look into it.
    Doubtful,
}

impl Finding {
    pub const ALL: [Finding; 3] = [Finding::Genuine, Finding::Untrue, Finding::Doubtful];

    pub fn as_str(self) -> &'static str {
        match self {
            Finding::Genuine => "genuine",
            Finding::Untrue => "untrue",
            Finding::Doubtful => "doubtful",
        }
    }

    /// Key or Chinese label.
    pub fn parse(s: &str) -> Option<Finding> {
        let s = s.trim();
        Finding::ALL.into_iter().find(|f| f.as_str() == s || f.label() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Finding::Genuine => "属实",
            Finding::Untrue => "不属实",
            Finding::Doubtful => "存疑",
        }
    }

    /// Findings the organizing organization must act on.
    pub fn needs_follow_up(self) -> bool {
        matches!(self, Finding::Untrue | Finding::Doubtful)
    }

    /// A finding other than "genuine" must say why.
    pub fn check_note(self, note: Option<&str>) -> Result<(), (&'static str, String)> {
        let n = note.map_or(0, |n| n.trim().chars().count());
        if n > 500 {
            return Err(("note", "说明不能超过 500 个字符".into()));
        }
        if self.needs_follow_up() && n < 2 {
            return Err(("note", format!("结论为「{}」时须填写说明", self.label())));
        }
        Ok(())
    }
}

/// A spot-check's stage: findings are recorded while it is in progress; completing it
/// fixes them (every sampled record needs one) with a conclusion; publishing makes it
/// public. Nothing goes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    InProgress,
    Completed,
    Published,
}

impl CheckStatus {
    pub const ALL: [CheckStatus; 3] = [CheckStatus::InProgress, CheckStatus::Completed, CheckStatus::Published];

    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::InProgress => "in_progress",
            CheckStatus::Completed => "completed",
            CheckStatus::Published => "published",
        }
    }

    pub fn parse(s: &str) -> Option<CheckStatus> {
        CheckStatus::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            CheckStatus::InProgress => "核查中",
            CheckStatus::Completed => "已完成（未公开）",
            CheckStatus::Published => "已公开",
        }
    }

    pub fn takes_findings(self) -> bool {
        self == CheckStatus::InProgress
    }
}

/// Counts of findings over a sample.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub genuine: i64,
    pub untrue: i64,
    pub doubtful: i64,
    pub unchecked: i64,
}

impl Tally {
    pub fn of<'a>(findings: impl IntoIterator<Item = Option<&'a Finding>>) -> Tally {
        let mut t = Tally::default();
        for f in findings {
            match f {
                Some(Finding::Genuine) => t.genuine += 1,
                Some(Finding::Untrue) => t.untrue += 1,
                Some(Finding::Doubtful) => t.doubtful += 1,
                None => t.unchecked += 1,
            }
        }
        t
    }

    pub fn total(&self) -> i64 {
        self.genuine + self.untrue + self.doubtful + self.unchecked
    }
}

/// Completing needs every sampled record checked and a conclusion of 4–2000 characters.
pub fn check_completion(tally: &Tally, conclusion: &str) -> Result<(), (&'static str, String)> {
    if tally.unchecked > 0 {
        return Err(("findings", format!("还有 {} 条抽中的记录没有核查结论", tally.unchecked)));
    }
    let n = conclusion.trim().chars().count();
    if !(4..=2000).contains(&n) {
        return Err(("conclusion", "抽查结论应为 4–2000 个字符".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn sample_sizes() {
        assert_eq!(SampleSize::new(Some(20), None), Ok(SampleSize::Count(20)));
        assert_eq!(SampleSize::new(None, Some(5)), Ok(SampleSize::Percent(5)));
        assert!(SampleSize::new(None, None).is_err());
        assert!(SampleSize::new(Some(1), Some(1)).is_err());
        assert_eq!(SampleSize::new(Some(0), None).unwrap_err().0, "sample_size");
        assert_eq!(SampleSize::new(None, Some(101)).unwrap_err().0, "sample_percent");
        assert_eq!(SampleSize::Count(20).of(7), 7);
        assert_eq!(SampleSize::Count(20).of(700), 20);
        assert_eq!(SampleSize::Percent(5).of(101), 6, "rounded up");
        assert_eq!(SampleSize::Percent(1).of(3), 1, "at least one");
        assert_eq!(SampleSize::Percent(100).of(5000), MAX_SAMPLE);
        assert_eq!(SampleSize::Percent(10).of(0), 0);
        assert_eq!(SampleSize::from_parts("percent", 5), Some(SampleSize::Percent(5)));
    }

    #[test]
    fn the_draw_depends_on_the_seed_and_the_set_only() {
        let pop: Vec<i64> = (1..=500).collect();
        let a = draw("2026-spring", &pop, 25);
        assert_eq!(a.len(), 25);
        let mut shuffled = pop.clone();
        shuffled.reverse();
        shuffled.rotate_left(123);
        assert_eq!(draw("2026-spring", &shuffled, 25), a, "order of the population does not matter");
        assert_ne!(draw("2026-autumn", &pop, 25), a, "another seed, another sample");
        let mut uniq = a.clone();
        uniq.sort_unstable();
        uniq.dedup();
        assert_eq!(uniq.len(), 25, "no record drawn twice");
        assert!(a.iter().all(|id| pop.contains(id)));
        // a larger sample from the same seed extends the smaller one
        assert_eq!(&draw("2026-spring", &pop, 40)[..25], &a[..]);
        assert_eq!(draw("x1y2", &[5, 5, 6], 5).len(), 2);
        // fixed vector: the algorithm is part of the published method and must not drift
        assert_eq!(hex(&rank("seed", 1)[..4]), hex(&Sha256::digest(b"seed:1")[..4]));
    }

    #[test]
    fn the_draw_is_roughly_uniform() {
        let pop: Vec<i64> = (1..=100).collect();
        let mut hits = [0u32; 100];
        for s in 0..2000 {
            for id in draw(&format!("seed{s}"), &pop, 10) {
                hits[(id - 1) as usize] += 1;
            }
        }
        // each record is expected 200 times; a fair draw stays well inside 120–280
        assert!(hits.iter().all(|h| (120..=280).contains(h)), "{hits:?}");
    }

    #[test]
    fn streaming_keeps_the_lowest_ranks() {
        let pop: Vec<i64> = (1..=3000).collect();
        let mut d = Drawing::new("stream", MAX_SAMPLE);
        pop.iter().for_each(|id| d.push(*id));
        assert_eq!(d.population(), 3000);
        let (sample, digest) = d.finish(30);
        assert_eq!(sample, draw("stream", &pop, 30));
        assert_eq!(digest, population_digest(&pop));
        // the digest is SHA-256 of "1,2,…,3000"
        let text = pop.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        assert_eq!(digest, hex(&Sha256::digest(text.as_bytes())));
    }

    #[test]
    fn digests_ignore_order() {
        assert_eq!(population_digest(&[3, 1, 2]), population_digest(&[1, 2, 3]));
        assert_ne!(population_digest(&[1, 2]), population_digest(&[1, 2, 3]));
        assert_eq!(population_digest(&[1, 2, 3]).len(), 64);
        assert_eq!(seed_from_bytes([0xab; 16]).len(), 32);
    }

    #[test]
    fn periods_and_seeds() {
        let today = d(2026, 5, 1);
        assert!(check_period(d(2026, 1, 1), d(2026, 3, 31), today).is_ok());
        assert_eq!(check_period(d(2026, 3, 1), d(2026, 1, 1), today).unwrap_err().0, "period_to");
        assert_eq!(check_period(d(2026, 3, 1), d(2026, 5, 2), today).unwrap_err().0, "period_to");
        assert_eq!(check_period(d(2023, 1, 1), d(2026, 1, 1), today).unwrap_err().0, "period_from");
        assert!(check_seed("20260501-福彩").is_err());
        assert!(check_seed("abc").is_err());
        assert!(check_seed("2026050101").is_ok());
    }

    #[test]
    fn findings_and_completion() {
        assert_eq!(Finding::parse("不属实"), Some(Finding::Untrue));
        assert_eq!(Finding::parse("doubtful"), Some(Finding::Doubtful));
        assert_eq!(Finding::parse("假"), None);
        assert!(Finding::Genuine.check_note(None).is_ok());
        assert!(Finding::Untrue.check_note(Some(" ")).is_err());
        assert!(Finding::Untrue.check_note(Some("服务对象称当天无人上门")).is_ok());
        let t = Tally::of([Some(&Finding::Genuine), Some(&Finding::Untrue), None]);
        assert_eq!((t.genuine, t.untrue, t.doubtful, t.unchecked, t.total()), (1, 1, 0, 1, 3));
        assert_eq!(check_completion(&t, "抽查发现一条不属实").unwrap_err().0, "findings");
        let done = Tally { unchecked: 0, ..t };
        assert_eq!(check_completion(&done, "好").unwrap_err().0, "conclusion");
        assert!(check_completion(&done, "抽查 2 条，1 条不属实，已责令更正").is_ok());
        assert!(CheckStatus::InProgress.takes_findings());
        assert!(!CheckStatus::Published.takes_findings());
    }
}
