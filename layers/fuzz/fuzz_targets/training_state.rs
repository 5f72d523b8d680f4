//! A training checkpoint on arbitrary bytes: a trainer or an error; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rnnzoo::cell::seeded;
use rnnzoo::layers::checkpoint::load_training;
use rnnzoo::layers::head::{Activation, Dense};
use rnnzoo::layers::{Layer, Model, Readout, Recurrent, Stack};
use rnnzoo::lstm::LstmCell;

fuzz_target!(|data: &[u8]| {
    let cell = LstmCell::<f32>::new(2, 3, &mut seeded(0)).unwrap();
    let body = Stack::new(vec![Box::new(Recurrent::new(cell)) as Box<dyn Layer<f32>>]).unwrap();
    let head = Dense::new(3, 1, Activation::Identity, &mut seeded(1)).unwrap();
    let model = Model::new(body, head, Readout::LastStep).unwrap();
    let _ = load_training(model, data);
});
