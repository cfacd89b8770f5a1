//! The CloudFront Functions event (`event.version`, `context`, `viewer`, `request`, `response`)
//! built from edgesim's request and response, and a function's answer read back.
//!
//! Query strings, headers and cookies are objects of `name -> {value, multiValue?}`
//! ("CloudFront Functions event structure"): `multiValue` appears only when a name occurs more
//! than once; `Cookie` and `Set-Cookie` are not headers but `cookies` (response cookies carry
//! `attributes`). Writing back follows CloudFront's rules: a changed `multiValue` replaces all
//! values; otherwise a changed `value` replaces the first and keeps the others. Parts the
//! function left as they were keep their original text.

use serde_json::{Map, Value, json};

use crate::event::{BodyEncoding, Request, Response};
use crate::headers::{Headers, Str, title_case};
use crate::stage::Stage;
use crate::validate::{RequestUpdate, ValidationRule, Violation};

/// `(name, value, attributes)` in order of appearance.
type Entries = Vec<(String, String, Option<String>)>;

fn bad<T>(message: impl Into<String>) -> Result<T, Violation> {
    Err(Violation::new(ValidationRule::BadShape, message))
}

/// Group `entries` into CloudFront Functions' value object, first appearance first.
fn value_object(entries: &Entries) -> Value {
    let mut order: Vec<&str> = Vec::new();
    for (name, _, _) in entries {
        if !order.contains(&name.as_str()) {
            order.push(name);
        }
    }
    let mut out = Map::new();
    for name in order {
        let all: Vec<&(String, String, Option<String>)> =
            entries.iter().filter(|(n, _, _)| n == name).collect();
        let one = |(_, v, a): &(String, String, Option<String>)| match a {
            Some(a) => json!({"value": v, "attributes": a}),
            None => json!({"value": v}),
        };
        let mut first = one(all[0]);
        if all.len() > 1
            && let Value::Object(m) = &mut first
        {
            m.insert(
                "multiValue".into(),
                Value::Array(all.iter().map(|e| one(e)).collect()),
            );
        }
        out.insert(name.to_string(), first);
    }
    Value::Object(out)
}

fn query_entries(raw: &str) -> Entries {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_string(), v.to_string(), None)
        })
        .collect()
}

fn cookie_entries(headers: &Headers) -> Entries {
    headers
        .get_all("cookie")
        .flat_map(|e| e.value.split(';'))
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| {
            let (k, v) = c.split_once('=').unwrap_or((c, ""));
            (k.trim().to_string(), v.trim().to_string(), None)
        })
        .collect()
}

fn set_cookie_entries(headers: &Headers) -> Entries {
    headers
        .get_all("set-cookie")
        .map(|e| {
            let (pair, attributes) = e.value.split_once(';').unwrap_or((&e.value, ""));
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (
                k.trim().to_string(),
                v.trim().to_string(),
                Some(attributes.trim().to_string()),
            )
        })
        .collect()
}

fn header_entries(headers: &Headers, skip: &str) -> Entries {
    headers
        .iter()
        .filter(|e| e.name != skip)
        .map(|e| (e.name.to_string(), e.value.to_string(), None))
        .collect()
}

/// `event.request`.
pub fn request_json(request: &Request) -> Value {
    json!({
        "method": request.method.as_str(),
        "uri": request.uri.as_str(),
        "querystring": value_object(&query_entries(&request.querystring)),
        "headers": value_object(&header_entries(&request.headers, "cookie")),
        "cookies": value_object(&cookie_entries(&request.headers)),
    })
}

/// `event.response` (and the shape a generated response is shown in).
pub fn response_json(response: &Response) -> Value {
    let mut out = json!({
        "statusCode": response.status,
        "statusDescription": response.status_description.as_str(),
        "headers": value_object(&header_entries(&response.headers, "set-cookie")),
        "cookies": value_object(&set_cookie_entries(&response.headers)),
    });
    if let (Some(body), Value::Object(m)) = (&response.body, &mut out) {
        let encoding = match response.body_encoding {
            Some(BodyEncoding::Base64) => "base64",
            _ => "text",
        };
        m.insert("body".into(), json!({"encoding": encoding, "data": body}));
    }
    out
}

/// The whole event for `stage`.
pub fn event_json(
    stage: Stage,
    request: &Request,
    response: Option<&Response>,
    distribution: &crate::script::Distribution,
    request_id: &str,
) -> Value {
    let mut event = json!({
        "version": "1.0",
        "context": {
            "distributionDomainName": distribution.domain_name.as_str(),
            "distributionId": distribution.id.as_str(),
            "eventType": stage.as_str(),
            "requestId": request_id,
        },
        "viewer": {"ip": request.client_ip.as_str()},
        "request": request_json(request),
    });
    if let (Some(response), Value::Object(m)) = (response, &mut event) {
        m.insert("response".into(), response_json(response));
    }
    event
}

