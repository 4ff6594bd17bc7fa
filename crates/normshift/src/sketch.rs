//! A mergeable quantile sketch (KLL: Karnin, Lang & Liberty, 2016).
//!
//! Values live in levels; an item at level `h` stands for `2^h` input values. When the sketch
//! outgrows its capacity, the lowest full level is sorted and every other item (odd or even
//! positions, by a coin flip) is promoted one level up. Memory is `O(k · log(n / k))`, about
//! 3·k values, and two sketches merge by concatenating levels and compacting again.
//!
//! Accuracy is stated as *rank* error: an estimated CDF differs from the true one by at most
//! a fraction ε of the count. For `k = 200` the KLL analysis gives ε ≈ 1.3% with 99%
//! probability for any single query; `tests/profile.rs` measures the worst error over
//! whole CDFs on seeded streams (see README). Until the first compaction (`n ≤ k`) the sketch
//! is exact. The coin flips come from a generator seeded by the sketch's own state, so the
//! same input in the same order always gives the same sketch.

use serde::{Deserialize, Serialize};

/// Default accuracy parameter.
pub const DEFAULT_K: u32 = 200;

/// Levels a sketch may have: an item at level `h` weighs `2^h`, so weights stay in `u64`.
const MAX_LEVELS: usize = 63;

/// A KLL quantile sketch over finite `f64` values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "SketchFields")]
pub struct QuantileSketch {
    k: u32,
    n: u64,
    levels: Vec<Vec<f64>>,
    coin: u64,
}

/// A sketch as read from JSON, checked before use ([`QuantileSketch`]'s `try_from`).
#[derive(Deserialize)]
struct SketchFields {
    k: u32,
    n: u64,
    levels: Vec<Vec<f64>>,
    coin: u64,
}

impl TryFrom<SketchFields> for QuantileSketch {
    type Error = String;

    /// Refuses what no sketch of this crate can be ([`QuantileSketch::check`]).
    fn try_from(f: SketchFields) -> Result<Self, String> {
        let sketch = Self {
            k: f.k,
            n: f.n,
            levels: f.levels,
            coin: f.coin,
        };
        sketch.check()?;
        Ok(sketch)
    }
}

impl QuantileSketch {
    /// An empty sketch with accuracy parameter `k` (at least 8).
    pub fn new(k: u32) -> Self {
        Self {
            k: k.max(8),
            n: 0,
            levels: vec![Vec::new()],
            coin: 0x9E37_79B9_7F4A_7C15,
        }
    }

    /// Refuses what no sketch of this crate can be (found by fuzzing the profile parser):
    /// `k < 8` (an infinite error bound), no level 0, more levels than `u64` weights allow,
    /// non-finite items, and a count `n` other than the items' total weight.
    pub fn check(&self) -> Result<(), String> {
        if self.k < 8 {
            return Err(format!("sketch k must be at least 8, got {}", self.k));
        }
        if self.levels.is_empty() || self.levels.len() > MAX_LEVELS {
            return Err(format!(
                "a sketch has 1 to {MAX_LEVELS} levels, this one has {}",
                self.levels.len()
            ));
        }
        if self.levels.iter().flatten().any(|v| !v.is_finite()) {
            return Err("sketch items must be finite numbers".into());
        }
        let weight = self
            .levels
            .iter()
            .enumerate()
            .try_fold(0u64, |total, (h, level)| {
                (level.len() as u64)
                    .checked_mul(1u64 << h)
                    .and_then(|w| total.checked_add(w))
            });
        if weight != Some(self.n) {
            return Err(format!(
                "sketch count n = {} does not match its items' total weight",
                self.n
            ));
        }
        Ok(())
    }

    /// The accuracy parameter.
    pub fn k(&self) -> u32 {
        self.k
    }

    /// Values summarized.
    pub fn count(&self) -> u64 {
        self.n
    }

