//! Holdout groups: the people a broadcast (or journey) does not send to, so that what it did
//! can be measured against them.

use uuid::Uuid;
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// Seed of the holdout hash, so that holdouts are independent of any other hash of the same
/// ids (experiment assignment, partitioning). Fixed forever: changing it would move people
/// between groups.
const SEED: u64 = 0x6865_7261_6c64_686f; // "heraldho"

/// Whether `profile_id` is in the holdout of `scope_id` (a broadcast or journey id) at
/// `percent` (0 to 100; outside that range or NaN it is clamped, NaN as 0).
///
/// XXH3-64 of the two ids' bytes maps each person to a point of [0, 1) with a resolution of
/// one in a million; the holdout is the points below `percent / 100`. So the same person is
/// always in or out of a given scope's holdout, a larger percentage keeps everyone a smaller
/// one held out, and different scopes hold out independent groups.
pub fn in_holdout(scope_id: Uuid, profile_id: Uuid, percent: f64) -> bool {
    let percent = if percent.is_nan() {
        0.0
    } else {
        percent.clamp(0.0, 100.0)
    };
    let parts_per_million = (percent * 10_000.0).round() as u128;
    let mut bytes = [0u8; 32];
    bytes[..16].copy_from_slice(scope_id.as_bytes());
    bytes[16..].copy_from_slice(profile_id.as_bytes());
    let hash = xxh3_64_with_seed(&bytes, SEED);
    let point = (u128::from(hash) * 1_000_000) >> 64;
    point < parts_per_million
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn people(seed: u128, n: u128) -> impl Iterator<Item = Uuid> {
        // Sequential ids are the hard case for a hash (Herald's profile ids sort by creation).
        (0..n).map(move |i| Uuid::from_u128(seed.wrapping_mul(1_000_003) + i))
    }

    #[test]
    fn edges() {
        let scope = Uuid::from_u128(1);
        for p in people(5, 1_000) {
            assert!(!in_holdout(scope, p, 0.0));
            assert!(!in_holdout(scope, p, -5.0));
            assert!(!in_holdout(scope, p, f64::NAN));
            assert!(in_holdout(scope, p, 100.0));
            assert!(in_holdout(scope, p, 250.0));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Over 20,000 people the share held out is within 5 standard deviations of the
        /// percentage (binomial; a false failure has odds of about 1 in 3.5 million).
        #[test]
        fn share_is_the_percentage(scope in any::<u128>(), seed in any::<u128>(), percent in 0.0f64..100.0) {
            let n = 20_000u32;
            let scope = Uuid::from_u128(scope);
            let held = people(seed, u128::from(n)).filter(|p| in_holdout(scope, *p, percent)).count();
            let p = percent / 100.0;
            let sd = (f64::from(n) * p * (1.0 - p)).sqrt();
            let expected = f64::from(n) * p;
            prop_assert!((held as f64 - expected).abs() <= 5.0 * sd + 1.0,
                "{held} held out of {n} at {percent}% (expected {expected:.0} ± {:.0})", 5.0 * sd);
        }

        /// Raising the percentage only adds people.
        #[test]
        fn groups_are_nested(scope in any::<u128>(), seed in any::<u128>(), a in 0.0f64..100.0, b in 0.0f64..100.0) {
            let (low, high) = if a < b { (a, b) } else { (b, a) };
            let scope = Uuid::from_u128(scope);
            for p in people(seed, 2_000) {
                prop_assert!(!in_holdout(scope, p, low) || in_holdout(scope, p, high));
            }
        }

        /// Two scopes' 50% holdouts overlap on about a quarter of people: independent.
        #[test]
        fn scopes_are_independent(a in any::<u128>(), b in any::<u128>(), seed in any::<u128>()) {
            prop_assume!(a != b);
            let n = 20_000u32;
            let both = people(seed, u128::from(n))
                .filter(|p| in_holdout(Uuid::from_u128(a), *p, 50.0) && in_holdout(Uuid::from_u128(b), *p, 50.0))
                .count();
            let sd = (f64::from(n) * 0.25 * 0.75).sqrt();
            prop_assert!((both as f64 - f64::from(n) * 0.25).abs() <= 5.0 * sd, "{both} of {n} in both");
        }
    }
}
