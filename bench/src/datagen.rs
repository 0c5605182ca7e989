//! Synthetic `bank.operation` documents (deterministic for a seed).

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use serde_json::{Value, json};

use crate::util::date_from_days;

/// 2015-01-01 and 2025-12-31 as day numbers: the generated booking dates.
pub const FIRST_DAY: i64 = 16_436;
pub const LAST_DAY: i64 = 20_453;

const LABELS: &[&str] = &[
    "PRLV SEPA EDF",
    "PRLV SEPA FREE MOBILE",
    "PRLV SEPA MAIF ASSURANCE",
    "CB CARREFOUR MARKET",
    "CB BOULANGERIE DU PORT",
    "CB SNCF INTERNET",
    "VIR SEPA SALAIRE",
    "RETRAIT DAB",
];

pub struct OpGen {
    rng: StdRng,
    /// Number of the next document; `vendor_id` is `v<number>`, so unique.
    pub next: u64,
}

impl OpGen {
    pub fn new(seed: u64, first: u64) -> OpGen {
        OpGen {
            rng: StdRng::seed_from_u64(seed),
            next: first,
        }
    }

    pub fn random_date(&mut self) -> String {
        date_from_days(self.rng.random_range(FIRST_DAY..=LAST_DAY))
    }

    pub fn random_below(&mut self, n: u64) -> u64 {
        self.rng.random_range(0..n.max(1))
    }

    /// One operation, with the fields of the brief.
    pub fn op(&mut self) -> Value {
        let i = self.next;
        self.next += 1;
        let date = self.random_date();
        let cents: i64 = self.rng.random_range(-200_000..20_000);
        let label = LABELS[self.rng.random_range(0..LABELS.len())];
        let reference: u32 = self.rng.random_range(0..100_000_000);
        json!({
            "account": format!("acc{}", self.rng.random_range(1..=5)),
            "date": date,
            "amount": cents as f64 / 100.0,
            "currency": "EUR",
            "label": format!("{label} {date} REF{reference:08}"),
            "vendor_id": format!("v{i}"),
        })
    }

    /// `n` operations as a `_bulk_docs` request body.
    pub fn bulk_body(&mut self, n: usize) -> Vec<u8> {
        let docs: Vec<Value> = (0..n).map(|_| self.op()).collect();
        serde_json::to_vec(&json!({ "docs": docs })).expect("JSON")
    }

    /// A document id shaped like the daemon's (UUIDv7, simple form: 32 hex
    /// digits, time-ordered so that new ids append to the index).
    pub fn doc_id(&mut self, seq: u64) -> String {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let r: u64 = self.rng.random();
        format!("{ms:012x}7{:03x}{:016x}", seq & 0xfff, r)
    }

    /// A revision shaped like the daemon's (`1-` and 32 hex digits).
    pub fn rev(&mut self) -> String {
        let r: u128 = self.rng.random();
        format!("1-{r:032x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_are_deterministic_and_unique() {
        let mut a = OpGen::new(7, 0);
        let mut b = OpGen::new(7, 0);
        let (x, y) = (a.op(), b.op());
        assert_eq!(x, y);
        assert_eq!(x["vendor_id"], "v0");
        assert_eq!(a.op()["vendor_id"], "v1");
        assert_eq!(a.doc_id(1).len(), 32);
        assert_eq!(a.rev().len(), 34);
    }
}
