//! Choice rules: the boolean expressions a Choice state evaluates in order to pick the next
//! state. Every comparison operator of the spec is built from four value kinds (String,
//! Numeric, Boolean, Timestamp) times five orderings, each with a `…Path` twin, plus the type
//! tests (IsNull, IsPresent…) and StringMatches; parsing them by that structure keeps the
//! table of operators from being written out twice.

use crate::dataflow::select;
use crate::definition::{DefinitionError, Fields, Operand};
use crate::errors::TaskError;
use crate::path::ReferencePath;
use crate::timestamp;
use serde_json::Value;
use std::cmp::Ordering;

/// A top-level rule: a condition and the state to go to when it holds.
#[derive(Debug, Clone)]
pub(crate) struct ChoiceRule {
    next: String,
    condition: Condition,
}

#[derive(Debug, Clone)]
enum Condition {
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
    Test { variable: ReferencePath, test: Test },
}

#[derive(Debug, Clone)]
enum Test {
    Compare {
        kind: ValueKind,
        wanted: Ordering,
        or_equal: bool,
        operand: Operand<Value>,
    },
    Matches(Vec<PatternPiece>),
    Is {
        kind: TypeTest,
        expected: bool,
    },
}

#[derive(Debug, Clone, Copy)]
enum ValueKind {
    String,
    Numeric,
    Boolean,
    Timestamp,
}

#[derive(Debug, Clone, Copy)]
enum TypeTest {
    Null,
    Present,
    Numeric,
    String,
    Boolean,
    Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
enum PatternPiece {
    AnyRun,
    Literal(char),
}

const VALUE_KINDS: [(&str, ValueKind); 4] = [
    ("String", ValueKind::String),
    ("Numeric", ValueKind::Numeric),
    ("Boolean", ValueKind::Boolean),
    ("Timestamp", ValueKind::Timestamp),
];

const TYPE_TESTS: [(&str, TypeTest); 6] = [
    ("IsNull", TypeTest::Null),
    ("IsPresent", TypeTest::Present),
    ("IsNumeric", TypeTest::Numeric),
    ("IsString", TypeTest::String),
    ("IsBoolean", TypeTest::Boolean),
    ("IsTimestamp", TypeTest::Timestamp),
];

impl ChoiceRule {
    pub(crate) fn parse_top_level(mut fields: Fields) -> Result<Self, DefinitionError> {
        let next = fields.required_string("Next")?;
        let condition = Condition::parse(fields)?;
        Ok(ChoiceRule { next, condition })
    }

    pub(crate) fn next(&self) -> &str {
        &self.next
    }

    pub(crate) fn matches(&self, input: &Value) -> Result<bool, TaskError> {
        self.condition.evaluate(input)
    }
}

impl Condition {
    fn parse(mut fields: Fields) -> Result<Self, DefinitionError> {
        fields.take("Comment");
        if fields.has("Condition") {
            return Err(fields.error(
                "Condition",
                "JSONata conditions are not supported by the photopipe local runner",
            ));
        }
        let condition = if let Some(list) = fields.take("And") {
            Condition::And(Self::parse_list(&fields, "And", list)?)
        } else if let Some(list) = fields.take("Or") {
            Condition::Or(Self::parse_list(&fields, "Or", list)?)
        } else if let Some(inner) = fields.take("Not") {
            Condition::Not(Box::new(Condition::parse(fields.nested("Not", inner)?)?))
        } else {
            let variable = fields.required_string("Variable")?;
            let variable = fields.data_path("Variable", &variable)?;
            // A nested rule's Next is left for finish() to report as out of place.
            let operators: Vec<String> = fields
                .keys()
                .into_iter()
                .filter(|key| key != "Next")
                .collect();
            let [operator] = operators.as_slice() else {
                return Err(fields.error(
                    "Variable",
                    format!(
                        "a choice rule needs exactly one comparison operator, found {operators:?}"
                    ),
                ));
            };
            let test = Test::parse(&mut fields, operator)?;
            Condition::Test { variable, test }
        };
        fields.finish("a choice rule")?;
        Ok(condition)
    }

    fn parse_list(
        fields: &Fields,
        operator: &str,
        list: Value,
    ) -> Result<Vec<Condition>, DefinitionError> {
        match list {
            Value::Array(items) if !items.is_empty() => items
                .into_iter()
                .enumerate()
                .map(|(index, item)| {
                    Condition::parse(fields.nested(&format!("{operator}[{index}]"), item)?)
                })
                .collect(),
            _ => Err(fields.error(operator, "must be a non-empty array of choice rules")),
        }
    }

