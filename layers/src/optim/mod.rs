//! Optimizers and gradient clipping (being written).
