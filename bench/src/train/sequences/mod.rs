//! A dataset of sequences with targets, from a user's file: what `rnnzoo train --data` learns
//! and `rnnzoo eval --data` scores.
//!
//! # Files
//!
//! - **safetensors**, PyTorch's layout: `x` `(T, N, F)` float, `y` the targets, and optionally
//!   `lengths` `(N,)` int64 (each sequence's valid prefix). `y` says the task: int64 `(N,)` class
//!   indices (classification), float `(N, O)` values (regression of the whole sequence), or float
//!   `(T, N, O)` values at every step (sequence-to-sequence regression).
//! - **CSV**, one sequence per row: the first `target_columns` cells are the target (a class
//!   index, or values), the rest the sequence, time-major (`x_1` of step 1 .. `x_F` of step 1,
//!   then step 2, ...). Shorter sequences leave their trailing cells empty (`3,0.5,0.1,,`): their
//!   length is the number of values divided by `features`. Every row has the same number of cells.
//!   A first row that is not numbers is a header and is skipped.
//! - **npy**, one 2-D float array laid out as the CSV's rows (every sequence of full length).
//!
//! The task is `data.task`, or with `auto`: from `y` for safetensors; for CSV and npy,
//! classification when there is one target column and every target is a non-negative integer,
//! else regression. NaN or infinite values are errors that name where they are.

use std::path::{Path, PathBuf};

use rnnzoo::cell::Real;
use rnnzoo::layers::file::FileError;
use rnnzoo::layers::train::{Batch, Targets};
use serde::{Deserialize, Serialize};

mod rows;
mod tensors;

use rows::{from_rows, read_csv};
use tensors::from_tensors;

/// What the targets ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum TaskKind {
    /// From the file (see the [module docs](self)).
    Auto,
    /// One class per sequence: softmax cross-entropy, accuracy.
    Classify,
    /// Values per sequence, read at its end: mean squared error.
    Regress,
    /// Values at every step: mean squared error over the valid steps.
    RegressSteps,
}

/// The task a dataset settled on, with the sizes a model needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Task {
    /// `classes` classes.
    Classify {
        /// Number of classes.
        classes: usize,
    },
    /// `outputs` values per sequence.
    Regress {
        /// Values per sequence.
        outputs: usize,
    },
    /// `outputs` values per step.
    RegressSteps {
        /// Values per step.
        outputs: usize,
    },
}

impl Task {
    /// The head's outputs.
    pub fn outputs(self) -> usize {
        match self {
            Task::Classify { classes } => classes,
            Task::Regress { outputs } | Task::RegressSteps { outputs } => outputs,
        }
    }
}

/// A dataset file that cannot be used, with where and what was expected.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// A safetensors file that does not parse.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// What the reader said.
        source: FileError,
    },
    /// A CSV cell, an npy or a tensor that does not hold what the layout says.
    #[error("{path}: {place}: {message}")]
    Content {
        /// The file.
        path: PathBuf,
        /// Where: `line 4, column 3`, or a tensor's name.
        place: String,
        /// What is wrong, and what was expected.
        message: String,
    },
    /// A row with another number of cells than the first.
    #[error(
        "{path}: line {line} has {got} cells; every row has {expected} (the first row's); pad a shorter sequence with empty cells"
    )]
    Ragged {
        /// The file.
        path: PathBuf,
        /// The line (1 for the first).
        line: usize,
        /// Its cells.
        got: usize,
        /// The first row's.
        expected: usize,
    },
    /// The extension is none of the formats read.
    #[error("{path}: expected a .csv, .npy or .safetensors file")]
    Format {
        /// The file.
        path: PathBuf,
    },
}

/// How to read a CSV or npy file, and which task to assume (the `[data]` fields of a run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// The task, or `Auto`.
    pub task: TaskKind,
    /// Leading cells of a row that hold the target.
    pub target_columns: usize,
    /// Values per step.
    pub features: usize,
}

/// Sequences with their targets, in f64 (converted to the model's dtype per batch).
#[derive(Debug, Clone, PartialEq)]
pub struct Sequences {
    /// Values per step.
    pub features: usize,
    /// The task.
    pub task: Task,
    /// Each sequence's values, `length * features`, time-major.
    pub inputs: Vec<Vec<f64>>,
    /// Each sequence's class (classification).
    pub classes: Vec<usize>,
    /// Each sequence's target values: `outputs`, or `length * outputs` per step.
    pub values: Vec<Vec<f64>>,
}

fn content(path: &Path, place: String, message: String) -> DataError {
    DataError::Content {
        path: path.to_path_buf(),
        place,
        message,
    }
}

impl Sequences {
    /// Number of sequences.
    pub fn len(&self) -> usize {
        self.inputs.len()
    }

    /// Whether there is no sequence.
    pub fn is_empty(&self) -> bool {
        self.inputs.is_empty()
    }

