//! rnnzoo's criterion benchmarks live in `benches/` (`make bench`, or
//! `cargo bench -p rnnzoo-criterion --bench cells|speed`). They are a crate of their own so that
//! `make test` never builds criterion (about 70 s of CPU on a fresh clone); this library is empty.
