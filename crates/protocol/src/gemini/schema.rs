//! JSON Schema (what OpenAI and Anthropic clients send for tool parameters and
//! structured output) to Gemini's `Schema`, a select subset of OpenAPI 3.0 that answers
//! 400 to any keyword it does not know.
//!
//! Keeps the meaning where the subset can say it (local `$ref`s are inlined, `null`
//! types become `nullable`, `oneOf`/`const` become `anyOf`/`enum`) and names every
//! keyword it drops. Must never recurse or expand without bound: schemas come from
//! clients, and `$ref` graphs can be cyclic or exponential.

use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// Keywords Gemini's `Schema` accepts.
const ALLOWED: &[&str] = &[
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "maxItems",
    "minItems",
    "properties",
    "required",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "example",
    "anyOf",
    "propertyOrdering",
    "default",
    "items",
    "minimum",
    "maximum",
];

/// `format` values Gemini accepts (`enum`/`date-time` on strings, the rest on numbers).
const FORMATS: &[&str] = &["enum", "date-time", "int32", "int64", "float", "double"];

const MAX_DEPTH: usize = 32;
/// Schema nodes one conversion may produce (bounds `$ref` expansion).
const MAX_NODES: usize = 10_000;

/// The converted schema and the keywords (or constructs) that were dropped.
pub(super) fn convert(schema: &Value) -> (Value, BTreeSet<String>) {
    let mut c = Converter {
        root: schema,
        dropped: BTreeSet::new(),
        refs: Vec::new(),
        nodes: 0,
    };
    let out = c.node(schema, 0);
    (out, c.dropped)
}

struct Converter<'a> {
    root: &'a Value,
    dropped: BTreeSet<String>,
    /// `$ref`s being expanded, to stop at cycles.
    refs: Vec<String>,
    nodes: usize,
}

