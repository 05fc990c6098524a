use crate::EngineError;

/// A column of variable-length keys: one UTF-8 (or arbitrary byte) blob plus `rows + 1`
/// offsets, the same layout as Arrow's binary arrays.
#[derive(Debug, Clone, Copy)]
pub struct KeyColumn<'a> {
    blob: &'a [u8],
    offsets: &'a [u32],
}

impl<'a> KeyColumn<'a> {
    /// Checks the offsets once so per-row access needs no further validation.
    pub fn new(blob: &'a [u8], offsets: &'a [u32]) -> Result<Self, EngineError> {
        let Some(&first) = offsets.first() else {
            return Err(EngineError::InvalidOffsets(
                "offsets must hold rows + 1 entries (at least one)".into(),
            ));
        };
        if first != 0 {
            return Err(EngineError::InvalidOffsets(format!(
                "offsets[0] must be 0, got {first}"
            )));
        }
        for (row, pair) in offsets.windows(2).enumerate() {
            if pair[1] < pair[0] {
                return Err(EngineError::InvalidOffsets(format!(
                    "offsets decrease at row {row}: {} > {}",
                    pair[0], pair[1]
                )));
            }
        }
        let last = *offsets.last().unwrap_or(&0) as usize;
        if last > blob.len() {
            return Err(EngineError::InvalidOffsets(format!(
                "last offset {last} is past the end of the {}-byte blob",
                blob.len()
            )));
        }
        Ok(Self { blob, offsets })
    }

    /// The whole blob the rows are slices of.
    pub fn blob(&self) -> &'a [u8] {
        self.blob
    }

    /// The `rows + 1` offsets.
    pub fn offsets(&self) -> &'a [u32] {
        self.offsets
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// True when the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes of row `row`. Panics if `row >= len()`.
    pub fn get(&self, row: usize) -> &'a [u8] {
        &self.blob[self.offsets[row] as usize..self.offsets[row + 1] as usize]
    }

    /// Iterates the rows in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        self.offsets
            .windows(2)
            .map(|w| &self.blob[w[0] as usize..w[1] as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rows_and_rejects_bad_offsets() {
        let column = KeyColumn::new(b"abcde", &[0, 2, 2, 5]).unwrap();
        assert_eq!(column.len(), 3);
        assert_eq!(column.get(0), b"ab");
        assert_eq!(column.get(1), b"");
        assert_eq!(
            column.iter().collect::<Vec<_>>(),
            vec![&b"ab"[..], b"", b"cde"]
        );
        assert!(KeyColumn::new(b"ab", &[]).is_err());
        assert!(KeyColumn::new(b"ab", &[1, 2]).is_err());
        assert!(KeyColumn::new(b"ab", &[0, 2, 1]).is_err());
        assert!(KeyColumn::new(b"ab", &[0, 3]).is_err());
    }
}
