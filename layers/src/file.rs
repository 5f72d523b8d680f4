//! Tensor files (safetensors) and atomic writes: what checkpoints and PyTorch interop share.
//!
//! Files are [safetensors](https://github.com/huggingface/safetensors): a length-prefixed JSON
//! header and raw little-endian data, the format PyTorch's `safetensors.torch.save_file` writes.
//! The reader refuses anything that does not parse, does not add up or is not floating point, with
//! a [`FileError`]; it never allocates more than the file's own size justifies, because every
//! tensor's extent is checked against the bytes actually present before any is copied.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;

use rnnzoo_cell::{CellError, Real};
use safetensors::{Dtype, SafeTensors};

use crate::LayerError;

/// A file that could not be read, written or mapped onto a model.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file system said no.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// Not a valid safetensors file (truncated, damaged header, offsets that do not add up).
    #[error("not a valid safetensors file: {0}")]
    Format(String),
    /// A tensor has a type other than F32 or F64 (or I64 where a count is expected).
    #[error("tensor `{name}` is {dtype}; expected F32 or F64")]
    Dtype {
        /// The tensor.
        name: String,
        /// Its type.
        dtype: String,
    },
    /// A tensor the model needs is not in the file.
    #[error("tensor `{name}` is missing")]
    Missing {
        /// The tensor.
        name: String,
    },
    /// A tensor in the file that nothing maps to.
    #[error("tensor `{name}` is not a parameter of this model")]
    Unexpected {
        /// The tensor.
        name: String,
    },
    /// A tensor has the wrong shape.
    #[error("tensor `{name}` has shape {got:?}, expected {expected:?}")]
    Shape {
        /// The tensor.
        name: String,
        /// The shape the model needs.
        expected: Vec<usize>,
        /// The shape in the file.
        got: Vec<usize>,
    },
    /// Something in the file that rnnzoo cannot map (a projection, a mode it does not know, ...).
    #[error("{0}")]
    Unsupported(String),
    /// The file's metadata is damaged or inconsistent.
    #[error("metadata: {0}")]
    Metadata(String),
    /// Building the model from the file failed.
    #[error(transparent)]
    Layer(#[from] LayerError),
    /// Building a cell from the file failed.
    #[error(transparent)]
    Cell(#[from] CellError),
}

impl From<safetensors::SafeTensorError> for FileError {
    fn from(e: safetensors::SafeTensorError) -> Self {
        FileError::Format(e.to_string())
    }
}

/// A tensor read from a file: its shape and its values (widened to `f64`, exactly).
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// The shape.
    pub shape: Vec<usize>,
    /// The values, row-major.
    pub values: Vec<f64>,
}

/// Every tensor of a file by name, and the file's metadata.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Tensors {
    /// Tensors by name.
    pub tensors: BTreeMap<String, Tensor>,
    /// The `__metadata__` map.
    pub metadata: HashMap<String, String>,
}

impl Tensors {
    /// Parses safetensors bytes. F32 and F64 tensors are read; an I64 tensor is read only if
    /// `allow_int` is set (PyTorch fixtures store `lengths` so).
    ///
    /// # Errors
    ///
    /// [`FileError::Format`] for anything that is not a valid safetensors file,
    /// [`FileError::Dtype`] for a tensor of another type.
    pub fn parse(bytes: &[u8], allow_int: bool) -> Result<Self, FileError> {
        let (_, header) = SafeTensors::read_metadata(bytes)?;
        let metadata = header.metadata().clone().unwrap_or_default();
        let st = SafeTensors::deserialize(bytes)?;
        let mut tensors = BTreeMap::new();
        for (name, view) in st.iter() {
            let data = view.data();
            let values: Vec<f64> = match view.dtype() {
                Dtype::F64 => data
                    .chunks_exact(8)
                    .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
                    .collect(),
                Dtype::F32 => data
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")) as f64)
                    .collect(),
                Dtype::I64 if allow_int => data
                    .chunks_exact(8)
                    .map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes")) as f64)
                    .collect(),
                d => {
                    return Err(FileError::Dtype {
                        name: name.to_string(),
                        dtype: d.to_string(),
                    })
                }
            };
            tensors.insert(
                name.to_string(),
                Tensor {
                    shape: view.shape().to_vec(),
                    values,
                },
            );
        }
        Ok(Self { tensors, metadata })
    }

