//! An in-memory order-statistics index of one board season: the rank of any record in
//! microseconds. Counting rows ahead of a mid-table record in SQL is linear (tens of
//! milliseconds at a million records); this keeps the sorted keys in blocks so an insert moves at
//! most one block and a rank sums block sizes.

use std::collections::HashMap;

/// A record's position key: lower sorts first (sort key, then earlier achiever, then id).
pub type RankKey = (i64, i64, i64);

const BLOCK: usize = 1024;

/// Sorted keys in blocks of at most `2 * BLOCK`, plus each account's current key.
#[derive(Debug, Default)]
pub struct RankIndex {
    blocks: Vec<Vec<RankKey>>,
    by_account: HashMap<i64, RankKey>,
}

impl RankIndex {
    /// Builds from keys already sorted ascending (as `ORDER BY` returns them).
    pub fn from_sorted(keys: impl IntoIterator<Item = RankKey>) -> RankIndex {
        let mut index = RankIndex::default();
        let mut block = Vec::with_capacity(BLOCK);
        for key in keys {
            index.by_account.insert(key.2, key);
            block.push(key);
            if block.len() == BLOCK {
                index
                    .blocks
                    .push(std::mem::replace(&mut block, Vec::with_capacity(BLOCK)));
            }
        }
        if !block.is_empty() {
            index.blocks.push(block);
        }
        index
    }

    pub fn len(&self) -> usize {
        self.by_account.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_account.is_empty()
    }

    pub fn key_of(&self, account_id: i64) -> Option<RankKey> {
        self.by_account.get(&account_id).copied()
    }

    /// Sets an account's key (inserting or moving it); `None` removes it.
    pub fn set(&mut self, account_id: i64, key: Option<RankKey>) {
        if let Some(old) = self.by_account.remove(&account_id) {
            self.remove_key(old);
        }
        if let Some(key) = key {
            self.by_account.insert(account_id, key);
            self.insert_key(key);
        }
    }

    /// The 1-based rank of `account_id`, if it has a record.
    pub fn rank(&self, account_id: i64) -> Option<u64> {
        let key = self.key_of(account_id)?;
        Some(self.count_before(key) + 1)
    }

    /// How many keys sort before `key`.
    pub fn count_before(&self, key: RankKey) -> u64 {
        let mut count = 0u64;
        for block in &self.blocks {
            // Invariant: blocks are never empty.
            if block[block.len() - 1] < key {
                count += block.len() as u64;
            } else {
                count += block.partition_point(|k| *k < key) as u64;
                break;
            }
        }
        count
    }

    fn block_for(&self, key: RankKey) -> usize {
        let i = self.blocks.partition_point(|b| b[b.len() - 1] < key);
        i.min(self.blocks.len().saturating_sub(1))
    }

    fn insert_key(&mut self, key: RankKey) {
        if self.blocks.is_empty() {
            self.blocks.push(vec![key]);
            return;
        }
        let b = self.block_for(key);
        let block = &mut self.blocks[b];
        let at = block.partition_point(|k| *k < key);
        block.insert(at, key);
        if block.len() > 2 * BLOCK {
            let tail = block.split_off(BLOCK);
            self.blocks.insert(b + 1, tail);
        }
    }

    fn remove_key(&mut self, key: RankKey) {
        if self.blocks.is_empty() {
            return;
        }
        let b = self.block_for(key);
        let block = &mut self.blocks[b];
        if let Ok(at) = block.binary_search(&key) {
            block.remove(at);
            if block.is_empty() {
                self.blocks.remove(b);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn ranks_match_a_sorted_list(ops in proptest::collection::vec((0i64..300, -50i64..50, 0i64..5, any::<bool>()), 1..3000)) {
            let mut index = RankIndex::default();
            let mut model: std::collections::BTreeMap<i64, RankKey> = Default::default();
            for (account, score, at, remove) in ops {
                if remove {
                    index.set(account, None);
                    model.remove(&account);
                } else {
                    let key = (score, at, account);
                    index.set(account, Some(key));
                    model.insert(account, key);
                }
            }
            let mut sorted: Vec<RankKey> = model.values().copied().collect();
            sorted.sort();
            prop_assert_eq!(index.len(), sorted.len());
            for (i, key) in sorted.iter().enumerate() {
                prop_assert_eq!(index.rank(key.2), Some(i as u64 + 1));
            }
        }
    }

    #[test]
    fn a_large_index_splits_blocks_and_keeps_ranks() {
        let keys: Vec<RankKey> = (0..10_000).map(|i| (i / 3, i % 3, i)).collect();
        let mut index = RankIndex::from_sorted(keys);
        assert_eq!(index.rank(0), Some(1), "first");
        assert_eq!(index.rank(9_999), Some(10_000), "last");
        for i in 0..5_000 {
            index.set(100_000 + i, Some((1_000, 0, 100_000 + i)));
        }
        assert_eq!(
            index.rank(9_999),
            Some(15_000),
            "pushed down by 5000 inserted ahead"
        );
        assert_eq!(
            index.rank(3_000),
            Some(3_001),
            "inserted ties with higher ids sort after it"
        );
        index.set(0, None);
        assert_eq!(
            index.rank(1),
            Some(1),
            "removing the leader promotes the next"
        );
    }
}
