//! rnnzoo's cells by name: what the command line, the experiments and PyTorch interop build.

use rand::Rng;
use rnnzoo_cell::{Cell, CellError, Real};
use rnnzoo_gru::{GruCell, GruResetBeforeCell};
use rnnzoo_layers::file::{FileError, Tensors};
use rnnzoo_layers::torch::{load_stack, CellSpec, TorchMode, TorchSpec};
use rnnzoo_layers::Stack;
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

/// The cell PyTorch's module would have, with zero parameters (the loader fills them): the
/// factory [`rnnzoo_layers::torch::load_stack`] takes.
///
/// # Errors
///
/// [`CellError::ZeroSize`] for a zero size.
pub fn torch_cell<T: Real>(spec: &CellSpec) -> Result<Box<dyn Cell<T>>, CellError> {
    let (i, h, bias) = (spec.input, spec.hidden, spec.bias);
    Ok(match spec.mode {
        TorchMode::RnnTanh => Box::new(VanillaCell::zeros(i, h, Nonlinearity::Tanh, bias)?),
        TorchMode::RnnRelu => Box::new(VanillaCell::zeros(i, h, Nonlinearity::Relu, bias)?),
        TorchMode::Lstm => Box::new(LstmCell::zeros(i, h, bias)?),
        TorchMode::Gru => Box::new(GruCell::zeros(i, h, bias)?),
    })
}

/// Loads a PyTorch `nn.RNN`/`nn.LSTM`/`nn.GRU` saved with
/// `safetensors.torch.save_file(module.state_dict(), path)` as a stack of rnnzoo cells.
///
/// ```no_run
/// use rnnzoo_layers::{Inputs, Layer};
/// let (spec, lstm) = rnnzoo_bench::zoo::load_torch::<f32>("lstm.safetensors".as_ref())?;
/// let (t, b) = (50, 1);
/// let x = vec![0.0f32; spec.input_size * t * b];
/// let out = lstm.infer(Inputs::new(&x, t, b))?;
/// let (h_n, c_n) = spec.state_to_torch(&out.final_state, b);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`FileError`] for an unreadable or damaged file, or one that is not a recurrent module's.
pub fn load_torch<T: Real>(path: &std::path::Path) -> Result<(TorchSpec, Stack<T>), FileError> {
    load_stack(&Tensors::read(path, false)?, torch_cell)
}
