//! A service's form: typed fields, checked on the server. The catalog file
//! declares them; a dossier's values are checked against them, each error
//! naming its field with a Vietnamese message.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use unicode_normalization::UnicodeNormalization;

use crate::domain::{Invalid, NationalId};

/// What kind of value a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// Free text (NFC-normalised, trimmed).
    Text,
    /// A number (integer or decimal), optionally bounded.
    Number,
    /// A date, `YYYY-MM-DD`.
    Date,
    /// One of the field's options.
    Select,
    /// A 12-digit personal identification number, checked.
    NationalId,
    /// A postal address (text).
    Address,
    /// A reference to an attached or vault document (its id).
    DocumentRef,
}

/// One field of a form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormField {
    /// Its key in the values (snake_case).
    pub name: String,
    /// What the applicant reads (Vietnamese).
    pub label: String,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: FieldType,
    /// Whether it must be filled in.
    #[serde(default)]
    pub required: bool,
    /// The allowed values of a select.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// Longest text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    /// Smallest number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Largest number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// The vault record this field can be prefilled from (`identity.full_name`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault: Option<String>,
}

/// Longest text when a field names no limit.
const DEFAULT_MAX_LENGTH: usize = 2000;

/// Checks a form's own definition (when the catalog is loaded).
pub fn check_definition(fields: &[FormField]) -> Result<(), String> {
    if fields.is_empty() {
        return Err("a form needs at least one field".into());
    }
    let mut seen = std::collections::HashSet::new();
    for f in fields {
        let name_ok = !f.name.is_empty()
            && f.name.len() <= 64
            && f.name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !name_ok {
            return Err(format!("field name {:?} is not snake_case", f.name));
        }
        if !seen.insert(f.name.as_str()) {
            return Err(format!("field {} appears twice", f.name));
        }
        if f.label.trim().is_empty() {
            return Err(format!("field {} has no label", f.name));
        }
        if f.kind == FieldType::Select && f.options.is_empty() {
            return Err(format!("select field {} has no options", f.name));
        }
        if let (Some(min), Some(max)) = (f.min, f.max)
            && min > max
        {
            return Err(format!("field {}: min is above max", f.name));
        }
    }
    Ok(())
}

fn invalid(code: &'static str, message: String) -> Invalid {
    Invalid::new(code, message)
}

/// Checks one value; returns it normalised.
fn check_value(field: &FormField, value: &Value) -> Result<Value, Invalid> {
    let label = &field.label;
    let text = |v: &Value| -> Result<String, Invalid> {
        v.as_str()
            .map(|s| s.nfc().collect::<String>().trim().to_owned())
            .ok_or_else(|| {
                invalid(
                    "form_value_not_text",
                    format!("{label}: cần nhập dạng chữ."),
                )
            })
    };
    match field.kind {
        FieldType::Text | FieldType::Address => {
            let s = text(value)?;
            let max = field.max_length.unwrap_or(DEFAULT_MAX_LENGTH);
            if s.chars().count() > max {
                return Err(invalid(
                    "form_value_too_long",
                    format!("{label}: tối đa {max} ký tự."),
                ));
            }
            if s.chars().any(|c| c.is_control() && c != '\n') {
                return Err(invalid(
                    "form_value_control_characters",
                    format!("{label}: có ký tự không hợp lệ."),
                ));
            }
            Ok(Value::String(s))
        }
        FieldType::Number => {
            let n = value
                .as_f64()
                .or_else(|| value.as_str().and_then(|s| s.trim().parse::<f64>().ok()))
                .filter(|n| n.is_finite())
                .ok_or_else(|| {
                    invalid(
                        "form_value_not_number",
                        format!("{label}: cần nhập một số."),
                    )
                })?;
            if field.min.is_some_and(|min| n < min) || field.max.is_some_and(|max| n > max) {
                return Err(invalid(
                    "form_value_out_of_range",
                    format!(
                        "{label}: giá trị phải trong khoảng {} – {}.",
                        field.min.map_or_else(|| "…".into(), |m| m.to_string()),
                        field.max.map_or_else(|| "…".into(), |m| m.to_string())
                    ),
                ));
            }
            Ok(serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number))
        }
        FieldType::Date => {
            let s = text(value)?;
            chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                .map(|d| Value::String(d.to_string()))
                .map_err(|_| {
                    invalid(
                        "form_value_not_date",
                        format!("{label}: ngày theo dạng YYYY-MM-DD."),
                    )
                })
        }
        FieldType::Select => {
            let s = text(value)?;
            if field.options.contains(&s) {
                Ok(Value::String(s))
            } else {
                Err(invalid(
                    "form_value_not_an_option",
                    format!("{label}: chọn một trong: {}.", field.options.join(", ")),
                ))
            }
        }
        FieldType::NationalId => {
            let s = text(value)?;
            NationalId::parse(&s)
                .map(|id| Value::String(id.as_str().to_owned()))
                .map_err(|e| invalid(e.code, format!("{label}: {}", e.message)))
        }
        FieldType::DocumentRef => {
            let s = text(value)?;
            uuid::Uuid::parse_str(&s)
                .map(|id| Value::String(id.to_string()))
                .map_err(|_| {
                    invalid(
                        "form_value_not_document",
                        format!("{label}: mã tài liệu không hợp lệ."),
                    )
                })
        }
    }
}

