//! `rnnzoo predict`: run a PyTorch `state_dict` (`nn.RNN`, `nn.LSTM` with or without
//! `proj_size`, `nn.GRU`; any depth and direction) on an input tensor file, and write what
//! PyTorch's module returns: `output`, `h_n` and, for an LSTM, `c_n`, under PyTorch's shapes.
//! Or run a checkpoint of `rnnzoo train` and write its head's `predictions` (`(B, O)` for a model
//! of whole sequences, `(T, B, O)` for a per-step model or a language model's logits).
//!
//! The input is a safetensors file holding `input` `(T, B, F)` and optionally `lengths` `(B,)`
//! (int64, as PyTorch keeps them), `h0` `(layers*dirs, B, out)` and, for an LSTM, `c0`
//! `(layers*dirs, B, H)`; or a `.npy` file holding the input alone. Other tensors in the file are
//! ignored. `lengths` give each sample's valid prefix, as `pack_padded_sequence(...,
//! enforce_sorted=False)` does: the output is zero past a sample's length (what
//! `pad_packed_sequence` pads with) and `h_n`/`c_n` are the states at each sample's last valid
//! step (a reversed direction reads each sample's valid prefix backwards).
//!
//! The model runs in `--dtype` (default: the input's own dtype, F32 or F64) and the output file
//! is written in it, atomically.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rnnzoo::cell::Real;
use rnnzoo::layers::file::{self, FileError, Tensor, TensorData, Tensors};
use rnnzoo::layers::{Inputs, Layer, LayerError, Stack};
use rnnzoo::torch::{self, TorchError, TorchModule, TorchOptions};
use rnnzoo::vanilla::Nonlinearity;
use serde::Serialize;

use crate::train::Checkpoint;

use crate::speed::Dtype;

/// What `rnnzoo predict` is told besides its three files.
#[derive(Debug, Clone, Default)]
pub struct PredictOptions {
    /// The recurrent module's prefix in a model's `state_dict` (`--prefix lstm.`).
    pub prefix: String,
    /// An `nn.RNN`'s nonlinearity, which a `state_dict` does not record (`--nonlinearity`).
    pub nonlinearity: Option<Nonlinearity>,
    /// Tensors of the weights file that are not the module's are skipped instead of refused
    /// (`--ignore-extra`: a whole model's `state_dict` with other modules in it).
    pub ignore_extra: bool,
    /// Valid steps per sample, overriding the input file's `lengths` (`--lengths 5,3,2`).
    pub lengths: Option<Vec<usize>>,
    /// The dtype to compute and write in; the input's when `None`.
    pub dtype: Option<Dtype>,
}

/// A caller's mistake in `rnnzoo predict`, naming the file or tensor, what was expected and what
/// came.
#[derive(Debug, thiserror::Error)]
pub enum PredictError {
    /// The weights file is not a module the loader reads (damaged, no recurrent weights, a
    /// prefix needed, another kind of file).
    #[error("weights {path}: {source}")]
    Weights {
        /// The weights file.
        path: PathBuf,
        /// What the loader said.
        source: TorchError,
    },
    /// A checkpoint of `rnnzoo train` that does not load.
    #[error("checkpoint {path}: {source}")]
    Checkpoint {
        /// The checkpoint.
        path: PathBuf,
        /// What went wrong (boxed: a run's error is large, and this one is rare).
        source: Box<crate::train::RunError>,
    },
    /// The input file could not be read as a tensor file.
    #[error("input {path}: {source}")]
    InputFile {
        /// The input file.
        path: PathBuf,
        /// What the reader said.
        source: FileError,
    },
    /// An `.npy` input that is not a plain little- or big-endian float array in C order.
    #[error("input {path}: {message}")]
    Npy {
        /// The input file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The input file has no tensor named `input`.
    #[error("input {path}: no tensor named `input` (found: {found:?}); expected `input` (T, B, F)")]
    NoInput {
        /// The input file.
        path: PathBuf,
        /// The names it does hold.
        found: Vec<String>,
    },
    /// A tensor of the input file has the wrong shape or type.
    #[error("input tensor `{name}` is {got}; expected {expected}")]
    Shape {
        /// The tensor (`input`, `lengths`, `h0`, `c0`).
        name: String,
        /// What it is.
        got: String,
        /// What it should be.
        expected: String,
    },
    /// The input's feature width is not the module's `input_size`.
    #[error(
        "input has {got} features per step (its last dimension); the model's input_size is {expected}"
    )]
    Width {
        /// The model's input size.
        expected: usize,
        /// The input's last dimension.
        got: usize,
    },
    /// `--lengths` or the file's `lengths` do not fit the batch or the steps.
    #[error("lengths {got:?}: {expected}")]
    Lengths {
        /// The lengths given.
        got: Vec<i64>,
        /// What they must be.
        expected: String,
    },
    /// The model refused the call (a state that does not fit, for example).
    #[error(transparent)]
    Layer(#[from] LayerError),
    /// An initial state that does not convert to the module's (PyTorch's layout to rnnzoo's).
    #[error("initial state: {0}")]
    State(FileError),
    /// The output file could not be written.
    #[error("output {path}: {source}")]
    Output {
        /// The output file.
        path: PathBuf,
        /// What the writer said.
        source: FileError,
    },
}

