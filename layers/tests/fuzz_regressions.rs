//! Every input in `tests/fixtures/fuzz/` (hand-made hostile files, and any crash the fuzzers of
//! `layers/fuzz` ever found, once fixed) goes through every loader: each returns an error, none
//! panics or allocates beyond the file. `layers/fuzz/run.sh` (`make fuzz`) seeds the fuzzers with
//! the same folder.

use crate::common::fixture_dir;
use rnnzoo_cell::{Cell, CellError, seeded};
use rnnzoo_gru::GruCell;
use rnnzoo_layers::checkpoint::load_training;
use rnnzoo_layers::file::Tensors;
use rnnzoo_layers::head::{Activation, Dense};
use rnnzoo_layers::torch::{CellSpec, load_stack};
use rnnzoo_layers::{Layer, Model, Readout, Recurrent, Stack};
use rnnzoo_lstm::LstmCell;
use rnnzoo_vanilla::{Nonlinearity, VanillaCell};

/// Factories of one concrete cell each (the interop path takes any factory; the registry's is
/// `rnnzoo::torch`): a hostile file must be refused whichever cells it would be loaded into.
type Factory = fn(&CellSpec) -> Result<Box<dyn Cell<f32>>, CellError>;
const FACTORIES: [Factory; 3] = [
    |s| {
        Ok(Box::new(VanillaCell::zeros(
            s.input,
            s.hidden,
            Nonlinearity::Tanh,
            s.bias,
        )?))
    },
    |s| Ok(Box::new(LstmCell::zeros(s.input, s.hidden, s.bias)?)),
    |s| Ok(Box::new(GruCell::zeros(s.input, s.hidden, s.bias)?)),
];

fn model() -> Model<f32> {
    let body =
        Stack::new(vec![
            Box::new(Recurrent::new(LstmCell::new(2, 3, &mut seeded(0)).unwrap()))
                as Box<dyn Layer<f32>>,
        ])
        .unwrap();
    Model::new(
        body,
        Dense::new(3, 1, Activation::Identity, &mut seeded(1)).unwrap(),
        Readout::LastStep,
    )
    .unwrap()
}

#[test]
fn hostile_files_are_refused_by_every_loader() {
    let dir = fixture_dir().parent().unwrap().join("fuzz");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let name = path.display();
        if let Ok(t) = Tensors::parse(&bytes, true) {
            for factory in FACTORIES {
                assert!(
                    load_stack::<f32>(&t, factory).is_err(),
                    "{name} built a stack"
                );
            }
        }
        assert!(
            load_training(model(), &bytes).is_err(),
            "{name} loaded as a training state"
        );
        n += 1;
    }
    assert!(n >= 6, "the regression corpus lost files");
}
