//! Dictionary encoding of keys: each distinct key gets a dense id in first-seen order.
//!
//! Byte keys are hashed once and looked up by that hash in a table of ids; a candidate is
//! confirmed by comparing bytes against the dictionary's own copy. The table never holds
//! slices of the input, which keeps it small and cache-friendly (a table keyed by slices of
//! the input blob is no faster than a JavaScript `Map`).

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

/// Hash of a byte key for the dictionary table (not the partitioning hash).
#[inline]
pub fn key_hash_bytes(key: &[u8]) -> u64 {
    FxBuildHasher.hash_one(key)
}

/// Hash of an integer key for the dictionary table.
#[inline]
pub fn key_hash_i64(key: i64) -> u64 {
    FxBuildHasher.hash_one(key)
}

/// `a == b` for two slices of the same length, without a call to `memcmp` for keys of up to
/// 16 bytes (most words and ids): two overlapping 8- or 4-byte loads from each side. The call
/// and its length dispatch cost more than the comparison itself for such keys.
#[inline(always)]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    debug_assert_eq!(a.len(), b.len());
    let len = a.len();
    let word8 =
        |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().expect("8 bytes"));
    let word4 =
        |s: &[u8], at: usize| u32::from_le_bytes(s[at..at + 4].try_into().expect("4 bytes"));
    match len {
        0 => true,
        1..=3 => a[0] == b[0] && a[len / 2] == b[len / 2] && a[len - 1] == b[len - 1],
        4..=7 => word4(a, 0) == word4(b, 0) && word4(a, len - 4) == word4(b, len - 4),
        8..=16 => word8(a, 0) == word8(b, 0) && word8(a, len - 8) == word8(b, len - 8),
        _ => a == b,
    }
}

/// A table entry: where a key's bytes sit in the dictionary blob, and its id. Keeping the
/// position in the entry saves a lookup in `offsets` (a cache miss) on every probe.
#[derive(Debug, Clone, Copy)]
struct Slot {
    start: u32,
    len: u32,
    id: u32,
}

/// Distinct byte keys in first-seen order, with their ids.
#[derive(Debug, Default, Clone)]
pub struct BytesDictionary {
    table: HashTable<Slot>,
    hashes: Vec<u64>,
    blob: Vec<u8>,
    /// `len() + 1` offsets into `blob`.
    offsets: Vec<u32>,
}

impl BytesDictionary {
    /// An empty dictionary with room for `capacity` keys.
    pub fn with_capacity(capacity: usize) -> Self {
        let mut offsets = Vec::with_capacity(capacity + 1);
        offsets.push(0);
        Self {
            table: HashTable::with_capacity(capacity),
            hashes: Vec::with_capacity(capacity),
            blob: Vec::new(),
            offsets,
        }
    }

    /// Number of ids handed out (including removed ones).
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// True when no id was handed out.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// The bytes of key `id`.
    #[inline]
    pub fn get(&self, id: u32) -> &[u8] {
        let id = id as usize;
        &self.blob[self.offsets[id] as usize..self.offsets[id + 1] as usize]
    }

    /// The id of `key`, adding it when new. Returns `(id, true)` when the key was added.
    #[inline]
    pub fn intern(&mut self, key: &[u8]) -> (u32, bool) {
        self.intern_hashed(key, key_hash_bytes(key))
    }

    /// As [`intern`](Self::intern) with the key's hash already computed.
    #[inline]
    pub fn intern_hashed(&mut self, key: &[u8], hash: u64) -> (u32, bool) {
        let Self {
            table,
            hashes,
            blob,
            offsets,
        } = self;
        let found = table.find(hash, |slot| {
            slot.len as usize == key.len()
                && same_bytes(
                    &blob[slot.start as usize..(slot.start + slot.len) as usize],
                    key,
                )
        });
        if let Some(slot) = found {
            return (slot.id, false);
        }
        let id = hashes.len() as u32;
        let start = blob.len() as u32;
        hashes.push(hash);
        blob.extend_from_slice(key);
        offsets.push(blob.len() as u32);
        let slot = Slot {
            start,
            len: key.len() as u32,
            id,
        };
        table.insert_unique(hash, slot, |other| hashes[other.id as usize]);
        (id, true)
    }

