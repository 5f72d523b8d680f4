//! Streaming sessions: stepping a stack one step (or a chunk) at a time gives what the whole-
//! sequence path gives, to 1e-12 in f64, with the state carried between calls; after warm-up a
//! step allocates nothing (counted by a global allocator); layers that cannot stream are refused.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell as StdCell;

use rnnzoo_cell::{gradcheck::normal_vec, seeded};
use rnnzoo_gru::{GruCell, GruResetBeforeCell};
use rnnzoo_layers::session::Session;
use rnnzoo_layers::{Bidirectional, Direction, Inputs, Layer, LayerError, Merge, Recurrent, Stack};
use rnnzoo_lstm::LstmCell;
use rnnzoo_vanilla::{Nonlinearity, VanillaCell};

/// Counts this thread's allocations (tests run on several threads; each counts its own).
struct Counting;

thread_local! {
    static ALLOCATIONS: StdCell<usize> = const { StdCell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(|n| n.get())
}

type Make = fn(usize, usize, u64) -> Box<dyn Layer<f64>>;

fn kinds() -> Vec<(&'static str, Make)> {
    vec![
        ("rnn", |i, h, s| {
            Box::new(Recurrent::new(
                VanillaCell::new(i, h, Nonlinearity::Tanh, &mut seeded(s)).unwrap(),
            ))
        }),
        ("lstm", |i, h, s| {
            Box::new(Recurrent::new(LstmCell::new(i, h, &mut seeded(s)).unwrap()))
        }),
        ("gru", |i, h, s| {
            Box::new(Recurrent::new(GruCell::new(i, h, &mut seeded(s)).unwrap()))
        }),
        // A general-form cell.
        ("gru-reset-before", |i, h, s| {
            Box::new(Recurrent::new(
                GruResetBeforeCell::new(i, h, &mut seeded(s)).unwrap(),
            ))
        }),
    ]
}

/// Two layers of `make`, input 3, hidden 5.
fn stack(make: Make) -> Stack<f64> {
    Stack::new(vec![make(3, 5, 1), make(5, 5, 2)]).unwrap()
}

#[test]
fn steps_and_chunks_are_the_whole_sequence() {
    let (steps, batch) = (9, 3);
    for (name, make) in kinds() {
        let stack = stack(make);
        let mut rng = seeded(7);
        let x = normal_vec(3 * steps * batch, &mut rng);
        let s = stack.layers()[0].state_size();
        let h0: Vec<f64> = normal_vec(2 * s * batch, &mut rng);
        let whole = stack
            .infer(Inputs::new(&x, steps, batch).initial(&h0))
            .unwrap();

        let mut session = Session::new(&stack, batch).unwrap();
        for l in 0..2 {
            session
                .set_state(l, &h0[l * s * batch..][..s * batch])
                .unwrap();
        }
        // Four steps one at a time, then the other five as one chunk.
        let mut got = Vec::new();
        for t in 0..4 {
            got.extend_from_slice(session.step(&x[t * 3 * batch..][..3 * batch]).unwrap());
        }
        let mut rest = vec![0.0; 5 * 5 * batch];
        assert_eq!(session.run(&x[4 * 3 * batch..], &mut rest).unwrap(), 5);
        got.extend_from_slice(&rest);
        assert_eq!(got.len(), whole.output.len());
        for (k, (a, b)) in got.iter().zip(&whole.output).enumerate() {
            assert!((a - b).abs() < 1e-12, "{name}: value {k}: {a} vs {b}");
        }
        let finals: Vec<f64> = (0..2)
            .flat_map(|l| session.state(l).unwrap().to_vec())
            .collect();
        for (a, b) in finals.iter().zip(&whole.final_state) {
            assert!((a - b).abs() < 1e-12, "{name}: final state");
        }
        // reset starts a new sequence: the same as a zero initial state.
        session.reset();
        let first = session.step(&x[..3 * batch]).unwrap().to_vec();
        let fresh = stack.infer(Inputs::new(&x[..3 * batch], 1, batch)).unwrap();
        assert!(
            first
                .iter()
                .zip(&fresh.output)
                .all(|(a, b)| (a - b).abs() < 1e-12)
        );
    }
}

/// One stream (batch 1), the streaming case: every product is a matrix-vector product on the
/// session's packed weights. (At batch 2 and more the products go to the `gemm` crate, which
/// allocates its packing buffers on every call: gemm-common 0.19, `gemm.rs`.)
#[test]
fn a_step_of_one_stream_allocates_nothing_after_warm_up() {
    // One thread: a pool of several may allocate in rayon's job queue when a product is split.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    pool.install(|| {
        for (name, make) in kinds() {
            for (hidden, batch) in [(5, 1), (128, 1), (512, 1)] {
                let stack = Stack::new(vec![make(16, hidden, 1), make(hidden, hidden, 2)]).unwrap();
                let mut session = Session::new(&stack, batch).unwrap();
                let x = vec![0.25; 16 * batch];
                let mut chunk_out = vec![0.0; hidden * 4 * batch];
                let chunk = vec![0.5; 16 * 4 * batch];
                session.step(&x).unwrap(); // warm-up
                let before = allocations();
                for _ in 0..50 {
                    session.step(&x).unwrap();
                }
                session.run(&chunk, &mut chunk_out).unwrap();
                let made = allocations() - before;
                assert_eq!(
                    made, 0,
                    "{name} H{hidden} B{batch}: {made} allocations in 54 steps"
                );
            }
        }
    });
}

