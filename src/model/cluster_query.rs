//! The ECS cluster query language: the expressions of `memberOf` task placement constraints,
//! which select the container instances a task may be placed on by attribute, agent state,
//! running task count or task group.
//!
//! Source: Amazon ECS Developer Guide, "Create expressions to define container instances for
//! Amazon ECS tasks" (the "Cluster query language" page),
//! <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cluster-query-language.html>,
//! together with the attributes and examples of its "Amazon ECS task placement constraints"
//! page. Every example expression of both pages is a unit test below.
//!
//! An expression is parsed once into a tree whose regular expressions and numeric arguments
//! are already compiled, because placement evaluates it for every candidate instance of every
//! task it places: [`Expression::eval`] neither allocates nor compiles.

use std::cmp::Ordering;
use std::fmt;

use regex_lite::Regex;

/// What an expression can ask of a container instance.
///
/// The doc lets an attribute have no value; such an attribute should be reported as
/// `Some("")`, so that `exists` sees it.
pub trait InstanceFacts {
    /// Built-in (`ecs.instance-type`, `ecs.availability-zone`, `ecs.os-type`, `ecs.cpu-architecture`, ...) and custom attributes, by name without the `attribute:` prefix.
    fn attribute(&self, name: &str) -> Option<&str>;
    fn ec2_instance_id(&self) -> &str;
    fn agent_connected(&self) -> bool;
    fn agent_version(&self) -> &str;
    fn running_tasks_count(&self) -> u32;
    /// Whether the instance runs at least one task of this task group.
    fn has_task_in_group(&self, group: &str) -> bool;
    /// Whether the instance runs any task at all.
    fn has_any_task(&self) -> bool;
}

/// A parsed cluster query expression.
///
/// Grammar, from the "Expression syntax" and "Compound expressions" sections of the doc:
///
/// ```text
/// expression := or
/// or         := and (("or" | "||") and)*
/// and        := unary (("and" | "&&") unary)*
/// unary      := ("not" | "!") unary | "(" expression ")" | condition
/// condition  := subject operator [argument]
/// argument   := value | "[" value ("," value)* "]"
/// value      := bare token | '...' | "..."
/// ```
///
/// so `not` binds tighter than `and`, and `and` tighter than `or`. The doc's note that "a
/// single expression can't contain parentheses" is read as: parentheses group conditions but
/// never appear inside one, so a bare argument ends at a parenthesis, bracket, comma, quote,
/// whitespace, `&&` or `||`. An argument that needs any of those (a regex with `(a|b)`, a value
/// with a space) is quoted; quotes have no escapes, as no attribute value may hold a quote.
#[derive(Clone, Debug)]
pub struct Expression {
    text: String,
    root: Node,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryError {
    /// What is wrong, in plain words, naming the expected token where one was expected.
    pub message: String,
    /// Byte offset in the expression text where the problem starts.
    pub offset: usize,
}

impl QueryError {
    fn new(offset: usize, message: impl Into<String>) -> Self {
        QueryError { message: message.into(), offset }
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at character {}: {}", self.offset, self.message)
    }
}

impl std::error::Error for QueryError {}

impl Expression {
    /// Parses and compiles `text`; every regular expression is compiled here, so an invalid
    /// one is a parse error rather than a failure at placement time.
    pub fn parse(text: &str) -> Result<Expression, QueryError> {
        if text.trim().is_empty() {
            return Err(QueryError::new(
                0,
                "the expression is empty; expected a condition such as \
                 'attribute:ecs.instance-type == t2.small'",
            ));
        }
        let mut parser = Parser { text, pos: 0, depth: 0, after_argumentless: false };
        let root = parser.parse_or("at the start of the expression")?;
        parser.finish()?;
        Ok(Expression { text: text.to_owned(), root })
    }

    /// Whether `instance` is a member of the group the expression defines.
    pub fn eval(&self, instance: &dyn InstanceFacts) -> bool {
        self.root.eval(instance)
    }

    /// True when the expression reads only facts that never change while an instance lives
    /// (attributes, ec2InstanceId, agentVersion), so its result can be cached per instance.
    ///
    /// This relies on the simulator keeping an instance's attributes as they were at
    /// registration (real ECS would also let `PutAttributes` change them);
    /// `agentConnected`, `runningTasksCount` and `task:group` change as the simulation runs.
    pub fn is_static(&self) -> bool {
        self.root.is_static()
    }

    /// The original text, for messages.
    pub fn text(&self) -> &str {
        &self.text
    }
}

#[derive(Clone, Debug)]
enum Node {
    Any(Vec<Node>),
    All(Vec<Node>),
    Not(Box<Node>),
    Condition(Condition),
}

impl Node {
    fn eval(&self, facts: &dyn InstanceFacts) -> bool {
        match self {
            Node::Any(nodes) => nodes.iter().any(|node| node.eval(facts)),
            Node::All(nodes) => nodes.iter().all(|node| node.eval(facts)),
            Node::Not(node) => !node.eval(facts),
            Node::Condition(condition) => condition.eval(facts),
        }
    }

    fn is_static(&self) -> bool {
        match self {
            Node::Any(nodes) | Node::All(nodes) => nodes.iter().all(Node::is_static),
            Node::Not(node) => node.is_static(),
            Node::Condition(condition) => condition.is_static(),
        }
    }
}

/// One `subject operator [argument]`, compiled for its subject.
///
/// The negative operators (`!=`, `!exists`, `!in`, `!~`) are the negation of their positive
/// twin, including on a missing attribute: a missing attribute fails `==`, `in`, `=~`,
/// `exists` and the order comparisons, and so passes `!=`, `!in`, `!~` and `!exists`.
#[derive(Clone, Debug)]
enum Condition {
    Text {
        source: TextSource,
        test: TextTest,
        negate: bool,
    },
    /// `runningTasksCount`, whose documented operators are exactly the six relations.
    RunningTasks {
        relation: Relation,
        count: f64,
    },
    /// `task:group`. The group names are compared verbatim. Per the "Task groups" page
    /// (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-groups.html>), a
    /// standalone task's group defaults to `family:<task definition family>` and a service's
    /// tasks take the service name as their group, which ECS renders as `service:<name>`: the
    /// query language page's own affinity example is `task:group == service:production`, and
    /// DescribeTasks shows `"group": "service:<name>"` for service tasks. An `InstanceFacts`
    /// implementation must therefore answer for groups in that prefixed form.
    TaskGroup {
        test: GroupTest,
        negate: bool,
    },
}

impl Condition {
    fn eval(&self, facts: &dyn InstanceFacts) -> bool {
        match self {
            Condition::Text { source, test, negate } => test.holds(source.read(facts)) != *negate,
            Condition::RunningTasks { relation, count } => {
                f64::from(facts.running_tasks_count()).partial_cmp(count).is_some_and(|order| relation.holds(order))
            }
            Condition::TaskGroup { test, negate } => {
                let runs = match test {
                    GroupTest::Member(group) => facts.has_task_in_group(group),
                    GroupTest::MemberOfAny(groups) => groups.iter().any(|group| facts.has_task_in_group(group)),
                    GroupTest::Any => facts.has_any_task(),
                };
                runs != *negate
            }
        }
    }

