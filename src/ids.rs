//! Hashes and the ids minted from them.
//!
//! Two hashes with two jobs: [`stable_hash`] (FNV-1a 128) never changes across runs, machines or
//! versions, so the ids minted from it — a post's `tag:` id in the merged feed, a feed's fallback
//! `atom:source` id, a digest's Message-ID and MIME boundary — stay the same forever;
//! [`body_hash`] (SipHash-1-3 128) only tells an unchanged feed body from a changed one between
//! runs, and is chosen for speed. The `tag:` URIs (RFC 4151) are written here and nowhere else.

/// What a post's `tag:` id is minted from: `tag:{authority},{date}:{member}/{hash}`.
#[derive(Debug, Clone)]
pub struct TagContext {
    /// The club site's host, e.g. `geultto.github.io` (the naming authority).
    pub authority: String,
    /// The local date `YYYY-MM-DD` on which the post is first seen.
    pub date: String,
}

impl TagContext {
    /// The id of a new post of `member` whose entry key is `key`. `variant` 1 is the plain id;
    /// 2, 3, … tell apart two posts of one member that share a key (two feeds reusing a guid).
    pub fn post_id(&self, member: &str, key: &str, variant: u32) -> String {
        let hash = if variant <= 1 {
            stable_hash(key.as_bytes())
        } else {
            stable_hash(format!("{key}\u{1}{variant}").as_bytes())
        };
        format!(
            "tag:{},{}:{member}/{}",
            self.authority,
            self.date,
            hash.get(..16).unwrap_or(&hash)
        )
    }
}

/// The `atom:source` id of a member's feed that has no id or address of its own to use.
pub fn feed_source_id(authority: &str, member: &str, feed_key: &str) -> String {
    format!(
        "tag:{authority},2000:{member}/feed/{}",
        stable_hash(feed_key.as_bytes())
    )
}

/// A short fingerprint (12 hex digits) of a text, for ids that must change with their content.
pub fn short_hash(text: &str) -> String {
    let hash = stable_hash(text.as_bytes());
    hash.get(..12).unwrap_or(&hash).to_string()
}

/// A hash of `bytes` that never changes across runs, platforms or versions: FNV-1a 128-bit, as
/// 32 lowercase hex digits. Entry ids are minted from it.
pub fn stable_hash(bytes: &[u8]) -> String {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    let hash = bytes
        .iter()
        .fold(OFFSET, |h, b| (h ^ u128::from(*b)).wrapping_mul(PRIME));
    format!("{hash:032x}")
}

/// A fingerprint of a feed body, to tell an unchanged body from a changed one across runs:
/// SipHash-1-3 with 128-bit output and fixed keys, as 32 lowercase hex digits. It reads 8 bytes
/// at a time ([`stable_hash`] reads one, which showed in the profile of a cold run).
pub fn body_hash(bytes: &[u8]) -> String {
    use std::hash::Hasher;
    let mut hasher = siphasher::sip128::SipHasher13::new_with_keys(0, 0);
    hasher.write(bytes);
    format!(
        "{:032x}",
        siphasher::sip128::Hasher128::finish128(&hasher).as_u128()
    )
}

/// A fingerprint of a value through its `Hash` (SipHash-1-3, 128-bit, fixed keys), as 32 hex
/// digits: equal for equal values within one build of the binary. Not for anything kept across
/// versions (a derived `Hash` may feed its fields differently after a change to the type): a
/// caller that keeps it must also key on the binary.
pub fn value_hash<T: std::hash::Hash + ?Sized>(value: &T) -> String {
    format!("{:032x}", value_hash128(value))
}

/// [`value_hash`] as the number its digits spell, for a caller that keeps many of them.
pub fn value_hash128<T: std::hash::Hash + ?Sized>(value: &T) -> u128 {
    let mut hasher = siphasher::sip128::SipHasher13::new_with_keys(0, 0);
    value.hash(&mut hasher);
    siphasher::sip128::Hasher128::finish128(&hasher).as_u128()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_hash_is_pinned_and_tells_bodies_apart() {
        // Pinned: a stored fingerprint must match the same body fetched by a later version.
        assert_eq!(body_hash(b"<rss/>"), body_hash(b"<rss/>"));
        assert_eq!(body_hash(b""), "b91c5ed031fb33032134935d61d9b40d");
        assert_ne!(body_hash(b"feed"), body_hash(b"feee"));
        assert_eq!(body_hash(&[7u8; 100]).len(), 32);
    }

    #[test]
    fn stable_hash_is_fnv1a_128() {
        // Reference values of FNV-1a 128.
        assert_eq!(stable_hash(b""), "6c62272e07bb014262b821756295c58d");
        assert_eq!(stable_hash(b"a"), "d228cb696f1a8caf78912b704e4a8964");
        assert_ne!(stable_hash(b"feed"), stable_hash(b"feee"));
    }

    #[test]
    fn post_ids_are_pinned_and_variants_differ() {
        let tag = TagContext {
            authority: "geultto.github.io".into(),
            date: "2024-10-20".into(),
        };
        let first = tag.post_id("minji", "guid:1", 1);
        assert_eq!(
            first,
            format!(
                "tag:geultto.github.io,2024-10-20:minji/{}",
                &stable_hash(b"guid:1")[..16]
            )
        );
        assert_ne!(tag.post_id("minji", "guid:1", 2), first);
        assert_eq!(short_hash("x").len(), 12);
    }
}