/// One entry of a value object as the function left it: every `(value, attributes)`.
fn entry_values(
    name: &str,
    entry: &Value,
    before: Option<&Value>,
    before_values: &[(String, Option<String>)],
    what: &str,
    with_attributes: bool,
) -> Result<Vec<(String, Option<String>)>, Violation> {
    let Value::Object(m) = entry else {
        return bad(format!("{what}.{name} must be an object with a `value`"));
    };
    let read = |v: &Value, at: &str| -> Result<(String, Option<String>), Violation> {
        let Some(Value::String(value)) = v.get("value") else {
            return bad(format!("{at}.value must be a string"));
        };
        let attributes = match v.get("attributes") {
            None | Some(Value::Null) => None,
            Some(Value::String(a)) if with_attributes => Some(a.clone()),
            Some(_) if with_attributes => return bad(format!("{at}.attributes must be a string")),
            Some(_) => None,
        };
        Ok((value.clone(), attributes))
    };
    let before_multi = before.and_then(|b| b.get("multiValue"));
    if let Some(multi) = m.get("multiValue").filter(|mv| Some(*mv) != before_multi) {
        let Value::Array(items) = multi else {
            return bad(format!("{what}.{name}.multiValue must be an array"));
        };
        return items
            .iter()
            .enumerate()
            .map(|(i, item)| read(item, &format!("{what}.{name}.multiValue[{i}]")))
            .collect();
    }
    let first = read(entry, &format!("{what}.{name}"))?;
    let unchanged = before.is_some_and(|b| {
        b.get("value") == m.get("value") && b.get("attributes") == m.get("attributes")
    });
    if unchanged {
        return Ok(before_values.to_vec());
    }
    let mut out = vec![first];
    out.extend(before_values.iter().skip(1).cloned());
    Ok(out)
}

/// The entries a value object stands for after the function ran; `None` when it is unchanged.
fn read_value_object(
    after: Option<&Value>,
    before_json: &Value,
    before: &Entries,
    what: &str,
    with_attributes: bool,
) -> Result<Option<Entries>, Violation> {
    let after = match after {
        None | Some(Value::Null) => &Value::Object(Map::new()),
        Some(v) => v,
    };
    if after == before_json {
        return Ok(None);
    }
    let Value::Object(map) = after else {
        return bad(format!("{what} must be an object"));
    };
    let mut out = Entries::new();
    for (name, entry) in map {
        let values: Vec<(String, Option<String>)> = before
            .iter()
            .filter(|(n, _, _)| n == name)
            .map(|(_, v, a)| (v.clone(), a.clone()))
            .collect();
        for (value, attributes) in entry_values(
            name,
            entry,
            before_json.get(name),
            &values,
            what,
            with_attributes,
        )? {
            out.push((name.clone(), value, attributes));
        }
    }
    Ok(Some(out))
}

/// Headers from entries, keeping the original spelling of names that were there.
fn headers_from(entries: &Entries, before: &Headers) -> Headers {
    let mut headers = Headers::with_capacity(entries.len());
    for (name, value, _) in entries {
        let key = before
            .iter()
            .find(|e| e.name == name.as_str())
            .map_or_else(|| title_case(name), |e| e.key.clone());
        headers.append(Str::from(name.as_str()), key, value.as_str());
    }
    headers
}

fn string_field(
    obj: &Map<String, Value>,
    field: &str,
    what: &str,
) -> Result<Option<String>, Violation> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => bad(format!("{what}.{field} must be a string, got {other}")),
    }
}

