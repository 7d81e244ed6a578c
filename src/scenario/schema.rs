//! JSON Schemas of the scenario and sweep formats, and the README's scenario reference.
//!
//! Both come from the types the parser reads (`raw.rs`, `sweep/file.rs`) through `schemars`:
//! each key's doc comment is its description, serde's defaults and the `default` each key
//! declares are its default, and the lists the parser checks names against (metric columns,
//! event kinds, built-in instance types) are copied in from the code. An editor that reads the
//! schema (taplo, Even Better TOML) completes keys and flags what the parser would refuse.
//!
//! A key's default is either the schema's `default` (a value) or, where it is computed, a last
//! paragraph of its description starting `Default: `, which the reference puts in its default
//! column.

use schemars::generate::SchemaSettings;
use schemars::transform::{Transform, transform_subschemas};
use schemars::{JsonSchema, Schema};
use serde_json::{Map, Value, json};

use super::raw::{DURATION_PATTERN, RawScenario};
use crate::expect::{Agg, Op};
use crate::model::autoscaling::{PREDEFINED_METRICS, ScalingMetric};
use crate::record::{EventKind, ServiceSample, ServiceSummary};
use crate::sweep::file::RawSweep;

/// The order of the top-level tables in the reference, after the plain keys: the service and
/// what it runs first, then the traffic, the capacity under it, and the rest. A table not listed
/// follows, in alphabetical order.
const TOP_LEVEL_ORDER: [&str; 15] = [
    "services",
    "task_definitions",
    "images",
    "target_groups",
    "workloads",
    "cluster",
    "instance_types",
    "capacity_providers",
    "fargate",
    "beanstalk",
    "cloudwatch",
    "slo",
    "actions",
    "expect",
    "solution",
];

/// Removes `null` from the schemas of `Option` fields: TOML has no null, a key is given or left
/// out.
#[derive(Clone)]
struct NoNull;

impl Transform for NoNull {
    fn transform(&mut self, schema: &mut Schema) {
        transform_subschemas(self, schema);
        let Some(obj) = schema.as_object_mut() else { return };
        if let Some(Value::Array(types)) = obj.get_mut("type") {
            types.retain(|t| t != "null");
            if types.len() == 1 {
                let only = types.remove(0);
                obj.insert("type".into(), only);
            }
        }
        if let Some(Value::Array(values)) = obj.get_mut("enum") {
            values.retain(|v| !v.is_null());
        }
        let is_null = |v: &Value| v.get("type").is_some_and(|t| t == "null") || v.get("const") == Some(&Value::Null);
        if let Some(Value::Array(branches)) = obj.get_mut("anyOf")
            && branches.iter().any(is_null)
        {
            branches.retain(|b| !is_null(b));
            if branches.len() == 1
                && let Some(Value::Object(inner)) = branches.pop()
            {
                obj.remove("anyOf");
                for (k, v) in inner {
                    obj.entry(k).or_insert(v);
                }
            }
        }
    }
}

/// Joins the hard-wrapped lines of doc comments into paragraphs; list items and fenced code
/// keep their lines.
#[derive(Clone)]
struct Unwrap;

impl Transform for Unwrap {
    fn transform(&mut self, schema: &mut Schema) {
        transform_subschemas(self, schema);
        if let Some(Value::String(text)) = schema.get_mut("description") {
            *text = unwrap(text);
        }
    }
}

fn unwrap(text: &str) -> String {
    let mut out = String::new();
    let mut in_code = false;
    for line in text.lines() {
        let trimmed = line.trim_end();
        let fence = trimmed.starts_with("```");
        if out.is_empty() {
            out.push_str(trimmed);
        } else if in_code || fence || trimmed.is_empty() || trimmed.starts_with("- ") || out.ends_with('\n') {
            out.push('\n');
            out.push_str(trimmed);
        } else {
            out.push(' ');
            out.push_str(trimmed.trim_start());
        }
        if trimmed.is_empty() {
            out.push('\n');
        }
        if fence {
            in_code = !in_code;
        }
    }
    // A blank line is written above as "\n" plus the "\n" before the next line.
    out.replace("\n\n\n", "\n\n")
}