/// What was run, for the terminal and `--json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PredictSummary {
    /// The zoo's cell that ran (`rnnzoo cells`).
    pub cell: String,
    /// PyTorch's mode of the module.
    pub mode: String,
    /// Steps `T`.
    pub steps: usize,
    /// Batch `B`.
    pub batch: usize,
    /// Features `F`.
    pub features: usize,
    /// Layers.
    pub layers: usize,
    /// Directions.
    pub directions: usize,
    /// The dtype computed and written.
    pub dtype: String,
    /// Whether lengths were applied, and from where: `"file"`, `"flag"` or `null`.
    pub lengths: Option<String>,
    /// Whether an initial state came from the file.
    pub initial_state: bool,
    /// The tensors written, with their shapes.
    pub written: Vec<(String, Vec<usize>)>,
}

/// The input file's tensors.
struct Input {
    input: Tensor,
    lengths: Option<Tensor>,
    h0: Option<Tensor>,
    c0: Option<Tensor>,
}

fn read_input(path: &Path) -> Result<Input, PredictError> {
    if path.extension().is_some_and(|e| e == "npy") {
        return Ok(Input {
            input: read_npy(path)?,
            lengths: None,
            h0: None,
            c0: None,
        });
    }
    let mut t = Tensors::read(path, true).map_err(|source| PredictError::InputFile {
        path: path.to_path_buf(),
        source,
    })?;
    let input = t
        .tensors
        .remove("input")
        .ok_or_else(|| PredictError::NoInput {
            path: path.to_path_buf(),
            found: t.tensors.keys().cloned().collect(),
        })?;
    Ok(Input {
        input,
        lengths: t.tensors.remove("lengths"),
        h0: t.tensors.remove("h0"),
        c0: t.tensors.remove("c0"),
    })
}

/// An `.npy` file's array as a tensor.
fn read_npy(path: &Path) -> Result<Tensor, PredictError> {
    crate::npy::read(path).map_err(|e| match e {
        crate::npy::NpyError::Io(source) => PredictError::InputFile {
            path: path.to_path_buf(),
            source: FileError::Io {
                path: path.display().to_string(),
                source,
            },
        },
        crate::npy::NpyError::Format(message) => PredictError::Npy {
            path: path.to_path_buf(),
            message,
        },
    })
}

fn shape_str(t: &Tensor) -> String {
    format!("{} {:?}", t.dtype(), t.shape)
}

/// Lengths as given, each checked to lie in `1..=steps`, `batch` of them.
fn lengths_from(values: Vec<i64>, batch: usize, steps: usize) -> Result<Vec<usize>, PredictError> {
    if values.len() != batch {
        return Err(PredictError::Lengths {
            expected: format!("one per sample: {batch} values (the input's batch)"),
            got: values,
        });
    }
    if values.iter().any(|&l| l < 1 || l as usize > steps) {
        return Err(PredictError::Lengths {
            expected: format!("every length in 1..={steps} (the input's steps)"),
            got: values,
        });
    }
    Ok(values.into_iter().map(|l| l as usize).collect())
}

