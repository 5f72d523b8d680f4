//! Reber and embedded Reber grammars: generation, the validity checker, multi-hot targets.

use rnnzoo_datasets::{
    DatasetError, REBER_SYMBOLS, Reber, SeqBatch, Targets, Task, generate_embedded_reber,
    generate_reber, is_valid_embedded_reber, is_valid_reber, reber_allowed_next, reber_symbol_id,
    rng,
};

const VALID: &[&str] = &[
    "BTXSE",
    "BPVVE",
    "BTSSXXTVVE",
    "BPTVPSE",
    "BTXXVVE",
    "BPVPXVVE",
    "BTSXXTTVPSE",
    "BPTTTVPXTVVE",
];

const INVALID: &[&str] = &[
    "", "B", "E", "BTXS",   // unfinished
    "TXSE",   // no B
    "BTXSEE", // continues past the end
    "BTXXE",  // X X must go on to T* V
    "BPVSE",  // after P V only P or V
    "BTSSVE", // S loop exits with X only
    "BPTXSE", // T loop exits with V only
    "btxse",  // lower case
    "BTX SE", // foreign character
];

#[test]
fn checker_accepts_known_strings_and_rejects_others() {
    for s in VALID {
        assert!(is_valid_reber(s), "{s}");
        assert!(!is_valid_embedded_reber(s), "{s} is not embedded");
        for branch in ["T", "P"] {
            let embedded = format!("B{branch}{s}{branch}E");
            assert!(is_valid_embedded_reber(&embedded), "{embedded}");
            assert!(!is_valid_reber(&embedded));
            let other = if branch == "T" { "P" } else { "T" };
            let wrong = format!("B{branch}{s}{other}E");
            assert!(!is_valid_embedded_reber(&wrong), "{wrong}");
        }
    }
    for s in INVALID {
        assert!(!is_valid_reber(s), "{s:?}");
        assert!(!is_valid_embedded_reber(&format!("BT{s}TE")), "{s:?}");
    }
}

#[test]
fn generated_strings_are_valid_and_varied() {
    let mut r = rng(0);
    let mut plain_lengths = Vec::new();
    let mut distinct = std::collections::BTreeSet::new();
    for _ in 0..2000 {
        let s = generate_reber(&mut r);
        assert!(is_valid_reber(&s), "{s}");
        plain_lengths.push(s.len());
        distinct.insert(s);
    }
    assert_eq!(*plain_lengths.iter().min().unwrap(), 5);
    assert!(*plain_lengths.iter().max().unwrap() > 15);
    assert!(
        distinct.len() > 200,
        "only {} distinct strings",
        distinct.len()
    );
    let mut branches = [0usize; 2];
    for _ in 0..2000 {
        let s = generate_embedded_reber(&mut r);
        assert!(is_valid_embedded_reber(&s), "{s}");
        let c: Vec<char> = s.chars().collect();
        assert_eq!(c[1], c[c.len() - 2]);
        assert!(is_valid_reber(&s[2..s.len() - 2]));
        branches[usize::from(c[1] == 'P')] += 1;
    }
    assert!(
        branches.iter().all(|&n| (900..1100).contains(&n)),
        "{branches:?}"
    );
}

#[test]
fn single_symbol_mutations_of_valid_strings_are_mostly_rejected() {
    // Replacing one symbol of "BTSSXXTVVE" by another gives a string outside the language in
    // every case but the few that happen to land on another path; check against the
    // automaton's own next-symbol sets.
    let s: Vec<char> = "BTSSXXTVVE".chars().collect();
    for i in 0..s.len() {
        for &c in &REBER_SYMBOLS {
            let mut m = s.clone();
            m[i] = c;
            let m: String = m.into_iter().collect();
            let prefix: String = s[..i].iter().collect();
            let allowed = reber_allowed_next(&prefix, false).unwrap();
            if !allowed.contains(&c) {
                assert!(!is_valid_reber(&m), "{m}");
            }
        }
    }
}