fn schema_for<T: JsonSchema>() -> Value {
    let settings = SchemaSettings::draft07().with(|s| {
        s.transforms.insert(0, Box::new(NoNull));
        s.transforms.push(Box::new(Unwrap));
    });
    settings.into_generator().into_root_schema_for::<T>().to_value()
}

/// The definition `name` of a generated schema. Panics if it is missing: the names are the
/// types' own, so that is a bug here, caught by the tests.
fn definition<'a>(schema: &'a mut Value, name: &str) -> &'a mut Map<String, Value> {
    schema
        .pointer_mut(&format!("/definitions/{name}"))
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("the schema has no definition {name}"))
}

/// Property `key` of definition `name`.
fn property<'a>(schema: &'a mut Value, name: &str, key: &str) -> &'a mut Map<String, Value> {
    definition(schema, name)
        .get_mut("properties")
        .and_then(|p| p.get_mut(key))
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("definition {name} has no property {key}"))
}

fn strings<'a>(names: impl IntoIterator<Item = &'a str>) -> Value {
    let mut list: Vec<&str> = names.into_iter().collect();
    let mut seen = std::collections::BTreeSet::new();
    list.retain(|n| seen.insert(*n));
    json!(list)
}

/// The JSON Schema (draft 7) of a scenario file.
pub fn scenario_schema() -> Value {
    let mut schema = schema_for::<RawScenario>();
    let root = schema.as_object_mut().expect("a root schema is an object");
    root.insert("title".into(), json!("ecsim scenario (format version 1)"));

    // Names the parser checks against lists in the code.
    property(&mut schema, "RawExpect", "metric").insert("enum".into(), strings(ServiceSample::COLUMNS.iter().copied()));
    property(&mut schema, "RawExpect", "summary")
        .insert("enum".into(), strings(ServiceSummary::COLUMNS.iter().copied()));
    property(&mut schema, "RawExpect", "event")
        .insert("enum".into(), strings(EventKind::ALL.iter().map(|k| k.as_str())));
    property(&mut schema, "RawExpect", "agg").insert("enum".into(), strings(Agg::ALL));
    // The parser also reads `=` and spaces around the operator.
    property(&mut schema, "RawExpect", "op").insert("examples".into(), strings(Op::ALL));
    let scaling_metrics = strings(ScalingMetric::SERVICE.iter().chain(ScalingMetric::GROUP.iter()).map(|m| m.name()));
    property(&mut schema, "RawCustomMetric", "metric").insert("enum".into(), scaling_metrics.clone());
    property(&mut schema, "RawAlarm", "metric").insert("enum".into(), scaling_metrics);
    property(&mut schema, "RawTargetTracking", "predefined_metric")
        .insert("enum".into(), strings(PREDEFINED_METRICS.into_iter().chain(["ASGAverageCPUUtilization"])));

    // The built-in instance types, so that an editor completes their names.
    let builtin = crate::model::ec2::builtin_instance_types();
    let types = schema
        .pointer_mut("/properties/instance_types")
        .and_then(Value::as_object_mut)
        .expect("the scenario has instance_types");
    let names: Vec<&str> = builtin.keys().map(String::as_str).collect();
    let item = types.get("additionalProperties").cloned().unwrap_or(json!({}));
    types.insert("properties".into(), names.iter().map(|n| ((*n).to_string(), item.clone())).collect());
    if let Some(Value::String(d)) = types.get_mut("description") {
        d.push_str(&format!(" Built in (us-east-1, Linux On-Demand): {}.", names.join(", ")));
    }
    schema
}

