//! The disk under the services' data: how long it takes to make a small append durable, which is what
//! every commit waits for (SQLite appends to its write-ahead log and syncs it).

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use crate::stats::Latencies;

/// `appends` appends of one 4 KiB page to a new file in `dir`, each made durable (fdatasync) before the
/// next, as a commit of one page to the write-ahead log does.
pub fn durable_appends(dir: &Path, appends: usize) -> Latencies {
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let path = dir.join("disk-probe");
    let mut file = std::fs::File::create(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let page = [0x5a_u8; 4096];
    let mut latencies = Latencies::default();
    for _ in 0..appends {
        file.write_all(&page).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let started = Instant::now();
        file.sync_data().unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        latencies.push(started.elapsed());
    }
    drop(file);
    let _ = std::fs::remove_file(&path);
    latencies
}
