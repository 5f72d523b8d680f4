//! A PyTorch state_dict file on arbitrary bytes: parsed, its module inferred and a stack built
//! (through the zoo's loader, as a user's file is, once bare and once as a model's with a head),
//! or an error; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rnnzoo::layers::file::Tensors;
use rnnzoo::layers::{Inputs, Layer};
use rnnzoo::torch::{load_model, load_stack, TorchOptions};

fuzz_target!(|data: &[u8]| {
    let Ok(t) = Tensors::parse(data, false) else {
        return;
    };
    if let Ok((module, stack)) = load_stack::<f32>(&t, &TorchOptions::default()) {
        // A stack that loaded runs.
        let x = vec![0.5f32; module.spec.input_size * 2];
        let _ = stack.infer(Inputs::new(&x, 2, 1));
    }
    let opts = TorchOptions::new().rnn_prefix("rnn.").head("fc.").ignore_extra(true);
    if let Ok((module, model)) = load_model::<f32>(&t, &opts) {
        let x = vec![0.5f32; module.spec.input_size * 2];
        let _ = model.predict(Inputs::new(&x, 2, 1));
    }
});
