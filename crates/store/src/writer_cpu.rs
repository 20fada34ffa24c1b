//! Where the SQLite writer runs. The group-commit writer and the thread of its SQLite
//! connection take turns (each waits for the other's answer), so they lose nothing by
//! sharing one CPU; placed on the CPU that takes the disk's interrupts, the wake-up after
//! every commit's fsync stays on that CPU as well (docs/decisions/0005). PostgreSQL ignores the setting: its writer has no thread of its own to pair with.
//!
//! Linux only; elsewhere, and whenever the kernel refuses, the threads stay where the
//! scheduler puts them.

use std::path::Path;

/// Which CPU the writer uses (`writer_cpu` in the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriterCpu {
    /// Left to the scheduler (tests and tools).
    Off,
    /// The CPU that took most of the interrupts of a few flushes in the data folder, if
    /// one clearly did.
    Auto,
    /// This CPU.
    Fixed(usize),
}

impl std::str::FromStr for WriterCpu {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "auto" => Ok(WriterCpu::Auto),
            "off" => Ok(WriterCpu::Off),
            n => n
                .parse::<usize>()
                .map(WriterCpu::Fixed)
                .map_err(|_| format!("writer_cpu 应为 auto、off 或 CPU 编号（如 1），而不是「{n}」")),
        }
    }
}

impl WriterCpu {
    /// The CPU to use for a database in `dir`, if any.
    pub fn choose(self, dir: &Path) -> Option<usize> {
        match self {
            WriterCpu::Off => None,
            WriterCpu::Fixed(cpu) => Some(cpu),
            WriterCpu::Auto => sys::disk_interrupt_cpu(dir),
        }
    }
}

/// Per-CPU interrupt counts of the device lines in `/proc/interrupts` (numbered lines only:
/// timers and inter-processor calls are not a device's).
pub fn device_interrupts(text: &str) -> Vec<u64> {
    let mut lines = text.lines();
    let cpus = lines.next().map(|h| h.split_whitespace().filter(|c| c.starts_with("CPU")).count()).unwrap_or(0);
    let mut total = vec![0u64; cpus];
    for line in lines {
        let mut fields = line.split_whitespace();
        let Some(irq) = fields.next() else { continue };
        if !irq.trim_end_matches(':').chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        for (t, n) in total.iter_mut().zip(fields.take(cpus)) {
            *t += n.parse::<u64>().unwrap_or(0);
        }
    }
    total
}

/// The CPU that took at least `min` and most of the interrupts between two counts.
pub fn busiest(before: &[u64], after: &[u64], min: u64) -> Option<usize> {
    let deltas: Vec<u64> = after.iter().zip(before).map(|(a, b)| a.saturating_sub(*b)).collect();
    let (cpu, most) = deltas.iter().copied().enumerate().max_by_key(|(_, d)| *d)?;
    (most >= min).then_some(cpu)
}

/// Keep the calling thread and the thread named `thread_name` (sqlx's thread for the
/// writer connection) on `cpu`, the calling thread under `SCHED_BATCH`. Returns whether
/// both were placed.
///
/// Why batch: the connection's thread sends a statement's rows one by one, and a normal
/// writer thread woken by each row preempted it to read that one row; a batch thread woken
/// never preempts, so it reads all the rows once the connection waits for the next
/// statement (docs/decisions/0005). Refused (another OS, a sandbox), nothing else changes.
pub fn place(cpu: usize, thread_name: &str) -> bool {
    let placed = sys::pin_current(cpu) && sys::thread_named(thread_name).is_some_and(|tid| sys::pin(tid, cpu));
    if placed && !sys::batch_current() {
        tracing::warn!("写入线程无法设为批处理调度（SCHED_BATCH），按普通线程调度");
    }
    placed
}

#[cfg(target_os = "linux")]
mod sys {
    use std::io::Write;
    use std::path::Path;

    use nix::sched::{sched_getaffinity, sched_setaffinity, CpuSet};
    use nix::unistd::Pid;

    fn interrupts() -> Option<Vec<u64>> {
        std::fs::read_to_string("/proc/interrupts").ok().map(|t| super::device_interrupts(&t))
    }