fn file_lengths(t: &Tensor, batch: usize, steps: usize) -> Result<Vec<usize>, PredictError> {
    let TensorData::I64(v) = &t.data else {
        return Err(PredictError::Shape {
            name: "lengths".into(),
            got: shape_str(t),
            expected: format!("I64 [{batch}]"),
        });
    };
    if t.shape != [batch] {
        return Err(PredictError::Shape {
            name: "lengths".into(),
            got: shape_str(t),
            expected: format!("I64 [{batch}]"),
        });
    }
    lengths_from(v.clone(), batch, steps)
}

/// Runs the `state_dict` at `weights` on the input at `input` and writes `output`, `h_n` (and
/// `c_n`) to `output`.
///
/// ```no_run
/// use rnnzoo_bench::predict::{predict, PredictOptions};
/// let s = predict("lstm.safetensors".as_ref(), "x.safetensors".as_ref(), "y.safetensors".as_ref(),
///                 &PredictOptions::default())?;
/// println!("{} on {} x {}", s.cell, s.steps, s.batch);
/// # Ok::<(), rnnzoo_bench::predict::PredictError>(())
/// ```
///
/// # Errors
///
/// [`PredictError`]: the weights file's loader error, an input file that is not safetensors or
/// `.npy`, no `input` tensor, a tensor of the wrong shape or type, an input width that is not the
/// module's, lengths that do not fit, a state the module refuses, an output that cannot be
/// written.
pub fn predict(
    weights: &Path,
    input: &Path,
    output: &Path,
    opts: &PredictOptions,
) -> Result<PredictSummary, PredictError> {
    let inp = read_input(input)?;
    let dtype = opts.dtype.unwrap_or(match inp.input.data {
        TensorData::F64(_) => Dtype::F64,
        _ => Dtype::F32,
    });
    let tensors = Tensors::read(weights, false).map_err(|e| PredictError::Weights {
        path: weights.to_path_buf(),
        source: e.into(),
    })?;
    // A checkpoint of `rnnzoo train` records its run; anything else is read as a state_dict.
    match crate::train::record::record_of(&tensors, weights) {
        Ok(record) => {
            let ckpt = Checkpoint::from_parts(record, tensors, weights);
            match dtype {
                Dtype::F32 => run_checkpoint::<f32>(&ckpt, weights, &inp, output, opts),
                Dtype::F64 => run_checkpoint::<f64>(&ckpt, weights, &inp, output, opts),
            }
        }
        Err(_) => match dtype {
            Dtype::F32 => run::<f32>(&tensors, weights, &inp, output, opts),
            Dtype::F64 => run::<f64>(&tensors, weights, &inp, output, opts),
        },
    }
}

/// The input's sizes and lengths, checked against the model's input width.
struct Shape {
    steps: usize,
    batch: usize,
    features: usize,
    lengths: Option<Vec<usize>>,
    lengths_from_where: Option<&'static str>,
}

fn shape(inp: &Input, input_size: usize, opts: &PredictOptions) -> Result<Shape, PredictError> {
    let x = &inp.input;
    let [steps, batch, features] = x.shape[..] else {
        return Err(PredictError::Shape {
            name: "input".into(),
            got: shape_str(x),
            expected: "3 dimensions (T, B, F)".into(),
        });
    };
    if matches!(x.data, TensorData::I64(_)) {
        return Err(PredictError::Shape {
            name: "input".into(),
            got: shape_str(x),
            expected: "F32 or F64 (T, B, F)".into(),
        });
    }
    if steps == 0 || batch == 0 {
        return Err(PredictError::Shape {
            name: "input".into(),
            got: shape_str(x),
            expected: "at least one step and one sample".into(),
        });
    }
    if features != input_size {
        return Err(PredictError::Width {
            expected: input_size,
            got: features,
        });
    }
    let (lengths, lengths_from_where) = match (&opts.lengths, &inp.lengths) {
        (Some(l), _) => (
            Some(lengths_from(
                l.iter().map(|&v| v as i64).collect(),
                batch,
                steps,
            )?),
            Some("flag"),
        ),
        (None, Some(t)) => (Some(file_lengths(t, batch, steps)?), Some("file")),
        (None, None) => (None, None),
    };
    Ok(Shape {
        steps,
        batch,
        features,
        lengths,
        lengths_from_where,
    })
}

