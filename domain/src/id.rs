//! Time-ordered 64-bit ids (the "snowflake" scheme): 42 bits of milliseconds
//! since 2024-01-01, 10 bits of node, 12 bits of sequence. Ordering by id is
//! ordering by creation time, which makes cursor pagination a range scan.
//! Ids travel as decimal strings on the wire: JavaScript numbers lose
//! precision above 2^53.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::sync::OnceLock;

const EPOCH_MS: i64 = 1_704_067_200_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Id(pub i64);

struct Generator {
    node: i64,
    last_ms: i64,
    seq: i64,
}

fn generator() -> &'static Mutex<Generator> {
    static GEN: OnceLock<Mutex<Generator>> = OnceLock::new();
    GEN.get_or_init(|| {
        Mutex::new(Generator { node: rand::random::<u16>() as i64 & 0x3ff, last_ms: 0, seq: 0 })
    })
}

impl Id {
    /// A fresh id, unique across processes with overwhelming probability and
    /// strictly increasing within this one.
    pub fn new() -> Self {
        let mut g = generator().lock().expect("id generator poisoned");
        let mut ms = crate::now_ms() - EPOCH_MS;
        if ms < g.last_ms {
            ms = g.last_ms;
        }
        if ms == g.last_ms {
            g.seq = (g.seq + 1) & 0xfff;
            if g.seq == 0 {
                ms += 1;
            }
        } else {
            g.seq = 0;
        }
        g.last_ms = ms;
        Id((ms << 22) | (g.node << 12) | g.seq)
    }

    /// The smallest id made at `ms` (milliseconds since the Unix epoch) or
    /// later: every id below it was made before `ms`.
    pub fn first_at(ms: i64) -> Self {
        Id((ms - EPOCH_MS).max(0) << 22)
    }

    /// Milliseconds since the Unix epoch at which this id was made.
    pub fn timestamp_ms(self) -> i64 {
        (self.0 >> 22) + EPOCH_MS
    }
}

impl Default for Id {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Why a string is not an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Not written as an id is: digits, without a sign or leading zeros.
    #[error("an id is a string of digits")]
    Malformed,
    /// Written as an id, but larger than any can be: it names nothing.
    #[error("no id is this large")]
    OutOfRange,
}

impl FromStr for Id {
    type Err = IdError;
    /// Exactly what [`Id`]'s `Display` writes: `0`, or up to 19 digits
    /// without a leading zero.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits = !s.is_empty() && s.len() <= 19 && s.bytes().all(|b| b.is_ascii_digit());
        if !digits || (s.len() > 1 && s.starts_with('0')) {
            return Err(IdError::Malformed);
        }
        s.parse::<i64>().map(Id).map_err(|_| IdError::OutOfRange)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_increase_and_carry_their_time() {
        let before = crate::now_ms();
        let ids: Vec<Id> = (0..10_000).map(|_| Id::new()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        let t = ids[0].timestamp_ms();
        assert!(t >= before - 1 && t <= crate::now_ms() + 1);
    }

    #[test]
    fn ids_parse_only_as_they_are_written() {
        let id = Id::new();
        assert_eq!(id.to_string().parse(), Ok(id));
        assert_eq!("0".parse(), Ok(Id(0)));
        assert_eq!(i64::MAX.to_string().parse(), Ok(Id(i64::MAX)));
        for bad in ["", "+5", "-5", "05", " 5", "5 ", "1e3", "12345678901234567890"] {
            assert_eq!(bad.parse::<Id>(), Err(IdError::Malformed), "{bad:?}");
        }
        assert_eq!("9999999999999999999".parse::<Id>(), Err(IdError::OutOfRange));
    }
}