/// The changes a returned request makes to `before` (shape rules only; the stage's header
/// and URI rules are checked by [`crate::validate::check_request_update`]).
pub fn read_request(before: &Request, after: &Value) -> Result<RequestUpdate, Violation> {
    let Value::Object(obj) = after else {
        return bad(format!(
            "the function returned {after}, not a request or response object"
        ));
    };
    let before_json = request_json(before);
    let mut update = RequestUpdate::default();
    if let Some(method) = string_field(obj, "method", "request")?
        && method != before.method
    {
        update.method = Some(Str::from(method));
    }
    if let Some(uri) = string_field(obj, "uri", "request")?
        && uri != before.uri
    {
        update.uri = Some(Str::from(uri));
    }
    if let Some(entries) = read_value_object(
        obj.get("querystring"),
        &before_json["querystring"],
        &query_entries(&before.querystring),
        "request.querystring",
        false,
    )? {
        let text: Vec<String> = entries
            .iter()
            .map(|(k, v, _)| {
                if v.is_empty() {
                    k.clone()
                } else {
                    format!("{k}={v}")
                }
            })
            .collect();
        update.querystring = Some(Str::from(text.join("&")));
    }
    let headers = read_value_object(
        obj.get("headers"),
        &before_json["headers"],
        &header_entries(&before.headers, "cookie"),
        "request.headers",
        false,
    )?;
    let cookies = read_value_object(
        obj.get("cookies"),
        &before_json["cookies"],
        &cookie_entries(&before.headers),
        "request.cookies",
        false,
    )?;
    if headers.is_some() || cookies.is_some() {
        let mut new = match headers {
            Some(entries) => headers_from(&entries, &before.headers),
            None => {
                let mut h = before.headers.clone();
                h.remove("cookie");
                h
            }
        };
        match cookies {
            Some(entries) if !entries.is_empty() => {
                let line: Vec<String> =
                    entries.iter().map(|(k, v, _)| format!("{k}={v}")).collect();
                new.append("cookie", "Cookie", line.join("; "));
            }
            Some(_) => {}
            None => {
                for e in before.headers.get_all("cookie") {
                    new.append("cookie", e.key.clone(), e.value.clone());
                }
            }
        }
        if new != before.headers {
            update.headers = Some(new);
        }
    }
    Ok(update)
}

