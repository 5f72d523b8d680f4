//! rnnzoo's cells by name: what the command line, the experiments and PyTorch interop build.

use rand::Rng;
use rnnzoo_cell::{Cell, CellError, Real};
use rnnzoo_gru::{GruCell, GruResetBeforeCell};
use rnnzoo_lstm::{LstmCell, LstmOptions};
use rnnzoo_vanilla::{Nonlinearity, VanillaCell};

/// A cell kind of the zoo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum CellKind {
    /// Elman RNN, tanh (PyTorch `nn.RNN`).
    RnnTanh,
    /// Elman RNN, relu.
    RnnRelu,
    /// LSTM (PyTorch `nn.LSTM`).
    Lstm,
    /// LSTM with the forget-gate bias initialised to 1.
    LstmForget1,
    /// GRU, reset gate after the recurrent product (PyTorch `nn.GRU`).
    Gru,
    /// GRU, reset gate before the recurrent product (Cho et al. 2014; the general path).
    GruResetBefore,
}

impl CellKind {
    /// Every kind, in table order.
    pub const ALL: [CellKind; 6] = [
        Self::RnnTanh,
        Self::RnnRelu,
        Self::Lstm,
        Self::LstmForget1,
        Self::Gru,
        Self::GruResetBefore,
    ];

    /// A short label for tables and plots.
    pub fn label(self) -> &'static str {
        match self {
            Self::RnnTanh => "rnn-tanh",
            Self::RnnRelu => "rnn-relu",
            Self::Lstm => "lstm",
            Self::LstmForget1 => "lstm (forget bias 1)",
            Self::Gru => "gru",
            Self::GruResetBefore => "gru (reset before)",
        }
    }

    /// A cell of this kind with PyTorch's default initialisation.
    ///
    /// # Errors
    ///
    /// [`CellError::ZeroSize`] for a zero size.
    pub fn build<T: Real, R: Rng + ?Sized>(
        self,
        input: usize,
        hidden: usize,
        rng: &mut R,
    ) -> Result<Box<dyn Cell<T>>, CellError> {
        Ok(match self {
            Self::RnnTanh => Box::new(VanillaCell::new(input, hidden, Nonlinearity::Tanh, rng)?),
            Self::RnnRelu => Box::new(VanillaCell::new(input, hidden, Nonlinearity::Relu, rng)?),
            Self::Lstm => Box::new(LstmCell::new(input, hidden, rng)?),
            Self::LstmForget1 => Box::new(LstmCell::with_options(
                input,
                hidden,
                LstmOptions::default().with_unit_forget_bias(true),
                rng,
            )?),
            Self::Gru => Box::new(GruCell::new(input, hidden, rng)?),
            Self::GruResetBefore => Box::new(GruResetBeforeCell::new(input, hidden, rng)?),
        })
    }
}