#[test]
fn the_counter_counts() {
    let before = allocations();
    let v = std::hint::black_box(vec![1u8; 10]);
    assert!(allocations() > before);
    drop(v);
}

#[test]
fn layers_that_need_the_future_are_refused() {
    let lstm = |s| LstmCell::<f64>::new(3, 4, &mut seeded(s)).unwrap();
    let reversed = Stack::new(vec![
        Box::new(Recurrent::with_direction(lstm(0), Direction::Reverse)) as Box<dyn Layer<f64>>,
    ])
    .unwrap();
    assert!(matches!(
        Session::new(&reversed, 1),
        Err(LayerError::NotStreamable { layer: 0 })
    ));
    let bi = Bidirectional::new(
        Recurrent::new(lstm(1)),
        Recurrent::new(lstm(2)),
        Merge::Concat,
    )
    .unwrap();
    let with_bi = Stack::new(vec![
        Box::new(Recurrent::new(
            LstmCell::<f64>::new(3, 3, &mut seeded(3)).unwrap(),
        )) as Box<dyn Layer<f64>>,
        Box::new(bi),
    ])
    .unwrap();
    let err = Session::new(&with_bi, 1).err().unwrap();
    assert!(
        matches!(err, LayerError::NotStreamable { layer: 1 }),
        "{err}"
    );
    assert!(err.to_string().contains("layer 1"));
    assert!(matches!(
        Session::new(&stack(kinds()[1].1), 0),
        Err(LayerError::EmptyBatch)
    ));
}

#[test]
fn wrong_sizes_are_errors_and_move_nothing() {
    let stack = stack(kinds()[1].1);
    let mut session = Session::new(&stack, 2).unwrap();
    session.step(&[0.5; 6]).unwrap();
    let state = session.state(1).unwrap().to_vec();
    assert!(matches!(
        session.step(&[0.5; 5]),
        Err(LayerError::Size {
            expected: 6,
            got: 5,
            ..
        })
    ));
    let mut out = vec![0.0; 5 * 2 * 2];
    assert!(session.run(&[0.5; 7], &mut out).is_err());
    assert!(session.run(&[0.5; 12], &mut out[..19]).is_err());
    assert!(session.set_state(2, &[0.0; 20]).is_err());
    assert!(session.set_state(0, &[0.0; 3]).is_err());
    assert_eq!(session.state(1).unwrap(), &state[..]);
    assert!(session.state(2).is_none());
    assert_eq!(
        (session.batch(), session.input_size(), session.output_size()),
        (2, 3, 5)
    );
}
