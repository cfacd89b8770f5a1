//! Moving CloudFront objects between Rust and QuickJS without JSON text.

use rquickjs::function::Args;
use rquickjs::{Array, Atom, Ctx, Object, Value};

use crate::event::{BodyEncoding, Origin, Request, RequestBody, Response};
use crate::headers::{HeaderEntry, Headers, Str, title_case};
use crate::script::ScriptCall;
use crate::validate::{HandlerResult, RequestUpdate, ResponseUpdate, ValidationRule, Violation};

struct Keys<'js> {
    key: Atom<'js>,
    value: Atom<'js>,
}

fn headers_to_js<'js>(
    ctx: &Ctx<'js>,
    headers: &Headers,
    keys: &Keys<'js>,
    bytes: &mut u64,
) -> rquickjs::Result<Object<'js>> {
    let object = Object::new(ctx.clone())?;
    for (name, group) in headers.groups() {
        let lines = Array::new(ctx.clone())?;
        for (i, entry) in group.iter().enumerate() {
            let line = Object::new(ctx.clone())?;
            line.set(keys.key.clone(), entry.key.as_str())?;
            line.set(keys.value.clone(), entry.value.as_str())?;
            lines.set(i, line)?;
            *bytes += (entry.key.len() + entry.value.len() + 16) as u64;
        }
        object.set(name, lines)?;
        *bytes += name.len() as u64;
    }
    Ok(object)
}

fn origin_to_js<'js>(
    ctx: &Ctx<'js>,
    origin: &Origin,
    keys: &Keys<'js>,
    bytes: &mut u64,
) -> rquickjs::Result<Object<'js>> {
    let outer = Object::new(ctx.clone())?;
    let inner = Object::new(ctx.clone())?;
    match origin {
        Origin::S3(o) => {
            inner.set("authMethod", o.auth_method.as_str())?;
            inner.set(
                "customHeaders",
                headers_to_js(ctx, &o.custom_headers, keys, bytes)?,
            )?;
            inner.set("domainName", o.domain_name.as_str())?;
            inner.set("path", o.path.as_str())?;
            inner.set("region", o.region.as_str())?;
            *bytes += (o.domain_name.len() + o.path.len() + o.region.len() + 60) as u64;
            outer.set("s3", inner)?;
        }
        Origin::Custom(o) => {
            inner.set(
                "customHeaders",
                headers_to_js(ctx, &o.custom_headers, keys, bytes)?,
            )?;
            inner.set("domainName", o.domain_name.as_str())?;
            inner.set("keepaliveTimeout", o.keepalive_timeout)?;
            inner.set("path", o.path.as_str())?;
            inner.set("port", o.port)?;
            inner.set("protocol", o.protocol.as_str())?;
            inner.set("readTimeout", o.read_timeout)?;
            let protocols = Array::new(ctx.clone())?;
            for (i, p) in o.ssl_protocols.iter().enumerate() {
                protocols.set(i, p.as_str())?;
            }
            inner.set("sslProtocols", protocols)?;
            *bytes += (o.domain_name.len() + o.path.len() + 120) as u64;
            outer.set("custom", inner)?;
        }
    }
    Ok(outer)
}

/// Header lines as arguments `name, n, key1, value1, ..., name, n, ...` for the prelude's
/// `headersOf`; returns how many arguments were pushed.
fn push_headers<'js>(
    ctx: &Ctx<'js>,
    args: &mut Args<'js>,
    headers: &Headers,
    mut made: Option<&mut Vec<Value<'js>>>,
    bytes: &mut u64,
) -> rquickjs::Result<()> {
    for (name, group) in headers.groups() {
        args.push_arg(name)?;
        args.push_arg(group.len() as u32)?;
        *bytes += name.len() as u64;
        for entry in group {
            *bytes += (entry.key.len() + entry.value.len() + 16) as u64;
            match made.as_deref_mut() {
                Some(made) => {
                    let key = js_str(ctx, &entry.key)?;
                    let value = js_str(ctx, &entry.value)?;
                    made.push(key.clone());
                    made.push(value.clone());
                    args.push_arg(key)?;
                    args.push_arg(value)?;
                }
                None => {
                    args.push_arg(entry.key.as_str())?;
                    args.push_arg(entry.value.as_str())?;
                }
            }
        }
    }
    Ok(())
}

