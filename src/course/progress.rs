//! The student's progress, kept in `.ebpf-lab-progress` in the working directory: one line per
//! exercise tried, `ID PASSED/TOTAL HINTS` (`03-checksum 4/4 1`), so it survives between runs
//! and is readable (and deletable) by hand.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The progress file's name.
pub const FILE: &str = ".ebpf-lab-progress";

/// One exercise's record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Record {
    /// Checks passed by the last `check`.
    pub passed: usize,
    /// Checks in all.
    pub total: usize,
    /// Hints shown so far.
    pub hints: usize,
}

impl Record {
    /// The status word `exercise list` shows.
    pub fn status(&self) -> &'static str {
        if self.total > 0 && self.passed == self.total {
            "done"
        } else if self.total > 0 || self.hints > 0 {
            "started"
        } else {
            "new"
        }
    }
}

/// Every record, by exercise id.
#[derive(Clone, Debug, Default)]
pub struct Progress {
    path: PathBuf,
    records: BTreeMap<String, Record>,
}

impl Progress {
    /// Reads the progress file in `dir` (an absent or unreadable file is a fresh start; a line
    /// that does not parse is skipped, since the file is only a convenience).
    pub fn load(dir: &Path) -> Progress {
        let path = dir.join(FILE);
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let mut records = BTreeMap::new();
        for line in text.lines() {
            let mut words = line.split_whitespace();
            let (Some(id), Some(score), hints) = (words.next(), words.next(), words.next()) else { continue };
            let Some((passed, total)) = score.split_once('/') else { continue };
            let (Ok(passed), Ok(total)) = (passed.parse(), total.parse()) else { continue };
            let hints = hints.and_then(|h| h.parse().ok()).unwrap_or(0);
            records.insert(id.to_string(), Record { passed, total, hints });
        }
        Progress { path, records }
    }

    /// The record of exercise `id`.
    pub fn get(&self, id: &str) -> Record {
        self.records.get(id).copied().unwrap_or_default()
    }

    /// Changes the record of `id`.
    pub fn update(&mut self, id: &str, f: impl FnOnce(&mut Record)) {
        f(self.records.entry(id.to_string()).or_default());
    }

    /// Writes the file back.
    pub fn save(&self) -> std::io::Result<()> {
        let text: String =
            self.records.iter().map(|(id, r)| format!("{id} {}/{} {}\n", r.passed, r.total, r.hints)).collect();
        std::fs::write(&self.path, text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_skips_junk() {
        let dir = std::env::temp_dir().join(format!("ebpf-lab-progress-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(FILE), "01-a 2/3 1\ngarbage\n02-b x/y\n").unwrap();
        let mut p = Progress::load(&dir);
        assert_eq!(p.get("01-a"), Record { passed: 2, total: 3, hints: 1 });
        assert_eq!(p.get("01-a").status(), "started");
        assert_eq!(p.get("02-b").status(), "new");
        p.update("02-b", |r| (r.passed, r.total) = (4, 4));
        p.save().unwrap();
        assert_eq!(Progress::load(&dir).get("02-b").status(), "done");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