impl Converter<'_> {
    fn node(&mut self, schema: &Value, depth: usize) -> Value {
        self.nodes += 1;
        if depth > MAX_DEPTH || self.nodes > MAX_NODES {
            self.drop("schema nested or expanded too far");
            return Value::Object(Map::new());
        }
        // `true`/`false` schemas and junk: Gemini has no "anything" schema but an empty one.
        let Value::Object(map) = schema else {
            return Value::Object(Map::new());
        };
        if let Some(Value::String(reference)) = map.get("$ref") {
            return self.reference(reference, map, depth);
        }
        let mut out = Map::new();
        for (key, value) in map {
            self.keyword(key, value, &mut out, depth);
        }
        if let Some(Value::Array(subs)) = map.get("allOf") {
            for sub in subs {
                let sub = self.node(sub, depth + 1);
                merge_into(&mut out, sub);
            }
        }
        Value::Object(out)
    }

    fn keyword(&mut self, key: &str, value: &Value, out: &mut Map<String, Value>, depth: usize) {
        match key {
            "type" => self.kind(value, out),
            "properties" => {
                let props = match value {
                    Value::Object(props) => props
                        .iter()
                        .map(|(name, s)| (name.clone(), self.node(s, depth + 1)))
                        .collect(),
                    _ => Map::new(),
                };
                out.insert(key.to_owned(), Value::Object(props));
            }
            "items" if value.is_array() => self.drop("tuple `items`"),
            "items" => {
                out.insert(key.to_owned(), self.node(value, depth + 1));
            }
            "anyOf" | "oneOf" => self.any_of(key, value, out, depth),
            "enum" => self.enumeration(value, out),
            "const" => self.enumeration(&Value::Array(vec![value.clone()]), out),
            "format" if value.as_str().is_some_and(|f| FORMATS.contains(&f)) => {
                out.insert(key.to_owned(), value.clone());
            }
            "format" => self.drop(&format!("format `{}`", value.as_str().unwrap_or("?"))),
            // Containers of `$ref` targets: their content is inlined where referenced.
            "$defs" | "definitions" | "allOf" => {}
            _ if ALLOWED.contains(&key) => {
                let value = self.copy(value);
                out.insert(key.to_owned(), value);
            }
            _ => self.drop(&format!("`{key}`")),
        }
    }

    /// `type` may be a list in JSON Schema; Gemini takes one type plus `nullable`.
    fn kind(&mut self, value: &Value, out: &mut Map<String, Value>) {
        let types: Vec<&str> = match value {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if types.contains(&"null") {
            out.insert("nullable".into(), Value::Bool(true));
        }
        let real: Vec<&str> = types.into_iter().filter(|t| *t != "null").collect();
        match real.as_slice() {
            [] => {}
            [one] => {
                out.insert("type".into(), Value::from(*one));
            }
            many => {
                self.drop("type lists (sent as `anyOf`)");
                let variants = many
                    .iter()
                    .map(|t| serde_json::json!({ "type": t }))
                    .collect();
                out.insert("anyOf".into(), Value::Array(variants));
            }
        }
    }

    fn any_of(&mut self, key: &str, value: &Value, out: &mut Map<String, Value>, depth: usize) {
        if key == "oneOf" {
            self.drop("`oneOf` (sent as `anyOf`)");
        }
        let Value::Array(subs) = value else { return };
        let mut variants = Vec::new();
        for sub in subs {
            if sub.get("type").and_then(Value::as_str) == Some("null") {
                out.insert("nullable".into(), Value::Bool(true));
            } else {
                variants.push(self.node(sub, depth + 1));
            }
        }
        match variants.len() {
            0 => {}
            // `anyOf: [X, null]` is how Pydantic writes `Optional[X]`: inline X.
            1 => variants.into_iter().for_each(|v| merge_into(out, v)),
            _ => {
                out.insert("anyOf".into(), Value::Array(variants));
            }
        }
    }

    /// Gemini enums are strings; a `null` member means `nullable`.
    fn enumeration(&mut self, value: &Value, out: &mut Map<String, Value>) {
        let Value::Array(members) = value else { return };
        if !self.charge(value) {
            return;
        }
        let mut strings = Vec::with_capacity(members.len());
        for m in members {
            match m {
                Value::Null => {
                    out.insert("nullable".into(), Value::Bool(true));
                }
                Value::String(_) => strings.push(m.clone()),
                other => {
                    self.drop("non-string `enum` members (sent as strings)");
                    strings.push(Value::String(other.to_string()));
                }
            }
        }
        out.insert("enum".into(), Value::Array(strings));
    }

    fn reference(&mut self, reference: &str, map: &Map<String, Value>, depth: usize) -> Value {
        let target = reference
            .strip_prefix('#')
            .and_then(|p| self.root.pointer(p));
        let Some(target) = target else {
            self.drop(&format!("`$ref` {reference}"));
            return Value::Object(Map::new());
        };
        if self.refs.iter().any(|r| r == reference) {
            self.drop("recursive `$ref`");
            return Value::Object(Map::new());
        }
        self.refs.push(reference.to_owned());
        let base = self.node(target, depth + 1);
        self.refs.pop();
        // Keywords next to `$ref` (a `description`, say) refine the target.
        let mut out = Map::new();
        for (key, value) in map {
            if key != "$ref" {
                self.keyword(key, value, &mut out, depth);
            }
        }
        merge_into(&mut out, base);
        Value::Object(out)
    }

    /// A copy of a keyword's value, charged to the budget by size so that `$ref`
    /// expansion cannot copy a large `default` or `enum` without bound.
    fn copy(&mut self, value: &Value) -> Value {
        if self.charge(value) {
            value.clone()
        } else {
            Value::Null
        }
    }

    fn charge(&mut self, value: &Value) -> bool {
        self.nodes += weight(value);
        if self.nodes > MAX_NODES {
            self.drop("schema nested or expanded too far");
            return false;
        }
        true
    }

    fn drop(&mut self, what: &str) {
        if !self.dropped.contains(what) {
            self.dropped.insert(what.to_owned());
        }
    }
}

