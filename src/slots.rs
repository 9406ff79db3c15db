//! An append-only list that threads add to through a shared reference
//! while others read it: items never move once added, so a reference to
//! one stays valid while the list grows. Safe code only: items live in
//! chunks that double in size, each slot set once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Slots in the first chunk; chunk `k` holds `FIRST << k`.
const FIRST: usize = 64;
/// Chunks enough for more items than a `u32` index names.
const CHUNKS: usize = 27;

pub struct Slots<T> {
    /// Indices handed out (each slot is set right after).
    len: AtomicUsize,
    chunks: [OnceLock<Box<[OnceLock<T>]>>; CHUNKS],
}

impl<T> Default for Slots<T> {
    fn default() -> Slots<T> {
        Slots {
            len: AtomicUsize::new(0),
            chunks: std::array::from_fn(|_| OnceLock::new()),
        }
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Slots<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// The chunk and the slot in it of an index.
fn place(index: usize) -> (usize, usize) {
    let j = index / FIRST + 1;
    let chunk = (usize::BITS - 1 - j.leading_zeros()) as usize;
    (chunk, index - FIRST * ((1 << chunk) - 1))
}

impl<T> Slots<T> {
    /// Add an item; its index.
    pub fn push(&self, item: T) -> usize {
        let index = self.len.fetch_add(1, Ordering::Relaxed);
        let (chunk, slot) = place(index);
        let chunk = self.chunks[chunk].get_or_init(|| {
            (0..FIRST << chunk)
                .map(|_| OnceLock::new())
                .collect::<Vec<_>>()
                .into_boxed_slice()
        });
        if chunk[slot].set(item).is_err() {
            unreachable!("each index is handed out once");
        }
        index
    }

    /// The item at `index`, once it has been added.
    pub fn get(&self, index: usize) -> Option<&T> {
        let (chunk, slot) = place(index);
        self.chunks.get(chunk)?.get()?.get(slot)?.get()
    }

    pub fn get_mut(&mut self, index: usize) -> Option<&mut T> {
        let (chunk, slot) = place(index);
        self.chunks
            .get_mut(chunk)?
            .get_mut()?
            .get_mut(slot)?
            .get_mut()
    }

    /// Indices handed out so far (an item being added by another thread
    /// may not be readable yet).
    pub fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The items added so far, in index order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        (0..self.len()).filter_map(|i| self.get(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_map_to_chunks_that_double() {
        assert_eq!(place(0), (0, 0));
        assert_eq!(place(63), (0, 63));
        assert_eq!(place(64), (1, 0));
        assert_eq!(place(191), (1, 127));
        assert_eq!(place(192), (2, 0));
        let last = u32::MAX as usize;
        assert!(place(last).0 < CHUNKS);
        assert!(place(last).1 < FIRST << place(last).0);
    }

    #[test]
    fn items_keep_their_place_while_threads_add() {
        let slots = Slots::default();
        let first = slots.push(String::from("first"));
        let held: &String = slots.get(first).unwrap();
        let added: Vec<Vec<usize>> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..4)
                .map(|t| {
                    let slots = &slots;
                    s.spawn(move || (0..1000).map(|i| slots.push(format!("{t}:{i}"))).collect())
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        assert_eq!(held, "first");
        assert_eq!(slots.len(), 4001);
        for (t, indices) in added.iter().enumerate() {
            for (i, index) in indices.iter().enumerate() {
                assert_eq!(slots.get(*index).unwrap(), &format!("{t}:{i}"));
            }
        }
        assert_eq!(slots.iter().count(), 4001);
        assert!(slots.get(4001).is_none());
    }
}
