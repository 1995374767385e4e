//! The accounts table: one type per account, and which accounts are brands.
//!
//! An account listed more than once keeps its first non-null type in dataset order (objects
//! by path, rows in order); the extra rows are counted as `duplicate_account`. Brands are
//! accounts typed `brand` plus ids the job lists.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use rustc_hash::FxHasher;

use super::universe::Universe;

/// The account type that marks a brand.
pub const BRAND: &str = "brand";

/// Accounts rows as read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawAccounts {
    pub keys: Vec<u64>,
    /// Which ids are non-null (absent: all are).
    pub valid: Option<Vec<bool>>,
    pub types: Vec<Option<String>>,
}

/// One entry per distinct account id, with its type.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountList {
    /// Distinct id keys, in order of first appearance.
    pub keys: Vec<u64>,
    pub types: Vec<Option<String>>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccountsDropped {
    pub null_id: u64,
    pub duplicate_account: u64,
}

pub fn clean_accounts(raw: RawAccounts) -> (AccountList, AccountsDropped) {
    let mut dropped = AccountsDropped::default();
    let mut position: HashMap<u64, usize, BuildHasherDefault<FxHasher>> =
        HashMap::with_capacity_and_hasher(raw.keys.len(), Default::default());
    let mut list = AccountList::default();
    for (i, (key, account_type)) in raw.keys.into_iter().zip(raw.types).enumerate() {
        if raw.valid.as_ref().is_some_and(|v| !v[i]) {
            dropped.null_id += 1;
            continue;
        }
        match position.get(&key) {
            Some(&at) => {
                dropped.duplicate_account += 1;
                if list.types[at].is_none() {
                    list.types[at] = account_type;
                }
            }
            None => {
                position.insert(key, list.keys.len());
                list.keys.push(key);
                list.types.push(account_type);
            }
        }
    }
    (list, dropped)
}

/// Account types by dense id: an index into `names` (sorted), or `None`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountTypes {
    pub names: Vec<String>,
    pub by_account: Vec<Option<u32>>,
}

impl AccountTypes {
    pub fn build(universe: &Universe, list: &AccountList) -> AccountTypes {
        let mut names: Vec<String> = list.types.iter().flatten().cloned().collect();
        names.sort();
        names.dedup();
        let mut by_account = vec![None; universe.len()];
        for (&key, account_type) in list.keys.iter().zip(&list.types) {
            if let Some(t) = account_type {
                let dense = universe.find(key).expect("accounts are in the universe") as usize;
                by_account[dense] = Some(names.binary_search(t).expect("name was collected") as u32);
            }
        }
        AccountTypes { names, by_account }
    }

    pub fn name(&self, account: usize) -> Option<&str> {
        self.by_account[account].map(|i| self.names[i as usize].as_str())
    }
}

/// Dense ids of brands (typed `brand`, or listed by key), ascending; and the listed keys that
/// are not accounts.
pub fn brands(universe: &Universe, types: &AccountTypes, listed: &[u64]) -> (Vec<u32>, Vec<u64>) {
    let brand_type = types.names.iter().position(|n| n == BRAND).map(|i| i as u32);
    let mut dense: Vec<u32> = types
        .by_account
        .iter()
        .enumerate()
        .filter(|(_, t)| brand_type.is_some() && **t == brand_type)
        .map(|(a, _)| a as u32)
        .collect();
    let mut missing = Vec::new();
    for &key in listed {
        match universe.find(key) {
            Some(d) => dense.push(d),
            None => missing.push(key),
        }
    }
    dense.sort_unstable();
    dense.dedup();
    (dense, missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_non_null_type_wins_and_duplicates_are_counted() {
        let raw = RawAccounts {
            keys: vec![5, 7, 5, 5, 9],
            valid: Some(vec![true, true, true, true, false]),
            types: vec![None, Some("person".into()), Some("brand".into()), Some("person".into()), None],
        };
        let (list, dropped) = clean_accounts(raw);
        assert_eq!(list.keys, vec![5, 7]);
        assert_eq!(list.types, vec![Some("brand".into()), Some("person".into())]);
        assert_eq!(dropped, AccountsDropped { null_id: 1, duplicate_account: 2 });

        let universe = Universe::from_columns(&[&[5, 7, 11]]);
        let types = AccountTypes::build(&universe, &list);
        assert_eq!(types.name(0), Some("brand"));
        assert_eq!(types.name(2), None);
        let (brand_ids, missing) = brands(&universe, &types, &[11, 12, 5]);
        assert_eq!(brand_ids, vec![0, 2]);
        assert_eq!(missing, vec![12]);
    }
}
