//! Reading a finished run's tables back for the report, and writing the report file.

use arrow_array::RecordBatch;
use object_store::{ObjectStoreExt, PutPayload};

use crate::error::{Error, Result};
use crate::io::store::{self, Location, StorageOptions};
use crate::io::table_reader::read_table;
use crate::output::folder::{REPORT, SUCCESS};
use crate::output::report::data::Tables;
use crate::output::report::{render, BrandSelection};
use crate::output::tables;

/// The columns of account_metrics that the report draws, as written under OUT.
pub async fn read_account_metrics(out: &Location) -> Result<Vec<RecordBatch>> {
    read_table(out, tables::ACCOUNT_METRICS, Some(&["followers", "handful_80", "effective_partners"])).await
}

/// Reads the tables of a finished OUT (it must hold `_SUCCESS`); of account_metrics only the
/// columns the report draws.
pub async fn read_tables(out: &Location) -> Result<Tables> {
    match out.store.head(&out.child(SUCCESS)).await {
        Ok(_) => {}
        Err(object_store::Error::NotFound { .. }) => {
            return Err(Error::Input {
                object: out.url(),
                problem: "no _SUCCESS here: not a finished run (or still running)".into(),
            })
        }
        Err(e) => return Err(Error::storage(out.display(&out.child(SUCCESS)), "head", e)),
    }
    Ok(Tables {
        account_metrics: read_account_metrics(out).await?,
        population_summary: read_table(out, tables::POPULATION_SUMMARY, None).await?,
        reciprocity_by_followers: read_table(out, tables::RECIPROCITY_BY_FOLLOWERS, None).await?,
        brand_audience: read_table(out, tables::BRAND_AUDIENCE, None).await?,
        follow_changes: Vec::new(),
    })
}

/// Writes the report page to a URL (a file path, or any store).
pub async fn write_report(location: &Location, html: String) -> Result<()> {
    location
        .store
        .put(&location.path, PutPayload::from(html.into_bytes()))
        .await
        .map_err(|e| Error::storage(location.url(), "write report", e))?;
    Ok(())
}

/// `reciprocity report`: renders a finished OUT's tables to one HTML page; returns where.
pub fn report_page(out_url: &str, brands: &[String], html: Option<&str>) -> Result<String> {
    let options = StorageOptions::default();
    let out = store::open(out_url, &options)?;
    let page = match html {
        Some(url) => store::open(url, &options)?,
        None => out.at(REPORT),
    };
    let runtime = crate::io::runtime(2).map_err(|e| Error::internal("starting the I/O runtime", e))?;
    let tables = runtime.block_on(read_tables(&out))?;
    let selection = if brands.is_empty() { BrandSelection::Top(20) } else { BrandSelection::Ids(brands.to_vec()) };
    let html = render(&out.url(), &tables, &selection)?;
    runtime.block_on(write_report(&page, html))?;
    Ok(page.url())
}
