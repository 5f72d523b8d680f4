//! The processes of a data-parallel run, behind a small interface (allreduce, broadcast,
//! barrier) with a single-process implementation, so `rnnzoo train` has one code path whether
//! it runs alone or under `mpirun`.
//!
//! - [`Single`]: one process; every operation is the identity.
//! - `Mpi` (cargo feature `mpi`): the processes `mpirun -np N` started, through rsmpi on the
//!   system's MPI library (OpenMPI here).
//!
//! [`from_env`] picks the one the program was launched as. Values travel as f64 whatever the
//! model's dtype (an f32 model's gradients are summed in f64: 8 bytes a value on the wire).
//!
//! [`BucketReducer`] is the [`GradientReducer`] of a run: every process's gradient weighted by
//! its items, summed by allreduce in buckets of [`BUCKET`] values (a few calls a step rather than
//! one per tensor), divided by the summed items.

use rnnzoo::cell::{Params, Real};
use rnnzoo::layers::train::{GradientReducer, TrainError};

/// Values per allreduce call (8 MB of f64).
pub const BUCKET: usize = 1 << 20;

/// What the training loop asks of the processes of a run.
pub trait Communicator {
    /// This process's rank, `0..size`.
    fn rank(&self) -> usize;
    /// The number of processes.
    fn size(&self) -> usize;
    /// Sums `buf` elementwise over every process; every process gets the sums in `buf`.
    fn all_reduce_sum(&self, buf: &mut [f64]);
    /// Copies rank `root`'s `buf` into every process's `buf`.
    fn broadcast(&self, buf: &mut [f64], root: usize);
    /// Waits until every process has called it.
    fn barrier(&self);
}

/// One process: nothing to combine.
///
/// ```
/// use rnnzoo_bench::train::comm::{Communicator, Single};
/// let mut v = [1.0, 2.0];
/// Single.all_reduce_sum(&mut v);
/// assert_eq!((Single.rank(), Single.size(), v), (0, 1, [1.0, 2.0]));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Single;

impl Communicator for Single {
    fn rank(&self) -> usize {
        0
    }
    fn size(&self) -> usize {
        1
    }
    fn all_reduce_sum(&self, _: &mut [f64]) {}
    fn broadcast(&self, _: &mut [f64], _: usize) {}
    fn barrier(&self) {}
}

/// The processes of an MPI job (`MPI_COMM_WORLD`).
#[cfg(feature = "mpi")]
pub struct Mpi {
    // Finalises MPI when dropped, after the last use of `world`.
    _universe: mpi::environment::Universe,
    world: mpi::topology::SimpleCommunicator,
    scratch: std::cell::RefCell<Vec<f64>>,
}

#[cfg(feature = "mpi")]
impl Mpi {
    /// Initialises MPI. The training loop makes every MPI call, one at a time, from whichever
    /// thread runs it (`Serialized`); the rayon pool only computes.
    ///
    /// # Errors
    ///
    /// MPI was already initialised, or could not be.
    pub fn init() -> anyhow::Result<Self> {
        let (universe, _) = mpi::initialize_with_threading(mpi::Threading::Serialized)
            .ok_or_else(|| anyhow::anyhow!("MPI could not be initialised (already done?)"))?;
        let world = universe.world();
        Ok(Self {
            _universe: universe,
            world,
            scratch: std::cell::RefCell::new(Vec::new()),
        })
    }
}

#[cfg(feature = "mpi")]
impl Communicator for Mpi {
    fn rank(&self) -> usize {
        use mpi::traits::Communicator as _;
        self.world.rank() as usize
    }
    fn size(&self) -> usize {
        use mpi::traits::Communicator as _;
        self.world.size() as usize
    }
    fn all_reduce_sum(&self, buf: &mut [f64]) {
        use mpi::traits::CommunicatorCollectives as _;
        let mut send = self.scratch.borrow_mut();
        send.clear();
        send.extend_from_slice(buf);
        self.world
            .all_reduce_into(&send[..], buf, mpi::collective::SystemOperation::sum());
    }
    fn broadcast(&self, buf: &mut [f64], root: usize) {
        use mpi::traits::{Communicator as _, Root as _};
        self.world
            .process_at_rank(root as mpi::topology::Rank)
            .broadcast_into(buf);
    }
    fn barrier(&self) {
        use mpi::traits::CommunicatorCollectives as _;
        self.world.barrier();
    }
}

/// The processes this program was launched as: under `mpirun` (OpenMPI's `OMPI_COMM_WORLD_SIZE`,
/// or a PMI launcher's `PMI_SIZE`) an MPI job, else one process.
///
/// # Errors
///
/// Launched as several processes by a program built without the `mpi` feature (each would train
/// alone and write the same files): the message says how to build it.
pub fn from_env() -> anyhow::Result<Box<dyn Communicator>> {
    let launched = ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE"]
        .iter()
        .find_map(|k| std::env::var(k).ok())
        .and_then(|v| v.parse::<usize>().ok());
    match launched {
        #[cfg(feature = "mpi")]
        Some(n) if n > 1 => Ok(Box::new(Mpi::init()?)),
        #[cfg(not(feature = "mpi"))]
        Some(n) if n > 1 => anyhow::bail!(
            "launched as {n} MPI processes, but this rnnzoo was built without MPI: \
             cargo build --release -p rnnzoo-bench --features mpi"
        ),
        _ => Ok(Box::new(Single)),
    }
}

