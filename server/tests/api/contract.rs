//! Checks responses against the server's own OpenAPI document: every JSON
//! answer of a documented route must have a documented status and match
//! that status's schema. The test clients run every `/api/communication/`
//! response through [`Contract::check`].

use serde_json::Value;

pub struct Contract {
    doc: Value,
}

impl Contract {
    pub fn new(doc: Value) -> Self {
        assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with('3')), "an OpenAPI 3 document");
        Contract { doc }
    }

    /// Panics unless `body` is what the document promises for `method path` answering `status`.
    pub fn check(&self, method: &str, path: &str, status: u16, body: &[u8]) {
        if let Err(e) = self.verify(method, path, status, body) {
            panic!("{e}");
        }
    }

    /// What is wrong with the answer, if anything.
    pub fn verify(&self, method: &str, path: &str, status: u16, body: &[u8]) -> Result<(), String> {
        let path = path.split('?').next().unwrap_or(path);
        let (template, item) = self.doc["paths"]
            .as_object()
            .expect("paths")
            .iter()
            .find(|(t, _)| matches_template(t, path))
            .ok_or_else(|| format!("{method} {path} is not in the OpenAPI document"))?;
        let op = &item[method.to_lowercase()];
        if !op.is_object() {
            return Err(format!("{method} {template} is not documented"));
        }
        let response = &op["responses"][status.to_string()];
        if !response.is_object() {
            return Err(format!("{method} {template} answered {status}, which is not documented"));
        }
        let schema = &response["content"]["application/json"]["schema"];
        // A documented body of another type (an iCalendar file): not checked here.
        if schema.is_null() && response["content"].as_object().is_some_and(|c| !c.is_empty()) {
            return Ok(());
        }
        if schema.is_null() {
            return if body.is_empty() {
                Ok(())
            } else {
                Err(format!("{method} {template} {status} has no documented body but sent one"))
            };
        }
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| format!("{method} {template} {status}: body is not JSON ({e})"))?;
        self.validate(schema, &value, "$").map_err(|e| {
            format!("{method} {template} {status} does not match its schema: {e}\nbody: {value}")
        })
    }

    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        match schema["$ref"].as_str() {
            Some(r) => {
                let name = r.rsplit('/').next().unwrap_or(r);
                let found = &self.doc["components"]["schemas"][name];
                assert!(found.is_object(), "unresolved {r}");
                self.resolve(found)
            }
            None => schema,
        }
    }

    fn validate(&self, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
        let schema = self.resolve(schema);
        if let Some(options) = schema["oneOf"].as_array().or(schema["anyOf"].as_array()) {
            return if options.iter().any(|s| self.validate(s, value, at).is_ok()) {
                Ok(())
            } else {
                Err(format!("{at}: matches none of the allowed schemas"))
            };
        }
        if let Some(all) = schema["allOf"].as_array() {
            for s in all {
                self.validate(s, value, at)?;
            }
        }
        if let Some(choices) = schema["enum"].as_array()
            && !choices.contains(value)
        {
            return Err(format!("{at}: {value} is not one of {choices:?}"));
        }
        let types: Vec<&str> = match &schema["type"] {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !types.is_empty() && !types.iter().any(|t| type_matches(t, value)) {
            return Err(format!("{at}: expected {types:?}, got {value}"));
        }
        if let Value::Object(fields) = value {
            for name in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                if !fields.contains_key(name) {
                    return Err(format!("{at}: required field `{name}` is missing"));
                }
            }
            if let Some(props) = schema["properties"].as_object() {
                for (name, v) in fields {
                    match props.get(name) {
                        Some(s) => self.validate(s, v, &format!("{at}.{name}"))?,
                        None => return Err(format!("{at}: field `{name}` is not documented")),
                    }
                }
            }
        }
        if let (Value::Array(items), Some(item)) = (value, schema.get("items")) {
            for (i, v) in items.iter().enumerate() {
                self.validate(item, v, &format!("{at}[{i}]"))?;
            }
        }
        Ok(())
    }
}

fn type_matches(t: &str, v: &Value) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "string" => v.is_string(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        _ => false,
    }
}

fn matches_template(template: &str, path: &str) -> bool {
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter().zip(&p).all(|(a, b)| (a.starts_with('{') && a.ends_with('}') && !b.is_empty()) || a == b)
}