#[test]
fn allowed_next_sets() {
    assert_eq!(reber_allowed_next("", false), Some(vec!['B']));
    assert_eq!(reber_allowed_next("B", false), Some(vec!['T', 'P']));
    assert_eq!(reber_allowed_next("BTX", false), Some(vec!['S', 'X']));
    assert_eq!(reber_allowed_next("BPV", false), Some(vec!['P', 'V']));
    assert_eq!(reber_allowed_next("BTXS", false), Some(vec!['E']));
    assert_eq!(reber_allowed_next("BTXSE", false), Some(vec![]));
    assert_eq!(reber_allowed_next("BTXSEE", false), None);
    assert_eq!(reber_allowed_next("B", true), Some(vec!['T', 'P']));
    assert_eq!(reber_allowed_next("BT", true), Some(vec!['B']));
    assert_eq!(reber_allowed_next("BTBTXSE", true), Some(vec!['T']));
    assert_eq!(reber_allowed_next("BTBTXSET", true), Some(vec!['E']));
}

fn multi_hot(batch: &SeqBatch) -> &[f64] {
    match &batch.targets {
        Targets::StepMultiHot {
            values,
            num_classes: 7,
        } => values,
        other => panic!("expected multi-hot targets over 7 symbols, got {other:?}"),
    }
}

#[test]
fn batches_encode_inputs_and_allowed_next_sets() {
    for task in [Reber::plain(), Reber::embedded()] {
        let mut r = rng(4);
        let strings: Vec<String> = (0..64).map(|_| task.generate(&mut r)).collect();
        let batch = task.encode(&strings).unwrap();
        batch.validate().unwrap();
        let y = multi_hot(&batch);
        let lengths = batch.lengths.clone().unwrap();
        for (b, s) in strings.iter().enumerate() {
            let chars: Vec<char> = s.chars().collect();
            assert_eq!(lengths[b], chars.len() - 1);
            for t in 0..batch.steps {
                let x = batch.input(t, b).unwrap();
                let target = &y[(t * batch.batch + b) * 7..(t * batch.batch + b + 1) * 7];
                if t >= lengths[b] {
                    assert!(x.iter().chain(target).all(|&v| v == 0.0));
                    continue;
                }
                let mut expected_x = [0.0; 7];
                expected_x[reber_symbol_id(chars[t]).unwrap()] = 1.0;
                assert_eq!(x, &expected_x);
                let prefix: String = chars[..=t].iter().collect();
                let allowed = reber_allowed_next(&prefix, task.is_embedded()).unwrap();
                let mut expected_y = [0.0; 7];
                for c in &allowed {
                    expected_y[reber_symbol_id(*c).unwrap()] = 1.0;
                }
                assert_eq!(target, &expected_y, "{s} at {t}");
                // The true next symbol is always in the target set.
                assert_eq!(target[reber_symbol_id(chars[t + 1]).unwrap()], 1.0);
            }
            if task.is_embedded() {
                // The long-range step: after the inner E only the remembered branch is allowed.
                let t = lengths[b] - 2;
                let target = &y[(t * batch.batch + b) * 7..(t * batch.batch + b + 1) * 7];
                assert_eq!(target.iter().sum::<f64>(), 1.0);
                assert_eq!(target[reber_symbol_id(chars[1]).unwrap()], 1.0);
            }
        }
    }
}

#[test]
fn encode_rejects_invalid_strings() {
    assert!(matches!(
        Reber::plain().encode(&["BTXSE", "BTXXE"]),
        Err(DatasetError::InvalidString { .. })
    ));
    assert!(matches!(
        Reber::embedded().encode(&["BTXSE"]),
        Err(DatasetError::InvalidString { .. })
    ));
    let none: [&str; 0] = [];
    assert_eq!(Reber::plain().encode(&none), Err(DatasetError::ZeroBatch));
    assert_eq!(
        Reber::plain().sample_seeded(0, 0),
        Err(DatasetError::ZeroBatch)
    );
}

#[test]
fn deterministic_under_a_seed() {
    let task = Reber::embedded();
    assert_eq!(task.sample_seeded(8, 1), task.sample_seeded(8, 1));
    assert_ne!(task.sample_seeded(8, 1), task.sample_seeded(8, 2));
    assert_eq!(generate_reber(&mut rng(5)), generate_reber(&mut rng(5)));
}
