//! A PyTorch state_dict file on arbitrary bytes: parsed, its module inferred and a stack built,
//! or an error; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rnnzoo_cell::{Cell, CellError};
use rnnzoo_gru::GruCell;
use rnnzoo_layers::file::Tensors;
use rnnzoo_layers::torch::{load_stack, CellSpec, TorchMode};
use rnnzoo_layers::{Inputs, Layer};
use rnnzoo_lstm::LstmCell;
use rnnzoo_vanilla::{Nonlinearity, VanillaCell};

fn factory(spec: &CellSpec) -> Result<Box<dyn Cell<f32>>, CellError> {
    Ok(match spec.mode {
        TorchMode::RnnTanh => Box::new(VanillaCell::zeros(
            spec.input,
            spec.hidden,
            Nonlinearity::Tanh,
            spec.bias,
        )?),
        TorchMode::RnnRelu => Box::new(VanillaCell::zeros(
            spec.input,
            spec.hidden,
            Nonlinearity::Relu,
            spec.bias,
        )?),
        TorchMode::Lstm => Box::new(LstmCell::zeros(spec.input, spec.hidden, spec.bias)?),
        TorchMode::Gru => Box::new(GruCell::zeros(spec.input, spec.hidden, spec.bias)?),
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(t) = Tensors::parse(data, false) else {
        return;
    };
    if let Ok((spec, stack)) = load_stack::<f32>(&t, factory) {
        // A stack that loaded runs.
        let x = vec![0.5f32; spec.input_size * 2];
        let _ = stack.infer(Inputs::new(&x, 2, 1));
    }
});