    fn is_static(&self) -> bool {
        match self {
            Condition::Text { source, .. } => !matches!(source, TextSource::AgentConnected),
            Condition::RunningTasks { .. } | Condition::TaskGroup { .. } => false,
        }
    }
}

/// The subjects whose value is a string.
#[derive(Clone, Debug)]
enum TextSource {
    /// Read as the string `true` or `false`, since the doc offers string operators on it
    /// (`==`, `in`, `=~`, ...).
    AgentConnected,
    AgentVersion,
    Attribute(String),
    Ec2InstanceId,
}

impl TextSource {
    fn read<'f>(&self, facts: &'f dyn InstanceFacts) -> Option<&'f str> {
        match self {
            TextSource::AgentConnected => Some(if facts.agent_connected() { "true" } else { "false" }),
            TextSource::AgentVersion => Some(facts.agent_version()),
            TextSource::Attribute(name) => facts.attribute(name),
            TextSource::Ec2InstanceId => Some(facts.ec2_instance_id()),
        }
    }
}

/// The positive form of a test on a string subject.
#[derive(Clone, Debug)]
enum TextTest {
    Equals(String),
    OneOf(Vec<String>),
    /// `=~`: the doc specifies `java.util.regex.Pattern` syntax. ECS is understood to apply it
    /// like Java's `String.matches`, which matches the whole value, so the pattern is compiled
    /// as `^(?:pattern)$`: `t2.*` selects `t2.small` but not `xt2.small`. `regex_lite` covers
    /// Java's common syntax (classes, quantifiers, groups, alternation, `(?i)`) but not
    /// look-around, back-references, possessive quantifiers or Unicode classes; those are
    /// parse errors.
    Matches(Regex),
    Exists,
    Compare(Relation, Bound),
}

impl TextTest {
    fn holds(&self, value: Option<&str>) -> bool {
        let Some(value) = value else {
            return false;
        };
        match self {
            TextTest::Equals(expected) => value == expected,
            TextTest::OneOf(list) => list.iter().any(|item| item == value),
            TextTest::Matches(regex) => regex.is_match(value),
            TextTest::Exists => true,
            TextTest::Compare(relation, bound) => relation.holds(bound.order(value)),
        }
    }
}

#[derive(Clone, Debug)]
enum GroupTest {
    Member(String),
    MemberOfAny(Vec<String>),
    Any,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Relation {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Relation {
    fn holds(self, order: Ordering) -> bool {
        match self {
            Relation::Eq => order.is_eq(),
            Relation::Ne => order.is_ne(),
            Relation::Gt => order.is_gt(),
            Relation::Ge => order.is_ge(),
            Relation::Lt => order.is_lt(),
            Relation::Le => order.is_le(),
        }
    }
}

/// The argument of `>`, `>=`, `<`, `<=` on a string subject, pre-read as a number and as a
/// dotted version so that comparing needs no parsing of it at evaluation time.
///
/// The doc only says "greater than" etc.; values are ordered as numbers when both sides are
/// numbers (`attribute:cores > 8`), else as dotted versions compared component by component
/// (`1.30.0` after `1.4.0`, where string order would say the opposite), else as strings.
/// For `agentVersion` the version reading comes first, so that `1.30` is after `1.4`.
#[derive(Clone, Debug)]
struct Bound {
    text: String,
    number: Option<f64>,
    version: Option<Vec<u64>>,
    versions_first: bool,
}

impl Bound {
    fn new(text: &str, versions_first: bool) -> Self {
        Bound { text: text.to_owned(), number: parse_number(text), version: parse_version(text), versions_first }
    }

    fn order(&self, value: &str) -> Ordering {
        if self.versions_first
            && let Some(order) = self.version_order(value)
        {
            return order;
        }
        if let (Some(bound), Some(number)) = (self.number, parse_number(value))
            && let Some(order) = number.partial_cmp(&bound)
        {
            return order;
        }
        if let Some(order) = self.version_order(value) {
            return order;
        }
        value.cmp(self.text.as_str())
    }

    fn version_order(&self, value: &str) -> Option<Ordering> {
        let bound = self.version.as_deref()?;
        if !is_version(value) {
            return None;
        }
        let mut parts = value.split('.');
        let mut bound_parts = bound.iter();
        loop {
            let (part, bound_part) = match (parts.next(), bound_parts.next()) {
                (None, None) => return Some(Ordering::Equal),
                pair => pair,
            };
            // A missing component counts as 0, so `1.14` equals `1.14.0`.
            let left = match part {
                Some(part) => part.parse::<u64>().ok()?,
                None => 0,
            };
            let right = bound_part.copied().unwrap_or(0);
            match left.cmp(&right) {
                Ordering::Equal => {}
                order => return Some(order),
            }
        }
    }
}

/// A plain decimal (`12`, `-3`, `0.5`). Rust's `f64` parser alone would also accept `inf`,
/// `NaN` and `1e3`, which are names or versions here, not numbers.
fn parse_number(text: &str) -> Option<f64> {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (whole, fraction) = match digits.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (digits, None),
    };
    let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || !fraction.is_none_or(all_digits) {
        return None;
    }
    text.parse().ok()
}

/// Dot-separated decimal components, each small enough for a `u64` (at most 19 digits).
fn is_version(text: &str) -> bool {
    text.split('.').all(|part| !part.is_empty() && part.len() <= 19 && part.bytes().all(|b| b.is_ascii_digit()))
}

fn parse_version(text: &str) -> Option<Vec<u64>> {
    if !is_version(text) {
        return None;
    }
    text.split('.').map(|part| part.parse().ok()).collect()
}

/// The operators of the doc's operator table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Equals,
    NotEquals,
    GreaterThan,
    GreaterThanEqual,
    LessThan,
    LessThanEqual,
    Exists,
    NotExists,
    In,
    NotIn,
    Matches,
    NotMatches,
}

/// Every spelling of every operator, as the doc's operator table gives them.
const SPELLINGS: &[(&str, Op)] = &[
    ("==", Op::Equals),
    ("equals", Op::Equals),
    ("!=", Op::NotEquals),
    ("not_equals", Op::NotEquals),
    (">", Op::GreaterThan),
    ("greater_than", Op::GreaterThan),
    (">=", Op::GreaterThanEqual),
    ("greater_than_equal", Op::GreaterThanEqual),
    ("<", Op::LessThan),
    ("less_than", Op::LessThan),
    ("<=", Op::LessThanEqual),
    ("less_than_equal", Op::LessThanEqual),
    ("exists", Op::Exists),
    ("!exists", Op::NotExists),
    ("not_exists", Op::NotExists),
    ("in", Op::In),
    ("!in", Op::NotIn),
    ("not_in", Op::NotIn),
    ("=~", Op::Matches),
    ("matches", Op::Matches),
    ("!~", Op::NotMatches),
    ("not_matches", Op::NotMatches),
];

const ALL_OPS: &[Op] = &[
    Op::Equals,
    Op::NotEquals,
    Op::GreaterThan,
    Op::GreaterThanEqual,
    Op::LessThan,
    Op::LessThanEqual,
    Op::Exists,
    Op::NotExists,
    Op::In,
    Op::NotIn,
    Op::Matches,
    Op::NotMatches,
];

/// The "Valid operators" the doc lists for `agentConnected` and `ec2InstanceId`.
const IDENTITY_OPS: &[Op] = &[Op::Equals, Op::NotEquals, Op::In, Op::NotIn, Op::Matches, Op::NotMatches];

/// The "Valid operators" the doc lists for `agentVersion`, `registeredAt` and
/// `runningTasksCount`.
const ORDER_OPS: &[Op] =
    &[Op::Equals, Op::NotEquals, Op::GreaterThan, Op::GreaterThanEqual, Op::LessThan, Op::LessThanEqual];

