//! Results: markdown tables for people, JSON for the record.

use serde_json::{Map, Value};

pub struct Section {
    pub title: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub notes: Vec<String>,
}

impl Section {
    pub fn new(title: &str, headers: &[&str]) -> Section {
        Section {
            title: title.to_owned(),
            headers: headers.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn row_owned(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn note(&mut self, text: impl Into<String>) {
        self.notes.push(text.into());
    }

    pub fn markdown(&self) -> String {
        let mut s = format!("### {}\n\n", self.title);
        s.push_str(&format!("| {} |\n", self.headers.join(" | ")));
        s.push_str(&format!(
            "|{}\n",
            self.headers.iter().map(|_| " --- |").collect::<String>()
        ));
        for r in &self.rows {
            s.push_str(&format!("| {} |\n", r.join(" | ")));
        }
        for n in &self.notes {
            s.push_str(&format!("\n{n}\n"));
        }
        s
    }
}

#[derive(Default)]
pub struct Report {
    pub sections: Vec<Section>,
    pub raw: Map<String, Value>,
}

impl Report {
    pub fn record(&mut self, key: &str, value: impl serde::Serialize) {
        self.raw.insert(
            key.to_owned(),
            serde_json::to_value(value).unwrap_or(Value::Null),
        );
    }

    pub fn markdown(&self) -> String {
        self.sections
            .iter()
            .map(Section::markdown)
            .collect::<Vec<_>>()
            .join("\n")
    }
}
