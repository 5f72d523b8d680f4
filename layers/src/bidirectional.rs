//! [`Bidirectional`]: two layers over the same sequence, one reading it backwards.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rnnzoo_cell::{Params, Real};

use std::borrow::Cow;

use crate::unroll::reorder;
use crate::{Direction, InputGrads, Inputs, Layer, LayerError, LayerTape, Output, ParamGroup};

/// How the two directions' outputs combine at each step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Merge {
    /// `[forward; reverse]` stacked (PyTorch's `bidirectional=True`, Keras' `"concat"`).
    #[default]
    Concat,
    /// `forward + reverse`.
    Sum,
    /// `(forward + reverse) / 2`.
    Mean,
    /// `forward * reverse`, elementwise.
    Product,
}

/// Two layers over one sequence: `forward` reads it as given, `backward` reads each sample's
/// valid prefix reversed, and their outputs at step `t` (both aligned with input step `t`) are
/// merged. Keras' `Bidirectional`, PyTorch's `bidirectional=True` (with [`Merge::Concat`]).
///
/// The state is `[forward state; backward state]` (two blocks), PyTorch's `h_n` order. The two
/// directions are independent work and run on two threads (rayon).
///
/// ```
/// use rnnzoo_cell::seeded;
/// use rnnzoo_layers::{Bidirectional, Inputs, Layer, Merge, Recurrent};
/// use rnnzoo_gru::GruCell;
///
/// let fwd = Recurrent::new(GruCell::<f32>::new(3, 4, &mut seeded(0))?);
/// let bwd = Recurrent::new(GruCell::<f32>::new(3, 4, &mut seeded(1))?);
/// let bi = Bidirectional::new(fwd, bwd, Merge::Concat)?;
/// assert_eq!(bi.output_size(), 8);
/// let x = vec![0.1f32; 3 * 5 * 2];
/// let out = bi.infer(Inputs::new(&x, 5, 2).lengths(&[5, 3]))?;
/// assert_eq!(out.output.len(), 8 * 5 * 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Bidirectional<F, B> {
    forward: F,
    backward: B,
    merge: Merge,
}

/// What the pair's backward reads: the halves' tapes, the lengths (to reverse the backward half's
/// gradients) and, for [`Merge::Product`] only, both outputs.
struct BiTape<T> {
    forward: LayerTape,
    backward: LayerTape,
    /// Both directions' outputs in the caller's step order, `[forward, backward]`: the factors of
    /// `Product`'s gradient, recorded for no other merge.
    y_product: Option<[Vec<T>; 2]>,
    lengths: Option<Vec<usize>>,
    steps: usize,
    batch: usize,
}

impl<F, B> Bidirectional<F, B> {
    /// The forward and backward halves and how to merge them.
    ///
    /// # Errors
    ///
    /// [`LayerError::Compose`] if the halves take different input sizes, or a merge other than
    /// `Concat` is asked of halves with different output sizes; [`LayerError::ReversedHalf`] if
    /// a half reads its sequence reversed itself ([`Direction::Reverse`]): the pair reverses the
    /// backward half's sequence, so both halves must be forward layers.
    pub fn new<T: Real>(forward: F, backward: B, merge: Merge) -> Result<Self, LayerError>
    where
        F: Layer<T>,
        B: Layer<T>,
    {
        for (half, dir) in [
            ("forward", forward.direction()),
            ("backward", backward.direction()),
        ] {
            if dir == Direction::Reverse {
                return Err(LayerError::ReversedHalf { half });
            }
        }
        if forward.input_size() != backward.input_size() {
            return Err(LayerError::Compose(format!(
                "bidirectional halves take {} and {} inputs",
                forward.input_size(),
                backward.input_size()
            )));
        }
        if merge != Merge::Concat && forward.output_size() != backward.output_size() {
            return Err(LayerError::Compose(format!(
                "{merge:?} needs halves of one output size, got {} and {}",
                forward.output_size(),
                backward.output_size()
            )));
        }
        Ok(Self {
            forward,
            backward,
            merge,
        })
    }

    /// The forward half.
    pub fn forward_layer(&self) -> &F {
        &self.forward
    }

    /// The backward half.
    pub fn backward_layer(&self) -> &B {
        &self.backward
    }

    /// The merge mode.
    pub fn merge(&self) -> Merge {
        self.merge
    }
}

