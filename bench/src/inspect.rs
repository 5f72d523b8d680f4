//! `rnnzoo inspect FILE`: what a weights file, a PyTorch `state_dict` or a training checkpoint
//! holds. A damaged file is an error (and a non-zero exit), never a panic.

use std::fmt::Write as _;
use std::path::Path;

use rnnzoo::layers::file::Tensors;
use rnnzoo::torch::{self, Settled, TorchError, TorchOptions};
use rnnzoo::vanilla::Nonlinearity;
use rnnzoo::zoo::{self, Entry};

/// What `rnnzoo inspect` is told about the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InspectOptions {
    /// An `nn.RNN`'s nonlinearity (`--nonlinearity`), which a `state_dict` does not record.
    pub nonlinearity: Option<Nonlinearity>,
    /// The recurrent module's prefix (`--prefix lstm.`).
    pub prefix: String,
}

/// A summary of a checkpoint.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Summary {
    /// `"training state"`, `"weights"` or `"state_dict"`.
    pub kind: String,
    /// The recurrent module, if the names describe one of PyTorch's.
    pub mode: Option<String>,
    /// The zoo's cell that loads it (`rnnzoo cells`).
    pub cell: Option<String>,
    /// For an `nn.RNN`: `tanh` or `relu`.
    pub nonlinearity: Option<String>,
    /// How the nonlinearity was settled: `argument` (`--nonlinearity`), `metadata` (the file
    /// says), or `assumed` (nothing says: tanh, PyTorch's default).
    pub nonlinearity_source: Option<String>,
    /// Why the file is not one PyTorch recurrent module, when it is not (which names were
    /// expected, a prefix to pass).
    pub note: Option<String>,
    /// Input size.
    pub input_size: Option<usize>,
    /// Hidden size, PyTorch's `hidden_size`: the rows of `c` and of each gate block.
    pub hidden_size: Option<usize>,
    /// PyTorch's `proj_size` for an LSTM with a projection (`weight_hr_l0`): the rows of `h`,
    /// `h_n` and each direction's output. `None` without one.
    pub proj_size: Option<usize>,
    /// Layers.
    pub layers: Option<usize>,
    /// Directions.
    pub directions: Option<usize>,
    /// Values in the model's parameters (recurrent ones under PyTorch's names and dotted ones such
    /// as `head.weight`; optimizer buffers and other tensors excluded).
    pub parameters: usize,
    /// Tensors in the file.
    pub tensors: usize,
    /// Training steps, for a training state.
    pub steps: Option<u64>,
}

/// Reads and summarises `path`.
///
/// # Errors
///
/// [`TorchError::File`] if the file cannot be read or is not a valid tensor file;
/// [`TorchError::NonlinearityNotApplicable`] / [`TorchError::NonlinearityConflict`] if
/// `--nonlinearity` does not fit the file, and the loader's error if `--prefix` was given and
/// the module under it cannot be read. Without either, a file that is not one recurrent module is
/// summarised with a [`Summary::note`] saying why.
pub fn inspect(path: &Path, opts: &InspectOptions) -> Result<Summary, TorchError> {
    let t = Tensors::read(path, false)?;
    let training = t.metadata.get("rnnzoo.training");
    let steps = training
        .and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok())
        .and_then(|v| v["steps"].as_u64());
    let mut parameters = 0;
    for (name, tensor) in &t.tensors {
        // Model parameters are recurrent ones under PyTorch's names and rnnzoo's dotted ones (a
        // head); optimizer buffers (`optim.`) and anything else (a fixture's data) are not.
        // A cell's extra parameters (`skew_hh_l0`) count by their layer suffix.
        let recurrent_name =
            (name.starts_with("weight_") || name.starts_with("bias_") || layer_of(name).is_some())
                && !name.contains('.');
        if recurrent_name
            || (name.contains('.') && !name.starts_with("optim.") && !name.starts_with("grad."))
        {
            parameters += tensor.len();
        }
    }
    let load = TorchOptions {
        rnn_prefix: opts.prefix.clone(),
        ignore_extra: true,
        nonlinearity: opts.nonlinearity,
        ..TorchOptions::default()
    };
    let (module, note) = match torch::describe(&t, &load) {
        Ok(m) => (Some(m), None),
        Err(
            e @ (TorchError::NonlinearityNotApplicable { .. }
            | TorchError::NonlinearityConflict { .. }),
        ) => return Err(e),
        Err(e) if !opts.prefix.is_empty() => return Err(e),
        Err(e) => (None, Some(e.to_string())),
    };
    let kind = if training.is_some() {
        "training state"
    } else if t.metadata.contains_key("rnnzoo.modes") {
        "weights"
    } else {
        "state_dict"
    };
    // A weights file of a cell PyTorch's names do not describe (exprnn has no `weight_hh`): its
    // layers and directions are still in its parameters' suffixes.
    let by_names = (kind == "weights").then(|| layout_by_names(&t)).flatten();
    let nl = module.as_ref().and_then(|m| m.nonlinearity);
    // Names and shapes cannot tell a reset-before GRU from PyTorch's; rnnzoo's own files record
    // the cells they were written from, and that record wins.
    let recorded = t
        .metadata
        .get("rnnzoo.modes")
        .and_then(|m| recorded_entry(m));
    let entry = recorded.or(module.as_ref().map(|m| m.entry));
    // A recorded zoo cell PyTorch has no module of (an MGU, a coRNN) still has its layers laid
    // out under PyTorch's names: the layout comes from those names and shapes alone.
    let spec = module
        .as_ref()
        .map(|m| m.spec)
        .or_else(|| recorded.and_then(|_| recurrent_layout(&t)));
    Ok(Summary {
        kind: kind.into(),
        mode: entry.map(|e| e.torch_mode.unwrap_or(e.cell_mode).to_string()),
        cell: entry.map(|e| e.name.to_string()),
        nonlinearity: nl.map(|(n, _)| {
            match n {
                Nonlinearity::Tanh => "tanh",
                Nonlinearity::Relu => "relu",
            }
            .to_string()
        }),
        nonlinearity_source: nl.map(|(_, s)| s.name().to_string()),
        note,
        input_size: spec.map(|s| s.input_size),
        hidden_size: spec.map(|s| s.hidden_size),
        proj_size: spec.map(|s| s.proj_size).filter(|&p| p > 0),
        layers: spec.map(|s| s.num_layers).or(by_names.map(|(l, _)| l)),
        directions: spec.map(|s| s.dirs()).or(by_names.map(|(_, d)| d)),
        parameters,
        tensors: t.tensors.len(),
        steps,
    })
}

