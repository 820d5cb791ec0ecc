//! A small, fixed hash (64-bit FNV-1a) for the simulation's hidden state: std's `DefaultHasher`
//! may change between Rust releases, and a state hash must not.

const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0000_0100_0000_01b3;

#[derive(Debug, Clone)]
pub(crate) struct Digest(u64);

impl Digest {
    pub(crate) fn new() -> Digest {
        Digest(OFFSET)
    }

    pub(crate) fn bytes(&mut self, bytes: &[u8]) -> &mut Digest {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(PRIME);
        }
        self
    }

    pub(crate) fn u32(&mut self, v: u32) -> &mut Digest {
        self.bytes(&v.to_le_bytes())
    }

    pub(crate) fn i32(&mut self, v: i32) -> &mut Digest {
        self.bytes(&v.to_le_bytes())
    }

    pub(crate) fn u64(&mut self, v: u64) -> &mut Digest {
        self.bytes(&v.to_le_bytes())
    }

    pub(crate) fn u128(&mut self, v: u128) -> &mut Digest {
        self.bytes(&v.to_le_bytes())
    }

    pub(crate) fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_pinned_fnv1a() {
        assert_eq!(
            Digest::new().bytes(b"a").finish(),
            0xaf63_dc4c_8601_ec8c,
            "FNV-1a 64 of \"a\""
        );
    }
}
