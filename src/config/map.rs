//! A small insertion-ordered map over a Vec, for the validator's lookups
//! (a config has tens of sections, so a linear scan is as fast as hashing).
//!
//! Owns: nothing but the container. It exists for size: with it, the
//! static binary links no hashbrown/SipHash code at all (~12 kB on mips).

use core::borrow::Borrow;

pub struct Map<K, V>(Vec<(K, V)>);

impl<K: PartialEq, V> Map<K, V> {
    pub fn new() -> Self {
        Map(Vec::new())
    }

    pub fn get<Q>(&self, k: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: PartialEq + ?Sized,
    {
        self.0.iter().find(|(x, _)| x.borrow() == k).map(|(_, v)| v)
    }

    /// Sets `k` to `v` (replacing an earlier value, as HashMap::insert).
    pub fn insert(&mut self, k: K, v: V) {
        match self.0.iter_mut().find(|(x, _)| *x == k) {
            Some(slot) => slot.1 = v,
            None => self.0.push((k, v)),
        }
    }

    /// The value of `k`, inserted as `V::default()` first if missing.
    pub fn get_or_default(&mut self, k: K) -> &mut V
    where
        V: Default,
    {
        let i = match self.0.iter().position(|(x, _)| *x == k) {
            Some(i) => i,
            None => {
                self.0.push((k, V::default()));
                self.0.len() - 1
            }
        };
        &mut self.0[i].1
    }
}

#[cfg(test)]
mod tests {
    use super::Map;

    #[test]
    fn get_insert_replace_default() {
        let mut m: Map<String, u32> = Map::new();
        assert_eq!(m.get("a"), None);
        m.insert("a".into(), 1);
        m.insert("b".into(), 2);
        m.insert("a".into(), 3);
        assert_eq!((m.get("a"), m.get("b")), (Some(&3), Some(&2)));
        *m.get_or_default("c".into()) += 5;
        *m.get_or_default("c".into()) += 1;
        assert_eq!(m.get("c"), Some(&6));
    }
}
