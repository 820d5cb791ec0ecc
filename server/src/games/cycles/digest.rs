//! The state hash's mixer: 64-bit FNV-1a over little-endian integers. Written out here rather
//! than taken from std because `DefaultHasher` may change between Rust releases, and a state hash
//! recorded by one build must match the next.

const FNV_OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

#[derive(Debug, Clone)]
pub(crate) struct Fnv(u64);

impl Fnv {
    pub(crate) fn new() -> Fnv {
        Fnv(FNV_OFFSET_BASIS)
    }

    pub(crate) fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(FNV_PRIME);
        }
    }

    pub(crate) fn u32(&mut self, v: u32) {
        self.write(&v.to_le_bytes());
    }

    pub(crate) fn u64(&mut self, v: u64) {
        self.write(&v.to_le_bytes());
    }

    pub(crate) fn u128(&mut self, v: u128) {
        self.write(&v.to_le_bytes());
    }

    pub(crate) fn finish(&self) -> u64 {
        self.0
    }
}
