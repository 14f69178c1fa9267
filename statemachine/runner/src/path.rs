//! ASL "Reference Paths": the small JSONPath subset the States Language uses to pick one node
//! out of a document (`$`, `$.a.b`, `$.a[0]`, `$['x']`) and, for ResultPath, to say where a
//! result goes. Anything wider (wildcards, filters, `..`) could select several nodes, which a
//! reference path must not, so it is rejected when the definition is loaded.

use serde_json::{Map, Value};
use std::fmt;

/// Which document a path reads: the state's data (`$`) or the context object (`$$`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Root {
    Data,
    Context,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Field(String),
    Index(usize),
}

/// A parsed reference path, keeping its text for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReferencePath {
    text: String,
    root: Root,
    steps: Vec<Step>,
}

impl fmt::Display for ReferencePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl ReferencePath {
    /// `$`: the whole document, the default of InputPath, OutputPath and ResultPath.
    pub(crate) fn whole() -> Self {
        ReferencePath {
            text: "$".into(),
            root: Root::Data,
            steps: Vec::new(),
        }
    }

    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let (root, mut rest) = if let Some(rest) = text.strip_prefix("$$") {
            (Root::Context, rest)
        } else if let Some(rest) = text.strip_prefix('$') {
            (Root::Data, rest)
        } else {
            return Err(format!(
                "{text:?} is not a reference path: it must start with '$'"
            ));
        };
        let unsupported = || {
            format!("{text:?} is not a reference path supported here (only $, .field, ['field'] and [index])")
        };
        let mut steps = Vec::new();
        while !rest.is_empty() {
            if let Some(after_dot) = rest.strip_prefix('.') {
                let end = after_dot.find(['.', '[']).unwrap_or(after_dot.len());
                let name = &after_dot[..end];
                if name.is_empty() || name.contains(['*', '?', '@', ']', '\'', '"']) {
                    return Err(unsupported());
                }
                steps.push(Step::Field(name.to_string()));
                rest = &after_dot[end..];
            } else if let Some(after_bracket) = rest.strip_prefix('[') {
                let end = after_bracket.find(']').ok_or_else(unsupported)?;
                let inside = &after_bracket[..end];
                let quoted = inside
                    .strip_prefix('\'')
                    .and_then(|s| s.strip_suffix('\''))
                    .or_else(|| inside.strip_prefix('"').and_then(|s| s.strip_suffix('"')));
                steps.push(match quoted {
                    Some(name) if !name.is_empty() => Step::Field(name.to_string()),
                    Some(_) => return Err(unsupported()),
                    None => Step::Index(inside.parse().map_err(|_| unsupported())?),
                });
                rest = &after_bracket[end + 1..];
            } else {
                return Err(unsupported());
            }
        }
        Ok(ReferencePath {
            text: text.to_string(),
            root,
            steps,
        })
    }

    pub(crate) fn root(&self) -> Root {
        self.root
    }

    /// The node this path names in `document`, or None when it names nothing.
    pub(crate) fn select<'a>(&self, document: &'a Value) -> Option<&'a Value> {
        self.steps
            .iter()
            .try_fold(document, |node, step| match step {
                Step::Field(name) => node.as_object()?.get(name),
                Step::Index(index) => node.as_array()?.get(*index),
            })
    }

    /// Writes `value` at this path inside `document`, creating missing intermediate objects,
    /// as ResultPath requires. Fails when a step crosses a non-object or a missing array slot.
    pub(crate) fn insert(&self, document: Value, value: Value) -> Result<Value, String> {
        if self.steps.is_empty() {
            return Ok(value);
        }
        let mut document = document;
        let mut node = &mut document;
        for step in &self.steps {
            node = match (step, node) {
                (Step::Field(name), Value::Object(fields)) => fields
                    .entry(name.clone())
                    .or_insert_with(|| Value::Object(Map::new())),
                (Step::Index(index), Value::Array(items)) => {
                    let length = items.len();
                    items.get_mut(*index).ok_or_else(|| {
                        format!("ResultPath {self} cannot be applied: index {index} is past the end of an array of {length}")
                    })?
                }
                (_, other) => {
                    return Err(format!(
                        "ResultPath {self} cannot be applied: it steps into {}",
                        type_name(other)
                    ))
                }
            };
        }
        *node = value;
        Ok(document)
    }
}

pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selects_fields_indexes_and_bracketed_names() {
        let doc = json!({"a": {"b": [10, {"c d": true}]}});
        let select = |p: &str| ReferencePath::parse(p).unwrap().select(&doc).cloned();
        assert_eq!(select("$"), Some(doc.clone()));
        assert_eq!(select("$.a.b[0]"), Some(json!(10)));
        assert_eq!(select("$.a.b[1]['c d']"), Some(json!(true)));
        assert_eq!(select("$['a'].b[5]"), None);
        assert_eq!(select("$.missing"), None);
    }

    #[test]
    fn rejects_paths_that_could_select_many_nodes() {
        for bad in [
            "a.b",
            "$..a",
            "$.a[*]",
            "$.*",
            "$.a[?(@.x)]",
            "$.",
            "$[",
            "$.a[]",
        ] {
            assert!(
                ReferencePath::parse(bad).is_err(),
                "{bad} should be rejected"
            );
        }
        assert_eq!(
            ReferencePath::parse("$$.Execution.Name").unwrap().root(),
            Root::Context
        );
    }

    #[test]
    fn insert_creates_intermediate_objects_and_refuses_to_cross_scalars() {
        let path = ReferencePath::parse("$.x.y").unwrap();
        assert_eq!(
            path.insert(json!({"keep": 1}), json!(2)).unwrap(),
            json!({"keep": 1, "x": {"y": 2}})
        );
        assert!(path.insert(json!({"x": 3}), json!(2)).is_err());
        assert!(path.insert(json!("text"), json!(2)).is_err());
        assert_eq!(
            ReferencePath::whole().insert(json!(1), json!(2)).unwrap(),
            json!(2)
        );
    }
}
