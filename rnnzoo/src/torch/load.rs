//! Building stacks and models from a `state_dict`, and saving a stack as one.

use std::path::Path;

use rnnzoo_cell::{Cell, CellError, Real};
use rnnzoo_layers::file::{FileError, Tensors};
use rnnzoo_layers::head::Dense;
use rnnzoo_layers::torch::{CellSpec, to_torch_bytes};
use rnnzoo_layers::{Layer, Model, Stack};

use super::{TorchError, TorchModule, TorchOptions, describe_parts, split};
use crate::zoo::{self, Entry};

/// The factory [`rnnzoo_layers::torch::load_stack`] takes: zero cells of `entry` (with biases
/// as the file has them), which the loader fills. [`load_stack`] picks the entry for you; this is
/// for code that drives the layers crate's loader itself.
///
/// A projection (`spec.proj = P > 0`, PyTorch's `proj_size`) is built as the registry's
/// `lstm-proj` is: a hidden (output) size of `P` and `cell_size` PyTorch's `hidden_size`.
///
/// ```
/// use rnnzoo::layers::torch::CellSpec;
/// let make = rnnzoo::torch::factory::<f32>(rnnzoo::zoo::get("gru")?);
/// let cell = make(&CellSpec { gates: 3, input: 2, hidden: 4, proj: 0, bias: true })?;
/// assert_eq!(cell.mode(), "GRU");
/// // nn.LSTM(2, 4, proj_size=3)
/// let make = rnnzoo::torch::factory::<f32>(rnnzoo::zoo::get("lstm-proj")?);
/// let cell = make(&CellSpec { gates: 4, input: 2, hidden: 4, proj: 3, bias: true })?;
/// assert_eq!((cell.hidden_size(), cell.state_size()), (3, 3 + 4));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn factory<T: Real>(
    entry: &'static Entry,
) -> impl Fn(&CellSpec) -> Result<Box<dyn Cell<T>>, CellError> {
    move |s| {
        if s.proj == 0 {
            return entry.zeros::<T>(s.input, s.hidden, s.bias);
        }
        // A kind without the option cannot make a projection: its error says so.
        zoo::Options::parse(entry, &format!("cell_size={}", s.hidden))
            .and_then(|o| entry.zeros_with::<T>(s.input, s.proj, &o, s.bias))
            .map_err(|e| match e {
                zoo::ZooError::Cell(c) => c,
                other => CellError::Mismatch(format!(
                    "a projection (proj_size {}) with {}: {other}",
                    s.proj, entry.name
                )),
            })
    }
}

/// Builds the recurrent module of a `state_dict` as a stack of the zoo's cells, filled with the
/// file's values. The result computes what the PyTorch module computes (a bidirectional layer
/// concatenates `[forward; reverse]`, as PyTorch does).
///
/// ```
/// use rnnzoo::layers::{file::Tensors, Inputs, Layer};
/// use rnnzoo::torch::{self, TorchOptions};
/// # let made = rnnzoo::layers::Stack::new(vec![Box::new(rnnzoo::layers::Recurrent::new(rnnzoo::gru::GruCell::<f64>::new(3, 4, &mut rnnzoo::cell::seeded(0))?))])?;
/// # let bytes = torch::to_bytes(&made)?;
/// let file = Tensors::parse(&bytes, false)?; // or Tensors::read(path, false)?
/// let (module, gru) = torch::load_stack::<f64>(&file, &TorchOptions::default())?;
/// assert_eq!(module.entry.name, "gru");
/// let x = vec![0.1; 3 * 5]; // T=5, B=1
/// let out = gru.infer(Inputs::new(&x, 5, 1))?;
/// let (h_n, c_n) = module.spec.state_to_torch(&out.final_state, 1)?;
/// assert_eq!((h_n.len(), c_n), (4, None));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// As [`super::describe`]; [`TorchError::File`] for a tensor missing or of the wrong shape.
pub fn load_stack<T: Real>(
    tensors: &Tensors,
    opts: &TorchOptions,
) -> Result<(TorchModule, Stack<T>), TorchError> {
    let parts = split(tensors, opts);
    let module = describe_parts(tensors, &parts, opts)?;
    let (_, stack) = rnnzoo_layers::torch::load_stack(&parts.rnn, factory::<T>(module.entry))?;
    Ok((module, stack))
}