    /// Reads the file at `path` (see the [module docs](self)).
    ///
    /// ```
    /// use rnnzoo_bench::train::sequences::{Layout, Sequences, Task, TaskKind};
    /// let p = std::env::temp_dir().join("rnnzoo-doc-seq.csv");
    /// std::fs::write(&p, "label,x1,x2,x3\n1,0.5,0.25,-1\n0,0.1,,\n")?;
    /// let layout = Layout { task: TaskKind::Auto, target_columns: 1, features: 1 };
    /// let s = Sequences::read(&p, &layout)?;
    /// assert_eq!(s.task, Task::Classify { classes: 2 });
    /// assert_eq!((s.inputs[0].len(), s.inputs[1].len(), s.classes.clone()), (3, 1, vec![1, 0]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`DataError`]: a file that cannot be read or is of no format read, a ragged row, a cell
    /// that is not a number, NaN or infinity, a class that is not a non-negative integer, a
    /// tensor of the wrong shape or type, lengths out of range, no sequence.
    pub fn read(path: &Path, layout: &Layout) -> Result<Self, DataError> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let s = match ext {
            "csv" => {
                let rows = read_csv(path)?;
                from_rows(path, rows, layout)?
            }
            "npy" => {
                let t = crate::npy::read(path).map_err(|e| match e {
                    crate::npy::NpyError::Io(source) => DataError::Io {
                        path: path.to_path_buf(),
                        source,
                    },
                    crate::npy::NpyError::Format(m) => content(path, "the array".into(), m),
                })?;
                let [n, c] = t.shape[..] else {
                    return Err(content(
                        path,
                        "the array".into(),
                        format!(
                            "shape {:?}; expected 2 dimensions, one sequence per row",
                            t.shape
                        ),
                    ));
                };
                let values = t.to_vec::<f64>();
                let rows = (0..n)
                    .map(|r| {
                        (
                            r + 1,
                            values[r * c..(r + 1) * c]
                                .iter()
                                .map(|&v| Some(v))
                                .collect(),
                        )
                    })
                    .collect();
                from_rows(path, rows, layout)?
            }
            "safetensors" => from_tensors(path, layout)?,
            _ => {
                return Err(DataError::Format {
                    path: path.to_path_buf(),
                });
            }
        };
        if s.is_empty() {
            return Err(content(path, "the file".into(), "no sequence".into()));
        }
        Ok(s)
    }

    /// The sequences at `idx` as one batch in `T`: padded to the longest, with lengths when any is
    /// shorter.
    ///
    /// ```
    /// use rnnzoo_bench::train::sequences::{Sequences, Task};
    /// let s = Sequences { features: 1, task: Task::Classify { classes: 2 },
    ///     inputs: vec![vec![1.0, 2.0], vec![3.0]], classes: vec![1, 0], values: vec![] };
    /// let b = s.batch::<f32>(&[0, 1]);
    /// assert_eq!((b.steps, b.batch, b.lengths.clone()), (2, 2, Some(vec![2, 1])));
    /// assert_eq!(b.inputs, [1.0, 3.0, 2.0, 0.0]); // time-major, zero-padded
    /// ```
    pub fn batch<T: Real>(&self, idx: &[usize]) -> Batch<T> {
        let f = self.features;
        let lengths: Vec<usize> = idx.iter().map(|&i| self.inputs[i].len() / f).collect();
        let steps = lengths.iter().copied().max().unwrap_or(0);
        let b = idx.len();
        let mut inputs = vec![T::zero(); steps * b * f];
        for (col, &i) in idx.iter().enumerate() {
            for t in 0..lengths[col] {
                for k in 0..f {
                    inputs[(t * b + col) * f + k] = T::from_f64_lossy(self.inputs[i][t * f + k]);
                }
            }
        }
        let targets = match self.task {
            Task::Classify { classes } => Targets::FinalClasses {
                classes: idx.iter().map(|&i| self.classes[i]).collect(),
                num_classes: classes,
            },
            Task::Regress { outputs } => Targets::FinalValues {
                values: idx
                    .iter()
                    .flat_map(|&i| self.values[i].iter().map(|&v| T::from_f64_lossy(v)))
                    .collect(),
                outputs,
            },
            Task::RegressSteps { outputs } => {
                let mut values = vec![T::zero(); steps * b * outputs];
                for (col, &i) in idx.iter().enumerate() {
                    for t in 0..lengths[col] {
                        for o in 0..outputs {
                            values[(t * b + col) * outputs + o] =
                                T::from_f64_lossy(self.values[i][t * outputs + o]);
                        }
                    }
                }
                Targets::StepValues { values, outputs }
            }
        };
        Batch {
            inputs,
            features: f,
            steps,
            batch: b,
            lengths: lengths.iter().any(|&l| l < steps).then_some(lengths),
            targets,
        }
    }
}
