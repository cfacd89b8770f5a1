//! Writes the synthetic Zipf trace of `tests/cache_model.rs` as a libCacheSim
//! oracleGeneral file, so `bench/replay_vs_libcachesim.py --golden` can ask
//! libcachesim for its miss counts on exactly the same requests.
//!
//! `zipf_trace OUT REQUESTS OBJECTS ALPHA MIN_SIZE MAX_SIZE SEED`

use std::io::Write;

use edgesim_cache::synth::ZipfWorkload;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [out, requests, objects, alpha, min, max, seed] = args.as_slice() else {
        return Err("usage: zipf_trace OUT REQUESTS OBJECTS ALPHA MIN_SIZE MAX_SIZE SEED".into());
    };
    let mut workload = ZipfWorkload::new(
        objects.parse()?,
        alpha.parse()?,
        min.parse()?,
        max.parse()?,
        seed.parse()?,
    );
    let mut file = std::io::BufWriter::new(std::fs::File::create(out)?);
    for r in workload.take_requests(requests.parse()?) {
        // oracleGeneral: u32 time, u64 id, u32 size, i64 next access (unknown: -1).
        file.write_all(&(r.time as u32).to_le_bytes())?;
        file.write_all(&r.key.to_le_bytes())?;
        file.write_all(&(r.size as u32).to_le_bytes())?;
        file.write_all(&(-1i64).to_le_bytes())?;
    }
    file.flush()?;
    Ok(())
}