/// The doc lists no operators for `task:group`; these are the ones that can be answered from
/// which groups an instance runs tasks of.
const GROUP_OPS: &[Op] = &[Op::Equals, Op::NotEquals, Op::In, Op::NotIn, Op::Exists, Op::NotExists];

enum Operand {
    Nothing,
    Single,
    List,
}

impl Op {
    fn negated(self) -> bool {
        matches!(self, Op::NotEquals | Op::NotExists | Op::NotIn | Op::NotMatches)
    }

    fn relation(self) -> Option<Relation> {
        match self {
            Op::GreaterThan => Some(Relation::Gt),
            Op::GreaterThanEqual => Some(Relation::Ge),
            Op::LessThan => Some(Relation::Lt),
            Op::LessThanEqual => Some(Relation::Le),
            _ => None,
        }
    }

    fn operand(self) -> Operand {
        match self {
            Op::Exists | Op::NotExists => Operand::Nothing,
            Op::In | Op::NotIn => Operand::List,
            _ => Operand::Single,
        }
    }
}

/// The operators as a reader would list them: `==/equals, !=/not_equals, ...`.
fn describe_ops(ops: &[Op]) -> String {
    ops.iter()
        .map(|op| {
            SPELLINGS
                .iter()
                .filter(|(_, spelled)| spelled == op)
                .map(|(spelling, _)| *spelling)
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Clone, Debug)]
enum Subject {
    AgentConnected,
    AgentVersion,
    Attribute(String),
    Ec2InstanceId,
    RegisteredAt,
    RunningTasksCount,
    TaskGroup,
}

const SUBJECT_NAMES: &[&str] = &[
    "agentConnected",
    "agentVersion",
    "attribute:<name>",
    "ec2InstanceId",
    "registeredAt",
    "runningTasksCount",
    "task:group",
];

impl Subject {
    fn ops(&self) -> &'static [Op] {
        match self {
            Subject::AgentConnected | Subject::Ec2InstanceId => IDENTITY_OPS,
            Subject::AgentVersion | Subject::RegisteredAt | Subject::RunningTasksCount => ORDER_OPS,
            Subject::Attribute(_) => ALL_OPS,
            Subject::TaskGroup => GROUP_OPS,
        }
    }
}

/// An argument as written: its text (without quotes) and where it starts.
struct Literal<'a> {
    offset: usize,
    text: &'a str,
}

enum Argument<'a> {
    Nothing,
    Single(Literal<'a>),
    List(Vec<Literal<'a>>),
}

/// Nesting of parentheses and `not` beyond this is refused, so that hostile input cannot
/// exhaust the stack of the recursive parser or evaluator.
const MAX_DEPTH: usize = 64;

/// Characters of a subject (and of the `and`/`or`/`not` keywords): the doc's attribute-name
/// characters (letters, digits, `-`, `_`, `/`, `\`, `.`) plus the `:` of `attribute:` and
/// `task:group`. Operators are not among them, so `runningTasksCount>1` needs no spaces.
fn is_subject_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | '\\' | ':')
}