/// A checkpoint of `rnnzoo train`: the model's head outputs, `predictions`, `(B, O)` for a model
/// of whole sequences or `(T, B, O)` for a per-step one.
fn run_checkpoint<T: Real>(
    ckpt: &Checkpoint,
    weights: &Path,
    inp: &Input,
    output: &Path,
    opts: &PredictOptions,
) -> Result<PredictSummary, PredictError> {
    let model = ckpt
        .model::<T>()
        .map_err(|source| PredictError::Checkpoint {
            path: weights.to_path_buf(),
            source: Box::new(source),
        })?;
    let record = &ckpt.record;
    if let Some(name) = [("h0", &inp.h0), ("c0", &inp.c0)]
        .iter()
        .find_map(|(n, t)| t.is_some().then_some(*n))
    {
        return Err(PredictError::Shape {
            name: name.into(),
            got: "given".into(),
            expected: "no initial state with a checkpoint of `rnnzoo train` (its models start from zeros, as trained)".into(),
        });
    }
    let Shape {
        steps,
        batch,
        features,
        lengths,
        lengths_from_where,
    } = shape(inp, model.body_input_size(), opts)?;
    let xs = inp.input.to_vec::<T>();
    let mut inputs = Inputs::new(&xs, steps, batch);
    if let Some(l) = &lengths {
        inputs = inputs.lengths(l);
    }
    let p = model.predict(inputs)?;
    let o = model.head().output_size();
    let shape = if model.readout() == rnnzoo::layers::Readout::EveryStep {
        vec![steps, batch, o]
    } else {
        vec![batch, o]
    };
    let written = vec![("predictions".to_string(), shape.clone())];
    let metadata = HashMap::from([
        ("rnnzoo.cell".to_string(), record.config.model.cell.clone()),
        (
            "rnnzoo.predict".to_string(),
            "predictions: the head's outputs (logits or values)".to_string(),
        ),
    ]);
    write(
        output,
        &[("predictions".into(), shape, &p.predictions)],
        metadata,
    )?;
    Ok(PredictSummary {
        cell: record.config.model.cell.clone(),
        mode: String::new(),
        steps,
        batch,
        features,
        layers: record.config.model.layers,
        directions: if record.config.model.bidirectional {
            2
        } else {
            1
        },
        dtype: T::NAME.to_string(),
        lengths: lengths_from_where.map(String::from),
        initial_state: false,
        written,
    })
}

fn write<T: Real>(
    output: &Path,
    tensors: &[(String, Vec<usize>, &[T])],
    metadata: HashMap<String, String>,
) -> Result<(), PredictError> {
    let out_err = |source| PredictError::Output {
        path: output.to_path_buf(),
        source,
    };
    let bytes = file::serialize::<T>(tensors, metadata).map_err(out_err)?;
    file::write_atomic(output, &bytes).map_err(out_err)
}