/// The JS strings made for the event's request, kept to recognise unchanged values by identity
/// when the result is read back (no string conversion or comparison for them).
pub(super) struct Made<'js> {
    client_ip: Value<'js>,
    method: Value<'js>,
    querystring: Value<'js>,
    uri: Value<'js>,
    /// `key` and `value` of each request header line, in order.
    header_lines: Vec<Value<'js>>,
}

fn js_str<'js>(ctx: &Ctx<'js>, s: &str) -> rquickjs::Result<Value<'js>> {
    Ok(rquickjs::String::from_str(ctx.clone(), s)?.into_value())
}

/// Arguments pushed per header group and line.
pub(super) fn header_args(headers: &Headers) -> usize {
    2 * headers.len() + 2 * headers.groups().count()
}

/// The arguments of the prelude's `invoke` after its first five (time, seed, timeout, request
/// id): distribution, request and response parts from which it builds
/// `{Records: [{cf: {config, request, response?}}]}`.
pub(super) fn push_event_args<'js>(
    ctx: &Ctx<'js>,
    args: &mut Args<'js>,
    call: &ScriptCall<'_>,
    bytes: &mut u64,
) -> rquickjs::Result<Made<'js>> {
    let r = call.request;
    let undefined = || Value::new_undefined(ctx.clone());
    args.push_arg(call.distribution.domain_name.as_str())?;
    args.push_arg(call.distribution.id.as_str())?;
    args.push_arg(call.stage.as_str())?;
    *bytes += 150;
    let mut made = Made {
        client_ip: js_str(ctx, &r.client_ip)?,
        method: js_str(ctx, &r.method)?,
        querystring: js_str(ctx, &r.querystring)?,
        uri: js_str(ctx, &r.uri)?,
        header_lines: Vec::with_capacity(2 * r.headers.len()),
    };
    args.push_arg(made.client_ip.clone())?;
    args.push_arg(made.method.clone())?;
    match &r.origin {
        Some(origin) if call.stage.is_origin() => {
            let keys = Keys {
                key: Atom::from_str(ctx.clone(), "key")?,
                value: Atom::from_str(ctx.clone(), "value")?,
            };
            args.push_arg(origin_to_js(ctx, origin, &keys, bytes)?)?;
        }
        _ => args.push_arg(undefined())?,
    }
    args.push_arg(made.querystring.clone())?;
    args.push_arg(made.uri.clone())?;
    match &r.body {
        Some(body) if call.include_body => {
            let body = crate::body::exposed_body(call.stage, body);
            let b = Object::new(ctx.clone())?;
            b.set("inputTruncated", body.input_truncated)?;
            b.set("action", body.action.as_str())?;
            b.set("encoding", body.encoding.as_str())?;
            b.set("data", body.data.as_str())?;
            *bytes += body.data.len() as u64;
            args.push_arg(b)?;
        }
        _ => args.push_arg(undefined())?,
    }
    *bytes += (r.client_ip.len() + r.method.len() + r.uri.len() + r.querystring.len() + 60) as u64;
    match call.response {
        Some(resp) => {
            let mut status = Str::default();
            {
                use std::fmt::Write;
                let _ = write!(status, "{}", resp.status);
            }
            args.push_arg(status.as_str())?;
            args.push_arg(resp.status_description.as_str())?;
            *bytes += (resp.status_description.len() + 40) as u64;
        }
        None => {
            args.push_arg(undefined())?;
            args.push_arg(undefined())?;
        }
    }
    args.push_arg(header_args(&r.headers) as u32)?;
    push_headers(ctx, args, &r.headers, Some(&mut made.header_lines), bytes)?;
    if let Some(resp) = call.response {
        push_headers(ctx, args, &resp.headers, None, bytes)?;
    }
    Ok(made)
}

fn shape<T>(message: impl Into<String>) -> Result<T, Violation> {
    Err(Violation::new(ValidationRule::BadShape, message))
}

fn js_err(what: &str) -> impl Fn(rquickjs::Error) -> Violation + '_ {
    move |e| Violation::new(ValidationRule::BadShape, format!("cannot read {what}: {e}"))
}

/// A string property: `None` when absent, a violation when not a string.
fn get_string<'js>(
    object: &Object<'js>,
    key: &str,
    what: &str,
) -> Result<Option<rquickjs::CString<'js>>, Violation> {
    let value: Value = object.get(key).map_err(js_err(what))?;
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    match value.into_string() {
        Some(s) => s.to_cstring().map(Some).map_err(js_err(what)),
        None => shape(format!("{what}.{key} must be a string")),
    }
}

