//! The text of a scenario file, its parsed and spanned TOML tree, and `--set` overrides grafted
//! onto that tree. Any span in the tree can be turned back into a line and column, or into the
//! override that produced it; any key path into a span.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::error::{Diagnostic, Location, ScenarioError, nearest};

/// One step of a key path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A dotted key path such as `services.web.placement_strategy[0].type`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyPath(pub Vec<Seg>);

impl KeyPath {
    pub fn root() -> Self {
        KeyPath(Vec::new())
    }

    pub fn key(&self, k: &str) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Key(k.to_string()));
        p
    }

    pub fn index(&self, i: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Index(i));
        p
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for seg in &self.0 {
            match seg {
                Seg::Key(k) => {
                    if !first {
                        f.write_str(".")?;
                    }
                    if k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') && !k.is_empty() {
                        f.write_str(k)?;
                    } else {
                        write!(f, "\"{k}\"")?;
                    }
                }
                Seg::Index(i) => write!(f, "[{i}]")?,
            }
            first = false;
        }
        Ok(())
    }
}

/// Parses `a.b[2]."c.d"` (indices also as `.2`) into a key path.
pub fn parse_key_path(text: &str) -> Result<KeyPath, String> {
    let mut segs = Vec::new();
    let mut chars = text.chars().peekable();
    let mut expect_key = true;
    while let Some(&c) = chars.peek() {
        match c {
            '.' if !expect_key => {
                chars.next();
                expect_key = true;
            }
            '[' if !expect_key => {
                chars.next();
                let digits: String = chars.by_ref().take_while(|&c| c != ']').collect();
                let i = digits.trim().parse().map_err(|_| format!("`[{digits}]` is not an array index"))?;
                segs.push(Seg::Index(i));
            }
            '"' | '\'' if expect_key => {
                chars.next();
                let key: String = chars.by_ref().take_while(|&q| q != c).collect();
                segs.push(Seg::Key(key));
                expect_key = false;
            }
            _ if expect_key => {
                let mut key = String::new();
                while let Some(&k) = chars.peek() {
                    if k == '.' || k == '[' {
                        break;
                    }
                    key.push(k);
                    chars.next();
                }
                let key = key.trim().to_string();
                if key.is_empty() {
                    return Err("empty key in path".into());
                }
                match key.parse::<usize>() {
                    Ok(i) if !segs.is_empty() => segs.push(Seg::Index(i)),
                    _ => segs.push(Seg::Key(key)),
                }
                expect_key = false;
            }
            _ => return Err(format!("unexpected `{c}` in key path")),
        }
    }
    if segs.is_empty() || expect_key {
        return Err("the key path is empty or ends with a dot".into());
    }
    Ok(KeyPath(segs))
}

/// A scenario's text and where each part of the parsed tree came from.
///
/// The `--set` values are appended to the file text in one buffer, so the whole tree borrows from
/// one string and a span past the end of the file text names the override it came from.
pub struct Source {
    /// The file name as the user gave it.
    pub name: String,
    buffer: String,
    file_len: usize,
    /// Each `--set` argument, the range of its value in `buffer`, and its key path.
    overrides: Vec<(String, Range<usize>, KeyPath)>,
}

impl Source {
    pub fn new(name: String, text: String, overrides: &[String]) -> Result<Self, ScenarioError> {
        let file_len = text.len();
        let mut buffer = text;
        let mut parsed = Vec::new();
        for argument in overrides {
            let bad = |message: String| ScenarioError::BadOverride { argument: argument.clone(), message };
            let (path_text, value_text) = argument
                .split_once('=')
                .ok_or_else(|| bad("expected path=value, e.g. services.web.desired_count=8".into()))?;
            let path = parse_key_path(path_text.trim()).map_err(bad)?;
            buffer.push('\n');
            let start = buffer.len();
            buffer.push_str(value_text.trim());
            parsed.push((argument.clone(), start..buffer.len(), path));
        }
        Ok(Source { name, buffer, file_len, overrides: parsed })
    }

    pub fn text(&self) -> &str {
        &self.buffer[..self.file_len]
    }

