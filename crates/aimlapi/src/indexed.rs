//! A map from an index (a choice's, a tool call's, a content block's) to what a stream has told
//! of it so far, in index order.
//!
//! A stream's fold holds one for each of its choices and blocks, and almost always holds one or
//! two entries: a `BTreeMap` allocates a node of eleven on its first insert (3.5 KB for a chat
//! choice, a stream's largest allocation once it was open), where this is a sorted `Vec` that
//! holds what it holds.

/// Entries sorted by their index, each index once.
#[derive(Clone, Debug)]
pub(crate) struct Indexed<K, V>(Vec<(K, V)>);

impl<K, V> Default for Indexed<K, V> {
    fn default() -> Self {
        Indexed(Vec::new())
    }
}

impl<K: Ord + Copy, V> Indexed<K, V> {
    fn find(&self, key: &K) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.cmp(key))
    }

    pub(crate) fn get(&self, key: &K) -> Option<&V> {
        self.find(key).ok().map(|at| &self.0[at].1)
    }

    pub(crate) fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.find(key).ok().map(|at| &mut self.0[at].1)
    }

    /// Puts `value` at `key`, giving back what was there.
    pub(crate) fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(at) => Some(std::mem::replace(&mut self.0[at].1, value)),
            Err(at) => {
                self.put(at, key, value);
                None
            }
        }
    }

    /// A new entry at `at`: room for one the first time (a `Vec` makes room for four), then
    /// twice what it held.
    fn put(&mut self, at: usize, key: K, value: V) {
        if self.0.len() == self.0.capacity() {
            self.0.reserve_exact(self.0.len().max(1));
        }
        self.0.insert(at, (key, value));
    }

    pub(crate) fn remove(&mut self, key: &K) -> Option<V> {
        self.find(key).ok().map(|at| self.0.remove(at).1)
    }

    /// The entry at `key`, made with its default first if there is none.
    pub(crate) fn entry_or_default(&mut self, key: K) -> &mut V
    where
        V: Default,
    {
        let at = match self.find(&key) {
            Ok(at) => at,
            Err(at) => {
                self.put(at, key, V::default());
                at
            }
        };
        &mut self.0[at].1
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &K> {
        self.0.iter().map(|(k, _)| k)
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &V> {
        self.0.iter().map(|(_, v)| v)
    }

    pub(crate) fn into_values(self) -> impl Iterator<Item = V> {
        self.0.into_iter().map(|(_, v)| v)
    }
}

impl<K, V> IntoIterator for Indexed<K, V> {
    type Item = (K, V);
    type IntoIter = std::vec::IntoIter<(K, V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::Indexed;

    #[test]
    fn keeps_entries_in_index_order_whatever_order_they_come_in() {
        let mut m = Indexed::default();
        assert!(m.is_empty());
        m.insert(9, 0);
        assert_eq!(m.0.capacity(), 1, "one entry takes the room of one");
        m.remove(&9);
        for k in [3, 0, 7, 1] {
            *m.entry_or_default(k) += k * 10;
        }
        *m.entry_or_default(3) += 1;
        assert_eq!(m.insert(1, 99), Some(10));
        assert_eq!(m.insert(5, 50), None);
        assert_eq!(m.keys().copied().collect::<Vec<_>>(), [0, 1, 3, 5, 7]);
        assert_eq!(m.0.capacity(), 8, "room for one, then twice what it held");
        assert_eq!(m.get(&3), Some(&31));
        assert_eq!(m.get(&4), None);
        *m.get_mut(&7).unwrap() += 1;
        assert_eq!(m.remove(&0), Some(0));
        assert_eq!(m.remove(&0), None);
        assert_eq!(m.values().copied().collect::<Vec<_>>(), [99, 31, 50, 71]);
        assert_eq!(
            m.clone().into_iter().collect::<Vec<_>>(),
            [(1, 99), (3, 31), (5, 50), (7, 71)]
        );
        assert_eq!(m.into_values().collect::<Vec<_>>(), [99, 31, 50, 71]);
    }
}