fn is_operator_char(c: char) -> bool {
    matches!(c, '=' | '!' | '<' | '>' | '~' | '&' | '|')
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn leading(text: &str, keep: impl Fn(char) -> bool) -> &str {
    &text[..text.find(|c: char| !keep(c)).unwrap_or(text.len())]
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    depth: usize,
    /// Whether the condition just parsed ended with `exists`/`!exists`, to explain a stray
    /// argument after it.
    after_argumentless: bool,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn skip_ws(&mut self) {
        self.pos = self.text.len() - self.rest().trim_start().len();
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn error_here(&self, message: impl Into<String>) -> QueryError {
        QueryError::new(self.pos, message)
    }

    /// The token at the current position, quoted, for "found ..." in messages.
    fn describe_next(&self) -> String {
        let rest = self.rest();
        let Some(first) = rest.chars().next() else {
            return "the end of the expression".to_owned();
        };
        let token = if is_subject_char(first) {
            leading(rest, is_subject_char)
        } else if is_operator_char(first) {
            leading(rest, is_operator_char)
        } else {
            &rest[..first.len_utf8()]
        };
        let shown: String = token.chars().take(40).collect();
        if shown.len() < token.len() { format!("'{shown}...'") } else { format!("'{shown}'") }
    }

    /// What to add to "expected 'and', 'or' ..., found X" when X looks like a known mistake.
    fn continuation_hint(&self) -> &'static str {
        let word = leading(self.rest(), is_subject_char);
        if ["and", "or", "not"].iter().any(|keyword| word != *keyword && word.eq_ignore_ascii_case(keyword)) {
            "; the keywords and, or and not are lowercase"
        } else if self.after_argumentless {
            "; exists and not_exists take no argument"
        } else {
            ""
        }
    }

    fn enter(&mut self, offset: usize) -> Result<(), QueryError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(QueryError::new(
                offset,
                format!("the expression nests parentheses and 'not' more than {MAX_DEPTH} deep"),
            ));
        }
        Ok(())
    }

    /// Consumes `word` or `symbol` if next, returning how it was spelled.
    fn eat_keyword(&mut self, word: &str, symbol: &str) -> Option<&'a str> {
        self.skip_ws();
        let rest = self.rest();
        let len = if rest.starts_with(symbol) {
            symbol.len()
        } else if leading(rest, is_subject_char) == word {
            word.len()
        } else {
            return None;
        };
        self.pos += len;
        Some(&rest[..len])
    }

    fn finish(&mut self) -> Result<(), QueryError> {
        self.skip_ws();
        match self.peek() {
            None => Ok(()),
            Some(')') => Err(self.error_here("unbalanced parentheses: this ')' has no matching '('")),
            Some(_) => Err(self.error_here(format!(
                "expected 'and', 'or' or the end of the expression, found {}{}",
                self.describe_next(),
                self.continuation_hint()
            ))),
        }
    }

    fn parse_or(&mut self, context: &str) -> Result<Node, QueryError> {
        let first = self.parse_and(context)?;
        let Some(keyword) = self.eat_keyword("or", "||") else {
            return Ok(first);
        };
        let mut nodes = vec![first, self.parse_and(&format!("after '{keyword}'"))?];
        while let Some(keyword) = self.eat_keyword("or", "||") {
            nodes.push(self.parse_and(&format!("after '{keyword}'"))?);
        }
        Ok(Node::Any(nodes))
    }

    fn parse_and(&mut self, context: &str) -> Result<Node, QueryError> {
        let first = self.parse_unary(context)?;
        let Some(keyword) = self.eat_keyword("and", "&&") else {
            return Ok(first);
        };
        let mut nodes = vec![first, self.parse_unary(&format!("after '{keyword}'"))?];
        while let Some(keyword) = self.eat_keyword("and", "&&") {
            nodes.push(self.parse_unary(&format!("after '{keyword}'"))?);
        }
        Ok(Node::All(nodes))
    }

    fn parse_unary(&mut self, context: &str) -> Result<Node, QueryError> {
        self.skip_ws();
        let start = self.pos;
        let rest = self.rest();
        let keyword_len = if rest.starts_with('!') {
            1
        } else if leading(rest, is_subject_char) == "not" {
            3
        } else {
            return self.parse_primary(context);
        };
        self.pos += keyword_len;
        self.enter(start)?;
        let inner = self.parse_unary(&format!("after '{}'", &rest[..keyword_len]))?;
        self.depth -= 1;
        Ok(Node::Not(Box::new(inner)))
    }

    fn parse_primary(&mut self, context: &str) -> Result<Node, QueryError> {
        self.skip_ws();
        let start = self.pos;
        if self.peek() != Some('(') {
            return self.parse_condition(context).map(Node::Condition);
        }
        self.pos += 1;
        self.enter(start)?;
        let inner = self.parse_or("after '('")?;
        self.skip_ws();
        match self.peek() {
            Some(')') => self.pos += 1,
            None => {
                return Err(QueryError::new(start, "unbalanced parentheses: this '(' is never closed; expected ')'"));
            }
            Some(_) => {
                return Err(self.error_here(format!(
                    "expected 'and', 'or' or ')' to close the '(' at character {start}, \
                     found {}{}",
                    self.describe_next(),
                    self.continuation_hint()
                )));
            }
        }
        self.after_argumentless = false;
        self.depth -= 1;
        Ok(inner)
    }

    fn parse_condition(&mut self, context: &str) -> Result<Condition, QueryError> {
        let start = self.pos;
        let word = leading(self.rest(), is_subject_char);
        if word.is_empty() {
            return Err(self.error_here(format!(
                "expected a condition such as 'attribute:ecs.instance-type == t2.small' \
                 {context}, found {}",
                self.describe_next()
            )));
        }
        self.pos += word.len();
        let subject = resolve_subject(word, start)?;
        let (op_start, spelled, op) = self.parse_operator(word, &subject)?;
        let argument = match op.operand() {
            Operand::Nothing => Argument::Nothing,
            Operand::Single => Argument::Single(self.parse_single(spelled)?),
            Operand::List => Argument::List(self.parse_list(spelled)?),
        };
        self.after_argumentless = matches!(op.operand(), Operand::Nothing);
        build_condition(subject, start, op, op_start, argument)
    }

    fn parse_operator(&mut self, subject_text: &str, subject: &Subject) -> Result<(usize, &'a str, Op), QueryError> {
        self.skip_ws();
        let start = self.pos;
        let rest = self.rest();
        let valid = subject.ops();
        let spelled = match rest.chars().next() {
            Some(c) if is_operator_char(c) => {
                let symbols = leading(rest, is_operator_char);
                if symbols == "!" { &rest[..1 + leading(&rest[1..], is_word_char).len()] } else { symbols }
            }
            Some(c) if c.is_ascii_alphabetic() || c == '_' => leading(rest, is_word_char),
            _ => {
                return Err(self.error_here(format!(
                    "expected an operator after '{subject_text}', found {}; its operators are {}",
                    self.describe_next(),
                    describe_ops(valid)
                )));
            }
        };
        self.pos += spelled.len();
        let Some(op) = SPELLINGS.iter().find(|(spelling, _)| *spelling == spelled).map(|(_, op)| *op) else {
            return Err(QueryError::new(
                start,
                format!(
                    "unknown operator '{spelled}' after '{subject_text}'; did you mean '{}'? \
                     Its operators are {}",
                    nearest_operator(spelled, valid),
                    describe_ops(valid)
                ),
            ));
        };
        if !valid.contains(&op) {
            return Err(QueryError::new(
                start,
                format!(
                    "operator '{spelled}' cannot be used with {subject_text}; its operators are {}",
                    describe_ops(valid)
                ),
            ));
        }
        Ok((start, spelled, op))
    }

    fn parse_single(&mut self, op: &str) -> Result<Literal<'a>, QueryError> {
        self.skip_ws();
        match self.peek() {
            None => Err(self.error_here(format!("expected an argument after '{op}', found the end of the expression"))),
            Some('[') => Err(self.error_here(format!(
                "'{op}' takes a single argument; a list [a, b] is only allowed with in and \
                 not_in (!in)"
            ))),
            Some(_) => {
                let literal = self.parse_value(&format!("after '{op}'"))?;
                let quoted = self.text[literal.offset..].starts_with(['\'', '"']);
                if !quoted && (literal.text == "and" || literal.text == "or") {
                    return Err(QueryError::new(
                        literal.offset,
                        format!(
                            "expected an argument after '{op}', found the keyword '{0}'; \
                             write '{0}' in quotes to use it as a value",
                            literal.text
                        ),
                    ));
                }
                Ok(literal)
            }
        }
    }

    fn parse_list(&mut self, op: &str) -> Result<Vec<Literal<'a>>, QueryError> {
        self.skip_ws();
        let open = self.pos;
        if self.peek() != Some('[') {
            return Err(self.error_here(format!(
                "expected '[' to start the argument list of '{op}' (as in '{op} [a, b]'), \
                 found {}",
                self.describe_next()
            )));
        }
        self.pos += 1;
        let unterminated =
            || QueryError::new(open, "unterminated argument list: this '[' is never closed; expected ']'");
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                None => return Err(unterminated()),
                Some(']') if items.is_empty() => {
                    return Err(self
                        .error_here(format!("the argument list of '{op}' is empty; expected at least one argument")));
                }
                Some(']') => {
                    return Err(self.error_here("expected an argument after ',', found ']'"));
                }
                Some(_) => {}
            }
            let context = if items.is_empty() { "after '['" } else { "after ','" };
            items.push(self.parse_value(context)?);
            self.skip_ws();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some(']') => {
                    self.pos += 1;
                    return Ok(items);
                }
                None => return Err(unterminated()),
                Some(_) => {
                    return Err(self.error_here(format!(
                        "expected ',' or ']' in the argument list opened at character {open}, \
                         found {}",
                        self.describe_next()
                    )));
                }
            }
        }
    }

    /// A quoted or bare argument.
    fn parse_value(&mut self, context: &str) -> Result<Literal<'a>, QueryError> {
        self.skip_ws();
        let start = self.pos;
        let rest = self.rest();
        if let Some(quote) = rest.chars().next().filter(|c| matches!(c, '\'' | '"')) {
            let body = &rest[1..];
            let Some(end) = body.find(quote) else {
                return Err(QueryError::new(
                    start,
                    format!("unterminated quoted argument: expected a closing {quote}"),
                ));
            };
            self.pos += end + 2;
            return Ok(Literal { offset: start, text: &body[..end] });
        }
        let end = rest
            .char_indices()
            .find(|&(at, c)| {
                c.is_whitespace()
                    || matches!(c, '(' | ')' | '[' | ']' | ',' | '\'' | '"')
                    || rest[at..].starts_with("&&")
                    || rest[at..].starts_with("||")
            })
            .map_or(rest.len(), |(at, _)| at);
        if end == 0 {
            return Err(self.error_here(format!("expected an argument {context}, found {}", self.describe_next())));
        }
        self.pos += end;
        Ok(Literal { offset: start, text: &rest[..end] })
    }
}