/// The new value of a string field if it differs from `before`.
fn changed_string<'js>(
    object: &Object<'js>,
    key: &str,
    what: &str,
    before: &str,
    bytes: &mut u64,
) -> Result<Option<Str>, Violation> {
    Ok(get_string(object, key, what)?.and_then(|s| {
        *bytes += s.len() as u64;
        (s.as_str() != before).then(|| Str::from(s.as_str()))
    }))
}

/// Read a headers object; `None` when it equals `before` line for line.
fn read_headers<'js>(
    ctx: &Ctx<'js>,
    value: Value<'js>,
    before: &Headers,
    made: &[Value<'js>],
    what: &str,
    bytes: &mut u64,
) -> Result<Option<Headers>, Violation> {
    let Some(object) = value.into_object() else {
        return shape(format!("{what} must be an object"));
    };
    let key_atom = Atom::from_str(ctx.clone(), "key").map_err(js_err(what))?;
    let value_atom = Atom::from_str(ctx.clone(), "value").map_err(js_err(what))?;
    let previous = before.entries();
    let mut matched = 0usize;
    let mut built: Option<Headers> = None;
    for property in object.props::<rquickjs::String, Value>() {
        let (name, lines) = property.map_err(js_err(what))?;
        let name = name.to_cstring().map_err(js_err(what))?;
        let name = name.as_str();
        let Some(lines) = lines.into_array() else {
            return shape(format!("{what}.{name} must be an array of {{key, value}}"));
        };
        for (i, line) in lines.iter::<Value>().enumerate() {
            let line = line.map_err(js_err(what))?;
            let Some(line) = line.into_object() else {
                return shape(format!(
                    "{what}.{name}[{i}] must be an object with `key` and `value`"
                ));
            };
            let value_value: Value = line.get(value_atom.clone()).map_err(js_err(what))?;
            let key_value: Value = line.get(key_atom.clone()).map_err(js_err(what))?;
            // The very strings the event was built with, in the same place: unchanged.
            if built.is_none()
                && let (Some(e), Some(k), Some(v)) = (
                    previous.get(matched),
                    made.get(2 * matched),
                    made.get(2 * matched + 1),
                )
                && *k == key_value
                && *v == value_value
                && e.name == name
            {
                *bytes += (e.value.len() + e.key.len() + 16) as u64;
                matched += 1;
                continue;
            }
            let value = match value_value.into_string() {
                Some(v) => v.to_cstring().map_err(js_err(what))?,
                None => return shape(format!("{what}.{name}[{i}].value must be a string")),
            };
            let key = if key_value.is_undefined() || key_value.is_null() {
                None
            } else {
                match key_value.into_string() {
                    Some(k) => Some(k.to_cstring().map_err(js_err(what))?),
                    None => return shape(format!("{what}.{name}[{i}].key must be a string")),
                }
            };
            *bytes += (value.len() + key.as_ref().map_or(0, |k| k.len()) + 16) as u64;
            if built.is_none() {
                if let (Some(e), Some(k)) = (previous.get(matched), &key)
                    && e.name == name
                    && e.key == k.as_str()
                    && e.value == value.as_str()
                {
                    matched += 1;
                    continue;
                }
                let mut headers = Headers::with_capacity(previous.len() + 2);
                for e in &previous[..matched] {
                    headers.push_entry(e.clone());
                }
                built = Some(headers);
            }
            let key = key.map_or_else(|| title_case(name), |k| Str::from(k.as_str()));
            built.as_mut().expect("set above").push_entry(HeaderEntry {
                name: Str::from(name),
                key,
                value: Str::from(value.as_str()),
            });
        }
    }
    if built.is_none() && matched != previous.len() {
        let mut headers = Headers::with_capacity(matched);
        for e in &previous[..matched] {
            headers.push_entry(e.clone());
        }
        built = Some(headers);
    }
    Ok(built)
}

