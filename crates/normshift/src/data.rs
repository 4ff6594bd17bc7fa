//! Built-in example data: the seed document's numbers.

/// The seed's batch: `[1, 2, 3, 4, 5]` (mean 3, variance 2).
pub const SEED_BATCH: [f64; 5] = [1.0, 2.0, 3.0, 4.0, 5.0];

/// House sizes in square feet seen in training (mean 1700, variance 20000).
pub const HOUSE_SIZES_TRAIN: [f64; 5] = [1500.0, 1600.0, 1700.0, 1800.0, 1900.0];

/// House prices in $1000s for [`HOUSE_SIZES_TRAIN`].
pub const HOUSE_PRICES_TRAIN: [f64; 5] = [300.0, 320.0, 340.0, 360.0, 380.0];

/// House sizes in square feet seen in deployment, another region (mean 1200, variance 20000).
pub const HOUSE_SIZES_DEPLOY: [f64; 5] = [1000.0, 1100.0, 1200.0, 1300.0, 1400.0];