fn run<T: Real>(
    tensors: &Tensors,
    weights: &Path,
    inp: &Input,
    output: &Path,
    opts: &PredictOptions,
) -> Result<PredictSummary, PredictError> {
    let mut topts = TorchOptions::new()
        .rnn_prefix(&opts.prefix)
        .ignore_extra(opts.ignore_extra);
    if let Some(n) = opts.nonlinearity {
        topts = topts.nonlinearity(n);
    }
    let (module, stack): (TorchModule, Stack<T>) =
        torch::load_stack(tensors, &topts).map_err(|source| PredictError::Weights {
            path: weights.to_path_buf(),
            source,
        })?;
    let spec = &module.spec;

    let Shape {
        steps,
        batch,
        features,
        lengths,
        lengths_from_where,
    } = shape(inp, spec.input_size, opts)?;

    let dirs = if spec.bidirectional { 2 } else { 1 };
    let states = spec.num_layers * dirs;
    let state_shape = |name: &str, rows: usize| -> Result<Option<Vec<f64>>, PredictError> {
        let t = match name {
            "h0" => &inp.h0,
            _ => &inp.c0,
        };
        let Some(t) = t else { return Ok(None) };
        if t.shape != [states, batch, rows] || matches!(t.data, TensorData::I64(_)) {
            return Err(PredictError::Shape {
                name: name.into(),
                got: shape_str(t),
                expected: format!(
                    "F32 or F64 [{states}, {batch}, {rows}] (layers*dirs, B, {rows})"
                ),
            });
        }
        Ok(Some(t.to_vec::<f64>()))
    };
    let lstm = spec.state_parts == 2;
    let h0 = state_shape("h0", spec.output_size())?;
    let c0 = if lstm {
        state_shape("c0", spec.hidden_size)?
    } else if let Some(c) = &inp.c0 {
        return Err(PredictError::Shape {
            name: "c0".into(),
            got: shape_str(c),
            expected: format!("no c0: a {} has no cell state", module.entry.name),
        });
    } else {
        None
    };
    let initial = match (h0, c0) {
        (None, None) => None,
        (h0, c0) => {
            // One given alone means zeros for the other, as PyTorch's `(h0, c0)` default.
            let h0 = h0.unwrap_or_else(|| vec![0.0; states * batch * spec.output_size()]);
            let c0 =
                lstm.then(|| c0.unwrap_or_else(|| vec![0.0; states * batch * spec.hidden_size]));
            Some(
                spec.state_from_torch::<T>(&h0, c0.as_deref(), batch)
                    .map_err(PredictError::State)?,
            )
        }
    };

    let xs = inp.input.to_vec::<T>();
    let mut inputs = Inputs::new(&xs, steps, batch);
    if let Some(s) = &initial {
        inputs = inputs.initial(s);
    }
    if let Some(l) = &lengths {
        inputs = inputs.lengths(l);
    }
    let out = stack.infer(inputs)?;
    let (h_n, c_n) = spec
        .state_to_torch(&out.final_state, batch)
        .map_err(PredictError::State)?;

    let width = dirs * spec.output_size();
    let mut written = vec![
        ("output".to_string(), vec![steps, batch, width]),
        ("h_n".to_string(), vec![states, batch, spec.output_size()]),
    ];
    let mut tensors: Vec<(String, Vec<usize>, &[T])> = vec![
        (written[0].0.clone(), written[0].1.clone(), &out.output),
        (written[1].0.clone(), written[1].1.clone(), &h_n),
    ];
    if let Some(c) = &c_n {
        written.push(("c_n".into(), vec![states, batch, spec.hidden_size]));
        tensors.push(("c_n".into(), written[2].1.clone(), c));
    }
    let metadata = HashMap::from([
        ("rnnzoo.cell".to_string(), module.entry.name.to_string()),
        (
            "rnnzoo.predict".to_string(),
            "output h_n c_n, PyTorch's shapes".to_string(),
        ),
    ]);
    write(output, &tensors, metadata)?;
    Ok(PredictSummary {
        cell: module.entry.name.to_string(),
        mode: module.entry.torch_mode.unwrap_or("").to_string(),
        steps,
        batch,
        features,
        layers: spec.num_layers,
        directions: dirs,
        dtype: T::NAME.to_string(),
        lengths: lengths_from_where.map(String::from),
        initial_state: initial.is_some(),
        written,
    })
}

/// Parses `--lengths 5,3,2`.
///
/// # Errors
///
/// A value that is not a positive integer, named.
pub fn parse_lengths(s: &str) -> Result<Vec<usize>, String> {
    s.split(',')
        .map(|v| {
            v.trim().parse::<usize>().map_err(|_| {
                format!("`{v}` in `{s}`: lengths are comma-separated positive integers (5,3,2)")
            })
        })
        .collect()
}