    /// Whether the sketch still holds every value exactly (no compaction yet).
    pub fn is_exact(&self) -> bool {
        self.levels.len() == 1
    }

    /// The rank-error bound ε this sketch reports (0 while exact): `2.296 / k^0.9723`, the
    /// 99%-confidence single-query fit published for KLL by Apache DataSketches (1.33% at
    /// k = 200). `tests/profile.rs` checks whole CDFs of this implementation against it.
    pub fn rank_error(&self) -> f64 {
        if self.is_exact() {
            0.0
        } else {
            2.296 / f64::from(self.k).powf(0.9723)
        }
    }

    fn capacity(&self, level: usize) -> usize {
        let depth = (self.levels.len() - 1 - level) as i32;
        ((f64::from(self.k) * (2.0f64 / 3.0).powi(depth)).ceil() as usize).max(2)
    }

    /// Every level's capacity for the current height. Checked around every run of new
    /// values; recomputing them there (a `powi` and a `ceil` per level) took a fifth of
    /// sketching time, so they are computed once per change of height.
    fn capacities(&self) -> Capacities {
        let per_level: Vec<usize> = (0..self.levels.len()).map(|h| self.capacity(h)).collect();
        Capacities {
            total: per_level.iter().sum(),
            per_level,
        }
    }

    fn retained(&self) -> usize {
        self.levels.iter().map(Vec::len).sum()
    }

    fn flip(&mut self) -> usize {
        // xorshift64*: deterministic, seeded by the sketch's state.
        self.coin ^= self.coin >> 12;
        self.coin ^= self.coin << 25;
        self.coin ^= self.coin >> 27;
        (self.coin.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 63) as usize
    }

    /// Adds one finite value (callers count NaN and infinities separately).
    pub fn insert(&mut self, value: f64) {
        self.extend(&[value]);
    }

    /// Adds finite values. Between compactions only level 0 grows, so values are appended in
    /// runs that fill the free capacity, and the capacity is checked once per run.
    pub fn extend(&mut self, mut values: &[f64]) {
        debug_assert!(values.iter().all(|v| v.is_finite()));
        let mut caps = self.capacities();
        while !values.is_empty() {
            if caps.per_level.len() != self.levels.len() {
                caps = self.capacities();
            }
            let retained = self.retained();
            let room = (caps.total + 1).saturating_sub(retained).max(1);
            let (run, rest) = values.split_at(room.min(values.len()));
            self.levels[0].extend_from_slice(run);
            self.n += run.len() as u64;
            values = rest;
            if retained + run.len() > caps.total {
                self.compress_with(&mut caps);
            }
        }
    }

    fn compress(&mut self) {
        let mut caps = self.capacities();
        self.compress_with(&mut caps);
    }

    /// Compacts levels until the sketch fits; `caps` is refreshed when the height changes.
    fn compress_with(&mut self, caps: &mut Capacities) {
        loop {
            if caps.per_level.len() != self.levels.len() {
                *caps = self.capacities();
            }
            if self.retained() <= caps.total {
                return;
            }
            let Some(h) =
                (0..self.levels.len()).find(|&h| self.levels[h].len() >= caps.per_level[h])
            else {
                return;
            };
            if h + 1 == self.levels.len() {
                self.levels.push(Vec::new());
            }
            let offset = self.flip();
            // In place, so a level keeps its buffer from one compaction to the next.
            let (lower, upper) = self.levels.split_at_mut(h + 1);
            let items = &mut lower[h];
            // As `sort_unstable_by(f64::total_cmp)`, bit for bit, on integer keys. This sort
            // is about a third of the samples when profiling a Parquet file (perf); keys cut
            // the CPU time of `fit` on a 300 MB Parquet file by about 5% (1.73 -> 1.53-1.71 s
            // user, four interleaved pairs), profiles byte-identical.
            *items = normshift_stats::sort_total_order(std::mem::take(items));
            // An odd item out (the largest) stays at this level so no weight is lost.
            let odd = if items.len() % 2 == 1 {
                items.pop()
            } else {
                None
            };
            upper[0].extend(items.iter().skip(offset).step_by(2));
            items.clear();
            items.extend(odd);
        }
    }

