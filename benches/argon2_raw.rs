//! The raw argon2id verification rate on this machine, with the application's
//! parameters and one thread per core: the ceiling for password sign-ins.
//!
//! `cargo bench --bench argon2_raw` (prints verifications per second).

use std::time::{Duration, Instant};

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version,
    password_hash::{SaltString, rand_core::OsRng},
};
use eservices::identity::password::{ITERATIONS, MEMORY_KIB, PARALLELISM};

#[allow(clippy::print_stdout, clippy::expect_used)]
fn main() {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None).expect("params");
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let hash = argon2
        .hash_password(b"DichVuCong@2026", &SaltString::generate(&mut OsRng))
        .expect("hash")
        .to_string();
    let threads = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let duration = Duration::from_secs(
        std::env::var("BENCH_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(10),
    );
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let hash = hash.clone();
            let argon2 = argon2.clone();
            std::thread::spawn(move || {
                let parsed = PasswordHash::new(&hash).expect("phc");
                let mut n = 0_u64;
                while start.elapsed() < duration {
                    argon2
                        .verify_password(b"DichVuCong@2026", &parsed)
                        .expect("verifies");
                    n += 1;
                }
                n
            })
        })
        .collect();
    let total: u64 = handles.into_iter().map(|h| h.join().expect("thread")).sum();
    let secs = start.elapsed().as_secs_f64();
    println!("threads {threads}");
    println!("verifications {total} in {secs:.1} s");
    println!("verifications_per_s {:.1}", total as f64 / secs);
}