    /// Flush a small file in `dir` a few times and see which CPU took the interrupts.
    pub fn disk_interrupt_cpu(dir: &Path) -> Option<usize> {
        const FLUSHES: u64 = 16;
        let before = interrupts()?;
        if before.len() < 2 {
            return None;
        }
        let path = dir.join(".wushe-cpu-probe");
        let probe = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&path)?;
            for _ in 0..FLUSHES {
                f.write_all(&[0u8; 4096])?;
                f.sync_data()?;
            }
            Ok(())
        };
        let flushed = probe();
        let _ = std::fs::remove_file(&path);
        flushed.ok()?;
        let cpu = super::busiest(&before, &interrupts()?, FLUSHES / 2)?;
        sched_getaffinity(Pid::from_raw(0)).ok()?.is_set(cpu).ok()?.then_some(cpu)
    }

    /// A refused call (the CPU offline or outside the cgroup) changes nothing.
    pub fn pin(tid: i32, cpu: usize) -> bool {
        let mut set = CpuSet::new();
        set.set(cpu).is_ok() && sched_setaffinity(Pid::from_raw(tid), &set).is_ok()
    }

    pub fn pin_current(cpu: usize) -> bool {
        pin(0, cpu)
    }

    /// The calling thread under `SCHED_BATCH` at its own nice. thread-priority sets the
    /// nice along with the policy, so it is given the current one: passing 0 instead undid
    /// a `nice` the server was started under, for its busiest thread. Nice unknown: no change.
    pub fn batch_current() -> bool {
        use thread_priority::unix::{set_thread_priority_and_policy, thread_native_id};
        let Some(priority) = current_nice().and_then(priority_for_nice) else { return false };
        set_thread_priority_and_policy(thread_native_id(), priority, BATCH).is_ok()
    }

    const BATCH: thread_priority::unix::ThreadSchedulePolicy =
        thread_priority::unix::ThreadSchedulePolicy::Normal(thread_priority::unix::NormalThreadSchedulePolicy::Batch);

    /// thread-priority's value that it turns into `nice` for `SCHED_BATCH` (its 0..=99 stand
    /// for nice 19..=-20; found by its own conversion rather than by repeating its formula).
    pub fn priority_for_nice(nice: i32) -> Option<thread_priority::ThreadPriority> {
        use thread_priority::{ThreadPriority, ThreadPriorityValue};
        (0..=99u8)
            .filter_map(|p| ThreadPriorityValue::try_from(p).ok())
            .map(ThreadPriority::Crossplatform)
            .find(|p| p.to_posix(BATCH).ok() == Some(nice))
    }

    /// The calling thread's nice (field 19 of its stat; on Linux each thread has its own).
    pub fn current_nice() -> Option<i32> {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
        stat.get(stat.rfind(')')? + 2..)?.split(' ').nth(19 - 3)?.parse().ok()
    }

    /// A thread of this process by name (names are cut to 15 bytes by the kernel).
    pub fn thread_named(name: &str) -> Option<i32> {
        let name = &name.as_bytes()[..name.len().min(15)];
        std::fs::read_dir("/proc/self/task").ok()?.flatten().find_map(|t| {
            let comm = std::fs::read(t.path().join("comm")).ok()?;
            (comm.strip_suffix(b"\n").unwrap_or(&comm) == name).then(|| t.file_name().to_str()?.parse().ok())?
        })
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    use std::path::Path;

    pub fn disk_interrupt_cpu(_dir: &Path) -> Option<usize> {
        None
    }
    pub fn pin_current(_cpu: usize) -> bool {
        false
    }
    pub fn batch_current() -> bool {
        false
    }
    pub fn thread_named(_name: &str) -> Option<i32> {
        None
    }
    pub fn pin(_tid: i32, _cpu: usize) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "           CPU0       CPU1       \n  0:         44          0   IO-APIC   2-edge      timer\n 36:          0    5031117 PCI-MSIX-0000:00:02.0   1-edge      virtio1-req.0\n 39:       5310          0 PCI-MSIX-0000:00:03.0   2-edge      virtio2-output.0\nNMI:          0          0   Non-maskable interrupts\nLOC:    9135013    8712271   Local timer interrupts\nERR:          0\n";

    #[test]
    fn only_numbered_lines_count() {
        assert_eq!(device_interrupts(SAMPLE), vec![44 + 5310, 5031117]);
    }

    #[test]
    fn the_cpu_that_took_the_flushes_interrupts_is_chosen() {
        let before = device_interrupts(SAMPLE);
        let after = device_interrupts(&SAMPLE.replace("5031117", "5031135"));
        assert_eq!(busiest(&before, &after, 8), Some(1));
        // too few to tell (e.g. the data folder is in memory): no choice
        assert_eq!(busiest(&before, &before, 8), None);
    }

    /// The scheduling policy of the calling thread (field 41 of its stat).
    #[cfg(target_os = "linux")]
    fn policy_and_nice() -> (String, String) {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
        // fields from the third on: nice is the 19th, policy the 41st
        (fields[41 - 3].to_string(), fields[19 - 3].to_string())
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn every_nice_has_a_batch_priority() {
        for nice in -20..=19 {
            assert!(sys::priority_for_nice(nice).is_some(), "nice {nice}");
        }
        assert_eq!(sys::current_nice().map(|n| n.to_string()), Some(policy_and_nice().1));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_writer_thread_becomes_a_batch_thread_at_the_same_nice() {
        std::thread::spawn(|| {
            // a nice above 0 even when the tests run at 0 (raising one's own nice needs no privilege)
            use thread_priority::unix::{set_thread_priority_and_policy, thread_native_id, ThreadSchedulePolicy};
            let nice = sys::current_nice().unwrap();
            let other = ThreadSchedulePolicy::Normal(thread_priority::unix::NormalThreadSchedulePolicy::Other);
            let raised = sys::priority_for_nice((nice + 1).min(19)).unwrap();
            set_thread_priority_and_policy(thread_native_id(), raised, other).unwrap();
            let before = policy_and_nice();
            assert_eq!(before, ("0".to_string(), (nice + 1).min(19).to_string()), "SCHED_OTHER, nice raised");
            assert!(sys::batch_current());
            assert_eq!(policy_and_nice(), ("3".to_string(), before.1), "SCHED_BATCH, nice unchanged");
        })
        .join()
        .unwrap();
    }

    #[test]
    fn settings_parse_with_a_clear_message() {
        assert_eq!("auto".parse(), Ok(WriterCpu::Auto));
        assert_eq!("off".parse(), Ok(WriterCpu::Off));
        assert_eq!(" 1 ".parse(), Ok(WriterCpu::Fixed(1)));
        assert!("fast".parse::<WriterCpu>().unwrap_err().contains("writer_cpu"));
    }
}