/// Checks `values` against `fields`: every error at once, by field name.
/// With `complete`, required fields must be filled (filing); without, a
/// draft may leave them empty.
pub fn check_values(
    fields: &[FormField],
    values: &Map<String, Value>,
    complete: bool,
) -> Result<Map<String, Value>, Vec<(String, Invalid)>> {
    let mut errors = Vec::new();
    let mut out = Map::new();
    for name in values.keys() {
        if !fields.iter().any(|f| &f.name == name) {
            errors.push((
                name.clone(),
                invalid(
                    "form_field_unknown",
                    format!("Biểu mẫu không có trường “{name}”."),
                ),
            ));
        }
    }
    for field in fields {
        let value = values.get(&field.name).filter(|v| match v {
            Value::Null => false,
            Value::String(s) => !s.trim().is_empty(),
            _ => true,
        });
        match value {
            None => {
                if complete && field.required {
                    errors.push((
                        field.name.clone(),
                        invalid("form_value_required", format!("{}: bắt buộc.", field.label)),
                    ));
                }
            }
            Some(v) => match check_value(field, v) {
                Ok(v) => {
                    out.insert(field.name.clone(), v);
                }
                Err(e) => errors.push((field.name.clone(), e)),
            },
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn form() -> Vec<FormField> {
        serde_json::from_value(json!([
            { "name": "full_name", "label": "Họ và tên", "type": "text", "required": true, "max_length": 10 },
            { "name": "children", "label": "Số con", "type": "number", "min": 0, "max": 20 },
            { "name": "born", "label": "Ngày sinh", "type": "date", "required": true },
            { "name": "kind", "label": "Loại", "type": "select", "options": ["a", "b"] },
            { "name": "id", "label": "Số định danh", "type": "national_id" },
            { "name": "doc", "label": "Tài liệu", "type": "document_ref" },
        ]))
        .expect("form")
    }

    #[test]
    fn definitions_are_checked() {
        assert!(check_definition(&form()).is_ok());
        let mut bad = form();
        bad[3].options.clear();
        assert!(check_definition(&bad).is_err());
        let mut twice = form();
        twice[1].name = "full_name".into();
        assert!(check_definition(&twice).is_err());
        assert!(check_definition(&[]).is_err());
    }

    #[test]
    fn values_are_checked_all_at_once() {
        let values = json!({
            "full_name": "  Nguyễn Văn An ",
            "children": "3",
            "born": "2020-02-30",
            "kind": "c",
            "id": "079090000001",
            "doc": "not-a-uuid",
            "extra": 1,
        });
        let errors =
            check_values(&form(), values.as_object().expect("map"), true).expect_err("bad");
        let fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["extra", "full_name", "born", "kind", "doc"]);
        assert!(errors.iter().all(|(_, e)| !e.message.is_empty()));
    }

    #[test]
    fn good_values_come_back_normalised_and_drafts_may_be_incomplete() {
        let values = json!({ "full_name": " An ", "children": 2, "kind": "a" });
        let ok = check_values(&form(), values.as_object().expect("map"), false).expect("draft");
        assert_eq!(ok["full_name"], "An");
        assert_eq!(ok["children"], 2.0);
        let missing =
            check_values(&form(), values.as_object().expect("map"), true).expect_err("filing");
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].0, "born");
        assert_eq!(missing[0].1.code, "form_value_required");
    }
}
