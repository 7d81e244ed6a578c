//! Errors in scenario files, located at a file, line, column and key, with a suggestion where
//! one fits. Every user mistake ends here and the CLI exits with code 2.

use std::fmt;
use std::path::PathBuf;

/// Where a problem sits: in the file (line and column, 1-based) or in a `--set` override.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    File { line: usize, column: usize },
    Override { argument: String },
    Unknown,
}

/// One problem in a scenario, ready to print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file as the user named it.
    pub file: String,
    pub location: Location,
    /// The dotted key path, e.g. `services.web.desired_count`; empty for the document itself.
    pub key: String,
    pub message: String,
    pub suggestion: Option<String>,
    /// The offending source line with a caret under the problem, when in the file.
    pub snippet: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Location::File { line, column } => write!(f, "{}:{}:{}: ", self.file, line, column)?,
            Location::Override { argument } => write!(f, "{}: in --set {}: ", self.file, argument)?,
            Location::Unknown => write!(f, "{}: ", self.file)?,
        }
        if !self.key.is_empty() {
            write!(f, "key `{}`: ", self.key)?;
        }
        write!(f, "{}", self.message)?;
        if let Some(snippet) = &self.snippet {
            write!(f, "\n{snippet}")?;
        }
        if let Some(s) = &self.suggestion {
            write!(f, "\n  help: {s}")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("{}: cannot read the file: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Invalid(Box<Diagnostic>),
    #[error("--set {argument}: {message}")]
    BadOverride { argument: String, message: String },
}

/// Edit distance between two short strings (Levenshtein, by characters).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The candidate closest to `wrong`, if it is close enough to be a likely typo: within a third
/// of the word's length (at least 1, at most 3 edits), or differing only in case and separators.
pub fn nearest<'a>(wrong: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let norm = |s: &str| s.to_ascii_lowercase().replace(['-', '_', '.', ' '], "");
    let wrong_norm = norm(wrong);
    let limit = (wrong.chars().count() / 3).clamp(1, 3);
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = if norm(c) == wrong_norm { 0 } else { edit_distance(wrong, c) };
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// "did you mean `x`?" for a wrong name among candidates, or the list when there are few.
pub fn suggest<'a>(wrong: &str, candidates: impl IntoIterator<Item = &'a str> + Clone) -> Option<String> {
    if let Some(n) = nearest(wrong, candidates.clone()) {
        return Some(format!("did you mean `{n}`?"));
    }
    let all: Vec<&str> = candidates.into_iter().collect();
    match all.len() {
        0 => None,
        1..=12 => {
            Some(format!("expected one of: {}", all.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")))
        }
        _ => None,
    }
}

/// Reads serde's "unknown field `x`, expected one of `a`, `b`" (or "unknown variant") message
/// into the wrong name and the valid ones.
pub fn parse_unknown_name(message: &str) -> Option<(String, Vec<String>)> {
    let rest = message.strip_prefix("unknown field `").or_else(|| message.strip_prefix("unknown variant `"))?;
    let (wrong, rest) = rest.split_once('`')?;
    let expected: Vec<String> = rest.split('`').skip(1).step_by(2).map(str::to_string).collect();
    Some((wrong.to_string(), expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }

    #[test]
    fn nearest_finds_typos_not_strangers() {
        let keys = ["desired_count", "task_definition", "placement_strategy"];
        assert_eq!(nearest("desired_cont", keys), Some("desired_count"));
        assert_eq!(nearest("DesiredCount", keys), Some("desired_count"));
        assert_eq!(nearest("banana", keys), None);
    }

    #[test]
    fn reads_serde_unknown_field_messages() {
        let (w, e) = parse_unknown_name("unknown field `cluster_typo`, expected one of `seed`, `name`").unwrap();
        assert_eq!(w, "cluster_typo");
        assert_eq!(e, vec!["seed", "name"]);
        let (w, e) = parse_unknown_name("unknown variant `binpak`, expected `binpack` or `spread`").unwrap();
        assert_eq!((w.as_str(), e.len()), ("binpak", 2));
        assert!(parse_unknown_name("invalid type: string").is_none());
    }
}
