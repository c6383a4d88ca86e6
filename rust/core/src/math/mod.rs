//! Small dense maths shared by the models: softmax, argmax, the vector
//! kernels of [`simd`] (dot products and row updates) and the bfloat16
//! storage of [`bf16`].

pub mod bf16;
pub mod simd;

pub use simd::{axpy, axpy_dot, axpy_dot2, axpy_thr, axpy_thr_dot, axpy_thr_dot2, dot, dot2};

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

/// Column-major index of compressed rows, by a stable counting sort:
/// column `j` is held by the rows `rows[indptr[j]..indptr[j + 1]]`, in row
/// order, and `perm[..]` gives the position of each of those entries in the
/// row-major `indices` (left empty unless asked for).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CsrTranspose {
    pub indptr: Vec<usize>,
    pub rows: Vec<u32>,
    pub perm: Vec<u32>,
}

impl CsrTranspose {
    /// Build the index of the rows `indices[indptr[i]..indptr[i + 1]]`,
    /// every entry `< n_cols`.
    pub fn new(indptr: &[usize], indices: &[u32], n_cols: usize, with_perm: bool) -> Self {
        let mut col_ptr = vec![0usize; n_cols + 1];
        for &j in indices {
            col_ptr[j as usize + 1] += 1;
        }
        for j in 0..n_cols {
            col_ptr[j + 1] += col_ptr[j];
        }
        let mut next = col_ptr.clone();
        let mut rows = vec![0u32; indices.len()];
        let mut perm = if with_perm {
            vec![0u32; indices.len()]
        } else {
            Vec::new()
        };
        for (i, w) in indptr.windows(2).enumerate() {
            for e in w[0]..w[1] {
                let j = indices[e] as usize;
                rows[next[j]] = i as u32;
                if with_perm {
                    perm[next[j]] = e as u32;
                }
                next[j] += 1;
            }
        }
        Self {
            indptr: col_ptr,
            rows,
            perm,
        }
    }

    /// Bytes held (capacity).
    pub fn memory_bytes(&self) -> usize {
        self.indptr.capacity() * std::mem::size_of::<usize>()
            + (self.rows.capacity() + self.perm.capacity()) * std::mem::size_of::<u32>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csr_transpose_lists_each_column_in_row_order() {
        // rows: 0 -> {1, 2}, 1 -> {}, 2 -> {0, 2}
        let t = CsrTranspose::new(&[0, 2, 2, 4], &[1, 2, 0, 2], 4, true);
        assert_eq!(t.indptr, vec![0, 1, 2, 4, 4]);
        assert_eq!(t.rows, vec![2, 0, 0, 2]);
        assert_eq!(t.perm, vec![2, 0, 1, 3]);
        assert!(CsrTranspose::new(&[0, 2, 2, 4], &[1, 2, 0, 2], 4, false)
            .perm
            .is_empty());
    }

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