    /// Parses the file and grafts the overrides onto it.
    ///
    /// An override's value is read as a TOML value (`8`, `"m5.large"`, `[1, 2]`,
    /// `{ type = "random" }`); anything that is not valid TOML is taken as a plain string, so
    /// `--set name=demo` works without quotes.
    pub fn parse(&self) -> Result<DeTable<'_>, ScenarioError> {
        let mut root = DeTable::parse(self.text())
            .map_err(|e| self.diagnostic(e.span(), &KeyPath::root(), syntax_message(&e), None))?
            .into_inner();
        for (argument, range, path) in &self.overrides {
            let text = &self.buffer[range.clone()];
            let mut value = match DeValue::parse(text) {
                Ok(v) => v,
                Err(_) => Spanned::new(0..text.len(), DeValue::String(Cow::Borrowed(text))),
            };
            shift_spans(&mut value, range.start);
            set_path(&mut root, &path.0, value)
                .map_err(|message| ScenarioError::BadOverride { argument: argument.clone(), message })?;
        }
        Ok(root)
    }

    /// 1-based line and column (in characters) of a byte offset in the file text.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let text = self.text();
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, before[line_start..].chars().count() + 1)
    }

    fn location(&self, span: &Range<usize>) -> Location {
        if span.start > self.file_len || (span.start == self.file_len && !self.overrides.is_empty()) {
            return self
                .overrides
                .iter()
                .find(|(_, r, _)| span.start >= r.start && span.start <= r.end)
                .map_or(Location::Unknown, |(arg, _, _)| Location::Override { argument: arg.clone() });
        }
        let (line, column) = self.line_col(span.start);
        Location::File { line, column }
    }

    /// The source line of the span with carets under it.
    fn snippet(&self, span: &Range<usize>) -> Option<String> {
        if span.start >= self.file_len {
            return None;
        }
        let (line, col) = self.line_col(span.start);
        let text = self.text().lines().nth(line - 1)?;
        let available = text.chars().count().saturating_sub(col - 1).max(1);
        let end = floor_char_boundary(self.text(), span.end.min(self.file_len));
        let start = floor_char_boundary(self.text(), span.start);
        let width = self.text()[start..end].lines().next().map_or(1, |s| s.chars().count().max(1));
        let gutter = " ".repeat(line.to_string().len());
        Some(format!(
            "{gutter} |\n{line} | {text}\n{gutter} | {}{}",
            " ".repeat(col - 1),
            "^".repeat(width.min(available))
        ))
    }

    /// A diagnostic at a span (or at no particular place).
    pub fn diagnostic(
        &self,
        span: Option<Range<usize>>,
        key: &KeyPath,
        message: String,
        suggestion: Option<String>,
    ) -> ScenarioError {
        let location = span.as_ref().map_or(Location::Unknown, |s| self.location(s));
        let snippet = span.as_ref().and_then(|s| self.snippet(s));
        ScenarioError::Invalid(Box::new(Diagnostic {
            file: self.name.clone(),
            location,
            key: key.to_string(),
            message,
            suggestion,
            snippet,
        }))
    }

    /// A diagnostic at a key path of the tree: at the value if the path leads to one, else at
    /// the deepest part of the path that exists.
    pub fn error_at(
        &self,
        root: &DeTable<'_>,
        key: &KeyPath,
        message: impl Into<String>,
        suggestion: Option<String>,
    ) -> ScenarioError {
        self.diagnostic(span_of(root, &key.0), key, message.into(), suggestion)
    }

    /// Turns a serde error from deserializing the tree into a diagnostic: the key path comes
    /// from the span, and an unknown name gets the nearest valid one as a suggestion.
    pub fn deserialize_error(&self, root: &DeTable<'_>, err: &toml::de::Error) -> ScenarioError {
        let span = err.span();
        let mut path = span.as_ref().map(|s| path_at(root, s)).unwrap_or_default();
        let message = err.message().trim().to_string();
        let mut suggestion = None;
        let mut at = span.clone();
        if let Some((wrong, expected)) = super::error::parse_unknown_name(&message) {
            // serde's message already lists the valid names; add only a likely intended one.
            suggestion = nearest(&wrong, expected.iter().map(String::as_str)).map(|n| format!("did you mean `{n}`?"));
            // Point at the unknown key itself where it can be found under the path.
            let mut key_path = path.clone();
            if matches!(key_path.0.last(), Some(Seg::Key(k)) if *k == wrong) {
                key_path.0.pop();
            }
            if let Some(span) = key_span(root, &key_path.0, &wrong) {
                at = Some(span);
                path = key_path.key(&wrong);
            }
        }
        self.diagnostic(at, &path, message, suggestion)
    }
}

