//! Tensor files (safetensors) and atomic writes: what checkpoints and PyTorch interop share.
//!
//! Files are [safetensors](https://github.com/huggingface/safetensors): a length-prefixed JSON
//! header and raw little-endian data, the format PyTorch's `safetensors.torch.save_file` writes.
//! [`Tensors::parse`] reads the header once and keeps every tensor in the dtype the file stores
//! ([`TensorData`]: F32 stays `f32`, F64 stays `f64`); [`Tensors::take`] converts one tensor to
//! the caller's `T` when it is taken, so an f32 file read into an f32 model is copied exactly and
//! never widened and narrowed on the way. The reader refuses anything that does not parse, does
//! not add up or is not floating point, with a [`FileError`] ([`FileError::Truncated`] gives the
//! byte counts of a cut file); it never allocates more than the file's own size justifies,
//! because the header's extent is checked against the bytes actually present before any tensor
//! is copied.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;

use rnnzoo_cell::{CellError, Real};
use safetensors::Dtype;
use safetensors::tensor::Metadata;

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
    /// Not a valid safetensors file (damaged header, offsets that do not add up).
    #[error("not a valid safetensors file: {0}")]
    Format(String),
    /// The file is shorter than its header says.
    #[error("the file is truncated: {got} bytes, its header needs {expected}")]
    Truncated {
        /// Bytes the header accounts for (or the length prefix, when even that is cut).
        expected: usize,
        /// Bytes present.
        got: usize,
    },
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
    /// The file holds a setting an optimizer or the trainer refuses (a negative clipping bound).
    #[error(transparent)]
    Optim(#[from] crate::optim::OptimError),
    /// The file was written by a model of other cells than the one it is loaded into.
    #[error(
        "the file's cells are {got}, the model's are {expected} (recorded in `rnnzoo.modes`); \
         build the model with the file's cell kinds"
    )]
    Modes {
        /// The model's cell modes, comma-separated.
        expected: String,
        /// The file's.
        got: String,
    },
    /// The file was written by cells with other settings than the model's (`Cell::settings`:
    /// coRNN's step size, a layer norm's eps), which the parameters' names and shapes do not show.
    #[error(
        "the file's cells were built with settings {got:?}, the model's are {expected:?} \
         (recorded in `rnnzoo.settings`); build the model with the file's cell options"
    )]
    Settings {
        /// The model's settings, `suffix=settings` joined by `;`.
        expected: String,
        /// The file's.
        got: String,
    },
}

impl From<safetensors::SafeTensorError> for FileError {
    fn from(e: safetensors::SafeTensorError) -> Self {
        FileError::Format(e.to_string())
    }
}

/// A tensor's values in the type the file stores them in.
#[derive(Debug, Clone, PartialEq)]
pub enum TensorData {
    /// `F32` values.
    F32(Vec<f32>),
    /// `F64` values.
    F64(Vec<f64>),
    /// `I64` values (read only when asked: PyTorch fixtures store `lengths` so).
    I64(Vec<i64>),
}

/// A tensor read from a file: its shape and its values, in the file's own dtype.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// The shape.
    pub shape: Vec<usize>,
    /// The values, row-major.
    pub data: TensorData,
}

impl Tensor {
    /// A tensor of `f64` values.
    pub fn f64(shape: Vec<usize>, values: Vec<f64>) -> Self {
        Self {
            shape,
            data: TensorData::F64(values),
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        match &self.data {
            TensorData::F32(v) => v.len(),
            TensorData::F64(v) => v.len(),
            TensorData::I64(v) => v.len(),
        }
    }

    /// Whether the tensor holds no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The dtype as safetensors names it: `"F32"`, `"F64"` or `"I64"`.
    pub fn dtype(&self) -> &'static str {
        match &self.data {
            TensorData::F32(_) => "F32",
            TensorData::F64(_) => "F64",
            TensorData::I64(_) => "I64",
        }
    }

    /// The values converted to `T` (rounded to nearest when `T` is narrower than the file's type;
    /// exact otherwise).
    ///
    /// ```
    /// use rnnzoo_layers::file::Tensor;
    /// let t = Tensor::f64(vec![2], vec![0.5, 0.1]);
    /// assert_eq!(t.to_vec::<f32>(), [0.5f32, 0.1f32]);
    /// ```
    pub fn to_vec<T: Real>(&self) -> Vec<T> {
        let mut out = vec![T::zero(); self.len()];
        self.write_to(&mut out);
        out
    }

    /// Converts the values to `T` into `dst` (of [`len`](Tensor::len) values).
    fn write_to<T: Real>(&self, dst: &mut [T]) {
        // An f32 file read into f32 (or an f64 file into f64) is copied exactly: the f64 step in
        // between is exact for every f32.
        match &self.data {
            TensorData::F32(v) => dst
                .iter_mut()
                .zip(v)
                .for_each(|(d, &x)| *d = T::from_f64_lossy(f64::from(x))),
            TensorData::F64(v) => dst
                .iter_mut()
                .zip(v)
                .for_each(|(d, &x)| *d = T::from_f64_lossy(x)),
            TensorData::I64(v) => dst
                .iter_mut()
                .zip(v)
                .for_each(|(d, &x)| *d = T::from_f64_lossy(x as f64)),
        }
    }
}