    fn evaluate(&self, input: &Value) -> Result<bool, TaskError> {
        match self {
            Condition::And(all) => {
                for condition in all {
                    if !condition.evaluate(input)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Condition::Or(any) => {
                for condition in any {
                    if condition.evaluate(input)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Condition::Not(inner) => Ok(!inner.evaluate(input)?),
            Condition::Test { variable, test } => test.evaluate(variable, input),
        }
    }
}

impl Test {
    fn parse(fields: &mut Fields, operator: &str) -> Result<Self, DefinitionError> {
        let value = fields.take(operator).unwrap_or(Value::Null);
        if let Some((_, kind)) = TYPE_TESTS.iter().find(|(name, _)| *name == operator) {
            let expected = value
                .as_bool()
                .ok_or_else(|| fields.error(operator, "must be a boolean"))?;
            return Ok(Test::Is {
                kind: *kind,
                expected,
            });
        }
        if operator == "StringMatches" {
            let pattern = value
                .as_str()
                .ok_or_else(|| fields.error(operator, "must be a string pattern"))?;
            return Ok(Test::Matches(parse_pattern(pattern)));
        }
        let unknown = || fields.error(operator, "is not a comparison operator");
        let (kind_name, kind) = VALUE_KINDS
            .iter()
            .find(|(name, _)| operator.starts_with(name))
            .ok_or_else(unknown)?;
        let ordering = &operator[kind_name.len()..];
        let (ordering, is_path) = ordering
            .strip_suffix("Path")
            .map_or((ordering, false), |rest| (rest, true));
        let (wanted, or_equal) = match ordering {
            "Equals" => (Ordering::Equal, true),
            "LessThan" => (Ordering::Less, false),
            "GreaterThan" => (Ordering::Greater, false),
            "LessThanEquals" => (Ordering::Less, true),
            "GreaterThanEquals" => (Ordering::Greater, true),
            _ => return Err(unknown()),
        };
        if matches!(kind, ValueKind::Boolean) && wanted != Ordering::Equal {
            return Err(unknown());
        }
        let operand = if is_path {
            let text = value
                .as_str()
                .ok_or_else(|| fields.error(operator, "must be a path string"))?;
            Operand::Path(fields.data_path(operator, text)?)
        } else if kind.order(&value, &value).is_some() {
            Operand::Literal(value)
        } else {
            return Err(fields.error(
                operator,
                format!("{value} is not a valid {kind_name} value"),
            ));
        };
        Ok(Test::Compare {
            kind: *kind,
            wanted,
            or_equal,
            operand,
        })
    }

    fn evaluate(&self, variable: &ReferencePath, input: &Value) -> Result<bool, TaskError> {
        let value = variable.select(input);
        if let Test::Is {
            kind: TypeTest::Present,
            expected,
        } = self
        {
            return Ok(value.is_some() == *expected);
        }
        let value = select(variable, input)?;
        Ok(match self {
            Test::Compare {
                kind,
                wanted,
                or_equal,
                operand,
            } => {
                let operand = operand.resolve(input, |v| Some(v.clone()), "a value")?;
                kind.order(value, &operand).is_some_and(|order| {
                    order == *wanted || (*or_equal && order == Ordering::Equal)
                })
            }
            Test::Matches(pattern) => value
                .as_str()
                .is_some_and(|text| glob_matches(pattern, &text.chars().collect::<Vec<_>>())),
            Test::Is { kind, expected } => kind.holds_for(value) == *expected,
        })
    }
}

impl ValueKind {
    /// How `left` compares with `right`, or None when either is not of this kind (the
    /// comparison is then simply false, as the spec says for mismatched types).
    fn order(self, left: &Value, right: &Value) -> Option<Ordering> {
        match (self, left, right) {
            (ValueKind::String, Value::String(l), Value::String(r)) => Some(l.cmp(r)),
            (ValueKind::Numeric, Value::Number(l), Value::Number(r)) => {
                l.as_f64()?.partial_cmp(&r.as_f64()?)
            }
            (ValueKind::Boolean, Value::Bool(l), Value::Bool(r)) => Some(l.cmp(r)),
            (ValueKind::Timestamp, Value::String(l), Value::String(r)) => {
                Some(timestamp::parse(l)?.cmp(&timestamp::parse(r)?))
            }
            _ => None,
        }
    }
}

impl TypeTest {
    fn holds_for(self, value: &Value) -> bool {
        match self {
            TypeTest::Null => value.is_null(),
            TypeTest::Present => true,
            TypeTest::Numeric => value.is_number(),
            TypeTest::String => value.is_string(),
            TypeTest::Boolean => value.is_boolean(),
            TypeTest::Timestamp => value.as_str().and_then(timestamp::parse).is_some(),
        }
    }
}

/// StringMatches patterns: `*` matches any run of characters; `\*` and `\\` are literal.
fn parse_pattern(pattern: &str) -> Vec<PatternPiece> {
    let mut pieces = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        pieces.push(match c {
            '*' => PatternPiece::AnyRun,
            '\\' => PatternPiece::Literal(chars.next().unwrap_or('\\')),
            other => PatternPiece::Literal(other),
        });
    }
    pieces
}

fn glob_matches(pattern: &[PatternPiece], text: &[char]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((PatternPiece::AnyRun, rest)) => {
            (0..=text.len()).any(|skip| glob_matches(rest, &text[skip..]))
        }
        Some((PatternPiece::Literal(c), rest)) => {
            text.first() == Some(c) && glob_matches(rest, &text[1..])
        }
    }
}