fn resolve_subject(word: &str, start: usize) -> Result<Subject, QueryError> {
    Ok(match word {
        "agentConnected" => Subject::AgentConnected,
        "agentVersion" => Subject::AgentVersion,
        "ec2InstanceId" => Subject::Ec2InstanceId,
        "registeredAt" => Subject::RegisteredAt,
        "runningTasksCount" => Subject::RunningTasksCount,
        "task:group" => Subject::TaskGroup,
        _ => match word.strip_prefix("attribute:") {
            Some("") => {
                return Err(QueryError::new(
                    start + word.len(),
                    "expected an attribute name after 'attribute:', \
                     as in 'attribute:ecs.instance-type'",
                ));
            }
            Some(name) => Subject::Attribute(name.to_owned()),
            None => {
                let subjects = SUBJECT_NAMES.join(", ");
                let message = match subject_suggestion(word) {
                    Some(suggestion) => format!(
                        "unknown subject '{word}'; did you mean '{suggestion}'? \
                         The subjects are {subjects}"
                    ),
                    None => format!("unknown subject '{word}'; the subjects are {subjects}"),
                };
                return Err(QueryError::new(start, message));
            }
        },
    })
}

/// The subject a misspelt one probably meant, if any is close.
fn subject_suggestion(word: &str) -> Option<String> {
    // An attribute name written without its prefix, or with a misspelt one.
    if word.starts_with("ecs.") {
        return Some(format!("attribute:{word}"));
    }
    if let Some((prefix, name)) = word.split_once(':')
        && !name.is_empty()
        && edit_distance(prefix, "attribute") <= 3
    {
        return Some(format!("attribute:{name}"));
    }
    let candidates = [
        "agentConnected",
        "agentVersion",
        "attribute:<name>",
        "ec2InstanceId",
        "registeredAt",
        "runningTasksCount",
        "task:group",
    ];
    candidates
        .iter()
        .map(|candidate| {
            let stem = candidate.trim_end_matches("<name>");
            (edit_distance(word, stem), *candidate)
        })
        .min_by_key(|(distance, _)| *distance)
        .filter(|(distance, _)| *distance <= 2.max(word.len() / 3))
        .map(|(_, candidate)| candidate.to_owned())
}

/// Abbreviations common in other query languages, mapped to the doc's word forms.
const OPERATOR_ALIASES: &[(&str, &str)] = &[
    ("eq", "equals"),
    ("ne", "not_equals"),
    ("gt", "greater_than"),
    ("ge", "greater_than_equal"),
    ("gte", "greater_than_equal"),
    ("lt", "less_than"),
    ("le", "less_than_equal"),
    ("lte", "less_than_equal"),
    ("<>", "!="),
    ("nin", "not_in"),
];

/// The spelling, among the operators valid for the subject, closest to what was written;
/// among equally close ones, one with the same characters (`=>` for `>=`) is preferred.
fn nearest_operator(spelled: &str, valid: &[Op]) -> &'static str {
    let alias = OPERATOR_ALIASES
        .iter()
        .find(|(alias, _)| alias.eq_ignore_ascii_case(spelled))
        .and_then(|(_, meant)| SPELLINGS.iter().find(|(spelling, _)| spelling == meant))
        .filter(|(_, op)| valid.contains(op));
    if let Some((spelling, _)) = alias {
        return spelling;
    }
    let sorted = |text: &str| {
        let mut chars: Vec<char> = text.chars().collect();
        chars.sort_unstable();
        chars
    };
    let written = sorted(spelled);
    SPELLINGS
        .iter()
        .filter(|(_, op)| valid.contains(op))
        .min_by_key(|(spelling, _)| (edit_distance(spelled, spelling), sorted(spelling) != written))
        .map_or("==", |(spelling, _)| spelling)
}

/// Edit distance counting an adjacent transposition as one edit (optimal string alignment),
/// ignoring ASCII case, for suggestions.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().map(|c| c.to_ascii_lowercase()).collect();
    let b: Vec<char> = b.chars().map(|c| c.to_ascii_lowercase()).collect();
    let width = b.len() + 1;
    let mut table = vec![0; (a.len() + 1) * width];
    for (j, cell) in table.iter_mut().take(width).enumerate() {
        *cell = j;
    }
    for i in 0..=a.len() {
        table[i * width] = i;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (table[(i - 1) * width + j - 1] + cost)
                .min(table[(i - 1) * width + j] + 1)
                .min(table[i * width + j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(table[(i - 2) * width + j - 2] + 1);
            }
            table[i * width + j] = best;
        }
    }
    table[a.len() * width + b.len()]
}

fn compile_regex(literal: &Literal<'_>) -> Result<Regex, QueryError> {
    let invalid = |error: regex_lite::Error| {
        QueryError::new(literal.offset, format!("invalid regular expression '{}': {error}", literal.text))
    };
    // Compiled alone first, so that a pattern such as `a)|(b` cannot escape the anchoring
    // group it is then wrapped in.
    Regex::new(literal.text).map_err(invalid)?;
    Regex::new(&format!("^(?:{})$", literal.text)).map_err(invalid)
}