    /// Reads and parses a file.
    ///
    /// # Errors
    ///
    /// [`FileError::Io`] if it cannot be read, then as [`Tensors::parse`].
    pub fn read(path: &Path, allow_int: bool) -> Result<Self, FileError> {
        let bytes = std::fs::read(path).map_err(|source| FileError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&bytes, allow_int)
    }

    /// The tensor `name`, with its shape checked.
    ///
    /// # Errors
    ///
    /// [`FileError::Missing`] or [`FileError::Shape`].
    pub fn take(&self, name: &str, shape: &[usize]) -> Result<&[f64], FileError> {
        let t = self
            .tensors
            .get(name)
            .ok_or_else(|| FileError::Missing { name: name.into() })?;
        if t.shape != shape {
            return Err(FileError::Shape {
                name: name.into(),
                expected: shape.to_vec(),
                got: t.shape.clone(),
            });
        }
        Ok(&t.values)
    }
}

/// Serialises named tensors of `T` (stored as `T::NAME`, F32 or F64) with metadata.
///
/// # Errors
///
/// [`FileError::Format`] if safetensors refuses (for example a shape that does not match the
/// values).
pub fn serialize<T: Real>(
    tensors: &[(String, Vec<usize>, &[T])],
    metadata: HashMap<String, String>,
) -> Result<Vec<u8>, FileError> {
    serialize_with(tensors, &[], metadata)
}

/// [`serialize`], plus tensors kept in F64 whatever `T` is (optimizer moments, so an f32 model's
/// state round trips exactly).
///
/// # Errors
///
/// As [`serialize`].
pub fn serialize_with<T: Real>(
    tensors: &[(String, Vec<usize>, &[T])],
    f64_tensors: &[(String, Vec<usize>, &[f64])],
    metadata: HashMap<String, String>,
) -> Result<Vec<u8>, FileError> {
    let encoded: Vec<(Dtype, Vec<u8>)> = tensors
        .iter()
        .map(|(_, _, v)| le_bytes(v))
        .chain(f64_tensors.iter().map(|(_, _, v)| le_bytes(v)))
        .collect();
    let names = tensors
        .iter()
        .map(|(n, s, _)| (n, s))
        .chain(f64_tensors.iter().map(|(n, s, _)| (n, s)));
    let views = names
        .zip(&encoded)
        .map(|((name, shape), (dtype, b))| {
            Ok((
                name.clone(),
                safetensors::tensor::TensorView::new(*dtype, shape.clone(), b)?,
            ))
        })
        .collect::<Result<Vec<_>, FileError>>()?;
    Ok(safetensors::serialize(views, Some(metadata))?)
}

/// The values little-endian, in `T`'s own dtype.
fn le_bytes<T: Real>(v: &[T]) -> (Dtype, Vec<u8>) {
    if T::NAME == "f32" {
        (
            Dtype::F32,
            v.iter()
                .flat_map(|x| (x.to_f64_lossless() as f32).to_le_bytes())
                .collect(),
        )
    } else {
        (
            Dtype::F64,
            v.iter()
                .flat_map(|x| x.to_f64_lossless().to_le_bytes())
                .collect(),
        )
    }
}

/// Writes `bytes` to `path` so that a crash at any point leaves either the old file or the new
/// one, never a mix: a temporary file beside it, flushed to disk, renamed over `path`, and the
/// folder flushed so the rename itself is durable.
///
/// # Errors
///
/// [`FileError::Io`] if any step fails (the temporary file is removed).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    let io = |source| FileError::Io {
        path: path.display().to_string(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io(std::io::Error::other("no file name")))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        // Make the rename durable (a no-op where folders cannot be opened).
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}
