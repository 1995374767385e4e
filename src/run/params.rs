//! The job's parameters as the kernels take them: the camp rule, the interactions' window,
//! the brands' dense ids. Every execution asks here, so no two read the job differently.

use crate::compute::account_metrics::CampRule;
use crate::compute::accounts::{brands, AccountTypes};
use crate::compute::clean::Window;
use crate::compute::universe::Universe;
use crate::config::job::Job;
use crate::id_type::IdType;
use crate::output::progress::Reporter;

pub fn camp_rule(job: &Job) -> CampRule {
    CampRule {
        min_followers: job.params.min_followers,
        follows_back_all_rate: job.params.follows_back_all_rate,
        selective_rate: job.params.selective_rate,
    }
}

/// `[start, end)` on the interactions' created_at; follows have no window.
pub fn interactions_window(job: &Job) -> Window {
    Window { start: job.params.window_start_ns, end: job.params.window_end_ns }
}

/// Dense ids of the brands: accounts typed `brand` and the ids the job lists (a listed id
/// that is not an account is a warning, not an error).
pub fn brand_ids(
    job: &Job,
    id_type: IdType,
    reporter: &Reporter,
    universe: &Universe,
    types: &AccountTypes,
) -> Vec<u32> {
    let mut listed_keys = Vec::new();
    let mut not_accounts = Vec::new();
    for &id in &job.params.brands {
        match id_type.key_of(id) {
            Some(key) => listed_keys.push(key),
            None => not_accounts.push(id.to_string()),
        }
    }
    let (brand_ids, missing) = brands(universe, types, &listed_keys);
    not_accounts.extend(missing.iter().map(|&k| id_type.id_of(k).to_string()));
    if !not_accounts.is_empty() {
        reporter.warn(format!("listed brands that are not accounts: {}", not_accounts.join(", ")));
    }
    brand_ids
}
