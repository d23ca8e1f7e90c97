//! The statistics a sweep's summary reports: Wilson score intervals for proportions and Student
//! t intervals for means, at 95 %.

/// The standard normal quantile for a two-sided 95 % interval (z at 0.975).
pub const Z95: f64 = 1.959_963_984_540_054;

/// Student t quantiles at 0.975 for 1 to 30 degrees of freedom (standard tables).
const T975: [f64; 30] = [
    12.706_205, 4.302_653, 3.182_446, 2.776_445, 2.570_582, 2.446_912, 2.364_624, 2.306_004,
    2.262_157, 2.228_139, 2.200_985, 2.178_813, 2.160_369, 2.144_787, 2.131_450, 2.119_905,
    2.109_816, 2.100_922, 2.093_024, 2.085_963, 2.079_614, 2.073_873, 2.068_658, 2.063_899,
    2.059_539, 2.055_529, 2.051_831, 2.048_407, 2.045_230, 2.042_272,
];

/// The 95 % Wilson score interval (lo, hi) for `successes` out of `trials`; (0, 1) for no trials.
///
/// Unlike the normal ("Wald") interval it stays inside [0, 1] and is not empty at 0 or n
/// successes, which is where a sweep's interesting points lie.
pub fn wilson(successes: u64, trials: u64) -> (f64, f64) {
    if trials == 0 {
        return (0.0, 1.0);
    }
    let n = trials as f64;
    let p = successes.min(trials) as f64 / n;
    let z2 = Z95 * Z95;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// Student t quantile at 0.975 for `df` degrees of freedom (`df` >= 1).
///
/// Exact table values up to 30; beyond, the Cornish-Fisher expansion in 1/df, which is within
/// 1e-5 of the true quantile there.
pub fn t975(df: u64) -> f64 {
    match df {
        0 => f64::INFINITY,
        1..=30 => T975[(df - 1) as usize],
        _ => {
            let z = Z95;
            let v = df as f64;
            let (z3, z5, z7) = (z.powi(3), z.powi(5), z.powi(7));
            z + (z3 + z) / (4.0 * v)
                + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * v * v)
                + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * v * v * v)
        }
    }
}

/// The mean of `values` and its 95 % Student t confidence interval (mean, lo, hi).
///
/// `None` when there are no values; lo and hi are NaN for a single value (no spread to estimate).
pub fn mean_ci(values: &[f64]) -> Option<(f64, f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return Some((mean, f64::NAN, f64::NAN));
    }
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0);
    let half = t975(values.len() as u64 - 1) * (var / n).sqrt();
    Some((mean, mean - half, mean + half))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn wilson_at_none_half_and_all_of_twenty() {
        // z = 1.959964, z^2 = 3.841459, z^2/n = 0.192073, denominator 1 + z^2/n = 1.192073.
        // 0/20: centre = (0 + z^2/40) / 1.192073 = 0.096036 / 1.192073 = 0.080563;
        //       half = z * sqrt(0 + z^2/1600) / 1.192073 = z * 0.048999 / 1.192073 = 0.080563;
        //       so (0, 0.161126).
        let (lo, hi) = wilson(0, 20);
        assert_eq!(lo, 0.0);
        assert!(close(hi, 0.161_126, 1e-5), "{hi}");
        // 10/20: centre = (0.5 + 0.096036) / 1.192073 = 0.5;
        //        half = z * sqrt(0.25/20 + 0.002401) / 1.192073 = z * 0.122069 / 1.192073
        //             = 0.239252 / 1.192073 = 0.200702; so (0.299298, 0.700702).
        let (lo, hi) = wilson(10, 20);
        assert!(close(lo, 0.299_298, 1e-5), "{lo}");
        assert!(close(hi, 0.700_702, 1e-5), "{hi}");
        // 20/20 mirrors 0/20: (1 - 0.161126, 1) = (0.838874, 1).
        let (lo, hi) = wilson(20, 20);
        assert!(close(lo, 0.838_874, 1e-5), "{lo}");
        assert_eq!(hi, 1.0);
    }

    #[test]
    fn wilson_degenerate_inputs_stay_in_range() {
        assert_eq!(wilson(0, 0), (0.0, 1.0));
        let (lo, hi) = wilson(5, 3); // more successes than trials counts as all
        assert!((0.0..=1.0).contains(&lo) && hi == 1.0);
        // 1/1: centre = (1 + z^2/2) / (1 + z^2) = 2.920730 / 4.841459 = 0.603273;
        //      half = z * sqrt(z^2/4) / 4.841459 = 1.920729 / 4.841459 = 0.396727.
        let (lo, hi) = wilson(1, 1);
        assert!(close(lo, 0.206_549, 1e-5), "{lo}");
        assert_eq!(hi, 1.0);
    }

    #[test]
    fn t_quantiles_match_tables_and_tend_to_z() {
        assert!(close(t975(1), 12.706_205, 1e-6));
        assert!(close(t975(19), 2.093_024, 1e-6));
        // Tables: t(0.975, 40) = 2.021075, t(0.975, 60) = 2.000298, t(0.975, 120) = 1.979930.
        assert!(close(t975(40), 2.021_075, 2e-5), "{}", t975(40));
        assert!(close(t975(60), 2.000_298, 1e-5), "{}", t975(60));
        assert!(close(t975(120), 1.979_930, 1e-5), "{}", t975(120));
        assert!(close(t975(1_000_000), Z95, 1e-5));
        assert!(t975(0).is_infinite());
    }

    #[test]
    fn mean_ci_of_one_to_five() {
        // mean 3, s = sqrt(2.5) = 1.581139, s/sqrt(5) = 0.707107, t(4) = 2.776445:
        // half = 1.963243, so (1.036757, 4.963243).
        let (m, lo, hi) = mean_ci(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert_eq!(m, 3.0);
        assert!(close(lo, 1.036_757, 1e-5), "{lo}");
        assert!(close(hi, 4.963_243, 1e-5), "{hi}");
        assert!(mean_ci(&[]).is_none());
        let (m, lo, hi) = mean_ci(&[7.0]).unwrap();
        assert_eq!(m, 7.0);
        assert!(lo.is_nan() && hi.is_nan());
        // No spread: the interval collapses onto the mean.
        assert_eq!(mean_ci(&[0.0; 20]).unwrap(), (0.0, 0.0, 0.0));
    }
}