    /// Merges `other` into `self` (the result summarizes both inputs). Refused, leaving
    /// `self` as it was, when together they summarize more than `u64::MAX` values: a
    /// saturated count no longer matched the items' weight, so the merged profile could not
    /// be read back. (Below that count the levels stay within [`MAX_LEVELS`]: a 64th level
    /// takes compacting level 62, which happens at `k` ≥ 8 items of weight 2^62, 2^65 values.)
    pub fn merge(&mut self, other: &QuantileSketch) -> Result<(), String> {
        let n = self.n.checked_add(other.n).ok_or_else(|| {
            format!(
                "the sketches summarize {} and {} values, more than 2^64 - 1 together",
                self.n, other.n
            )
        })?;
        while self.levels.len() < other.levels.len() {
            self.levels.push(Vec::new());
        }
        for (h, items) in other.levels.iter().enumerate() {
            self.levels[h].extend_from_slice(items);
        }
        self.n = n;
        self.coin ^= other.coin.rotate_left(17);
        if self.coin == 0 {
            self.coin = 0x9E37_79B9_7F4A_7C15;
        }
        self.compress();
        Ok(())
    }

    /// The retained items with their weights, sorted by value.
    pub fn weighted_items(&self) -> Vec<(f64, u64)> {
        let mut items: Vec<(f64, u64)> = self
            .levels
            .iter()
            .enumerate()
            .flat_map(|(h, level)| level.iter().map(move |&v| (v, weight(h))))
            .collect();
        items.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        items
    }

    /// Estimated fraction of values `≤ x`.
    pub fn cdf(&self, x: f64) -> f64 {
        if self.n == 0 {
            return f64::NAN;
        }
        let below: u64 = self
            .levels
            .iter()
            .enumerate()
            .map(|(h, level)| {
                (level.iter().filter(|&&v| v <= x).count() as u64).saturating_mul(weight(h))
            })
            .fold(0u64, u64::saturating_add);
        below as f64 / self.n as f64
    }

    /// Estimated `q`-quantile (`q` in `[0, 1]`): the smallest retained value whose
    /// cumulative weight reaches `q · n`.
    pub fn quantile(&self, q: f64) -> f64 {
        let items = self.weighted_items();
        quantile_of_weighted(&items, self.n, q)
    }
}

/// The capacities of a sketch's levels at one height, and their sum.
struct Capacities {
    per_level: Vec<usize>,
    total: usize,
}

/// Weight of an item at level `h`: `2^h`, saturating past level 63 (which a checked sketch
/// never has: see [`QuantileSketch::merge`]).
fn weight(h: usize) -> u64 {
    u32::try_from(h)
        .ok()
        .and_then(|h| 1u64.checked_shl(h))
        .unwrap_or(u64::MAX)
}

