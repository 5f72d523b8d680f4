//! # rnnzoo-dynamical: recurrent cells from discretised dynamical systems
//!
//! Cells whose step is one time step of an ordinary differential equation chosen for its
//! stability, so that states and gradients neither explode nor vanish over long sequences. Each
//! module has its paper's equations and the discretisation it uses:
//!
//! | cell | paper | state | constants |
//! | --- | --- | --- | --- |
//! | [`CoRnnCell`] | Rusch & Mishra 2021, coupled oscillatory RNN | `[y; z]` (`2H`) | `Δt`, `γ`, `ε` ([`CoRnnConstants`]) |
//! | [`AntisymmetricCell`] | Chang, Chen, Haber & Chi 2019, AntisymmetricRNN, plain or gated | `h` | `ε`, `γ` ([`AntisymmetricConstants`]) |
//!
//! Both are general steps ([`GeneralStep`](rnnzoo_cell::GeneralStep)): their recurrent products
//! read something other than `W_hh h` (both halves of the state; a matrix built from the
//! parameter), so they write the whole step, with scratch allocated once by the unroller. The
//! constants are fixed numbers of the cell, not parameters, and are checked when a cell is made.
//!
//! ```
//! use rnnzoo_cell::{gradcheck, seeded, Cell};
//! use rnnzoo_dynamical::{AntisymmetricCell, CoRnnCell};
//!
//! let opts = gradcheck::Options::default();
//! let mut cornn = CoRnnCell::<f64>::new(3, 5, Default::default(), &mut seeded(0))?;
//! let mut anti = AntisymmetricCell::<f64>::new(3, 5, false, Default::default(), &mut seeded(0))?;
//! assert_eq!((cornn.state_size(), anti.state_size()), (10, 5));
//! assert!(gradcheck::check_cell(&mut cornn, 2, 1, &opts).passed());
//! assert!(gradcheck::check_cell(&mut anti, 2, 1, &opts).passed());
//! # Ok::<(), rnnzoo_cell::CellError>(())
//! ```

pub mod antisymmetric;
pub mod cornn;
#[cfg(test)]
mod tests;

pub use antisymmetric::{AntisymmetricCell, AntisymmetricConstants};
pub use cornn::{CoRnnCell, CoRnnConstants};

use rnnzoo_cell::CellError;
use rnnzoo_cell::gemm::{MatMut, MatRef};

/// A `rows x cols` block of a column-major matrix whose columns are `stride` apart.
fn block<T>(s: &[T], rows: usize, cols: usize, stride: usize) -> MatRef<'_, T> {
    MatRef::new(s, rows, cols, 1, stride).expect("sized by the step")
}

fn block_mut<T>(s: &mut [T], rows: usize, cols: usize, stride: usize) -> MatMut<'_, T> {
    MatMut::new(s, rows, cols, 1, stride).expect("sized by the step")
}

/// A cell's fixed constant: finite, and `> 0` if `positive`, else `>= 0`.
fn check_constant(name: &str, value: f64, positive: bool) -> Result<(), CellError> {
    let ok = value.is_finite() && if positive { value > 0.0 } else { value >= 0.0 };
    if ok {
        Ok(())
    } else {
        Err(CellError::BadParam {
            name: name.to_string(),
            reason: format!(
                "the constant must be a finite number {}, got {value}",
                if positive { "> 0" } else { ">= 0" }
            ),
        })
    }
}
