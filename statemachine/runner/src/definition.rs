//! The state machine definition, parsed once and checked up front into types the runner can
//! execute without second-guessing. Anything the runner cannot execute exactly as Step
//! Functions would (Map, Parallel, JSONata, heartbeats, unknown fields…) fails here with an
//! error naming the state and the field: a flow must never silently run differently locally.

use crate::choice::ChoiceRule;
use crate::dataflow::Template;
use crate::errors::{TaskError, STATES_ALL};
use crate::path::{ReferencePath, Root};
use crate::timestamp::{self, EpochNanos};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::time::Duration;

/// Why a definition was refused, pointing at the state and field at fault when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinitionError {
    pub state: Option<String>,
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(state) = &self.state {
            write!(f, "state {state:?}: ")?;
        }
        if let Some(field) = &self.field {
            write!(f, "field {field:?}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for DefinitionError {}

/// A loaded, validated state machine, ready for a [`Runner`](crate::Runner).
#[derive(Debug, Clone)]
pub struct StateMachine {
    pub(crate) name: String,
    pub(crate) start_at: String,
    pub(crate) timeout: Option<Duration>,
    pub(crate) states: HashMap<String, State>,
}

#[derive(Debug, Clone)]
pub(crate) struct State {
    pub(crate) kind: StateKind,
    /// InputPath; None when the definition says null (the state then sees `{}`).
    pub(crate) input_path: Option<ReferencePath>,
    /// OutputPath; None when the definition says null (the state then outputs `{}`).
    pub(crate) output_path: Option<ReferencePath>,
}

#[derive(Debug, Clone)]
pub(crate) enum Transition {
    Next(String),
    End,
}

impl Transition {
    /// The state to go to, or None when this state ends the execution.
    pub(crate) fn next(&self) -> Option<&str> {
        match self {
            Transition::Next(next) => Some(next),
            Transition::End => None,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum StateKind {
    Task(Task),
    Pass {
        parameters: Option<Template>,
        result: Option<Value>,
        result_path: Option<ReferencePath>,
        transition: Transition,
    },
    Choice {
        choices: Vec<ChoiceRule>,
        default: Option<String>,
    },
    Wait {
        until: WaitUntil,
        transition: Transition,
    },
    Succeed,
    Fail {
        error: Option<Operand<String>>,
        cause: Option<Operand<String>>,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Task {
    pub(crate) resource: String,
    pub(crate) parameters: Option<Template>,
    pub(crate) result_selector: Option<Template>,
    pub(crate) result_path: Option<ReferencePath>,
    pub(crate) timeout: Duration,
    pub(crate) retriers: Vec<Retrier>,
    pub(crate) catchers: Vec<Catcher>,
    pub(crate) transition: Transition,
}

#[derive(Debug, Clone)]
pub(crate) enum WaitUntil {
    Seconds(Operand<u64>),
    Timestamp(Operand<EpochNanos>),
}

/// A value given literally in the definition, or read from the state's data by a `…Path` field.
#[derive(Debug, Clone)]
pub(crate) enum Operand<T> {
    Literal(T),
    Path(ReferencePath),
}

#[derive(Debug, Clone)]
pub(crate) struct Retrier {
    pub(crate) error_equals: Vec<String>,
    pub(crate) interval: Duration,
    pub(crate) max_attempts: u32,
    pub(crate) backoff_rate: f64,
    pub(crate) max_delay: Option<Duration>,
    pub(crate) full_jitter: bool,
}

impl Retrier {
    /// The spec's delay before retry number `retry` (1-based), before jitter:
    /// IntervalSeconds × BackoffRate^(retry−1), capped at MaxDelaySeconds.
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let exponent = i32::try_from(retry.saturating_sub(1)).unwrap_or(i32::MAX);
        let seconds = self.interval.as_secs_f64() * self.backoff_rate.powi(exponent);
        let cap = self.max_delay.unwrap_or(Duration::MAX).as_secs_f64();
        Duration::try_from_secs_f64(seconds.min(cap)).unwrap_or(Duration::MAX)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Catcher {
    pub(crate) error_equals: Vec<String>,
    pub(crate) next: String,
    pub(crate) result_path: Option<ReferencePath>,
}

/// Fields the States Language defines but this runner does not execute; named as such in
/// errors so nobody mistakes them for typos.
const UNSUPPORTED_FIELDS: &[&str] = &[
    "Arguments",
    "Assign",
    "Branches",
    "Credentials",
    "HeartbeatSeconds",
    "HeartbeatSecondsPath",
    "ItemBatcher",
    "ItemProcessor",
    "ItemReader",
    "ItemSelector",
    "Items",
    "ItemsPath",
    "Iterator",
    "Label",
    "MaxConcurrency",
    "MaxConcurrencyPath",
    "Output",
    "ResultWriter",
    "TimeoutSecondsPath",
    "ToleratedFailureCount",
    "ToleratedFailureCountPath",
    "ToleratedFailurePercentage",
    "ToleratedFailurePercentagePath",
];

/// The Task timeout the spec prescribes when TimeoutSeconds is absent.
const DEFAULT_TASK_TIMEOUT: Duration = Duration::from_secs(60);

/// One JSON object of the definition being taken apart: each field is removed as it is read,
/// so whatever is left at the end is a field nobody understood.
pub(crate) struct Fields<'a> {
    state: Option<&'a str>,
    prefix: String,
    map: Map<String, Value>,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(
        state: Option<&'a str>,
        prefix: String,
        value: Value,
    ) -> Result<Self, DefinitionError> {
        match value {
            Value::Object(map) => Ok(Fields { state, prefix, map }),
            _ => Err(DefinitionError {
                state: state.map(str::to_string),
                field: (!prefix.is_empty()).then(|| prefix.trim_end_matches('.').to_string()),
                message: "must be a JSON object".into(),
            }),
        }
    }

    /// A nested object, whose errors name its position (for example `Retry[1].MaxAttempts`).
    pub(crate) fn nested(
        &self,
        position: &str,
        value: Value,
    ) -> Result<Fields<'a>, DefinitionError> {
        Fields::new(self.state, format!("{}{position}.", self.prefix), value)
    }

    pub(crate) fn error(&self, field: &str, message: impl Into<String>) -> DefinitionError {
        DefinitionError {
            state: self.state.map(str::to_string),
            field: Some(format!("{}{field}", self.prefix)),
            message: message.into(),
        }
    }

    pub(crate) fn take(&mut self, field: &str) -> Option<Value> {
        self.map.remove(field)
    }

    pub(crate) fn has(&self, field: &str) -> bool {
        self.map.contains_key(field)
    }

    pub(crate) fn keys(&self) -> Vec<String> {
        self.map.keys().cloned().collect()
    }

    pub(crate) fn string(&mut self, field: &str) -> Result<Option<String>, DefinitionError> {
        match self.take(field) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(_) => Err(self.error(field, "must be a string")),
        }
    }

    pub(crate) fn required_string(&mut self, field: &str) -> Result<String, DefinitionError> {
        self.string(field)?
            .ok_or_else(|| self.error(field, "is required"))
    }

    /// An optional number, kept only if `convert` accepts it (it says `what` it expects).
    fn number<T>(
        &mut self,
        field: &str,
        what: &str,
        convert: impl Fn(&serde_json::Number) -> Option<T>,
    ) -> Result<Option<T>, DefinitionError> {
        match self.take(field) {
            None => Ok(None),
            Some(Value::Number(n)) => convert(&n)
                .map(Some)
                .ok_or_else(|| self.error(field, format!("must be {what}"))),
            Some(_) => Err(self.error(field, format!("must be {what}"))),
        }
    }

    fn positive_integer(&mut self, field: &str) -> Result<Option<u64>, DefinitionError> {
        self.number(field, "a positive integer", |n| {
            n.as_u64().filter(|&v| v > 0)
        })
    }

    /// A reference path into the state's data; `$` when absent, None when null.
    pub(crate) fn nullable_path(
        &mut self,
        field: &str,
    ) -> Result<Option<ReferencePath>, DefinitionError> {
        match self.take(field) {
            None => Ok(Some(ReferencePath::whole())),
            Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => self.data_path(field, &text).map(Some),
            Some(_) => Err(self.error(field, "must be a path string or null")),
        }
    }

    pub(crate) fn data_path(
        &self,
        field: &str,
        text: &str,
    ) -> Result<ReferencePath, DefinitionError> {
        match ReferencePath::parse(text) {
            Ok(path) if path.root() == Root::Data => Ok(path),
            Ok(_) => Err(self.error(
                field,
                "must be a path into the state's data ($), not the context object ($$)",
            )),
            Err(message) => Err(self.error(field, message)),
        }
    }

    fn template(&mut self, field: &str) -> Result<Option<Template>, DefinitionError> {
        self.take(field)
            .map(|value| Template::compile(&value).map_err(|message| self.error(field, message)))
            .transpose()
    }

    /// Fails if a field was left unread: either one the runner knowingly does not support,
    /// or one that has no meaning for this state type.
    pub(crate) fn finish(self, kind: &str) -> Result<(), DefinitionError> {
        match self.map.keys().next() {
            None => Ok(()),
            Some(field) if UNSUPPORTED_FIELDS.contains(&field.as_str()) => {
                Err(self.error(field, "is not supported by the photopipe local runner"))
            }
            Some(field) => Err(self.error(field, format!("is not a valid field for {kind}"))),
        }
    }

    /// QueryLanguage may only restate the default, JSONPath.
    fn query_language(&mut self) -> Result<(), DefinitionError> {
        match self.string("QueryLanguage")?.as_deref() {
            None | Some("JSONPath") => Ok(()),
            Some(other) => Err(self.error(
                "QueryLanguage",
                format!("{other:?} is not supported by the photopipe local runner (only JSONPath)"),
            )),
        }
    }

    fn transition(&mut self) -> Result<Transition, DefinitionError> {
        let next = self.string("Next")?;
        let end = match self.take("End") {
            None => false,
            Some(Value::Bool(end)) => end,
            Some(_) => return Err(self.error("End", "must be a boolean")),
        };
        match (next, end) {
            (Some(next), false) => Ok(Transition::Next(next)),
            (None, true) => Ok(Transition::End),
            (Some(_), true) => Err(self.error("Next", "a state cannot have both Next and End")),
            (None, false) => {
                Err(self.error("Next", "the state needs either Next or \"End\": true"))
            }
        }
    }

    fn error_equals(&mut self, is_last: bool) -> Result<Vec<String>, DefinitionError> {
        let names: Vec<String> = match self.take("ErrorEquals") {
            Some(Value::Array(items)) if !items.is_empty() => items
                .into_iter()
                .map(|item| item.as_str().map(str::to_string))
                .collect::<Option<_>>()
                .ok_or_else(|| self.error("ErrorEquals", "must contain only strings"))?,
            _ => return Err(self.error("ErrorEquals", "must be a non-empty array of error names")),
        };
        if names.iter().any(|name| name == STATES_ALL) && (names.len() > 1 || !is_last) {
            return Err(self.error(
                "ErrorEquals",
                "States.ALL must appear alone, in the last retrier or catcher",
            ));
        }
        Ok(names)
    }

    fn operand<T>(
        &mut self,
        field: &str,
        literal: impl Fn(&Value) -> Option<T>,
        what: &str,
    ) -> Result<Option<Operand<T>>, DefinitionError> {
        let path_field = format!("{field}Path");
        let operand = match (self.take(field), self.take(&path_field)) {
            (None, None) => None,
            (Some(value), None) => {
                Some(Operand::Literal(literal(&value).ok_or_else(|| {
                    self.error(field, format!("must be {what}"))
                })?))
            }
            (None, Some(Value::String(text))) => {
                Some(Operand::Path(self.data_path(&path_field, &text)?))
            }
            (None, Some(_)) => return Err(self.error(&path_field, "must be a path string")),
            (Some(_), Some(_)) => {
                return Err(self.error(field, format!("cannot be combined with {path_field}")))
            }
        };
        Ok(operand)
    }
}

impl StateMachine {
    /// Loads a definition after applying SAM-style `DefinitionSubstitutions`: every
    /// `${Key}` becomes its value. A placeholder left without a value is an error.
    pub fn load<K, V>(
        name: &str,
        definition: &str,
        substitutions: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Self, DefinitionError>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut text = definition.to_string();
        for (key, value) in substitutions {
            text = text.replace(&format!("${{{}}}", key.as_ref()), value.as_ref());
        }
        if let Some(start) = text.find("${") {
            let placeholder: String = text[start..]
                .chars()
                .take_while(|&c| c != '}')
                .chain(['}'])
                .collect();
            return Err(DefinitionError {
                state: None,
                field: None,
                message: format!("no substitution was given for {placeholder}"),
            });
        }
        Self::parse(name, &text)
    }

    /// Parses and validates a definition as written (placeholders stay literal resources).
    pub fn parse(name: &str, definition: &str) -> Result<Self, DefinitionError> {
        let json: Value = serde_json::from_str(definition).map_err(|e| DefinitionError {
            state: None,
            field: None,
            message: format!("not valid JSON: {e}"),
        })?;
        let mut fields = Fields::new(None, String::new(), json)?;
        fields.take("Comment");
        fields.query_language()?;
        if let Some(version) = fields.string("Version")? {
            if version != "1.0" {
                return Err(fields.error(
                    "Version",
                    format!("{version:?} is not a known version (1.0)"),
                ));
            }
        }
        let start_at = fields.required_string("StartAt")?;
        let timeout = fields
            .positive_integer("TimeoutSeconds")?
            .map(Duration::from_secs);
        let Some(Value::Object(raw_states)) = fields.take("States") else {
            return Err(fields.error("States", "must be an object of named states"));
        };
        fields.finish("a state machine")?;

        let states = raw_states
            .into_iter()
            .map(|(name, value)| Ok((name.clone(), parse_state(&name, value)?)))
            .collect::<Result<HashMap<_, _>, DefinitionError>>()?;
        let machine = StateMachine {
            name: name.to_string(),
            start_at,
            timeout,
            states,
        };
        machine.check_transitions()?;
        Ok(machine)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Every transition lands on a state, and every state can be reached from StartAt.
    fn check_transitions(&self) -> Result<(), DefinitionError> {
        let missing = |state: Option<&str>, field: &str, target: &str| DefinitionError {
            state: state.map(str::to_string),
            field: Some(field.to_string()),
            message: format!("names {target:?}, which is not a state of this machine"),
        };
        if !self.states.contains_key(&self.start_at) {
            return Err(missing(None, "StartAt", &self.start_at));
        }
        let mut reached = HashSet::from([self.start_at.as_str()]);
        let mut to_visit = vec![self.start_at.as_str()];
        while let Some(name) = to_visit.pop() {
            for (field, target) in self.states[name].kind.targets() {
                if !self.states.contains_key(target) {
                    return Err(missing(Some(name), field, target));
                }
                if reached.insert(target) {
                    to_visit.push(target);
                }
            }
        }
        let mut unreachable: Vec<&String> = self
            .states
            .keys()
            .filter(|name| !reached.contains(name.as_str()))
            .collect();
        unreachable.sort();
        match unreachable.first() {
            Some(name) => Err(DefinitionError {
                state: Some(name.to_string()),
                field: None,
                message: "is not reachable from StartAt".into(),
            }),
            None => Ok(()),
        }
    }
}

impl StateKind {
    /// The states this one can hand over to, with the field naming each.
    fn targets(&self) -> Vec<(&'static str, &str)> {
        match self {
            StateKind::Task(task) => next_target(&task.transition)
                .into_iter()
                .chain(
                    task.catchers
                        .iter()
                        .map(|c| ("Catch.Next", c.next.as_str())),
                )
                .collect(),
            StateKind::Pass { transition, .. } | StateKind::Wait { transition, .. } => {
                next_target(transition).into_iter().collect()
            }
            StateKind::Choice { choices, default } => choices
                .iter()
                .map(|rule| ("Choices.Next", rule.next()))
                .chain(default.as_deref().map(|d| ("Default", d)))
                .collect(),
            StateKind::Succeed | StateKind::Fail { .. } => Vec::new(),
        }
    }
}

fn next_target(transition: &Transition) -> Option<(&'static str, &str)> {
    transition.next().map(|next| ("Next", next))
}

fn parse_state(name: &str, value: Value) -> Result<State, DefinitionError> {
    let mut fields = Fields::new(Some(name), String::new(), value)?;
    fields.take("Comment");
    fields.query_language()?;
    let kind_name = fields.required_string("Type")?;
    let (input_path, output_path) = if kind_name == "Fail" {
        (Some(ReferencePath::whole()), Some(ReferencePath::whole()))
    } else {
        (
            fields.nullable_path("InputPath")?,
            fields.nullable_path("OutputPath")?,
        )
    };
    let kind = match kind_name.as_str() {
        "Task" => StateKind::Task(parse_task(&mut fields)?),
        "Pass" => StateKind::Pass {
            parameters: fields.template("Parameters")?,
            result: fields.take("Result"),
            result_path: fields.nullable_path("ResultPath")?,
            transition: fields.transition()?,
        },
        "Choice" => {
            let Some(Value::Array(rules)) = fields.take("Choices") else {
                return Err(fields.error("Choices", "must be a non-empty array of choice rules"));
            };
            if rules.is_empty() {
                return Err(fields.error("Choices", "must be a non-empty array of choice rules"));
            }
            let choices = rules
                .into_iter()
                .enumerate()
                .map(|(index, rule)| {
                    ChoiceRule::parse_top_level(fields.nested(&format!("Choices[{index}]"), rule)?)
                })
                .collect::<Result<_, _>>()?;
            StateKind::Choice {
                choices,
                default: fields.string("Default")?,
            }
        }
        "Wait" => {
            let seconds = fields.operand("Seconds", |v| v.as_u64(), "a non-negative integer")?;
            let timestamp = fields.operand(
                "Timestamp",
                |v| v.as_str().and_then(timestamp::parse),
                "an RFC 3339 timestamp",
            )?;
            let until = match (seconds, timestamp) {
                (Some(seconds), None) => WaitUntil::Seconds(seconds),
                (None, Some(timestamp)) => WaitUntil::Timestamp(timestamp),
                _ => return Err(fields.error("Seconds", "a Wait state needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath")),
            };
            StateKind::Wait {
                until,
                transition: fields.transition()?,
            }
        }
        "Succeed" => StateKind::Succeed,
        "Fail" => StateKind::Fail {
            error: fields.operand("Error", |v| v.as_str().map(str::to_string), "a string")?,
            cause: fields.operand("Cause", |v| v.as_str().map(str::to_string), "a string")?,
        },
        "Map" | "Parallel" => {
            return Err(fields.error(
                "Type",
                format!("{kind_name} states are not supported by the photopipe local runner"),
            ))
        }
        other => return Err(fields.error("Type", format!("{other:?} is not a state type"))),
    };
    fields.finish(&format!("a {kind_name} state"))?;
    Ok(State {
        kind,
        input_path,
        output_path,
    })
}

fn parse_task(fields: &mut Fields) -> Result<Task, DefinitionError> {
    let retriers = indexed_array(fields, "Retry")?
        .map(|(index, is_last, value)| {
            parse_retrier(fields.nested(&format!("Retry[{index}]"), value)?, is_last)
        })
        .collect::<Result<_, _>>()?;
    let catchers = indexed_array(fields, "Catch")?
        .map(|(index, is_last, value)| {
            let mut catcher = fields.nested(&format!("Catch[{index}]"), value)?;
            let parsed = Catcher {
                error_equals: catcher.error_equals(is_last)?,
                next: catcher.required_string("Next")?,
                result_path: catcher.nullable_path("ResultPath")?,
            };
            catcher.finish("a catcher")?;
            Ok(parsed)
        })
        .collect::<Result<_, DefinitionError>>()?;
    Ok(Task {
        resource: fields.required_string("Resource")?,
        parameters: fields.template("Parameters")?,
        result_selector: fields.template("ResultSelector")?,
        result_path: fields.nullable_path("ResultPath")?,
        timeout: fields
            .positive_integer("TimeoutSeconds")?
            .map_or(DEFAULT_TASK_TIMEOUT, Duration::from_secs),
        retriers,
        catchers,
        transition: fields.transition()?,
    })
}

/// The items of an optional array field, each with its index and whether it is the last.
fn indexed_array(
    fields: &mut Fields,
    field: &str,
) -> Result<impl Iterator<Item = (usize, bool, Value)>, DefinitionError> {
    let items = match fields.take(field) {
        None => Vec::new(),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(fields.error(field, "must be an array")),
    };
    let last = items.len().saturating_sub(1);
    Ok(items
        .into_iter()
        .enumerate()
        .map(move |(index, item)| (index, index == last, item)))
}

fn parse_retrier(mut fields: Fields, is_last: bool) -> Result<Retrier, DefinitionError> {
    let error_equals = fields.error_equals(is_last)?;
    let interval = fields.positive_integer("IntervalSeconds")?.unwrap_or(1);
    let max_attempts = fields
        .number("MaxAttempts", "a non-negative integer", |n| {
            n.as_u64().and_then(|v| u32::try_from(v).ok())
        })?
        .unwrap_or(3);
    let backoff_rate = fields
        .number("BackoffRate", "a number of at least 1.0", |n| {
            n.as_f64().filter(|&v| v >= 1.0)
        })?
        .unwrap_or(2.0);
    let max_delay = fields
        .positive_integer("MaxDelaySeconds")?
        .map(Duration::from_secs);
    let full_jitter = match fields.string("JitterStrategy")?.as_deref() {
        None | Some("NONE") => false,
        Some("FULL") => true,
        Some(_) => return Err(fields.error("JitterStrategy", "must be \"FULL\" or \"NONE\"")),
    };
    fields.finish("a retrier")?;
    Ok(Retrier {
        error_equals,
        interval: Duration::from_secs(interval),
        max_attempts,
        backoff_rate,
        max_delay,
        full_jitter,
    })
}

impl<T: Clone> Operand<T> {
    /// The operand's value for this state data; a `…Path` operand must name a node that
    /// `from_json` accepts (`what` describes it for the error).
    pub(crate) fn resolve(
        &self,
        data: &Value,
        from_json: impl Fn(&Value) -> Option<T>,
        what: &str,
    ) -> Result<T, TaskError> {
        match self {
            Operand::Literal(value) => Ok(value.clone()),
            Operand::Path(path) => {
                let value = crate::dataflow::select(path, data)?;
                from_json(value).ok_or_else(|| {
                    TaskError::runtime(format!("the path {path} must name {what}, found {value}"))
                })
            }
        }
    }
}