/// The `q`-quantile of sorted `(value, weight)` pairs totalling `n`.
pub(crate) fn quantile_of_weighted(items: &[(f64, u64)], n: u64, q: f64) -> f64 {
    if items.is_empty() {
        return f64::NAN;
    }
    let target = (q.clamp(0.0, 1.0) * n as f64).max(1.0);
    let mut cumulative = 0u64;
    for &(v, w) in items {
        cumulative = cumulative.saturating_add(w);
        if cumulative as f64 >= target {
            return v;
        }
    }
    items[items.len() - 1].0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sketch as first written: capacities recomputed at every check, each compaction
    /// taking the level out and building the promoted items in a new vector. The faster
    /// code must make the very same sketch (saved profiles and every reported number
    /// depend on it).
    struct Reference(QuantileSketch);

    impl Reference {
        fn total_capacity(&self) -> usize {
            (0..self.0.levels.len()).map(|h| self.0.capacity(h)).sum()
        }

        fn extend(&mut self, mut values: &[f64]) {
            while !values.is_empty() {
                let room = (self.total_capacity() + 1)
                    .saturating_sub(self.0.retained())
                    .max(1);
                let (run, rest) = values.split_at(room.min(values.len()));
                self.0.levels[0].extend_from_slice(run);
                self.0.n += run.len() as u64;
                values = rest;
                if self.0.retained() > self.total_capacity() {
                    self.compress();
                }
            }
        }

        fn compress(&mut self) {
            while self.0.retained() > self.total_capacity() {
                let s = &mut self.0;
                let Some(h) = (0..s.levels.len()).find(|&h| s.levels[h].len() >= s.capacity(h))
                else {
                    return;
                };
                if h + 1 == s.levels.len() {
                    s.levels.push(Vec::new());
                }
                let mut items = std::mem::take(&mut s.levels[h]);
                items.sort_unstable_by(f64::total_cmp);
                if items.len() % 2 == 1 {
                    let last = items.pop().unwrap();
                    s.levels[h].push(last);
                }
                let offset = s.flip();
                let promoted: Vec<f64> = items.iter().skip(offset).step_by(2).copied().collect();
                s.levels[h + 1].extend(promoted);
            }
        }
    }

    #[test]
    fn a_merge_past_u64_values_is_refused_and_changes_nothing() {
        // 2^63 values: two items of weight 2^62 at level 62, the highest level there is.
        let levels = format!("{}[1.0, 1.0]", "[], ".repeat(62));
        let text = format!(
            r#"{{"k": 8, "n": {}, "levels": [{levels}], "coin": 1}}"#,
            1u64 << 63
        );
        let half: QuantileSketch = serde_json::from_str(&text).unwrap();
        let mut merged = half.clone();
        let e = merged.merge(&half).unwrap_err();
        assert!(e.contains("more than 2^64 - 1 together"), "{e}");
        assert_eq!(merged, half);
        // One value less fits, and the result is a sketch that reads back.
        let mut one_less = QuantileSketch::new(8);
        one_less.n = (1 << 63) - 1;
        one_less.levels = vec![vec![1.0]; 63];
        merged.merge(&one_less).unwrap();
        assert_eq!(merged.count(), u64::MAX);
        merged.check().unwrap();
    }

    #[test]
    fn same_sketch_as_the_first_implementation() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = || {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            // A few distinct values now and then, so ties and odd levels occur.
            let u = (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64;
            if u < 0.1 {
                (u * 100.0).floor()
            } else {
                u * 1e3 - 500.0
            }
        };
        for (k, batch) in [(8u32, 1usize), (8, 37), (200, 1000), (200, 4096), (31, 3)] {
            let mut fast = QuantileSketch::new(k);
            let mut reference = Reference(QuantileSketch::new(k));
            let mut other = QuantileSketch::new(k);
            for round in 0..60 {
                let values: Vec<f64> = (0..batch * (1 + round % 7)).map(|_| next()).collect();
                fast.extend(&values);
                reference.extend(&values);
                other.extend(&values[..values.len() / 2]);
                assert_eq!(fast, reference.0, "k = {k}, batch = {batch}, round {round}");
            }
            // Merging compacts through the same path.
            let mut merged_fast = fast.clone();
            merged_fast.merge(&other).unwrap();
            let mut merged_reference = Reference(reference.0.clone());
            {
                let r = &mut merged_reference.0;
                while r.levels.len() < other.levels.len() {
                    r.levels.push(Vec::new());
                }
                for (h, items) in other.levels.iter().enumerate() {
                    r.levels[h].extend_from_slice(items);
                }
                r.n += other.n;
                r.coin ^= other.coin.rotate_left(17);
            }
            merged_reference.compress();
            assert_eq!(merged_fast, merged_reference.0, "merge, k = {k}");
        }
    }
}