/// Sizes, layers and directions of the recurrent parameters of `t` (PyTorch's bare names,
/// `weight_ih_l0`, ...; a head's dotted names and anything else left out).
fn recurrent_layout(t: &Tensors) -> Option<rnnzoo::layers::torch::TorchSpec> {
    let mut recurrent = Tensors::default();
    for (name, tensor) in &t.tensors {
        if !name.contains('.') && rnnzoo::layers::torch::parse_name(name).is_some() {
            recurrent.tensors.insert(name.clone(), tensor.clone());
        }
    }
    rnnzoo::layers::torch::TorchSpec::infer(&recurrent).ok()
}

/// `(layer, reversed)` of a recurrent parameter's name `<name>_l<k>[_reverse]`.
fn layer_of(name: &str) -> Option<(usize, bool)> {
    let (base, reversed) = match name.strip_suffix("_reverse") {
        Some(b) => (b, true),
        None => (name, false),
    };
    let (_, k) = base.rsplit_once("_l")?;
    Some((k.parse().ok()?, reversed))
}

/// Layers and directions from the recurrent parameters' names, if there are any.
fn layout_by_names(t: &Tensors) -> Option<(usize, usize)> {
    let found: Vec<(usize, bool)> = t.tensors.keys().filter_map(|n| layer_of(n)).collect();
    let layers = found.iter().map(|&(k, _)| k + 1).max()?;
    let dirs = if found.iter().any(|&(_, r)| r) { 2 } else { 1 };
    Some((layers, dirs))
}

/// The registry's kind of the recurrent layers an `rnnzoo.modes` record names
/// (`GRU_RESET_BEFORE_l0,GRU_RESET_BEFORE_l0_reverse,DENSEhead`: each group's [`Cell::mode`]
/// then its suffix), if they are all one kind the registry knows.
///
/// [`Cell::mode`]: rnnzoo::cell::Cell::mode
fn recorded_entry(modes: &str) -> Option<&'static Entry> {
    let mut kinds = modes.split(',').filter_map(|group| {
        let group = group.strip_suffix("_reverse").unwrap_or(group);
        let (mode, layer) = group.rsplit_once("_l")?;
        layer.parse::<usize>().ok()?;
        Some(zoo::for_cell_mode(mode))
    });
    let first = kinds.next()??;
    kinds.all(|k| k == Some(first)).then_some(first)
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = format!("kind        {}\n", self.kind);
        let opt = |v: Option<usize>| v.map_or("-".to_string(), |v| v.to_string());
        let _ = writeln!(
            s,
            "mode        {}",
            self.mode
                .as_deref()
                .unwrap_or("- (not one PyTorch recurrent module)")
        );
        if let Some(note) = &self.note {
            let _ = writeln!(s, "why         {note}");
        }
        if let Some(cell) = &self.cell {
            let _ = writeln!(s, "cell        {cell}");
        }
        if let (Some(nl), Some(src)) = (&self.nonlinearity, &self.nonlinearity_source) {
            let how = if src == Settled::Assumed.name() {
                "assumed: the file does not record it and tanh is PyTorch's default; \
                 pass --nonlinearity relu for nn.RNN(nonlinearity='relu')"
                    .to_string()
            } else if src == Settled::Argument.name() {
                "from --nonlinearity".to_string()
            } else {
                "from the file's metadata".to_string()
            };
            let _ = writeln!(s, "nonlinearity {nl} ({how})");
        }
        let _ = writeln!(s, "input       {}", opt(self.input_size));
        let _ = writeln!(s, "hidden      {}", opt(self.hidden_size));
        if let Some(p) = self.proj_size {
            let _ = writeln!(
                s,
                "projection  {p} (proj_size: h and the output are {p} wide)"
            );
        }
        let _ = writeln!(s, "layers      {}", opt(self.layers));
        let _ = writeln!(s, "directions  {}", opt(self.directions));
        let _ = writeln!(s, "parameters  {}", self.parameters);
        let _ = writeln!(s, "tensors     {}", self.tensors);
        if let Some(st) = self.steps {
            let _ = writeln!(s, "steps       {st}");
        }
        f.write_str(&s)
    }
}
