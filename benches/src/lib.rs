//! Benchmarks live in `benches/benches`; run them with `cargo bench -p infodemic-benches`.
//!
//! - `classify`: texts/s of the real model at batch sizes 1, 8 and 32, on the sample feeds'
//!   items (realistic, mixed-length health news and claims).
//! - `parse`: items/s of feed parsing + normalisation (RSS 2.0, Atom, JSON Feed).
