//! `.npy` files (NumPy's `np.save`) as tensors, through the `npyz` reader: float32 or float64, either
//! byte order, C order. What `rnnzoo predict --input x.npy` and `rnnzoo train --data x.npy` read.

use std::path::Path;

use rnnzoo::layers::file::{Tensor, TensorData};

/// Why an `.npy` file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum NpyError {
    /// The file system said no.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// Not an `.npy` file, or not an array this reads (the message says what it is).
    #[error("{0}")]
    Format(String),
}

/// The array in the `.npy` file at `path`.
///
/// ```
/// // np.save of np.array([[1., 2.]]) (version 1.0 header, little-endian float64)
/// let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
/// let mut header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }".to_string();
/// while (10 + header.len() + 1) % 64 != 0 { header.push(' '); }
/// header.push('\n');
/// bytes.extend((header.len() as u16).to_le_bytes());
/// bytes.extend(header.as_bytes());
/// bytes.extend([1.0f64, 2.0].iter().flat_map(|v| v.to_le_bytes()));
/// let p = std::env::temp_dir().join("rnnzoo-doc-npy.npy");
/// std::fs::write(&p, bytes)?;
/// let t = rnnzoo_bench::npy::read(&p)?;
/// assert_eq!((t.shape.clone(), t.to_vec::<f64>()), (vec![1, 2], vec![1.0, 2.0]));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`NpyError::Io`] if it cannot be read; [`NpyError::Format`] for a damaged file, a
/// Fortran-ordered array, or a dtype other than float32/float64.
pub fn read(path: &Path) -> Result<Tensor, NpyError> {
    let bytes = std::fs::read(path)?;
    let npy = npyz::NpyFile::new(&bytes[..])
        .map_err(|e| NpyError::Format(format!("not a valid .npy file: {e}")))?;
    if npy.order() != npyz::Order::C {
        return Err(NpyError::Format(
            "Fortran-ordered array; save it with np.ascontiguousarray".into(),
        ));
    }
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    let descr = match npy.dtype() {
        npyz::DType::Plain(ts) => ts.to_string(),
        other => {
            return Err(NpyError::Format(format!(
                "dtype {other:?}; expected float32 or float64"
            )));
        }
    };
    let bad = |e: std::io::Error| NpyError::Format(format!("reading the values: {e}"));
    let data = match &descr[1..] {
        "f4" => TensorData::F32(npy.into_vec::<f32>().map_err(bad)?),
        "f8" => TensorData::F64(npy.into_vec::<f64>().map_err(bad)?),
        _ => {
            return Err(NpyError::Format(format!(
                "dtype {descr}; expected float32 (<f4) or float64 (<f8)"
            )));
        }
    };
    Ok(Tensor { shape, data })
}
