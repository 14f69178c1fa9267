//! Never a panic, whatever the input: deterministic mutations of every fixture (byte flips,
//! overwrites, truncations) must each give a thumbnail or a typed error.

use std::panic::{catch_unwind, AssertUnwindSafe};

use photopipe_engine::{probe, thumbnail, Limits, OutputFormat, Spec};

use crate::common::{expected, fixture};

/// xorshift64*: deterministic, so a failure names a seed that reproduces it.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// One mutant of `data`; headers are where parsers go wrong, so half the edits land in the
/// first 256 bytes.
fn mutate(data: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut out = data.to_vec();
    let pick = |rng: &mut Rng, len: usize| {
        if rng.next() & 1 == 0 {
            rng.below(len.min(256))
        } else {
            rng.below(len)
        }
    };
    match rng.below(4) {
        0 => {
            for _ in 0..1 + rng.below(4) {
                let i = pick(rng, out.len());
                out[i] ^= 1 << rng.below(8);
            }
        }
        1 => {
            for _ in 0..1 + rng.below(4) {
                let i = pick(rng, out.len());
                out[i] = [0x00, 0xFF, 0x7F, 0x80][rng.below(4)];
            }
        }
        2 => {
            let i = pick(rng, out.len());
            let n = rng.below(8).min(out.len() - i);
            out.drain(i..i + n);
        }
        _ => out.truncate(rng.below(out.len())),
    }
    out
}

#[test]
fn no_panic_on_mutated_fixtures() {
    const MUTANTS: u64 = 200;
    // Tighter than the defaults so a mutated header claiming 150 MP is refused instead of
    // decoding garbage for seconds; the code paths are the same.
    let limits = Limits {
        max_pixels: 16_000_000,
        max_decode_bytes: 64 * 1024 * 1024,
        ..Limits::default()
    };
    let specs = [
        Spec::default(),
        Spec {
            max_edge: 16,
            format: OutputFormat::Webp,
            quality: 50,
        },
    ];
    let mut panics = Vec::new();
    let mut runs = 0;
    for (index, name) in expected().keys().enumerate() {
        let data = fixture(name);
        if data.is_empty() || name == "bomb.png" {
            continue;
        }
        let mut cases: Vec<(String, Vec<u8>)> = (0..MUTANTS)
            .map(|seed| {
                let seed = (index as u64) << 32 | seed;
                (format!("seed {seed}"), mutate(&data, &mut Rng::new(seed)))
            })
            .collect();
        // Every truncation point across the file, 40 of them.
        let step = (data.len() / 40).max(1);
        cases.extend(
            (0..data.len())
                .step_by(step)
                .map(|at| (format!("truncated at {at}"), data[..at].to_vec())),
        );
        for (what, input) in cases {
            for spec in &specs {
                runs += 1;
                let outcome = catch_unwind(AssertUnwindSafe(|| {
                    let _ = probe(&input, &limits);
                    let _ = thumbnail(&input, spec, &limits);
                }));
                if let Err(payload) = outcome {
                    let message = payload
                        .downcast_ref::<String>()
                        .map(String::as_str)
                        .or_else(|| payload.downcast_ref::<&str>().copied())
                        .unwrap_or("(no message)");
                    panics.push(format!("{name}, {what}, {spec:?}: {message}"));
                }
            }
        }
    }
    assert!(
        panics.is_empty(),
        "{} of {runs} runs panicked:\n  {}",
        panics.len(),
        panics.join("\n  ")
    );
}