/// Which of `n` items (streams, sequences) rank `rank` of `size` takes: a contiguous, balanced
/// range (the first `n % size` ranks take one more).
///
/// ```
/// use rnnzoo_bench::train::comm::share;
/// assert_eq!((share(10, 0, 3), share(10, 1, 3), share(10, 2, 3)), (0..4, 4..7, 7..10));
/// assert_eq!(share(1, 1, 2), 1..1); // nothing for the second of two
/// ```
pub fn share(n: usize, rank: usize, size: usize) -> std::ops::Range<usize> {
    let (base, extra) = (n / size, n % size);
    let start = rank * base + rank.min(extra);
    start..start + base + usize::from(rank < extra)
}

/// The gradient reducer of a run over `comm`: buckets of [`BUCKET`] values, and one more value
/// carried with the first bucket, this process's interrupt flag, so that every process learns in
/// the same call whether any was interrupted (and all stop at the same update).
pub struct BucketReducer<'a> {
    comm: &'a dyn Communicator,
    bucket: Vec<f64>,
    /// Set by the caller before the step when this process was asked to stop.
    pub interrupt: bool,
    /// Set by the step when any process was.
    pub any_interrupt: bool,
}

impl<'a> BucketReducer<'a> {
    /// A reducer over `comm`.
    pub fn new(comm: &'a dyn Communicator) -> Self {
        Self {
            comm,
            bucket: Vec::with_capacity(BUCKET),
            interrupt: false,
            any_interrupt: false,
        }
    }
}

/// The scalars at the head of the first bucket: items, items * loss, interrupt.
const HEAD: usize = 3;

impl<T: Real> GradientReducer<T> for BucketReducer<'_> {
    fn reduce(
        &mut self,
        grads: &mut [Params<T>],
        loss: f64,
        items: usize,
    ) -> Result<f64, TrainError> {
        let weight = items as f64;
        let mut slices: Vec<&mut [T]> = grads
            .iter_mut()
            .flat_map(|p| p.iter_mut().map(|t| t.data_mut()))
            .collect();
        let total: usize = HEAD + slices.iter().map(|s| s.len()).sum::<usize>();
        // Walk the flat index space [head, every gradient value] bucket by bucket.
        let (mut tensor, mut offset) = (0usize, 0usize);
        let mut scale = None;
        let mut global_loss = 0.0;
        let mut start = 0;
        while start < total {
            let end = (start + BUCKET).min(total);
            self.bucket.clear();
            if start == 0 {
                self.bucket
                    .extend([weight, weight * loss, f64::from(u8::from(self.interrupt))]);
            }
            // Fill from the gradients, remembering where this bucket began in them.
            let (t0, o0) = (tensor, offset);
            while self.bucket.len() < end - start {
                let s = &slices[tensor];
                let take = (s.len() - offset).min(end - start - self.bucket.len());
                self.bucket.extend(
                    s[offset..offset + take]
                        .iter()
                        .map(|g| g.to_f64_lossless() * weight),
                );
                offset += take;
                if offset == s.len() {
                    (tensor, offset) = (tensor + 1, 0);
                }
            }
            self.comm.all_reduce_sum(&mut self.bucket);
            let inv = *scale.get_or_insert_with(|| {
                let items = self.bucket[0];
                global_loss = if items > 0.0 {
                    self.bucket[1] / items
                } else {
                    f64::NAN
                };
                self.any_interrupt = self.bucket[2] > 0.0;
                if items > 0.0 { 1.0 / items } else { f64::NAN }
            });
            // Write the sums back, scaled to the global mean.
            let (mut t, mut o) = (t0, o0);
            let skip = if start == 0 { HEAD } else { 0 };
            for &v in &self.bucket[skip..] {
                while o == slices[t].len() {
                    (t, o) = (t + 1, 0);
                }
                slices[t][o] = T::from_f64_lossy(v * inv);
                o += 1;
            }
            start = end;
        }
        if slices.is_empty() && total == HEAD {
            return Err(TrainError::Reduce("the model has no parameters".into()));
        }
        Ok(global_loss)
    }
}

/// Makes every process's parameters rank 0's (the initial weights, or the loaded ones).
pub fn broadcast_params<T: Real>(comm: &dyn Communicator, params: &mut [&mut Params<T>]) {
    if comm.size() == 1 {
        return;
    }
    let mut flat: Vec<f64> = params
        .iter()
        .flat_map(|p| {
            p.iter()
                .flat_map(|t| t.data().iter().map(|x| x.to_f64_lossless()))
        })
        .collect();
    comm.broadcast(&mut flat, 0);
    let mut k = 0;
    for p in params.iter_mut() {
        for t in p.iter_mut() {
            for x in t.data_mut() {
                *x = T::from_f64_lossy(flat[k]);
                k += 1;
            }
        }
    }
}