fn build_condition(
    subject: Subject,
    subject_start: usize,
    op: Op,
    op_start: usize,
    argument: Argument<'_>,
) -> Result<Condition, QueryError> {
    let source = match subject {
        Subject::RegisteredAt => {
            return Err(QueryError::new(
                subject_start,
                "registeredAt is not modelled by ecsim: the simulator has no calendar to \
                 compare registration dates with",
            ));
        }
        Subject::RunningTasksCount => {
            let relation = match op {
                Op::Equals => Relation::Eq,
                Op::NotEquals => Relation::Ne,
                _ => op
                    .relation()
                    .ok_or_else(|| QueryError::new(op_start, "runningTasksCount takes ==, !=, >, >=, < or <="))?,
            };
            let Argument::Single(literal) = argument else {
                return Err(QueryError::new(op_start, "runningTasksCount takes a single number"));
            };
            let count = parse_number(literal.text).ok_or_else(|| {
                QueryError::new(
                    literal.offset,
                    format!("runningTasksCount is compared with a number, found '{}'", literal.text),
                )
            })?;
            return Ok(Condition::RunningTasks { relation, count });
        }
        Subject::TaskGroup => {
            let test = match argument {
                Argument::Nothing => GroupTest::Any,
                Argument::Single(literal) => GroupTest::Member(literal.text.to_owned()),
                Argument::List(list) => {
                    GroupTest::MemberOfAny(list.iter().map(|literal| literal.text.to_owned()).collect())
                }
            };
            return Ok(Condition::TaskGroup { test, negate: op.negated() });
        }
        Subject::AgentConnected => TextSource::AgentConnected,
        Subject::AgentVersion => TextSource::AgentVersion,
        Subject::Attribute(name) => TextSource::Attribute(name),
        Subject::Ec2InstanceId => TextSource::Ec2InstanceId,
    };
    let literals: &[Literal<'_>] = match &argument {
        Argument::Nothing => &[],
        Argument::Single(literal) => std::slice::from_ref(literal),
        Argument::List(list) => list,
    };
    let is_equality = !matches!(op, Op::Matches | Op::NotMatches) && op.relation().is_none();
    if matches!(source, TextSource::AgentConnected)
        && is_equality
        && let Some(bad) = literals.iter().find(|literal| !matches!(literal.text, "true" | "false"))
    {
        return Err(QueryError::new(bad.offset, format!("agentConnected is 'true' or 'false', found '{}'", bad.text)));
    }
    let versions_first = matches!(source, TextSource::AgentVersion);
    let test = match (argument, op.relation()) {
        (Argument::Nothing, _) => TextTest::Exists,
        (Argument::List(list), _) => TextTest::OneOf(list.iter().map(|literal| literal.text.to_owned()).collect()),
        (Argument::Single(literal), Some(relation)) => {
            if versions_first && !is_version(literal.text) {
                return Err(QueryError::new(
                    literal.offset,
                    format!(
                        "agentVersion is compared with a dotted version such as 1.30.0, \
                         found '{}'",
                        literal.text
                    ),
                ));
            }
            TextTest::Compare(relation, Bound::new(literal.text, versions_first))
        }
        (Argument::Single(literal), None) if matches!(op, Op::Matches | Op::NotMatches) => {
            TextTest::Matches(compile_regex(&literal)?)
        }
        (Argument::Single(literal), None) => TextTest::Equals(literal.text.to_owned()),
    };
    Ok(Condition::Text { source, test, negate: op.negated() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Fake {
        attributes: Vec<(&'static str, &'static str)>,
        instance_id: &'static str,
        connected: bool,
        version: &'static str,
        task_groups: Vec<&'static str>,
    }

    impl InstanceFacts for Fake {
        fn attribute(&self, name: &str) -> Option<&str> {
            self.attributes.iter().find(|(key, _)| *key == name).map(|(_, value)| *value)
        }
        fn ec2_instance_id(&self) -> &str {
            self.instance_id
        }
        fn agent_connected(&self) -> bool {
            self.connected
        }
        fn agent_version(&self) -> &str {
            self.version
        }
        fn running_tasks_count(&self) -> u32 {
            self.task_groups.len() as u32
        }
        fn has_task_in_group(&self, group: &str) -> bool {
            self.task_groups.contains(&group)
        }
        fn has_any_task(&self) -> bool {
            !self.task_groups.is_empty()
        }
    }

    fn instance(instance_type: &'static str, zone: &'static str) -> Fake {
        Fake {
            attributes: vec![
                ("ecs.instance-type", instance_type),
                ("ecs.availability-zone", zone),
                ("ecs.os-type", "linux"),
                ("ecs.cpu-architecture", "x86_64"),
            ],
            instance_id: "i-abcd1234",
            connected: true,
            version: "1.30.0",
            task_groups: Vec::new(),
        }
    }

    fn with_attribute(mut fake: Fake, name: &'static str, value: &'static str) -> Fake {
        fake.attributes.push((name, value));
        fake
    }

    fn with_tasks(mut fake: Fake, groups: &[&'static str]) -> Fake {
        fake.task_groups.extend_from_slice(groups);
        fake
    }

    fn parse(text: &str) -> Expression {
        Expression::parse(text).unwrap_or_else(|error| panic!("{text:?}: {error}"))
    }

    fn eval(text: &str, fake: &Fake) -> bool {
        parse(text).eval(fake)
    }

    fn error(text: &str) -> QueryError {
        Expression::parse(text).expect_err(text)
    }

    fn assert_error(text: &str, offset: usize, fragment: &str) {
        let error = error(text);
        assert_eq!(error.offset, offset, "{text:?}: {error}");
        assert!(error.message.contains(fragment), "{text:?}: {error:?} lacks {fragment:?}");
    }

    // The examples of the "Cluster query language" page.

    #[test]
    fn doc_string_equality() {
        let text = "attribute:ecs.instance-type == t2.small";
        assert!(eval(text, &instance("t2.small", "us-east-1a")));
        assert!(!eval(text, &instance("t2.medium", "us-east-1a")));
    }

    #[test]
    fn doc_argument_list() {
        let text = "attribute:ecs.availability-zone in [us-east-1a, us-east-1b]";
        assert!(eval(text, &instance("t2.small", "us-east-1a")));
        assert!(eval(text, &instance("t2.small", "us-east-1b")));
        assert!(!eval(text, &instance("t2.small", "us-east-1c")));
    }

    #[test]
    fn doc_compound_expression() {
        let text = "attribute:ecs.instance-type =~ g2.* and attribute:ecs.availability-zone != us-east-1d";
        assert!(eval(text, &instance("g2.2xlarge", "us-east-1a")));
        assert!(!eval(text, &instance("g2.2xlarge", "us-east-1d")));
        assert!(!eval(text, &instance("t2.small", "us-east-1a")));
    }

    #[test]
    fn doc_task_affinity() {
        let text = "task:group == service:production";
        let busy = with_tasks(instance("t2.small", "us-east-1a"), &["service:production"]);
        let other = with_tasks(instance("t2.small", "us-east-1a"), &["service:staging"]);
        assert!(eval(text, &busy));
        assert!(!eval(text, &other));
        assert!(!eval(text, &instance("t2.small", "us-east-1a")));
    }

    #[test]
    fn doc_task_anti_affinity() {
        let text = "not(task:group == database)";
        let db = with_tasks(instance("t2.small", "us-east-1a"), &["database", "web"]);
        assert!(!eval(text, &db));
        assert!(eval(text, &with_tasks(instance("t2.small", "us-east-1a"), &["web"])));
        assert!(eval(text, &instance("t2.small", "us-east-1a")));
    }

    #[test]
    fn doc_running_task_count() {
        let text = "runningTasksCount == 1";
        assert!(eval(text, &with_tasks(instance("t2.small", "a"), &["x"])));
        assert!(!eval(text, &with_tasks(instance("t2.small", "a"), &["x", "y"])));
        assert!(!eval(text, &instance("t2.small", "a")));
    }

    #[test]
    fn doc_agent_version() {
        let text = "agentVersion < 1.14.5";
        let mut old = instance("t2.small", "a");
        old.version = "1.14.4";
        assert!(eval(text, &old));
        old.version = "1.9.0";
        assert!(eval(text, &old), "1.9.0 is before 1.14.5 component-wise");
        assert!(!eval(text, &instance("t2.small", "a")), "1.30.0 is not");
    }

    #[test]
    fn doc_registration_time_is_rejected() {
        assert_error("registeredAt < 2018-02-13", 0, "registeredAt is not modelled by ecsim");
        assert_error(
            "attribute:a exists or registeredAt >= 2018-06-18T22:28:28+00:00",
            22,
            "registeredAt is not modelled by ecsim",
        );
    }

    #[test]
    fn doc_ec2_instance_id() {
        let text = "ec2InstanceId in ['i-abcd1234', 'i-wxyx7890']";
        let mut fake = instance("t2.small", "a");
        assert!(eval(text, &fake));
        fake.instance_id = "i-wxyx7890";
        assert!(eval(text, &fake));
        fake.instance_id = "i-00000000";
        assert!(!eval(text, &fake));
    }

    #[test]
    fn doc_precedence_template() {
        // "(expression1 or expression2) and expression3"
        let text = "(attribute:e1 exists or attribute:e2 exists) and attribute:e3 exists";
        let base = Fake::default;
        assert!(eval(text, &with_attribute(with_attribute(base(), "e1", "x"), "e3", "x")));
        assert!(eval(text, &with_attribute(with_attribute(base(), "e2", "x"), "e3", "x")));
        assert!(!eval(text, &with_attribute(base(), "e3", "x")));
        assert!(!eval(text, &with_attribute(base(), "e1", "x")));
    }

    // The examples of the "Amazon ECS task placement constraints" page.

    #[test]
    fn doc_filter_built_in_attribute() {
        let text = "attribute:ecs.instance-type == g2.2xlarge";
        assert!(eval(text, &instance("g2.2xlarge", "a")));
        assert!(!eval(text, &instance("g2.8xlarge", "a")));
    }

    #[test]
    fn doc_filter_custom_attribute() {
        let prod = with_attribute(instance("t2.small", "a"), "stack", "prod");
        let dev = with_attribute(instance("t2.small", "a"), "stack", "dev");
        let none = instance("t2.small", "a");
        assert!(eval("attribute:stack == prod", &prod));
        assert!(!eval("attribute:stack == prod", &dev));
        assert!(!eval("attribute:stack == prod", &none));
        assert!(!eval("attribute:stack != prod", &prod));
        assert!(eval("attribute:stack != prod", &dev));
        // The doc describes this filter as listing instances "with the custom attribute
        // stack unless the value is prod"; ecsim makes `!=` the negation of `==`, so an
        // instance without the attribute passes too. `attribute:stack exists and
        // attribute:stack != prod` states the doc's reading.
        assert!(eval("attribute:stack != prod", &none));
        assert!(!eval("attribute:stack exists and attribute:stack != prod", &none));
    }

    #[test]
    fn doc_filter_multiple_values() {
        let text = "attribute:ecs.instance-type in [t2.small, t2.medium]";
        assert!(eval(text, &instance("t2.small", "a")));
        assert!(eval(text, &instance("t2.medium", "a")));
        assert!(!eval(text, &instance("t2.large", "a")));
    }

    #[test]
    fn doc_filter_multiple_attributes() {
        let text = "attribute:ecs.instance-type =~ t2.* and attribute:ecs.availability-zone == us-east-1a";
        assert!(eval(text, &instance("t2.micro", "us-east-1a")));
        assert!(!eval(text, &instance("t2.micro", "us-east-1b")));
        assert!(!eval(text, &instance("m5.large", "us-east-1a")));
    }

    #[test]
    fn doc_constraint_examples() {
        let t2 = "attribute:ecs.instance-type =~ t2.*";
        assert!(eval(t2, &instance("t2.nano", "a")));
        assert!(!eval(t2, &instance("xt2.nano", "a")), "matches is anchored");
        assert!(!eval(t2, &instance("m5.large", "a")));
        let databases = "task:group == databases";
        assert!(eval(databases, &with_tasks(instance("t2.small", "a"), &["databases"])));
        assert!(!eval(databases, &with_tasks(instance("t2.small", "a"), &["database"])));
    }

    // The language beyond the examples.

    #[test]
    fn not_binds_tighter_than_and_and_and_tighter_than_or() {
        let a = with_attribute(Fake::default(), "a", "1");
        let b = with_attribute(Fake::default(), "b", "1");
        let ab = with_attribute(with_attribute(Fake::default(), "a", "1"), "b", "1");
        let none = Fake::default();
        // not a and b == (not a) and b
        let text = "not attribute:a exists and attribute:b exists";
        assert!(eval(text, &b));
        assert!(!eval(text, &none), "would be true if parsed as not (a and b)");
        // a or b and c == a or (b and c)
        let text = "attribute:a exists or attribute:b exists and attribute:c exists";
        assert!(eval(text, &a));
        assert!(!eval(text, &b));
        // !a || b && !c with symbols
        let text = "!attribute:a exists || attribute:b exists && !attribute:c exists";
        assert!(eval(text, &none));
        assert!(eval(text, &ab));
        assert!(!eval(text, &a));
        // Parentheses override.
        let text = "(attribute:a exists or attribute:b exists) and attribute:c exists";
        assert!(!eval(text, &a));
        let text = "not (attribute:a exists and attribute:b exists)";
        assert!(eval(text, &a));
        assert!(!eval(text, &ab));
        assert!(eval("!!attribute:a exists", &a));
        assert!(eval("not not attribute:a exists", &a));
    }

    #[test]
    fn operators_and_their_word_forms() {
        let fake = with_attribute(Fake::default(), "n", "5");
        let cases: &[(&str, bool)] =
            &[("==", false), ("!=", true), (">", true), (">=", true), ("<", false), ("<=", false)];
        let words = ["equals", "not_equals", "greater_than", "greater_than_equal", "less_than", "less_than_equal"];
        for ((symbol, expected), word) in cases.iter().zip(words) {
            assert_eq!(eval(&format!("attribute:n {symbol} 4"), &fake), *expected);
            assert_eq!(eval(&format!("attribute:n {word} 4"), &fake), *expected);
        }
        for (yes, no) in [("exists", "!exists"), ("exists", "not_exists")] {
            assert!(eval(&format!("attribute:n {yes}"), &fake));
            assert!(!eval(&format!("attribute:n {no}"), &fake));
        }
        for (yes, no) in [("in", "!in"), ("in", "not_in")] {
            assert!(eval(&format!("attribute:n {yes} [4, 5]"), &fake));
            assert!(!eval(&format!("attribute:n {no} [4, 5]"), &fake));
            assert!(eval(&format!("attribute:n {no} [4]"), &fake));
        }
        for (yes, no) in [("=~", "!~"), ("matches", "not_matches")] {
            assert!(eval(&format!("attribute:n {yes} '[0-9]'"), &fake));
            assert!(!eval(&format!("attribute:n {no} '[0-9]'"), &fake));
            assert!(eval(&format!("attribute:n {no} '[a-z]'"), &fake));
        }
        assert!(eval("attribute:n==5", &fake), "symbols need no spaces");
        assert!(eval("attribute:n!in[4]&&attribute:n>=5", &fake));
    }

    #[test]
    fn missing_attribute() {
        let fake = Fake::default();
        for text in [
            "attribute:gone == x",
            "attribute:gone in [x]",
            "attribute:gone =~ '.*'",
            "attribute:gone > 1",
            "attribute:gone >= 1",
            "attribute:gone < 1",
            "attribute:gone <= 1",
            "attribute:gone exists",
        ] {
            assert!(!eval(text, &fake), "{text}");
        }
        for text in
            ["attribute:gone != x", "attribute:gone !in [x]", "attribute:gone !~ '.*'", "attribute:gone !exists"]
        {
            assert!(eval(text, &fake), "{text}");
        }
    }

    #[test]
    fn task_group_operators() {
        let fake = with_tasks(Fake::default(), &["service:web", "family:batch"]);
        let empty = Fake::default();
        assert!(eval("task:group == service:web", &fake));
        assert!(!eval("task:group != service:web", &fake));
        assert!(eval("task:group != service:api", &fake));
        assert!(eval("task:group in [service:api, family:batch]", &fake));
        assert!(!eval("task:group in [service:api]", &fake));
        assert!(eval("task:group !in [service:api]", &fake));
        assert!(!eval("task:group not_in [service:api, 'family:batch']", &fake));
        assert!(eval("task:group exists", &fake));
        assert!(!eval("task:group exists", &empty));
        assert!(eval("task:group !exists", &empty));
        assert_error("task:group =~ service:.*", 11, "cannot be used with task:group");
    }

    #[test]
    fn numeric_comparisons() {
        let three = with_tasks(Fake::default(), &["a", "b", "c"]);
        assert!(eval("runningTasksCount > 2", &three));
        assert!(!eval("runningTasksCount > 3", &three));
        assert!(eval("runningTasksCount >= 3", &three));
        assert!(eval("runningTasksCount <= 3.5", &three));
        assert!(eval("runningTasksCount != 10", &three));
        assert!(eval("runningTasksCount less_than 10", &three), "10 > 3 as numbers");
        assert!(eval("runningTasksCount == '3'", &three));
        let cores = with_attribute(Fake::default(), "cores", "16");
        assert!(eval("attribute:cores > 8", &cores), "numeric, not string order");
        assert!(eval("attribute:cores < 100", &cores));
        assert!(eval("attribute:cores >= -1", &cores));
        assert_error("runningTasksCount > many", 20, "compared with a number");
        assert_error("runningTasksCount =~ 1", 18, "cannot be used with runningTasksCount");
    }

    #[test]
    fn version_and_string_comparisons() {
        let mut agent = Fake { version: "1.30.0", ..Fake::default() };
        assert!(eval("agentVersion > 1.4.0", &agent), "1.30 after 1.4");
        assert!(eval("agentVersion > 1.4", &agent));
        assert!(eval("agentVersion >= 1.30", &agent), "1.30 equals 1.30.0");
        assert!(eval("agentVersion <= 1.30.0", &agent));
        assert!(!eval("agentVersion < 1.30.0", &agent));
        assert!(eval("agentVersion == 1.30.0", &agent));
        assert!(!eval("agentVersion == 1.30", &agent), "== is string equality");
        agent.version = "unknown";
        assert!(eval("agentVersion > 1.0.0", &agent), "falls back to string order");
        assert_error("agentVersion < latest", 15, "dotted version");
        assert_error("agentVersion in [1.0.0]", 13, "cannot be used with agentVersion");

        let kernel = with_attribute(Fake::default(), "kernel", "5.10.2");
        assert!(eval("attribute:kernel > 5.9.9", &kernel));
        assert!(eval("attribute:kernel < 5.10.10", &kernel));
        let size = with_attribute(Fake::default(), "size", "medium");
        assert!(eval("attribute:size > large", &size), "string order");
        assert!(eval("attribute:size < small", &size));
    }

    #[test]
    fn agent_connected_and_instance_id() {
        let mut fake = Fake { instance_id: "i-0123", ..Fake::default() };
        assert!(!eval("agentConnected == true", &fake));
        assert!(eval("agentConnected == false", &fake));
        assert!(eval("agentConnected != true", &fake));
        assert!(eval("agentConnected in [false]", &fake));
        assert!(eval("agentConnected =~ f.*", &fake));
        fake.connected = true;
        assert!(eval("agentConnected equals true", &fake));
        assert_error("agentConnected == yes", 18, "'true' or 'false'");
        assert_error("agentConnected exists", 15, "cannot be used with agentConnected");
        assert!(eval("ec2InstanceId == i-0123", &fake));
        assert!(eval("ec2InstanceId =~ 'i-[0-9]+'", &fake));
        assert!(eval("ec2InstanceId !~ i-9.*", &fake));
        assert_error("ec2InstanceId > i-0", 14, "cannot be used with ec2InstanceId");
    }

    #[test]
    fn quoting_and_regex_anchoring() {
        let fake = with_attribute(Fake::default(), "team", "data platform");
        assert!(eval("attribute:team == 'data platform'", &fake));
        assert!(eval("attribute:team == \"data platform\"", &fake));
        assert!(eval("attribute:team =~ '(data|ml) platform'", &fake));
        assert!(!eval("attribute:team =~ data", &fake), "a partial match is not a match");
        assert!(eval("attribute:team =~ 'data.*'", &fake));
        let conjunction = with_attribute(Fake::default(), "word", "and");
        assert!(eval("attribute:word == 'and'", &conjunction));
        assert!(eval("attribute:word in [and, or]", &conjunction));
        assert!(eval("attribute:team =~ '(?i)DATA PLATFORM'", &fake));
        // A pattern that would close the anchoring group early is refused.
        assert_error("attribute:team =~ 'x)|(data platform'", 18, "invalid regular expression");
    }

    #[test]
    fn is_static() {
        for text in [
            "attribute:ecs.instance-type =~ t2.*",
            "ec2InstanceId in [i-1, i-2]",
            "agentVersion >= 1.20.0 and not attribute:x exists",
        ] {
            assert!(parse(text).is_static(), "{text}");
        }
        for text in [
            "agentConnected == true",
            "runningTasksCount == 0",
            "task:group == service:web",
            "attribute:a exists or task:group exists",
        ] {
            assert!(!parse(text).is_static(), "{text}");
        }
    }

    #[test]
    fn text_is_kept() {
        let text = "  attribute:a exists ";
        assert_eq!(parse(text).text(), text);
    }

    #[test]
    fn errors_name_the_problem_and_its_offset() {
        assert_error("", 0, "empty");
        assert_error("   ", 0, "empty");
        assert_error("attribute:a", 11, "expected an operator after 'attribute:a'");
        assert_error("attribute:a ==", 14, "expected an argument after '=='");
        assert_error("attribute:a == and attribute:b exists", 15, "keyword 'and'");
        assert_error("attribute:a in [x, y", 15, "unterminated argument list");
        assert_error("attribute:a in [x y]", 18, "expected ',' or ']'");
        assert_error("attribute:a in [x, ]", 19, "expected an argument after ','");
        assert_error("attribute:a in []", 16, "is empty");
        assert_error("attribute:a in x", 15, "expected '[' to start the argument list");
        assert_error("attribute:a == [x]", 15, "takes a single argument");
        assert_error("attribute:a equal x", 12, "did you mean 'equals'?");
        assert_error("attribute:a => x", 12, "did you mean '>='?");
        assert_error("attribute:a = x", 12, "did you mean '=='?");
        assert_error("attribute:a !contains x", 12, "unknown operator '!contains'");
        assert_error("attribute:a 5", 12, "expected an operator");
        assert_error("runningTaskCount > 1", 0, "did you mean 'runningTasksCount'?");
        assert_error("ecs.instance-type == t2.small", 0, "'attribute:ecs.instance-type'");
        assert_error("atribute:stack == prod", 0, "did you mean 'attribute:stack'?");
        assert_error("attribute: == x", 10, "expected an attribute name");
        assert_error("attribute:a == x attribute:b == y", 17, "expected 'and', 'or'");
        assert_error("attribute:a == x AND attribute:b == y", 17, "lowercase");
        assert_error("attribute:a exists x", 19, "take no argument");
        assert_error("(attribute:a exists", 0, "unbalanced parentheses");
        assert_error("attribute:a exists)", 18, "no matching '('");
        assert_error("(attribute:a exists x)", 20, "to close the '(' at character 0");
        assert_error("()", 1, "expected a condition");
        assert_error("attribute:a exists and", 22, "after 'and'");
        assert_error("attribute:a exists ||", 21, "after '||'");
        assert_error("not", 3, "after 'not'");
        assert_error("== x", 0, "expected a condition");
        assert_error("attribute:a == 'x", 15, "unterminated quoted argument");
        assert_error("attribute:a =~ '('", 15, "invalid regular expression");
        assert_error("attribute:a =~ 'x)|(y'", 15, "invalid regular expression");
        assert_error("attribute:a =~ '(?=x)'", 15, "invalid regular expression");
        let deep = format!("{}attribute:a exists{}", "(".repeat(100), ")".repeat(100));
        assert_error(&deep, 64, "more than 64 deep");
        let nots = format!("{}attribute:a exists", "!".repeat(10_000));
        assert_error(&nots, 64, "more than 64 deep");
    }

    #[test]
    fn multibyte_text_does_not_break_offsets() {
        assert_error("attribute:a == x é", 17, "'é'");
        assert!(eval("attribute:a == é", &with_attribute(Fake::default(), "a", "é")));
        assert_error("é", 0, "expected a condition");
    }

    #[test]
    fn display_names_the_offset() {
        let error = error("attribute:a ==");
        assert_eq!(
            error.to_string(),
            "at character 14: expected an argument after '==', found the end of the expression"
        );
    }
}
