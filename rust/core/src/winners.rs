//! k-winners-take-all over dense activity.
//!
//! Ties are broken towards the lower unit index, so the winners are a pure
//! function of the input (no dependence on sort stability or threads).

use crate::error::{check_len, Error, Result};
use rayon::prelude::*;
use std::cmp::Ordering;

#[inline]
fn rank(x: &[f32], a: u32, b: u32) -> Ordering {
    // Larger value first; equal values: lower index first.
    x[b as usize]
        .total_cmp(&x[a as usize])
        .then_with(|| a.cmp(&b))
}

/// The `k` winners of one row, in ascending unit order.
pub fn kwta_row(x: &[f32], k: usize) -> Vec<u32> {
    let n = x.len();
    let k = k.min(n);
    if k == 0 {
        return Vec::new();
    }
    let mut idx: Vec<u32> = (0..n as u32).collect();
    if k < n {
        // Selection, not a full sort: O(n) per row.
        idx.select_nth_unstable_by(k - 1, |&a, &b| rank(x, a, b));
        idx.truncate(k);
    }
    idx.sort_unstable();
    idx
}

/// Winner mask (1 = winner) of each row of a `rows × cols` matrix.
pub fn kwta_mask(x: &[f32], rows: usize, cols: usize, k: usize) -> Result<Vec<u8>> {
    check_len("activity", x.len(), rows, cols)?;
    if k > cols {
        return Err(Error::Value(format!(
            "k = {k} winners requested from {cols} units"
        )));
    }
    let mut mask = vec![0u8; rows * cols];
    if cols == 0 {
        return Ok(mask);
    }
    mask.par_chunks_mut(cols)
        .zip(x.par_chunks(cols))
        .for_each(|(m, row)| {
            for j in kwta_row(row, k) {
                m[j as usize] = 1;
            }
        });
    Ok(mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_go_to_lower_index() {
        assert_eq!(kwta_row(&[1.0, 3.0, 3.0, 3.0], 2), vec![1, 2]);
        assert_eq!(kwta_row(&[0.0; 5], 3), vec![0, 1, 2]);
    }

    #[test]
    fn k_larger_than_row_is_rejected() {
        assert!(kwta_mask(&[1.0, 2.0], 1, 2, 3).is_err());
        assert_eq!(kwta_mask(&[1.0, 2.0], 1, 2, 2).unwrap(), vec![1, 1]);
    }
}
