//! Small dense maths shared by the models: softmax, argmax and the
//! vector kernels of [`simd`] (dot products and row updates).

pub mod simd;

pub use simd::{axpy, axpy_dot, axpy_dot2, axpy_thr, dot};

/// Numerically stable softmax of one row, in place.
pub fn softmax(z: &mut [f32]) {
    let m = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut s = 0.0f32;
    for v in z.iter_mut() {
        *v = (*v - m).exp();
        s += *v;
    }
    for v in z.iter_mut() {
        *v /= s;
    }
}

/// Index of the largest entry (the first of equal maxima; 0 when empty).
pub fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_sums_to_one_and_argmax_takes_the_first_maximum() {
        let mut z = vec![1.0f32, 3.0, 3.0, -2.0];
        softmax(&mut z);
        assert!((z.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert_eq!(argmax(&z), 1);
        assert_eq!(argmax(&[]), 0);
        let mut big = vec![1000.0f32, 1000.0];
        softmax(&mut big);
        assert_eq!(big, vec![0.5, 0.5]);
    }
}