/// A response object the function returned: a generated one at viewer-request (`before` is
/// `None`), or the viewer-response's response as the function left it.
pub fn read_response(before: Option<&Response>, after: &Value) -> Result<Response, Violation> {
    let Value::Object(obj) = after else {
        return bad(format!(
            "the function returned {after}, not a response object"
        ));
    };
    let status = match obj.get("statusCode") {
        Some(Value::Number(n)) => match n.as_u64().and_then(|n| u16::try_from(n).ok()) {
            Some(s) => s,
            None => return bad(format!("response.statusCode {n} is not an HTTP status")),
        },
        Some(other) => {
            return bad(format!(
                "response.statusCode must be an integer, got {other}"
            ));
        }
        None => return bad("a response needs a statusCode"),
    };
    let empty = Response::new(status);
    let base = before.unwrap_or(&empty);
    let before_json = response_json(base);
    let mut response = base.clone();
    if status != base.status {
        response.status = status;
        response.status_description = Str::const_new(crate::event::reason_phrase(status));
    }
    if let Some(d) = string_field(obj, "statusDescription", "response")? {
        response.status_description = Str::from(d);
    }
    let headers = read_value_object(
        obj.get("headers"),
        &before_json["headers"],
        &header_entries(&base.headers, "set-cookie"),
        "response.headers",
        false,
    )?;
    let cookies = read_value_object(
        obj.get("cookies"),
        &before_json["cookies"],
        &set_cookie_entries(&base.headers),
        "response.cookies",
        true,
    )?;
    if headers.is_some() || cookies.is_some() {
        let mut new = match headers {
            Some(entries) => headers_from(&entries, &base.headers),
            None => {
                let mut h = base.headers.clone();
                h.remove("set-cookie");
                h
            }
        };
        match cookies {
            Some(entries) => {
                for (k, v, a) in entries {
                    let line = match a.filter(|a| !a.is_empty()) {
                        Some(a) => format!("{k}={v}; {a}"),
                        None => format!("{k}={v}"),
                    };
                    new.append("set-cookie", "Set-Cookie", line);
                }
            }
            None => {
                for e in base.headers.get_all("set-cookie") {
                    new.append("set-cookie", e.key.clone(), e.value.clone());
                }
            }
        }
        response.headers = new;
    }
    match obj.get("body") {
        None | Some(Value::Null) => {}
        Some(Value::String(text)) => {
            response.body = Some(text.clone());
            response.body_encoding = Some(BodyEncoding::Text);
        }
        Some(Value::Object(b)) => {
            let data = string_field(b, "data", "response.body")?.unwrap_or_default();
            let encoding = match string_field(b, "encoding", "response.body")?.as_deref() {
                None | Some("text") => BodyEncoding::Text,
                Some("base64") => BodyEncoding::Base64,
                Some(other) => {
                    return bad(format!(
                        "response.body.encoding must be text or base64, got {other}"
                    ));
                }
            };
            response.body = Some(data);
            response.body_encoding = Some(encoding);
        }
        Some(other) => {
            return bad(format!(
                "response.body must be a string or {{data, encoding}}, got {other}"
            ));
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> Request {
        let mut r = Request::new("GET", "/media/index.mpd", "198.51.100.11");
        r.querystring = Str::from("ID=42&querymv=val1&querymv=val2,val3&NoValue");
        r.headers.append("host", "Host", "video.example.com");
        r.headers.append("accept", "Accept", "application/json");
        r.headers.append("accept", "Accept", "application/xml");
        r.headers
            .append("cookie", "Cookie", "Cookie1=value1; cookiemv=value3");
        r.headers.append("cookie", "Cookie", "cookiemv=value4");
        r
    }

    #[test]
    fn the_event_has_cloudfront_functions_shape() {
        let event = event_json(
            Stage::ViewerRequest,
            &request(),
            None,
            &crate::script::Distribution::default(),
            "abc",
        );
        assert_eq!(event["version"], "1.0");
        assert_eq!(event["context"]["eventType"], "viewer-request");
        assert_eq!(event["context"]["distributionId"], "EDFDVBD6EXAMPLE");
        assert_eq!(event["viewer"]["ip"], "198.51.100.11");
        let r = &event["request"];
        assert_eq!(r["method"], "GET");
        assert_eq!(r["querystring"]["ID"], json!({"value": "42"}));
        assert_eq!(r["querystring"]["NoValue"], json!({"value": ""}));
        assert_eq!(
            r["querystring"]["querymv"],
            json!({"value": "val1", "multiValue": [{"value": "val1"}, {"value": "val2,val3"}]})
        );
        assert_eq!(r["headers"]["host"], json!({"value": "video.example.com"}));
        assert_eq!(
            r["headers"]["accept"]["multiValue"][1]["value"],
            "application/xml"
        );
        assert!(
            r["headers"].get("cookie").is_none(),
            "cookies are not headers"
        );
        assert_eq!(r["cookies"]["Cookie1"], json!({"value": "value1"}));
        assert_eq!(r["cookies"]["cookiemv"]["multiValue"][1]["value"], "value4");
        assert!(event.get("response").is_none());
    }

    #[test]
    fn unchanged_parts_keep_their_text_and_changes_follow_the_multivalue_rules() {
        let before = request();
        let same = request_json(&before);
        assert!(read_request(&before, &same).unwrap().is_empty());
        let mut changed = same.clone();
        changed["headers"]["accept"]["value"] = json!("text/html");
        changed["headers"]["x-new"] = json!({"value": "1"});
        changed["querystring"]["querymv"]["multiValue"] = json!([{"value": "only"}]);
        let update = read_request(&before, &changed).unwrap();
        let headers = update.headers.unwrap();
        let accept: Vec<&str> = headers
            .get_all("accept")
            .map(|e| e.value.as_str())
            .collect();
        assert_eq!(
            accept,
            ["text/html", "application/xml"],
            "value replaces the first only"
        );
        assert_eq!(headers.get_all("x-new").next().unwrap().key, "X-New");
        let cookies: Vec<&str> = headers
            .get_all("cookie")
            .map(|e| e.value.as_str())
            .collect();
        assert_eq!(
            cookies,
            ["Cookie1=value1; cookiemv=value3", "cookiemv=value4"]
        );
        // serde_json orders object keys: the rebuilt query string is in name order.
        assert_eq!(update.querystring.unwrap(), "ID=42&NoValue&querymv=only");
    }

    #[test]
    fn responses_read_status_cookies_and_body() {
        let generated = read_response(
            None,
            &json!({"statusCode": 302, "headers": {"location": {"value": "https://example.com/"}},
                    "cookies": {"id": {"value": "1", "attributes": "Path=/"}}}),
        )
        .unwrap();
        assert_eq!(generated.status, 302);
        assert_eq!(generated.status_description, "Found");
        assert_eq!(
            generated.headers.get("location"),
            Some("https://example.com/")
        );
        assert_eq!(generated.headers.get("set-cookie"), Some("id=1; Path=/"));
        let mut origin = Response::new(200);
        origin
            .headers
            .append("set-cookie", "Set-Cookie", "a=1; Secure");
        let event = response_json(&origin);
        assert_eq!(
            event["cookies"]["a"],
            json!({"value": "1", "attributes": "Secure"})
        );
        let mut answer = event.clone();
        answer["body"] = json!({"encoding": "text", "data": "<p>hi</p>"});
        let after = read_response(Some(&origin), &answer).unwrap();
        assert_eq!(after.body.as_deref(), Some("<p>hi</p>"));
        assert_eq!(after.headers, origin.headers);
        for bad_answer in [
            json!({"statusCode": "200"}),
            json!({}),
            json!({"statusCode": 200, "body": 3}),
        ] {
            assert!(read_response(None, &bad_answer).is_err(), "{bad_answer}");
        }
    }
}