impl<F, B> Bidirectional<F, B> {
    /// The halves' initial states (the state is `[forward; backward]`, already checked).
    fn split_state<'a, T: Real>(
        &self,
        state: Option<&'a [T]>,
        batch: usize,
    ) -> (Option<&'a [T]>, Option<&'a [T]>)
    where
        F: Layer<T>,
        B: Layer<T>,
    {
        match state {
            None => (None, None),
            Some(s) => {
                let (a, b) = s.split_at(self.forward.state_size() * batch);
                (Some(a), Some(b))
            }
        }
    }

    /// The merged output from the halves' outputs (both in the caller's step order).
    fn merge_outputs<T: Real>(&self, yf: &[T], yb: &[T], columns: usize) -> Vec<T>
    where
        F: Layer<T>,
        B: Layer<T>,
    {
        let (hf, hb) = (self.forward.output_size(), self.backward.output_size());
        match self.merge {
            Merge::Concat => {
                let mut y = Vec::with_capacity((hf + hb) * columns);
                for (a, b) in yf.chunks_exact(hf).zip(yb.chunks_exact(hb)) {
                    y.extend_from_slice(a);
                    y.extend_from_slice(b);
                }
                y
            }
            Merge::Sum => yf.iter().zip(yb).map(|(&a, &b)| a + b).collect(),
            Merge::Mean => yf
                .iter()
                .zip(yb)
                .map(|(&a, &b)| (a + b) * T::from_f64_lossy(0.5))
                .collect(),
            Merge::Product => yf.iter().zip(yb).map(|(&a, &b)| a * b).collect(),
        }
    }

    /// Runs both halves on two threads: `run(half, inputs)` for each, the backward half on the
    /// reversed sequence. Returns both results, the backward one still in its own step order.
    fn both<T: Real, R: Send>(
        &self,
        inputs: Inputs<'_, T>,
        run_f: impl FnOnce(&F, Inputs<'_, T>) -> Result<R, LayerError> + Send,
        run_b: impl FnOnce(&B, Inputs<'_, T>) -> Result<R, LayerError> + Send,
    ) -> Result<(R, R), LayerError>
    where
        F: Layer<T>,
        B: Layer<T>,
    {
        let (steps, batch) = (inputs.steps, inputs.batch);
        let (init_f, init_b) = self.split_state(inputs.initial, batch);
        let x_rev = reorder(
            inputs.x,
            self.input_size(),
            steps,
            batch,
            inputs.lengths,
            true,
        );
        let (rf, rb) = rayon::join(
            || {
                run_f(
                    &self.forward,
                    Inputs {
                        initial: init_f,
                        ..inputs
                    },
                )
            },
            || {
                run_b(
                    &self.backward,
                    Inputs {
                        x: &x_rev,
                        initial: init_b,
                        ..inputs
                    },
                )
            },
        );
        Ok((rf?, rb?))
    }

    /// The merged output from the halves' outputs, the backward one in its own step order.
    fn assemble<T: Real>(
        &self,
        of: Output<T>,
        ob: Output<T>,
        inputs: &Inputs<'_, T>,
    ) -> (Output<T>, [Vec<T>; 2])
    where
        F: Layer<T>,
        B: Layer<T>,
    {
        let (steps, batch) = (inputs.steps, inputs.batch);
        let yb = reorder(
            &ob.output,
            self.backward.output_size(),
            steps,
            batch,
            inputs.lengths,
            true,
        );
        let output = self.merge_outputs(&of.output, &yb, steps * batch);
        let mut final_state = of.final_state;
        final_state.extend_from_slice(&ob.final_state);
        (
            Output {
                output,
                final_state,
            },
            [of.output, yb],
        )
    }
}

impl<T: Real, F: Layer<T>, B: Layer<T>> Layer<T> for Bidirectional<F, B> {
    fn input_size(&self) -> usize {
        self.forward.input_size()
    }

    fn output_size(&self) -> usize {
        match self.merge {
            Merge::Concat => self.forward.output_size() + self.backward.output_size(),
            _ => self.forward.output_size(),
        }
    }

    fn state_size(&self) -> usize {
        self.forward.state_size() + self.backward.state_size()
    }

    fn forward_unchecked(
        &self,
        inputs: Inputs<'_, T>,
        train: Option<&mut dyn RngCore>,
    ) -> Result<(Output<T>, LayerTape), LayerError> {
        // Each half gets its own random stream, drawn from the caller's, so the two threads never
        // share an RNG and the result does not depend on scheduling.
        let mut streams = train.map(|rng| {
            [
                ChaCha8Rng::seed_from_u64(rng.next_u64()),
                ChaCha8Rng::seed_from_u64(rng.next_u64()),
            ]
        });
        let (sf, sb) = match streams.as_mut() {
            Some([a, b]) => (Some(a), Some(b)),
            None => (None, None),
        };
        let ((of, tf), (ob, tb)) = self.both(
            inputs,
            |f, inp| f.forward_unchecked(inp, sf.map(|r| r as &mut dyn RngCore)),
            |b, inp| b.forward_unchecked(inp, sb.map(|r| r as &mut dyn RngCore)),
        )?;
        let (out, ys) = self.assemble(of, ob, &inputs);
        let tape = BiTape {
            forward: tf,
            backward: tb,
            y_product: (self.merge == Merge::Product).then_some(ys),
            lengths: inputs.lengths.map(<[usize]>::to_vec),
            steps: inputs.steps,
            batch: inputs.batch,
        };
        Ok((out, LayerTape::new(tape)))
    }

    fn infer_unchecked(&self, inputs: Inputs<'_, T>) -> Result<Output<T>, LayerError> {
        let (of, ob) = self.both(
            inputs,
            |f, inp| f.infer_unchecked(inp),
            |b, inp| b.infer_unchecked(inp),
        )?;
        Ok(self.assemble(of, ob, &inputs).0)
    }

    fn backward(
        &self,
        tape: &LayerTape,
        d_output: &[T],
        d_final: Option<&[T]>,
        grads: &mut [Params<T>],
    ) -> Result<InputGrads<T>, LayerError> {
        let tape = tape.expect::<BiTape<T>>("Bidirectional")?;
        let (steps, batch) = (tape.steps, tape.batch);
        let columns = steps * batch;
        let (hf, hb) = (self.forward.output_size(), self.backward.output_size());
        crate::layer::check_backward(self, steps, batch, d_output, d_final, grads)?;
        let nf = self.forward.param_groups().len();
        // A half reads its gradient in place where the merge leaves it unchanged.
        let (d_yf, d_yb): (Cow<'_, [T]>, Cow<'_, [T]>) = match self.merge {
            Merge::Concat => {
                let (mut a, mut b) = (
                    Vec::with_capacity(hf * columns),
                    Vec::with_capacity(hb * columns),
                );
                for col in d_output.chunks_exact(hf + hb) {
                    a.extend_from_slice(&col[..hf]);
                    b.extend_from_slice(&col[hf..]);
                }
                (Cow::Owned(a), Cow::Owned(b))
            }
            Merge::Sum => (Cow::Borrowed(d_output), Cow::Borrowed(d_output)),
            Merge::Mean => {
                let half: Vec<T> = d_output
                    .iter()
                    .map(|&d| d * T::from_f64_lossy(0.5))
                    .collect();
                (Cow::Owned(half.clone()), Cow::Owned(half))
            }
            Merge::Product => {
                let [y_f, y_b] = tape.y_product.as_ref().ok_or(LayerError::WrongTape {
                    layer: "Bidirectional",
                })?;
                let times =
                    |y: &[T]| Cow::Owned(d_output.iter().zip(y).map(|(&d, &y)| d * y).collect());
                (times(y_b), times(y_f))
            }
        };
        let lengths = tape.lengths.as_deref();
        let d_yb = reorder(&d_yb, hb, steps, batch, lengths, true);
        let (df_final, db_final) = match d_final {
            Some(d) => {
                let (a, b) = d.split_at(self.forward.state_size() * batch);
                (Some(a), Some(b))
            }
            None => (None, None),
        };
        let (gf, gb) = grads.split_at_mut(nf);
        let (rf, rb) = rayon::join(
            || self.forward.backward(&tape.forward, &d_yf, df_final, gf),
            || self.backward.backward(&tape.backward, &d_yb, db_final, gb),
        );
        let (gf, gb) = (rf?, rb?);
        let d_xb = reorder(&gb.d_input, self.input_size(), steps, batch, lengths, true);
        let d_input = gf.d_input.iter().zip(&d_xb).map(|(&a, &b)| a + b).collect();
        let mut d_initial = gf.d_initial;
        d_initial.extend_from_slice(&gb.d_initial);
        Ok(InputGrads { d_input, d_initial })
    }

    fn param_groups(&self) -> Vec<ParamGroup<'_, T>> {
        let mut g = self.forward.param_groups();
        g.extend(
            self.backward
                .param_groups()
                .into_iter()
                .map(|p| ParamGroup {
                    suffix: format!("{}_reverse", p.suffix),
                    ..p
                }),
        );
        g
    }

    fn params_mut(&mut self) -> Vec<&mut Params<T>> {
        let mut g = self.forward.params_mut();
        g.extend(self.backward.params_mut());
        g
    }

    fn constrain(&mut self) {
        self.forward.constrain();
        self.backward.constrain();
    }
}