/// Builds a whole model: the recurrent module as [`load_stack`] does, and the `Linear` head
/// under [`TorchOptions::head_prefix`] (`fc.weight`, `fc.bias`) reading
/// [`TorchOptions::readout`]. A head without a bias (`nn.Linear(..., bias=False)`) loads as a
/// bias-free [`Dense`].
///
/// # Errors
///
/// As [`load_stack`]; [`TorchError::HeadMissing`] if no head prefix was given or no weight is
/// under it, [`TorchError::Layer`] if the head does not take the body's output.
pub fn load_model<T: Real>(
    tensors: &Tensors,
    opts: &TorchOptions,
) -> Result<(TorchModule, Model<T>), TorchError> {
    let parts = split(tensors, opts);
    let module = describe_parts(tensors, &parts, opts)?;
    // `describe` reads the head exactly when a prefix was given.
    let Some((out, input, _)) = module.head else {
        return Err(TorchError::HeadMissing {
            prefix: String::new(),
            found: vec!["no head prefix was given (TorchOptions::head)".into()],
        });
    };
    let (_, body) = rnnzoo_layers::torch::load_stack(&parts.rnn, factory::<T>(module.entry))?;
    let has_bias = parts.head.contains_key("bias");
    let mut head = Dense::<T>::zeros(input, out, opts.activation, has_bias)?;
    let weight = parts.head["weight"].to_vec::<T>();
    head.params_mut()
        .set("weight", &weight)
        .map_err(FileError::Cell)?;
    if let Some(b) = parts.head.get("bias") {
        head.params_mut()
            .set("bias", &b.to_vec::<T>())
            .map_err(FileError::Cell)?;
    }
    Ok((module, Model::new(body, head, opts.readout)?))
}

/// [`load_stack`] of the file at `path`.
///
/// # Errors
///
/// [`TorchError::File`] if it cannot be read or is not a valid safetensors file, then as
/// [`load_stack`].
pub fn read_stack<T: Real>(
    path: &Path,
    opts: &TorchOptions,
) -> Result<(TorchModule, Stack<T>), TorchError> {
    load_stack(&Tensors::read(path, false)?, opts)
}

/// [`load_model`] of the file at `path`.
///
/// # Errors
///
/// As [`read_stack`] and [`load_model`].
pub fn read_model<T: Real>(
    path: &Path,
    opts: &TorchOptions,
) -> Result<(TorchModule, Model<T>), TorchError> {
    load_model(&Tensors::read(path, false)?, opts)
}

/// Loads a PyTorch `nn.RNN`/`nn.LSTM`/`nn.GRU` saved alone with
/// `safetensors.torch.save_file(module.state_dict(), path)` as a stack of the zoo's cells: bare
/// names, nothing else in the file, an `nn.RNN`'s nonlinearity from the metadata or tanh
/// (see the [module docs](super)). [`read_stack`] takes options.
///
/// ```no_run
/// use rnnzoo::layers::{Inputs, Layer};
/// let (module, lstm) = rnnzoo::torch::load_torch::<f32>("lstm.safetensors".as_ref())?;
/// let (t, b) = (50, 1);
/// let x = vec![0.0f32; module.spec.input_size * t * b];
/// let out = lstm.infer(Inputs::new(&x, t, b))?;
/// let (h_n, c_n) = module.spec.state_to_torch(&out.final_state, b)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// As [`read_stack`].
pub fn load_torch<T: Real>(path: &Path) -> Result<(TorchModule, Stack<T>), TorchError> {
    read_stack(path, &TorchOptions::default())
}

/// `layer`'s parameters as a `state_dict` PyTorch's `load_state_dict` takes unchanged (bare
/// names: load it into the module, `net.lstm.load_state_dict(...)`).
///
/// # Errors
///
/// [`FileError::Unsupported`] for a cell that is not one of PyTorch's modules (the zoo's
/// entries without a `torch_mode`, such as `gru-reset-before`), or cells that disagree on mode
/// or hidden size.
pub fn to_bytes<T: Real>(layer: &dyn Layer<T>) -> Result<Vec<u8>, FileError> {
    to_torch_bytes(layer, &torch_cell_modes())
}

/// The cell modes of the registry's kinds that compute a PyTorch module (`LSTM_PROJ` of
/// `lstm-proj` beside `LSTM`): what [`to_torch_bytes`] may save.
fn torch_cell_modes() -> Vec<&'static str> {
    zoo::entries()
        .iter()
        .filter(|e| e.torch_mode.is_some())
        .map(|e| e.cell_mode)
        .collect()
}

/// [`to_bytes`], written atomically to `path`.
///
/// # Errors
///
/// As [`to_bytes`], and [`FileError::Io`].
pub fn save<T: Real>(layer: &dyn Layer<T>, path: &Path) -> Result<(), FileError> {
    rnnzoo_layers::torch::save_torch(layer, &torch_cell_modes(), path)
}
