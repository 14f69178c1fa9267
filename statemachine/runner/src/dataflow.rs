//! Input and output processing, the part of the States Language that decides what each state
//! sees and passes on: InputPath → Parameters → (the work) → ResultSelector → ResultPath →
//! OutputPath. Each step is a small function here so the runner reads like the spec's
//! pipeline, and each failure carries the spec's error name.

use crate::errors::{TaskError, STATES_RESULT_PATH_MATCH_FAILURE};
use crate::path::{ReferencePath, Root};
use serde_json::{Map, Value};

/// A Parameters or ResultSelector payload template: literal JSON in which keys ending in
/// `.$` take their value from a path into the data (`$`) or the context object (`$$`).
#[derive(Debug, Clone)]
pub(crate) enum Template {
    Literal(Value),
    Object(Vec<(String, Template)>),
    Array(Vec<Template>),
    Path(ReferencePath),
}

impl Template {
    pub(crate) fn compile(value: &Value) -> Result<Self, String> {
        match value {
            Value::Object(fields) => {
                let mut compiled = Vec::with_capacity(fields.len());
                for (key, value) in fields {
                    let Some(name) = key.strip_suffix(".$") else {
                        compiled.push((key.clone(), Template::compile(value)?));
                        continue;
                    };
                    if fields.contains_key(name) {
                        return Err(format!("both {name:?} and {key:?} are present"));
                    }
                    let path = match value.as_str() {
                        Some(text) if text.starts_with("States.") => {
                            return Err(format!("{key:?} uses the intrinsic function {text:?}; intrinsic functions are not supported by the local runner"))
                        }
                        Some(text) => ReferencePath::parse(text).map_err(|e| format!("{key:?}: {e}"))?,
                        None => return Err(format!("{key:?} must be a path string")),
                    };
                    compiled.push((name.to_string(), Template::Path(path)));
                }
                Ok(Template::Object(compiled))
            }
            Value::Array(items) => items
                .iter()
                .map(Template::compile)
                .collect::<Result<_, _>>()
                .map(Template::Array),
            other => Ok(Template::Literal(other.clone())),
        }
    }

    pub(crate) fn render(&self, data: &Value, context: &Value) -> Result<Value, TaskError> {
        Ok(match self {
            Template::Literal(value) => value.clone(),
            Template::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(name, template)| Ok((name.clone(), template.render(data, context)?)))
                    .collect::<Result<Map<_, _>, TaskError>>()?,
            ),
            Template::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|item| item.render(data, context))
                    .collect::<Result<_, _>>()?,
            ),
            Template::Path(path) => {
                let document = if path.root() == Root::Context {
                    context
                } else {
                    data
                };
                select(path, document)?.clone()
            }
        })
    }
}

/// The node `path` names, or the spec's States.Runtime error when it names nothing.
pub(crate) fn select<'a>(
    path: &ReferencePath,
    document: &'a Value,
) -> Result<&'a Value, TaskError> {
    path.select(document).ok_or_else(|| {
        TaskError::runtime(format!(
            "the path {path} matched nothing in the input {document}"
        ))
    })
}

/// InputPath and OutputPath: a null path (None) passes on `{}`.
pub(crate) fn filter(path: Option<&ReferencePath>, document: &Value) -> Result<Value, TaskError> {
    match path {
        Some(path) => select(path, document).cloned(),
        None => Ok(Value::Object(Map::new())),
    }
}

/// ResultPath: combines the raw state input with a result. A null path (None) discards the
/// result and keeps the input.
pub(crate) fn place_result(
    result_path: Option<&ReferencePath>,
    state_input: Value,
    result: Value,
) -> Result<Value, TaskError> {
    match result_path {
        Some(path) => path
            .insert(state_input, result)
            .map_err(|cause| TaskError::new(STATES_RESULT_PATH_MATCH_FAILURE, cause)),
        None => Ok(state_input),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn templates_fill_dollar_keys_from_data_and_context() {
        let template = Template::compile(&json!({
            "fixed": {"n": 1},
            "key.$": "$.object.key",
            "list": [{"name.$": "$$.Execution.Name"}, "plain"]
        }))
        .unwrap();
        let rendered = template
            .render(
                &json!({"object": {"key": "a.jpg"}}),
                &json!({"Execution": {"Name": "run-1"}}),
            )
            .unwrap();
        assert_eq!(
            rendered,
            json!({"fixed": {"n": 1}, "key": "a.jpg", "list": [{"name": "run-1"}, "plain"]})
        );
    }

    #[test]
    fn templates_reject_intrinsics_non_strings_and_clashing_keys() {
        assert!(
            Template::compile(&json!({"x.$": "States.Format('{}', $.a)"}))
                .unwrap_err()
                .contains("intrinsic")
        );
        assert!(Template::compile(&json!({"x.$": 3})).is_err());
        assert!(Template::compile(&json!({"x.$": "$.a", "x": 1})).is_err());
    }

    #[test]
    fn a_path_that_matches_nothing_is_a_runtime_error() {
        let template = Template::compile(&json!({"k.$": "$.missing"})).unwrap();
        let error = template.render(&json!({}), &json!({})).unwrap_err();
        assert_eq!(error.error, "States.Runtime");
    }
}