/// How many JSON values `value` is made of (parsed JSON is at most 128 levels deep).
fn weight(value: &Value) -> usize {
    match value {
        Value::Array(a) => 1 + a.iter().map(weight).sum::<usize>(),
        Value::Object(o) => 1 + o.values().map(weight).sum::<usize>(),
        _ => 1,
    }
}

/// Adds `from`'s keywords to `into`: `properties` and `required` are unioned, other
/// keywords already in `into` win (the outer schema is the more specific one).
fn merge_into(into: &mut Map<String, Value>, from: Value) {
    let Value::Object(from) = from else { return };
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(Value::Object(a)), Value::Object(b)) if key == "properties" => {
                for (k, v) in b {
                    a.entry(k).or_insert(v);
                }
            }
            (Some(Value::Array(a)), Value::Array(b)) if key == "required" => {
                for v in b {
                    if !a.contains(&v) {
                        a.push(v);
                    }
                }
            }
            (Some(_), _) => {}
            (None, value) => {
                into.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::convert;
    use serde_json::json;

    #[test]
    fn strips_unknown_keywords_recursively_and_names_them() {
        let (out, dropped) = convert(&json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "tags": {"type": "array", "items": {"type": "string", "additionalProperties": false}, "uniqueItems": true}
            },
            "required": ["tags"]
        }));
        assert_eq!(
            out,
            json!({"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string"}}}, "required": ["tags"]})
        );
        let dropped: Vec<_> = dropped.into_iter().collect();
        assert_eq!(
            dropped,
            ["`$schema`", "`additionalProperties`", "`uniqueItems`"]
        );
    }

    #[test]
    fn nullable_types_and_optional_any_of() {
        let (out, dropped) = convert(&json!({
            "type": "object",
            "properties": {
                "a": {"type": ["string", "null"]},
                "b": {"anyOf": [{"type": "integer"}, {"type": "null"}], "description": "B"},
                "c": {"const": "x"},
                "d": {"enum": [1, 2, null]}
            }
        }));
        assert_eq!(
            out["properties"],
            json!({
                "a": {"nullable": true, "type": "string"},
                "b": {"nullable": true, "description": "B", "type": "integer"},
                "c": {"enum": ["x"]},
                "d": {"nullable": true, "enum": ["1", "2"]}
            })
        );
        assert_eq!(dropped.len(), 1);
    }

    #[test]
    fn local_refs_are_inlined_and_cycles_stop() {
        let (out, dropped) = convert(&json!({
            "type": "object",
            "properties": {"p": {"$ref": "#/$defs/P", "description": "the p"}},
            "$defs": {"P": {"type": "object", "properties": {"next": {"$ref": "#/$defs/P"}}}}
        }));
        assert_eq!(
            out,
            json!({"type": "object", "properties": {"p": {"type": "object", "properties": {"next": {}}, "description": "the p"}}})
        );
        assert!(dropped.contains("recursive `$ref`"));
    }

    #[test]
    fn exponential_refs_are_bounded() {
        let mut defs = serde_json::Map::new();
        for i in 0..40 {
            let next = format!("#/$defs/d{}", i + 1);
            defs.insert(
                format!("d{i}"),
                json!({"type": "object", "properties": {"a": {"$ref": next}, "b": {"$ref": next}}}),
            );
        }
        defs.insert("d40".into(), json!({"type": "string"}));
        let (_, dropped) = convert(&json!({"$ref": "#/$defs/d0", "$defs": defs}));
        assert!(dropped.contains("schema nested or expanded too far"));
    }

    #[test]
    fn all_of_merges_and_one_of_becomes_any_of() {
        let (out, _) = convert(&json!({
            "allOf": [
                {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
                {"properties": {"b": {"oneOf": [{"type": "string"}, {"type": "number", "format": "float"}]}}, "required": ["b"]}
            ]
        }));
        assert_eq!(
            out,
            json!({
                "type": "object",
                "properties": {"a": {"type": "string"}, "b": {"anyOf": [{"type": "string"}, {"type": "number", "format": "float"}]}},
                "required": ["a", "b"]
            })
        );
    }
}