/// Every tensor of a file by name, and the file's metadata.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Tensors {
    /// Tensors by name.
    pub tensors: BTreeMap<String, Tensor>,
    /// The `__metadata__` map.
    pub metadata: HashMap<String, String>,
}

/// Bytes of the header-length prefix.
const PREFIX: usize = 8;

impl Tensors {
    /// Parses safetensors bytes, reading the header once. F32 and F64 tensors are read as they
    /// are stored; an I64 tensor is read only if `allow_int` is set (PyTorch fixtures store
    /// `lengths` so).
    ///
    /// # Errors
    ///
    /// [`FileError::Truncated`] for a file shorter than its header says (with both byte counts),
    /// [`FileError::Format`] for anything else that is not a valid safetensors file,
    /// [`FileError::Dtype`] for a tensor of another type.
    pub fn parse(bytes: &[u8], allow_int: bool) -> Result<Self, FileError> {
        let truncated = |expected| FileError::Truncated {
            expected,
            got: bytes.len(),
        };
        let prefix: [u8; PREFIX] = bytes
            .get(..PREFIX)
            .and_then(|p| p.try_into().ok())
            .ok_or_else(|| truncated(PREFIX))?;
        let n = usize::try_from(u64::from_le_bytes(prefix))
            .ok()
            .filter(|&n| n <= MAX_HEADER)
            .ok_or_else(|| {
                FileError::Format(format!(
                    "the header claims {} bytes; at most {MAX_HEADER} are accepted",
                    u64::from_le_bytes(prefix)
                ))
            })?;
        let header = bytes
            .get(PREFIX..PREFIX + n)
            .ok_or_else(|| truncated(PREFIX + n))?;
        let header: Metadata =
            serde_json::from_slice(header).map_err(|e| FileError::Format(e.to_string()))?;
        let expected = PREFIX + n + header.data_len();
        if bytes.len() < expected {
            return Err(truncated(expected));
        }
        if bytes.len() > expected {
            return Err(FileError::Format(format!(
                "{} bytes after the last tensor (the header accounts for {expected} of {})",
                bytes.len() - expected,
                bytes.len()
            )));
        }
        let data = &bytes[PREFIX + n..];
        let mut tensors = BTreeMap::new();
        for (name, info) in header.tensors() {
            let raw = &data[info.data_offsets.0..info.data_offsets.1];
            let data = match info.dtype {
                Dtype::F64 => TensorData::F64(
                    raw.chunks_exact(8)
                        .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
                        .collect(),
                ),
                Dtype::F32 => TensorData::F32(
                    raw.chunks_exact(4)
                        .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
                        .collect(),
                ),
                Dtype::I64 if allow_int => TensorData::I64(
                    raw.chunks_exact(8)
                        .map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes")))
                        .collect(),
                ),
                d => {
                    return Err(FileError::Dtype {
                        name,
                        dtype: d.to_string(),
                    });
                }
            };
            tensors.insert(
                name,
                Tensor {
                    shape: info.shape.clone(),
                    data,
                },
            );
        }
        let metadata = header.metadata().clone().unwrap_or_default();
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
    pub fn get_checked(&self, name: &str, shape: &[usize]) -> Result<&Tensor, FileError> {
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
        Ok(t)
    }

    /// The tensor `name`, with its shape checked, converted to `T` (see [`Tensor::to_vec`]).
    ///
    /// ```
    /// use rnnzoo_layers::file::{Tensor, Tensors};
    /// let mut t = Tensors::default();
    /// t.tensors.insert("w".into(), Tensor::f64(vec![1, 2], vec![1.0, 2.0]));
    /// assert_eq!(t.take::<f32>("w", &[1, 2])?, [1.0f32, 2.0]);
    /// assert!(t.take::<f32>("w", &[2, 1]).is_err());
    /// # Ok::<(), rnnzoo_layers::file::FileError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`FileError::Missing`] or [`FileError::Shape`].
    pub fn take<T: Real>(&self, name: &str, shape: &[usize]) -> Result<Vec<T>, FileError> {
        Ok(self.get_checked(name, shape)?.to_vec())
    }

    /// [`take`](Tensors::take) into `dst`, which must hold the shape's number of values.
    ///
    /// # Errors
    ///
    /// [`FileError::Missing`] or [`FileError::Shape`] (also when `dst` is not the shape's size).
    pub fn take_into<T: Real>(
        &self,
        name: &str,
        shape: &[usize],
        dst: &mut [T],
    ) -> Result<(), FileError> {
        let t = self.get_checked(name, shape)?;
        if t.len() != dst.len() {
            return Err(FileError::Shape {
                name: name.into(),
                expected: vec![dst.len()],
                got: t.shape.clone(),
            });
        }
        t.write_to(dst);
        Ok(())
    }
}

/// The largest header accepted, as safetensors' own reader (100 MB).
const MAX_HEADER: usize = 100_000_000;

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