fn syntax_message(e: &toml::de::Error) -> String {
    format!("TOML syntax error: {}", e.message().trim())
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Moves every span in a value (keys included) by `offset`.
fn shift_spans(v: &mut Spanned<DeValue<'_>>, offset: usize) {
    let span = v.span();
    let mut inner = std::mem::replace(v.get_mut(), DeValue::Boolean(false));
    match &mut inner {
        DeValue::Array(items) => {
            for item in items.iter_mut() {
                shift_spans(item, offset);
            }
        }
        DeValue::Table(table) => {
            let old = std::mem::take(table);
            for (k, mut val) in old {
                let ks = k.span();
                shift_spans(&mut val, offset);
                table.insert(Spanned::new(ks.start + offset..ks.end + offset, k.into_inner()), val);
            }
        }
        _ => {}
    }
    *v = Spanned::new(span.start + offset..span.end + offset, inner);
}

/// Sets the value at a path, creating tables on the way.
fn set_path<'i>(table: &mut DeTable<'i>, path: &[Seg], value: Spanned<DeValue<'i>>) -> Result<(), String> {
    let Some((first, rest)) = path.split_first() else {
        return Err("empty key path".into());
    };
    let Seg::Key(key) = first else {
        return Err("a key path starts with a key, not an index".into());
    };
    if rest.is_empty() {
        let span = value.span();
        table.insert(Spanned::new(span, Cow::Owned(key.clone())), value);
        return Ok(());
    }
    if !table.contains_key(key.as_str()) {
        let span = value.span();
        table.insert(
            Spanned::new(span.clone(), Cow::Owned(key.clone())),
            Spanned::new(span, DeValue::Table(DeTable::new())),
        );
    }
    let Some(child) = table.get_mut(key.as_str()) else {
        return Err(format!("cannot reach `{key}`"));
    };
    set_in_value(child.get_mut(), rest, value, key)
}

fn set_in_value<'i>(
    node: &mut DeValue<'i>,
    path: &[Seg],
    value: Spanned<DeValue<'i>>,
    parent: &str,
) -> Result<(), String> {
    match (node, &path[0]) {
        (DeValue::Table(t), Seg::Key(_)) => set_path(t, path, value),
        (DeValue::Array(items), Seg::Index(i)) => {
            let len = items.len();
            let Some(item) = items.get_mut(*i) else {
                return Err(format!("`{parent}` has {len} entries; index {i} is out of range"));
            };
            if path.len() == 1 {
                *item = value;
                Ok(())
            } else {
                set_in_value(item.get_mut(), &path[1..], value, parent)
            }
        }
        (DeValue::Array(_), Seg::Key(k)) => {
            Err(format!("`{parent}` is an array: use an index such as `{parent}[0].{k}`"))
        }
        (other, _) => Err(format!("`{parent}` is a {}, not a table or array", other.type_str())),
    }
}

/// The span of the value at a path, or of the deepest part of the path that exists.
pub fn span_of(table: &DeTable<'_>, path: &[Seg]) -> Option<Range<usize>> {
    let mut best = None;
    let mut node: Option<&DeValue<'_>> = None;
    for (n, seg) in path.iter().enumerate() {
        let next = match (n, seg, node) {
            (0, Seg::Key(k), _) => table.get(k.as_str()),
            (_, Seg::Key(k), Some(DeValue::Table(t))) => t.get(k.as_str()),
            (_, Seg::Index(i), Some(DeValue::Array(a))) => a.get(*i),
            _ => None,
        };
        match next {
            Some(v) => {
                best = Some(v.span());
                node = Some(v.get_ref());
            }
            None => break,
        }
    }
    best
}

/// The span of key `name` in the table at `path`.
fn key_span(table: &DeTable<'_>, path: &[Seg], name: &str) -> Option<Range<usize>> {
    let mut node = table;
    let mut arr_node: Option<&DeValue<'_>> = None;
    for seg in path {
        let v = match (seg, arr_node) {
            (Seg::Key(k), None) => node.get(k.as_str())?,
            (Seg::Index(i), Some(DeValue::Array(a))) => a.get(*i)?,
            _ => return None,
        };
        match v.get_ref() {
            DeValue::Table(t) => {
                node = t;
                arr_node = None;
            }
            arr @ DeValue::Array(_) => arr_node = Some(arr),
            _ => return None,
        }
    }
    if arr_node.is_some() {
        return None;
    }
    node.get_key_value(name).map(|(k, _)| k.span())
}

/// The deepest key path whose value's span contains `span`.
pub fn path_at(table: &DeTable<'_>, span: &Range<usize>) -> KeyPath {
    let mut path = KeyPath::root();
    descend_table(table, span, &mut path);
    path
}