    /// Forgets `id` for lookups: interning the same bytes again hands out a new id. The id's
    /// bytes stay readable until the dictionary is rebuilt.
    pub fn forget(&mut self, id: u32) {
        let hash = self.hashes[id as usize];
        if let Ok(entry) = self.table.find_entry(hash, |other| other.id == id) {
            entry.remove();
        }
    }

    /// The key blob and offsets of every id in id order.
    pub fn columns(&self) -> (&[u8], &[u32]) {
        (&self.blob, &self.offsets)
    }

    /// Consumes the dictionary into its key blob and offsets (id order).
    pub fn into_columns(self) -> (Vec<u8>, Vec<u32>) {
        (self.blob, self.offsets)
    }

    /// Bytes of memory held.
    pub fn memory_bytes(&self) -> usize {
        self.table.capacity() * (std::mem::size_of::<Slot>() + 1)
            + self.hashes.capacity() * 8
            + self.blob.capacity()
            + self.offsets.capacity() * 4
    }
}

/// Distinct 64-bit integer keys in first-seen order, with their ids.
#[derive(Debug, Default, Clone)]
pub struct I64Dictionary {
    /// `(key, id)`: the key sits in the entry, so a probe reads no other memory.
    table: HashTable<(i64, u32)>,
    keys: Vec<i64>,
}

impl I64Dictionary {
    /// An empty dictionary with room for `capacity` keys.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            table: HashTable::with_capacity(capacity),
            keys: Vec::with_capacity(capacity),
        }
    }

    /// Number of ids handed out (including removed ones).
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when no id was handed out.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key of `id`.
    #[inline]
    pub fn get(&self, id: u32) -> i64 {
        self.keys[id as usize]
    }

    /// The id of `key`, adding it when new. Returns `(id, true)` when the key was added.
    #[inline]
    pub fn intern(&mut self, key: i64) -> (u32, bool) {
        let hash = key_hash_i64(key);
        if let Some(&(_, id)) = self.table.find(hash, |&(other, _)| other == key) {
            return (id, false);
        }
        let id = self.keys.len() as u32;
        self.keys.push(key);
        self.table
            .insert_unique(hash, (key, id), |&(other, _)| key_hash_i64(other));
        (id, true)
    }

    /// Forgets `id` for lookups: interning the same key again hands out a new id.
    pub fn forget(&mut self, id: u32) {
        let key = self.keys[id as usize];
        if let Ok(entry) = self
            .table
            .find_entry(key_hash_i64(key), |&(_, other)| other == id)
        {
            entry.remove();
        }
    }

    /// Every key in id order.
    pub fn keys(&self) -> &[i64] {
        &self.keys
    }

    /// Consumes the dictionary into its keys (id order).
    pub fn into_keys(self) -> Vec<i64> {
        self.keys
    }

    /// Bytes of memory held.
    pub fn memory_bytes(&self) -> usize {
        self.table.capacity() * (std::mem::size_of::<(i64, u32)>() + 1) + self.keys.capacity() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_ids_follow_first_seen_order() {
        let mut dict = BytesDictionary::with_capacity(0);
        assert_eq!(dict.intern(b"b"), (0, true));
        assert_eq!(dict.intern(b""), (1, true));
        assert_eq!(dict.intern(b"b"), (0, false));
        assert_eq!(dict.intern("é".as_bytes()), (2, true));
        assert_eq!(dict.get(2), "é".as_bytes());
        dict.forget(0);
        assert_eq!(dict.intern(b"b"), (3, true));
        let (blob, offsets) = dict.columns();
        assert_eq!(blob, "béb".as_bytes());
        assert_eq!(offsets, &[0, 1, 1, 3, 4]);
    }

    #[test]
    fn compares_keys_of_every_short_length_byte_by_byte() {
        let base: Vec<u8> = (1..=20).collect();
        for len in 0..=20 {
            let a = &base[..len];
            assert!(same_bytes(a, a));
            for at in 0..len {
                let mut b = a.to_vec();
                b[at] ^= 0x80;
                assert!(!same_bytes(a, &b), "len {len}, differing at {at}");
            }
        }
    }

    #[test]
    fn i64_ids_follow_first_seen_order() {
        let mut dict = I64Dictionary::with_capacity(1);
        for (key, expected) in [(5, (0, true)), (-1, (1, true)), (5, (0, false))] {
            assert_eq!(dict.intern(key), expected);
        }
        dict.forget(1);
        assert_eq!(dict.intern(-1), (2, true));
        assert_eq!(dict.keys(), &[5, -1, -1]);
    }
}