/// The JSON Schema (draft 7) of a sweep file.
pub fn sweep_schema() -> Value {
    let mut schema = schema_for::<RawSweep>();
    let root = schema.as_object_mut().expect("a root schema is an object");
    root.insert("title".into(), json!("ecsim sweep (format version 1)"));
    let metrics = strings(crate::sweep::metrics::known_metrics().iter().copied());
    for key in ["minimize", "maximize"] {
        if let Some(p) = schema.pointer_mut(&format!("/properties/{key}")).and_then(Value::as_object_mut) {
            p.insert("enum".into(), metrics.clone());
        }
    }
    for key in ["metrics", "pareto"] {
        if let Some(items) = schema.pointer_mut(&format!("/properties/{key}/items")).and_then(Value::as_object_mut) {
            items.insert("enum".into(), metrics.clone());
        }
    }
    schema
}

/// A schema as the shipped files hold it: pretty JSON, two-space indents, a final newline.
pub fn schema_text(schema: &Value) -> String {
    let mut text = serde_json::to_string_pretty(schema).unwrap_or_default();
    text.push('\n');
    text
}

/// Renders the scenario reference, in Markdown, from [`scenario_schema`]: the top-level keys,
/// then one subsection per table, each a list of keys with type, default and description.
/// The same schema always renders the same text.
pub fn reference_markdown() -> String {
    let schema = scenario_schema();
    let mut r = Reference { schema: &schema, sections: Vec::new(), homes: Vec::new() };
    let root = schema.as_object().cloned().unwrap_or_default();
    r.collect("Top level", "", &root);
    r.render()
}

/// Enums with more names than this are listed in the description, not the type column.
const LONG_ENUM: usize = 8;

/// One subsection of the reference: a table of the format and its keys.
struct Section {
    heading: String,
    /// The table's own description.
    intro: String,
    rows: Vec<[String; 4]>,
}

struct Reference<'a> {
    schema: &'a Value,
    sections: Vec<Section>,
    /// Definitions already given a section, with its heading.
    homes: Vec<(String, String)>,
}

/// How a property's value is written, resolved through `$ref`s.
enum Shape {
    /// A table with its own keys, from a definition.
    Table(String),
    /// An array of such tables.
    Tables(String),
    /// A table of such tables, by name.
    Named(String),
    /// Anything else: a value.
    Value,
}

fn ref_name(v: &Value) -> Option<String> {
    if let Some(r) = v.get("$ref").and_then(Value::as_str) {
        return r.rsplit('/').next().map(str::to_string);
    }
    match v.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
        Some([one]) => ref_name(one),
        _ => None,
    }
}