/// Small, rarely changed sub-objects are read through JSON.
fn via_json<'js, T: serde::de::DeserializeOwned>(
    ctx: &Ctx<'js>,
    value: Value<'js>,
    what: &str,
) -> Result<T, Violation> {
    let text = ctx
        .json_stringify(value)
        .map_err(js_err(what))?
        .map(|s| s.to_string())
        .transpose()
        .map_err(js_err(what))?
        .unwrap_or_else(|| "null".to_string());
    serde_json::from_str(&text)
        .map_err(|e| Violation::new(ValidationRule::BadShape, format!("{what}: {e}")))
}

/// Like [`changed_string`], but a value that is still the string the event was built with is
/// unchanged without reading it.
fn changed_made<'js>(
    object: &Object<'js>,
    key: &str,
    what: &str,
    before: &str,
    made: &Value<'js>,
    bytes: &mut u64,
) -> Result<Option<Str>, Violation> {
    let value: Value = object.get(key).map_err(js_err(what))?;
    if value == *made {
        *bytes += before.len() as u64;
        return Ok(None);
    }
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    match value.into_string() {
        Some(s) => {
            let s = s.to_cstring().map_err(js_err(what))?;
            *bytes += s.len() as u64;
            Ok((s.as_str() != before).then(|| Str::from(s.as_str())))
        }
        None => shape(format!("{what}.{key} must be a string")),
    }
}

fn read_request<'js>(
    ctx: &Ctx<'js>,
    object: Object<'js>,
    before: &Request,
    made: &Made<'js>,
    include_body: bool,
    bytes: &mut u64,
) -> Result<RequestUpdate, Violation> {
    let what = "request";
    let mut update = RequestUpdate {
        client_ip: changed_made(
            &object,
            "clientIp",
            what,
            &before.client_ip,
            &made.client_ip,
            bytes,
        )?,
        method: changed_made(&object, "method", what, &before.method, &made.method, bytes)?,
        querystring: changed_made(
            &object,
            "querystring",
            what,
            &before.querystring,
            &made.querystring,
            bytes,
        )?,
        ..RequestUpdate::default()
    };
    let uri: Value = object.get("uri").map_err(js_err(what))?;
    if uri == made.uri {
        *bytes += before.uri.len() as u64;
    } else {
        match get_string(&object, "uri", what)? {
            Some(uri) => {
                *bytes += uri.len() as u64;
                if uri.as_str() != before.uri {
                    update.uri = Some(Str::from(uri.as_str()));
                }
            }
            None => return shape("request.uri is required"),
        }
    }
    let headers: Value = object.get("headers").map_err(js_err(what))?;
    if headers.is_undefined() || headers.is_null() {
        return shape("request.headers is required");
    }
    update.headers = read_headers(
        ctx,
        headers,
        &before.headers,
        &made.header_lines,
        "request.headers",
        bytes,
    )?;
    let origin: Value = object.get("origin").map_err(js_err(what))?;
    if origin.is_undefined() || origin.is_null() {
        if before.origin.is_some() {
            update.origin = Some(None);
        }
    } else {
        let Some(map) = origin.as_object() else {
            return shape("request.origin must be an object");
        };
        if map.len() != 1 {
            return shape("request.origin must have exactly one of `s3` or `custom`");
        }
        let origin: Origin = via_json(ctx, origin, "request.origin")?;
        if before.origin.as_ref() != Some(&origin) {
            update.origin = Some(Some(origin));
        }
    }
    // Without "include body" the function never saw a body and cannot change it. With it, only
    // `action: "replace"` changes the body; a read-only body (or none) leaves it as it was.
    if include_body {
        let body: Value = object.get("body").map_err(js_err(what))?;
        if !(body.is_undefined() || body.is_null()) {
            let body: RequestBody = via_json(ctx, body, "request.body")?;
            match body.action.as_str() {
                crate::body::READ_ONLY => {}
                crate::body::REPLACE => update.body = Some(Some(body)),
                other => {
                    return shape(format!(
                        "request.body.action must be `read-only` or `replace`, got `{other}`"
                    ));
                }
            }
        }
    }
    Ok(update)
}

fn read_status(value: Value<'_>) -> Result<u16, Violation> {
    let bad = |text: String| Violation::new(ValidationRule::StatusOutOfRange, text);
    if let Some(s) = value.as_string() {
        let s = s.to_string().map_err(js_err("response.status"))?;
        return s
            .trim()
            .parse::<u16>()
            .map_err(|_| bad(format!("status `{s}` is not a number")));
    }
    if let Some(n) = value.as_number() {
        if n.fract() == 0.0 && (0.0..=65535.0).contains(&n) {
            return Ok(n as u16);
        }
        return Err(bad(format!("status {n} is not a valid HTTP status")));
    }
    if value.is_undefined() || value.is_null() {
        return shape("response.status is required");
    }
    shape("response.status must be a string or a number")
}

