//! Reading AWS's JSON with the path of every value at hand: typed getters whose errors name the
//! JSON path (`taskDefinition.containerDefinitions[0].cpu`), the fields an object holds that the
//! reader did not use, and the line and column of a path in the text.

use serde_json::{Map, Value};

use super::ImportError;

/// A JSON object and its path from the document's root (empty for the root itself).
#[derive(Clone)]
pub struct Obj<'a> {
    pub map: &'a Map<String, Value>,
    pub path: String,
}

/// `parent.key`, or `key` at the root.
pub fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() { key.to_string() } else { format!("{parent}.{key}") }
}

/// `parent[i]`.
pub fn at(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}

/// What a JSON value is, in a message.
pub fn kind(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("{b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) if s.chars().count() > 40 => "a long string".into(),
        Value::String(s) => format!("\"{s}\""),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// Parses a document; a syntax error names its line and column.
pub fn parse(file: &str, text: &str) -> Result<Value, ImportError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    serde_json::from_str(text).map_err(|e| {
        let mut err = ImportError::new(file, "", format!("not valid JSON: {e}"));
        // serde_json counts columns from 1 but says 0 for an error at a line's end.
        err.line = Some((e.line(), e.column().max(1)));
        err
    })
}

/// The root, which must be an object.
pub fn root<'a>(file: &str, v: &'a Value, what: &str) -> Result<Obj<'a>, ImportError> {
    match v {
        Value::Object(map) => Ok(Obj { map, path: String::new() }),
        other => Err(ImportError::new(file, "", format!("expected {what} (a JSON object), found {}", kind(other)))),
    }
}

impl<'a> Obj<'a> {
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    pub fn path_of(&self, key: &str) -> String {
        join(&self.path, key)
    }

    fn err(&self, file: &str, key: &str, message: String) -> ImportError {
        ImportError::new(file, &self.path_of(key), message)
    }

    /// A required value, or an error naming the missing field.
    pub fn need(&self, file: &str, key: &str) -> Result<&'a Value, ImportError> {
        self.get(key).ok_or_else(|| {
            let at = if self.path.is_empty() { "the document".to_string() } else { format!("`{}`", self.path) };
            self.err(file, key, format!("missing required field `{key}` in {at}"))
        })
    }

    pub fn str(&self, file: &str, key: &str) -> Result<Option<&'a str>, ImportError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.err(file, key, format!("expected a string, found {}", kind(other)))),
        }
    }

    pub fn need_str(&self, file: &str, key: &str) -> Result<&'a str, ImportError> {
        self.need(file, key)?;
        Ok(self.str(file, key)?.unwrap_or_default())
    }

    pub fn bool(&self, file: &str, key: &str) -> Result<Option<bool>, ImportError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(self.err(file, key, format!("expected true or false, found {}", kind(other)))),
        }
    }

    /// A whole number from `min` to `max`; a string of digits is taken too, as the AWS CLI
    /// accepts it.
    pub fn int(&self, file: &str, key: &str, min: i64, max: i64) -> Result<Option<i64>, ImportError> {
        let Some(v) = self.get(key) else { return Ok(None) };
        let n = match v {
            Value::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        match n {
            Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
            Some(n) => Err(self.err(file, key, format!("{n} is out of range: `{key}` is {min} to {max}"))),
            None => Err(self.err(file, key, format!("expected a whole number, found {}", kind(v)))),
        }
    }

    pub fn u32(&self, file: &str, key: &str) -> Result<Option<u32>, ImportError> {
        Ok(self.int(file, key, 0, i64::from(u32::MAX))?.map(|n| n as u32))
    }

    pub fn f64(&self, file: &str, key: &str) -> Result<Option<f64>, ImportError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64()),
            Some(other) => Err(self.err(file, key, format!("expected a number, found {}", kind(other)))),
        }
    }

    pub fn obj(&self, file: &str, key: &str) -> Result<Option<Obj<'a>>, ImportError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(Obj { map, path: self.path_of(key) })),
            Some(other) => Err(self.err(file, key, format!("expected an object, found {}", kind(other)))),
        }
    }

    pub fn array(&self, file: &str, key: &str) -> Result<Option<&'a Vec<Value>>, ImportError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(other) => Err(self.err(file, key, format!("expected an array, found {}", kind(other)))),
        }
    }

    /// Fields present (not null, not an empty array or object) that are neither read (`known`) nor state and metadata
    /// that carry no configuration (`skip`), as JSON paths, in the document's order.
    pub fn unused(&self, known: &[&str], skip: &[&str], out: &mut Vec<String>) {
        for (k, v) in self.map {
            let empty = match v {
                Value::Null => true,
                Value::Array(a) => a.is_empty(),
                Value::Object(o) => o.is_empty(),
                _ => false,
            };
            if !empty && !known.contains(&k.as_str()) && !skip.contains(&k.as_str()) {
                out.push(self.path_of(k));
            }
        }
    }
}