/// GitHub's anchor for a heading: lower case, letters, digits, `-` and `_`, spaces as `-`.
fn anchor(heading: &str) -> String {
    heading
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

impl Reference<'_> {
    fn definition(&self, name: &str) -> Option<&Map<String, Value>> {
        self.schema.get("definitions")?.get(name)?.as_object()
    }

    fn is_table(&self, name: &str) -> bool {
        self.definition(name).is_some_and(|d| d.contains_key("properties"))
    }

    fn shape(&self, prop: &Value) -> Shape {
        if let Some(name) = ref_name(prop).filter(|n| self.is_table(n)) {
            return Shape::Table(name);
        }
        if let Some(name) = prop.get("items").and_then(ref_name).filter(|n| self.is_table(n)) {
            return Shape::Tables(name);
        }
        if let Some(name) = prop.get("additionalProperties").and_then(ref_name).filter(|n| self.is_table(n)) {
            return Shape::Named(name);
        }
        // A value that may also be a table (a custom traffic routing).
        if let Some(branches) = prop.get("anyOf").and_then(Value::as_array)
            && let Some(name) = branches.iter().filter_map(ref_name).find(|n| self.is_table(n) && n != "Distribution")
        {
            return Shape::Table(name);
        }
        Shape::Value
    }

    /// Adds the section of a table and, after it, those of the tables inside it.
    fn collect(&mut self, heading: &str, path: &str, table: &Map<String, Value>) {
        let props = table.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
        let required: Vec<&str> = table
            .get("required")
            .and_then(Value::as_array)
            .map_or(Vec::new(), |r| r.iter().filter_map(Value::as_str).collect());
        let mut keys: Vec<&String> = props.keys().collect();
        if path.is_empty() {
            // Top level: plain values first, alphabetical, then the tables in their order.
            let rank = |k: &str| match self.shape(&props[k]) {
                Shape::Value => 0,
                _ => 1 + TOP_LEVEL_ORDER.iter().position(|t| *t == k).unwrap_or(TOP_LEVEL_ORDER.len()),
            };
            keys.sort_by_key(|k| (rank(k), (*k).clone()));
        }
        let index = self.sections.len();
        self.sections.push(Section {
            heading: heading.to_string(),
            intro: table.get("description").and_then(Value::as_str).unwrap_or_default().to_string(),
            rows: Vec::new(),
        });
        let mut children: Vec<(String, String, String)> = Vec::new();
        for key in keys {
            let prop = &props[key];
            let sub_path = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
            let child = match self.shape(prop) {
                Shape::Table(def) => Some((format!("`[{sub_path}]`"), sub_path.clone(), def)),
                Shape::Tables(def) => Some((format!("`[[{sub_path}]]`"), sub_path.clone(), def)),
                Shape::Named(def) => Some((format!("`[{sub_path}.<name>]`"), format!("{sub_path}.<name>"), def)),
                Shape::Value => None,
            };
            let kind = match &child {
                Some((child_heading, _, def)) => {
                    let home = self.homes.iter().find(|(d, _)| d == def).map(|(_, h)| h.clone());
                    let target = home.unwrap_or_else(|| {
                        self.homes.push((def.clone(), child_heading.clone()));
                        children.push(child.clone().expect("a table"));
                        child_heading.clone()
                    });
                    let what = match self.shape(prop) {
                        Shape::Tables(_) => "array of tables",
                        Shape::Named(_) => "tables by name",
                        _ if prop.get("anyOf").is_some() => "string or table",
                        _ => "table",
                    };
                    format!("{what}, see [{target}](#{})", anchor(&target))
                }
                None => self.type_text(prop),
            };
            let mut description = prop.get("description").and_then(Value::as_str).unwrap_or_default().to_string();
            // A long list of names reads better under the description than as a type.
            let names = prop.get("enum").and_then(Value::as_array).filter(|v| v.len() > LONG_ENUM);
            let kind = match names {
                Some(values) => {
                    let list: Vec<String> = values.iter().map(|v| format!("`{}`", toml_text(v))).collect();
                    description = match description.split_once("\n\nDefault: ") {
                        Some((text, default)) => format!("{text} One of {}.\n\nDefault: {default}", list.join(", ")),
                        None => format!("{description} One of {}.", list.join(", ")),
                    };
                    "string".to_string()
                }
                None => kind,
            };
            let description = description.as_str();
            let (text, computed) = match description.rsplit_once("\n\nDefault: ") {
                Some((text, default)) => (text, Some(default.trim_end_matches('.'))),
                None => match description.strip_prefix("Default: ") {
                    Some(default) => ("", Some(default.trim_end_matches('.'))),
                    None => (description, None),
                },
            };
            let default = match (prop.get("default"), computed) {
                (Some(v), _) => format!("`{}`", toml_text(v)),
                (None, Some(d)) => d.to_string(),
                (None, None) if required.contains(&key.as_str()) => "required".to_string(),
                (None, None) => String::new(),
            };
            self.sections[index].rows.push([format!("`{key}`"), kind, default, cell(text)]);
        }
        for (child_heading, child_path, def) in children {
            if let Some(d) = self.definition(&def).cloned() {
                self.collect(&child_heading, &child_path, &d);
            }
        }
    }

    fn type_text(&self, prop: &Value) -> String {
        if let Some(name) = ref_name(prop) {
            if name == "Distribution" {
                return "distribution, see [Distributions](#distributions)".into();
            }
            if let Some(d) = self.definition(&name) {
                return self.type_text(&Value::Object(d.clone()));
            }
        }
        if let Some(values) = prop.get("enum").and_then(Value::as_array) {
            let list: Vec<String> = values.iter().map(|v| format!("`{}`", toml_text(v))).collect();
            return list.join(", ");
        }
        if let Some(branches) = prop.get("anyOf").and_then(Value::as_array) {
            let list: Vec<String> = branches.iter().map(|b| self.type_text(b)).collect();
            return list.join(" or ");
        }
        if let Some(branches) = prop.get("oneOf").and_then(Value::as_array) {
            let list: Vec<String> = branches
                .iter()
                .filter_map(|b| b.get("const").or_else(|| b.get("enum")?.get(0)))
                .map(|v| format!("`{}`", toml_text(v)))
                .collect();
            return list.join(", ");
        }
        match prop.get("type").and_then(Value::as_str) {
            Some("string") if prop.get("pattern").and_then(Value::as_str) == Some(DURATION_PATTERN) => {
                "duration".into()
            }
            Some("array") => {
                let item = prop.get("items").map_or_else(|| "value".into(), |i| self.type_text(i));
                match (prop.get("minItems"), prop.get("maxItems")) {
                    (Some(a), Some(b)) if a == b => {
                        let n = a.as_u64().unwrap_or(0) as usize;
                        format!("[{}]", vec![item; n].join(", "))
                    }
                    _ => format!("array of {item}"),
                }
            }
            Some("object") => match prop.get("additionalProperties") {
                Some(v) if v.is_object() => format!("table of {} by name", self.type_text(v)),
                _ => "table".into(),
            },
            Some(t) => t.into(),
            None if prop.as_object().is_some_and(|o| o.is_empty()) => "any value".into(),
            None => "value".into(),
        }
    }

    fn render(&self) -> String {
        let mut out = self.render_sections();
        let dist = self.definition("RawDistributionTable").cloned().unwrap_or_default();
        let mut tail = Reference { schema: self.schema, sections: Vec::new(), homes: Vec::new() };
        tail.collect("Distributions", "distribution", &dist);
        if let Some(first) = tail.sections.first_mut() {
            first.intro = format!(
                "A key that takes a distribution of durations takes a duration (fixed) or a table. {}",
                first.intro
            );
        }
        out.push_str(&tail.render_sections());
        out.trim_end().to_string() + "\n"
    }

    fn render_sections(&self) -> String {
        let mut out = String::new();
        for s in &self.sections {
            out.push_str(&format!("### {}\n\n", s.heading));
            if !s.intro.is_empty() {
                out.push_str(&s.intro);
                out.push_str("\n\n");
            }
            out.push_str("| key | type | default | description |\n|---|---|---|---|\n");
            for row in &s.rows {
                out.push_str(&format!("| {} |\n", row.join(" | ")));
            }
            out.push('\n');
        }
        out
    }
}

/// A description in a table cell: one line, paragraphs and list items as line breaks.
fn cell(text: &str) -> String {
    text.trim().replace("\n\n", "<br>").replace('\n', "<br>").replace('|', "\\|")
}

/// A JSON value as TOML writes it.
fn toml_text(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::Array(items) => format!("[{}]", items.iter().map(toml_text).collect::<Vec<_>>().join(", ")),
        Value::Object(map) => {
            let fields: Vec<String> = map.iter().map(|(k, v)| format!("{k} = {}", toml_text(v))).collect();
            format!("{{ {} }}", fields.join(", "))
        }
        Value::Number(n) if n.is_f64() => {
            let x = n.as_f64().unwrap_or(0.0);
            if x.fract() == 0.0 { format!("{x:.1}") } else { format!("{x}") }
        }
        other => other.to_string(),
    }
}