fn contains(outer: &Range<usize>, inner: &Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end && outer.start < outer.end
}

fn descend_table(table: &DeTable<'_>, span: &Range<usize>, path: &mut KeyPath) {
    for (k, v) in table.iter() {
        if contains(&k.span(), span) {
            path.0.push(Seg::Key(k.get_ref().to_string()));
            return;
        }
        if contains(&v.span(), span) || matches!(v.get_ref(), DeValue::Table(_) | DeValue::Array(_)) && inside(v, span)
        {
            path.0.push(Seg::Key(k.get_ref().to_string()));
            descend_value(v, span, path);
            return;
        }
    }
}

/// Whether any part of a table or array value contains the span (standard tables are spread
/// over the file, so their own span does not cover their keys).
fn inside(v: &Spanned<DeValue<'_>>, span: &Range<usize>) -> bool {
    if contains(&v.span(), span) {
        return true;
    }
    match v.get_ref() {
        DeValue::Table(t) => t.iter().any(|(k, v)| contains(&k.span(), span) || inside(v, span)),
        DeValue::Array(a) => a.iter().any(|v| inside(v, span)),
        _ => false,
    }
}

fn descend_value(v: &Spanned<DeValue<'_>>, span: &Range<usize>, path: &mut KeyPath) {
    match v.get_ref() {
        DeValue::Table(t) => descend_table(t, span, path),
        DeValue::Array(a) => {
            if let Some((i, item)) = a.iter().enumerate().find(|(_, item)| inside(item, span)) {
                path.0.push(Seg::Index(i));
                descend_value(item, span, path);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_paths_parse_and_print() {
        let p = parse_key_path("cluster.auto_scaling_groups[0].desired_capacity").unwrap();
        assert_eq!(p.to_string(), "cluster.auto_scaling_groups[0].desired_capacity");
        let p = parse_key_path("cluster.auto_scaling_groups.1.desired_capacity").unwrap();
        assert_eq!(p.0[2], Seg::Index(1));
        let p = parse_key_path("instance_types.\"m5.large\".on_demand_price").unwrap();
        assert_eq!(p.0[1], Seg::Key("m5.large".into()));
        assert_eq!(p.to_string(), "instance_types.\"m5.large\".on_demand_price");
        assert!(parse_key_path("a.").is_err());
        assert!(parse_key_path("").is_err());
    }

    #[test]
    fn line_and_column_are_one_based() {
        let s = Source::new("f.toml".into(), "a = 1\nbb = 2\n".into(), &[]).unwrap();
        assert_eq!(s.line_col(0), (1, 1));
        assert_eq!(s.line_col(6), (2, 1));
        assert_eq!(s.line_col(11), (2, 6));
    }

    #[test]
    fn paths_are_found_from_spans_and_back() {
        let text = "seed = 1\n[services.web]\ndesired_count = 2\nplacement_strategy = [{ type = \"binpack\", field = \"cpu\" }]\n";
        let s = Source::new("f.toml".into(), text.into(), &[]).unwrap();
        let root = s.parse().unwrap();
        let key = parse_key_path("services.web.placement_strategy[0].field").unwrap();
        let span = span_of(&root, &key.0).unwrap();
        assert_eq!(&text[span.clone()], "\"cpu\"");
        assert_eq!(path_at(&root, &span), key);
    }

    #[test]
    fn overrides_replace_values_and_are_located_by_argument() {
        let text = "seed = 1\n[services.web]\ndesired_count = 2\n";
        let s =
            Source::new("f.toml".into(), text.into(), &["services.web.desired_count=abc".into(), "seed = 9".into()])
                .unwrap();
        let root = s.parse().unwrap();
        let key = parse_key_path("services.web.desired_count").unwrap();
        let span = span_of(&root, &key.0).unwrap();
        assert_eq!(s.location(&span), Location::Override { argument: "services.web.desired_count=abc".into() });
        let seed = root.get("seed").unwrap();
        assert_eq!(seed.get_ref().as_integer().map(|i| i.as_str().to_string()), Some("9".into()));
    }

    #[test]
    fn bad_override_paths_are_refused() {
        let s = Source::new("f.toml".into(), "seed = 1\n".into(), &["seed.x=1".into()]).unwrap();
        assert!(matches!(s.parse(), Err(ScenarioError::BadOverride { .. })));
        assert!(Source::new("f.toml".into(), String::new(), &["noequals".into()]).is_err());
    }
}
