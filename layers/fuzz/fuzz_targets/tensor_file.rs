//! The safetensors reader on arbitrary bytes: an error or a value, never a panic or a huge
//! allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rnnzoo::layers::file::Tensors;

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = Tensors::parse(data, true) {
        // Whatever parsed is no larger than the file.
        let values: usize = t.tensors.values().map(|t| t.len()).sum();
        assert!(values <= data.len());
    }
});
