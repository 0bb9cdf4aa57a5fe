//! How results are shown: aligned tables for people, JSON for scripts. Every printed resource is a
//! [`Record`], named fields in a fixed order: a table shows the usual columns of a list, JSON every field
//! (keys are the column names in snake_case), so the two never disagree.

use std::io::Write;

use serde_json::{Map, Value};
use shared::api::v1 as pb;

/// `println!` that ends the program quietly when stdout has closed (`peeringctl watch | head`), where
/// `println!` would panic.
macro_rules! say {
    ($($arg:tt)*) => { $crate::output::emit(&format!("{}\n", format_args!($($arg)*))) };
}
pub(crate) use say;

/// Writes `text` to stdout as it is. A reader that left is no error of ours: exit with the status a
/// process killed by SIGPIPE has, which is what shells expect of a writer in a broken pipe.
pub fn emit(text: &str) {
    let mut stdout = std::io::stdout().lock();
    if stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()).is_err() {
        std::process::exit(141);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
}

/// A resource's fields, in the order they are shown.
#[derive(Debug, Clone, Default)]
pub struct Record(Vec<(&'static str, Value)>);

impl Record {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, key: &'static str, value: impl Into<Value>) -> Self {
        self.0.push((key, value.into()));
        self
    }

    pub fn json(&self) -> Value {
        Value::Object(self.0.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect::<Map<_, _>>())
    }

    /// A field as a table cell: "-" for nothing.
    fn cell(&self, key: &str) -> String {
        self.0.iter().find(|(k, _)| *k == key).map_or_else(|| "-".to_owned(), |(_, v)| text(v))
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::Null => "-".to_owned(),
        Value::String(s) if s.is_empty() => "-".to_owned(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.is_empty() => "-".to_owned(),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// A column's heading: `route_table` is ROUTE TABLE.
fn heading(key: &str) -> String {
    key.replace('_', " ").to_uppercase()
}

/// Rows under headings, each column as wide as its widest cell.
pub fn table(columns: &[&str], records: &[Record]) -> String {
    let rows: Vec<Vec<String>> = std::iter::once(columns.iter().map(|c| heading(c)).collect())
        .chain(records.iter().map(|r| columns.iter().map(|c| r.cell(c)).collect()))
        .collect();
    let widths: Vec<usize> =
        (0..columns.len()).map(|i| rows.iter().map(|row| row[i].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row.iter().zip(&widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// Every field of one record, one per line.
pub fn details(record: &Record) -> String {
    let width = record.0.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (key, value) in &record.0 {
        let lines = match value {
            Value::Array(items) if !items.is_empty() => items.iter().map(text).collect(),
            other => vec![text(other)],
        };
        for (i, line) in lines.iter().enumerate() {
            let key = if i == 0 { heading(key) } else { String::new() };
            out.push_str(&format!("{key:<width$}  {line}\n"));
        }
    }
    out
}

/// A list: a table of `columns`, or a JSON array of whole records.
pub fn list(format: Format, columns: &[&str], records: &[Record]) {
    match format {
        Format::Table => emit(&table(columns, records)),
        Format::Json => json(&Value::Array(records.iter().map(Record::json).collect())),
    }
}

/// One resource in a list's shape: a one-row table, or a JSON object.
pub fn one(format: Format, columns: &[&str], record: &Record) {
    match format {
        Format::Table => emit(&table(columns, std::slice::from_ref(record))),
        Format::Json => json(&record.json()),
    }
}

/// One resource with every field: one per line, or a JSON object.
pub fn all_fields(format: Format, record: &Record) {
    match format {
        Format::Table => emit(&details(record)),
        Format::Json => json(&record.json()),
    }
}

/// A change with nothing to show but what it did.
pub fn done(format: Format, verb: &'static str, id: &str) {
    match format {
        Format::Table => say!("{verb} {id}"),
        Format::Json => json(&Record::new().with(verb, id).json()),
    }
}

fn json(value: &Value) {
    // Pretty for one document; `watch` prints compact lines itself.
    say!("{}", serde_json::to_string_pretty(value).unwrap_or_default());
}

/// An enum value of the API by its console name (the prost variants are named after them: Activated,
/// FinancialLocked, Month); nothing for an unset one.
pub fn label(value: impl std::fmt::Debug) -> String {
    let name = format!("{value:?}");
    if name == "Unspecified" { String::new() } else { name }
}

pub fn role(r: pb::Role) -> &'static str {
    match r {
        pb::Role::InitiatingSide => "Initiator",
        pb::Role::AcceptingSide => "Acceptor",
        pb::Role::Unspecified => "-",
    }
}

pub fn router_type(t: pb::RouterType) -> &'static str {
    match t {
        pb::RouterType::Vrouter => "VRouter",
        pb::RouterType::Vbr => "VBR",
        pb::RouterType::Unspecified => "",
    }
}

pub fn charge_type(t: pb::InstanceChargeType) -> &'static str {
    match t {
        pb::InstanceChargeType::Prepaid => "PrePaid",
        pb::InstanceChargeType::Postpaid | pb::InstanceChargeType::Unspecified => "PostPaid",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_and_empty_cells_show_a_dash() {
        let records = [
            Record::new().with("id", "vpc-1").with("route_table", "vtb-long-name"),
            Record::new().with("id", "vpc-22222").with("route_table", ""),
        ];
        assert_eq!(
            table(&["id", "route_table"], &records),
            "ID         ROUTE TABLE\nvpc-1      vtb-long-name\nvpc-22222  -\n"
        );
    }

    #[test]
    fn json_keys_are_the_column_names() {
        let record =
            Record::new().with("id", "ri-1").with("bandwidth", 1000).with("suspended_by", Vec::<String>::new());
        assert_eq!(record.json(), serde_json::json!({"id": "ri-1", "bandwidth": 1000, "suspended_by": []}));
    }
}
