//! What one speed measurement runs: a cell kind of the zoo, sizes, depth, directions, dtype and
//! threads.

use std::fmt;

use rnnzoo::zoo::{CellChoice, ZooError};

/// The floating-point type a case runs in.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    /// `f32` (PyTorch `float32`).
    F32,
    /// `f64` (PyTorch `float64`).
    F64,
}

impl Dtype {
    /// `"f32"` or `"f64"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::F32 => "f32",
            Self::F64 => "f64",
        }
    }

    /// Bytes per value.
    pub fn bytes(self) -> usize {
        match self {
            Self::F32 => 4,
            Self::F64 => 8,
        }
    }
}

/// One network and one input shape: `layers` layers of `cell`, each `bidirectional` or not, over
/// a `(steps, batch, input)` sequence with `hidden` units per direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Case {
    /// The cell kind, from the zoo's registry (serialised as `rnnzoo cells` names it, `lstm`).
    pub cell: CellChoice,
    /// `T`.
    pub steps: usize,
    /// `B`.
    pub batch: usize,
    /// `I`, the input size of the first layer.
    pub input: usize,
    /// `H`, per direction.
    pub hidden: usize,
    /// Depth of the stack (1 = one layer).
    pub layers: usize,
    /// Whether every layer reads both ways (PyTorch's `bidirectional=True`, outputs concatenated).
    pub bidirectional: bool,
}

impl Case {
    /// A single unidirectional layer.
    pub fn one(cell: CellChoice, steps: usize, batch: usize, input: usize, hidden: usize) -> Self {
        Self {
            cell,
            steps,
            batch,
            input,
            hidden,
            layers: 1,
            bidirectional: false,
        }
    }

    /// Directions per layer.
    pub fn dirs(&self) -> usize {
        if self.bidirectional { 2 } else { 1 }
    }

    /// Flops of the forward pass's matrix products: per layer and direction
    /// `2 * T * B * G*H * (I_layer + H)` (the input product over all steps plus one recurrent
    /// product per step; a scan-form cell has none, its recurrence being elementwise). Pointwise
    /// work is not counted, as in the design notes' GFLOP/s.
    pub fn forward_flops(&self) -> f64 {
        let entry = self.cell.entry();
        let gh = (entry.gates * self.hidden) as f64;
        let recurrent = if entry.form == rnnzoo::zoo::Form::Scan {
            0
        } else {
            self.hidden
        };
        let cols = (self.steps * self.batch) as f64;
        (0..self.layers)
            .map(|l| {
                let input = if l == 0 {
                    self.input
                } else {
                    self.hidden * self.dirs()
                };
                2.0 * cols * gh * (input + recurrent) as f64 * self.dirs() as f64
            })
            .sum()
    }

    /// Flops of forward+backward: three times the forward products (backward has two products
    /// per forward one: the input/state gradient and the weight gradient).
    pub fn forward_backward_flops(&self) -> f64 {
        3.0 * self.forward_flops()
    }

    /// Whether the targets count this case as large (`H >= 256`, `B >= 16`).
    pub fn is_large(&self) -> bool {
        self.hidden >= 256 && self.batch >= 16
    }

    /// A short label: `lstm T50 B64 I256 H256`, with ` L2 bi` for stacks.
    pub fn label(&self) -> String {
        self.to_string()
    }

    /// The cases of `make bench-compare` and the criterion benches: the design notes' large cases,
    /// the small cases for each of PyTorch's three modules, and a 2-layer bidirectional LSTM.
    ///
    /// # Errors
    ///
    /// [`ZooError::UnknownCell`] if the registry lost one of `rnn-tanh`, `lstm`, `gru`.
    pub fn standard() -> Result<Vec<Case>, ZooError> {
        let [rnn, lstm, gru] = ["rnn-tanh", "lstm", "gru"].map(CellChoice::named);
        let (rnn, lstm, gru) = (rnn?, lstm?, gru?);
        let mut v = vec![
            Case::one(lstm, 50, 64, 256, 256),
            Case::one(lstm, 50, 16, 512, 512),
            Case::one(gru, 50, 64, 256, 256),
            Case::one(gru, 50, 16, 512, 512),
            Case::one(lstm, 25, 32, 1024, 1024),
            Case::one(rnn, 100, 32, 128, 128),
        ];
        for cell in [rnn, lstm, gru] {
            v.push(Case::one(cell, 20, 8, 16, 32));
            v.push(Case::one(cell, 100, 1, 128, 128));
        }
        v.push(Case {
            layers: 2,
            bidirectional: true,
            ..Case::one(lstm, 50, 32, 256, 256)
        });
        Ok(v)
    }
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} T{} B{} I{} H{}",
            self.cell, self.steps, self.batch, self.input, self.hidden
        )?;
        if self.layers > 1 {
            write!(f, " L{}", self.layers)?;
        }
        if self.bidirectional {
            write!(f, " bi")?;
        }
        Ok(())
    }
}
