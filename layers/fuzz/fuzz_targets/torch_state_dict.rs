//! A PyTorch state_dict file on arbitrary bytes: parsed, its module inferred and a stack built,
//! or an error; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rnnzoo_bench::zoo::torch_cell;
use rnnzoo_layers::file::Tensors;
use rnnzoo_layers::torch::load_stack;
use rnnzoo_layers::{Inputs, Layer};

fuzz_target!(|data: &[u8]| {
    let Ok(t) = Tensors::parse(data, false) else {
        return;
    };
    if let Ok((spec, stack)) = load_stack::<f32>(&t, torch_cell) {
        // A stack that loaded runs.
        let x = vec![0.5f32; spec.input_size * 2];
        let _ = stack.infer(Inputs::new(&x, 2, 1));
    }
});