/// Each element of an array that must hold objects.
pub fn objects<'a>(file: &str, list: &'a [Value], path: &str) -> Result<Vec<Obj<'a>>, ImportError> {
    list.iter()
        .enumerate()
        .map(|(i, v)| match v {
            Value::Object(map) => Ok(Obj { map, path: at(path, i) }),
            other => Err(ImportError::new(file, &at(path, i), format!("expected an object, found {}", kind(other)))),
        })
        .collect()
}

/// The 1-based line and column where the value at `path` starts in `text`, if it is there.
pub fn locate(text: &str, path: &str) -> Option<(usize, usize)> {
    let segs = split_path(path)?;
    let bytes = text.as_bytes();
    let mut pos = skip_ws(bytes, 0);
    for seg in segs {
        pos = match seg {
            PathSeg::Key(k) => find_key(bytes, pos, &k)?,
            PathSeg::Index(i) => find_index(bytes, pos, i)?,
        };
    }
    let before = &text[..pos.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before[before.rfind('\n').map_or(0, |i| i + 1)..].chars().count() + 1;
    Some((line, col))
}

/// [`locate`], or where the deepest part of the path that is in the text starts (the object a
/// missing field belongs in).
pub fn locate_nearest(text: &str, path: &str) -> Option<(usize, usize)> {
    let mut p = path;
    loop {
        if let Some(found) = locate(text, p) {
            return Some(found);
        }
        let cut = p.rfind(['.', '['])?;
        p = &p[..cut];
    }
}

enum PathSeg {
    Key(String),
    Index(usize),
}

fn split_path(path: &str) -> Option<Vec<PathSeg>> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, mut rest) = part.split_once('[').map_or((part, ""), |(k, r)| (k, r));
        if !key.is_empty() {
            out.push(PathSeg::Key(key.to_string()));
        }
        while !rest.is_empty() {
            let (n, r) = rest.split_once(']')?;
            out.push(PathSeg::Index(n.parse().ok()?));
            rest = r.strip_prefix('[').unwrap_or(r);
        }
    }
    Some(out)
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// The end of the string starting at `i` (which holds `"`), past its closing quote.
fn skip_string(b: &[u8], mut i: usize) -> usize {
    i += 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// The end of the value starting at `i`.
fn skip_value(b: &[u8], i: usize) -> usize {
    match b.get(i) {
        Some(b'"') => skip_string(b, i),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        j = skip_string(b, j);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return j + 1;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            j
        }
        _ => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b'}' | b']') && !b[j].is_ascii_whitespace() {
                j += 1;
            }
            j
        }
    }
}

fn find_key(b: &[u8], obj: usize, key: &str) -> Option<usize> {
    if b.get(obj) != Some(&b'{') {
        return None;
    }
    let mut i = skip_ws(b, obj + 1);
    while b.get(i) == Some(&b'"') {
        let end = skip_string(b, i);
        let name: String = serde_json::from_slice(&b[i..end]).ok()?;
        i = skip_ws(b, end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(b, i + 1);
        if name == key {
            return Some(i);
        }
        i = skip_ws(b, skip_value(b, i));
        if b.get(i) == Some(&b',') {
            i = skip_ws(b, i + 1);
        }
    }
    None
}

fn find_index(b: &[u8], arr: usize, index: usize) -> Option<usize> {
    if b.get(arr) != Some(&b'[') {
        return None;
    }
    let mut i = skip_ws(b, arr + 1);
    for _ in 0..index {
        if matches!(b.get(i), None | Some(b']')) {
            return None;
        }
        i = skip_ws(b, skip_value(b, i));
        if b.get(i) != Some(&b',') {
            return None;
        }
        i = skip_ws(b, i + 1);
    }
    (!matches!(b.get(i), None | Some(b']'))).then_some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_paths_in_the_text() {
        let text = "{\n  \"a\": {\"b\": [1, {\"c\": \"x\"}]},\n  \"d\": 2\n}";
        assert_eq!(locate(text, "a.b[1].c"), Some((2, 24)));
        assert_eq!(locate(text, "d"), Some((3, 8)));
        assert_eq!(locate(text, "a.b[2]"), None);
        assert_eq!(locate(text, "zz"), None);
        assert_eq!(locate_nearest(text, "a.b[1].zz"), Some((2, 18)));
    }

    #[test]
    fn numbers_may_be_strings_of_digits() {
        let v: Value = serde_json::from_str(r#"{"a": "512", "b": 7, "c": "lots", "d": 2.5}"#).unwrap();
        let o = root("f", &v, "x").unwrap();
        assert_eq!(o.int("f", "a", 0, 1000).unwrap(), Some(512));
        assert_eq!(o.int("f", "b", 0, 1000).unwrap(), Some(7));
        let e = o.int("f", "c", 0, 1000).unwrap_err();
        assert_eq!(e.path, "c");
        assert!(e.message.contains("\"lots\""));
        assert!(o.int("f", "d", 0, 1000).is_err());
    }
}
