//! Shared by the integration tests: where the PyTorch reference cases the layers' own tests name
//! are. The loops over every case, and over every cell kind, are `rnnzoo`'s tests (on its
//! registry and its copy of the cases, `rnnzoo/tests/fixtures/torch/`).

use std::path::{Path, PathBuf};

/// The layers' PyTorch cases (named by file by the tests here; also the fuzzers' seed corpus).
pub fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/torch")
}