fn read_body_encoding(object: &Object<'_>) -> Result<Option<BodyEncoding>, Violation> {
    match get_string(object, "bodyEncoding", "response")? {
        None => Ok(None),
        Some(s) => match s.as_str() {
            "text" => Ok(Some(BodyEncoding::Text)),
            "base64" => Ok(Some(BodyEncoding::Base64)),
            other => shape(format!(
                "response.bodyEncoding must be `text` or `base64`, got `{other}`"
            )),
        },
    }
}

fn read_generated<'js>(
    ctx: &Ctx<'js>,
    object: Object<'js>,
    bytes: &mut u64,
) -> Result<Response, Violation> {
    let status = read_status(object.get("status").map_err(js_err("response"))?)?;
    let headers: Value = object.get("headers").map_err(js_err("response"))?;
    let empty = Headers::new();
    let headers = if headers.is_undefined() || headers.is_null() {
        Headers::new()
    } else {
        read_headers(ctx, headers, &empty, &[], "response.headers", bytes)?.unwrap_or_default()
    };
    let body = get_string(&object, "body", "response")?.map(|b| b.as_str().to_string());
    *bytes += body.as_ref().map_or(0, |b| b.len() as u64);
    Ok(Response {
        status,
        status_description: get_string(&object, "statusDescription", "response")?
            .map(|s| Str::from(s.as_str()))
            .unwrap_or_default(),
        headers,
        body,
        body_encoding: read_body_encoding(&object)?,
    })
}

fn read_response_update<'js>(
    ctx: &Ctx<'js>,
    object: Object<'js>,
    before: &Response,
    bytes: &mut u64,
) -> Result<ResponseUpdate, Violation> {
    let status = read_status(object.get("status").map_err(js_err("response"))?)?;
    let headers: Value = object.get("headers").map_err(js_err("response"))?;
    let headers = if headers.is_undefined() || headers.is_null() {
        None
    } else {
        read_headers(
            ctx,
            headers,
            &before.headers,
            &[],
            "response.headers",
            bytes,
        )?
    };
    let body = get_string(&object, "body", "response")?.map(|b| b.as_str().to_string());
    *bytes += body.as_ref().map_or(0, |b| b.len() as u64);
    let body_encoding = read_body_encoding(&object)?;
    Ok(ResponseUpdate {
        status: (status != before.status).then_some(status),
        status_description: changed_string(
            &object,
            "statusDescription",
            "response",
            &before.status_description,
            bytes,
        )?,
        headers,
        body: (body != before.body).then_some(body),
        body_encoding: (body_encoding != before.body_encoding).then_some(body_encoding),
    })
}

/// Read what the handler returned at `call.stage`.
pub(super) fn read_result<'js>(
    ctx: &Ctx<'js>,
    call: &ScriptCall<'_>,
    value: Value<'js>,
    made: &Made<'js>,
    bytes: &mut u64,
) -> Result<HandlerResult, Violation> {
    let stage = call.stage;
    if value.is_undefined() || value.is_null() {
        return shape(format!("the {stage} function returned null"));
    }
    let Some(object) = value.into_object() else {
        return shape(format!("the {stage} function must return an object"));
    };
    if stage.is_request() {
        let has_status = object
            .get::<_, Value>("status")
            .map(|v| !v.is_undefined())
            .unwrap_or(false);
        if has_status {
            return read_generated(ctx, object, bytes).map(HandlerResult::Response);
        }
        return read_request(ctx, object, call.request, made, call.include_body, bytes)
            .map(HandlerResult::Request);
    }
    let Some(before) = call.response else {
        return shape(format!("no response to update at {stage}"));
    };
    let looks_like_request = object
        .get::<_, Value>("uri")
        .map(|v| !v.is_undefined())
        .unwrap_or(false)
        && object
            .get::<_, Value>("status")
            .map(|v| v.is_undefined())
            .unwrap_or(true);
    if looks_like_request {
        return shape(format!(
            "a {stage} function must return the response, not a request"
        ));
    }
    read_response_update(ctx, object, before, bytes).map(HandlerResult::ResponseUpdate)
}
