//! The language levels of CloudFront Functions' two runtimes, checked at publish time.
//!
//! QuickJS parses far more than CloudFront's runtimes accept, so the source is first scanned
//! token by token (comments, strings, template literals and regular expressions skipped) for
//! the syntax AWS's runtime pages do not list:
//!
//! - `cloudfront-js-1.0` ("JavaScript runtime 1.0 features"): ES 5.1 statements only (no
//!   `const`, `let`, `class`, generators, `async`/`await`, `for ... of`, destructuring
//!   declarations, modules), plus the ES 6+ features the page lists (template literals, arrow
//!   functions, rest parameters, `**`). Optional chaining and `??` are not listed either.
//! - `cloudfront-js-2.0` ("JavaScript runtime 2.0 features"): adds `const`, `let`, `async` and
//!   `await` ("`async` arguments and closures are not supported": only `async function`), and
//!   `import x from 'cloudfront'` (also `crypto`, `querystring`, `buffer`); still no classes,
//!   generators or exports.
//!
//! Everything else is left to QuickJS's parser (a syntax error names the line).

use super::CffRuntime;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    Punct(String),
    Str(String),
    Other,
}

#[derive(Debug, Clone)]
struct Located {
    token: Token,
    line: usize,
}

/// Split `source` into tokens (strings kept with their text, regexes and numbers as `Other`).
fn tokenize(source: &str) -> Result<Vec<Located>, String> {
    let chars: Vec<char> = source.chars().collect();
    let mut out: Vec<Located> = Vec::new();
    let mut i = 0;
    let mut line = 1;
    // Template literal nesting: each entry counts the braces open inside one `${`.
    let mut template_braces: Vec<usize> = Vec::new();
    let regex_allowed = |out: &Vec<Located>| match out.last().map(|t| &t.token) {
        None => true,
        Some(Token::Punct(p)) => !matches!(p.as_str(), ")" | "]" | "}"),
        Some(Token::Ident(w)) => matches!(
            w.as_str(),
            "return"
                | "typeof"
                | "instanceof"
                | "in"
                | "of"
                | "new"
                | "delete"
                | "void"
                | "throw"
                | "case"
                | "do"
                | "else"
        ),
        _ => false,
    };
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
            continue;
        }
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '/' && chars.get(i + 1) == Some(&'/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if c == '/' && chars.get(i + 1) == Some(&'*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                if chars[i] == '\n' {
                    line += 1;
                }
                i += 1;
            }
            i += 2;
            continue;
        }
        let start_line = line;
        if c == '"' || c == '\'' {
            let mut text = String::new();
            i += 1;
            while i < chars.len() && chars[i] != c {
                if chars[i] == '\\' {
                    i += 1;
                }
                if let Some(&ch) = chars.get(i) {
                    if ch == '\n' {
                        line += 1;
                    }
                    text.push(ch);
                }
                i += 1;
            }
            i += 1;
            out.push(Located {
                token: Token::Str(text),
                line: start_line,
            });
            continue;
        }
        if c == '`' || (c == '}' && template_braces.last() == Some(&0)) {
            // A template literal, or its continuation after `${ ... }`.
            if c == '}' {
                template_braces.pop();
            }
            i += 1;
            loop {
                match chars.get(i) {
                    None => {
                        return Err(format!("line {start_line}: unterminated template literal"));
                    }
                    Some('\\') => i += 2,
                    Some('`') => {
                        i += 1;
                        break;
                    }
                    Some('$') if chars.get(i + 1) == Some(&'{') => {
                        template_braces.push(0);
                        i += 2;
                        break;
                    }
                    Some(ch) => {
                        if *ch == '\n' {
                            line += 1;
                        }
                        i += 1;
                    }
                }
            }
            out.push(Located {
                token: Token::Other,
                line: start_line,
            });
            continue;
        }
        if c == '/' && regex_allowed(&out) {
            i += 1;
            let mut in_class = false;
            while i < chars.len() && (in_class || chars[i] != '/') && chars[i] != '\n' {
                match chars[i] {
                    '\\' => i += 1,
                    '[' => in_class = true,
                    ']' => in_class = false,
                    _ => {}
                }
                i += 1;
            }
            i += 1;
            while i < chars.len() && chars[i].is_alphanumeric() {
                i += 1;
            }
            out.push(Located {
                token: Token::Other,
                line: start_line,
            });
            continue;
        }
        if c.is_alphabetic() || c == '_' || c == '$' {
            let begin = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
            {
                i += 1;
            }
            out.push(Located {
                token: Token::Ident(chars[begin..i].iter().collect()),
                line: start_line,
            });
            continue;
        }
        if c.is_ascii_digit() {
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            out.push(Located {
                token: Token::Other,
                line: start_line,
            });
            continue;
        }
        // Punctuators that matter here; everything else goes one character at a time.
        let rest: String = chars[i..chars.len().min(i + 3)].iter().collect();
        let punct = ["...", "?.", "??", "=>", "**"]
            .into_iter()
            .find(|p| rest.starts_with(p))
            .map_or_else(|| c.to_string(), str::to_string);
        if punct == "{" {
            if let Some(n) = template_braces.last_mut() {
                *n += 1;
            }
        } else if punct == "}"
            && let Some(n) = template_braces.last_mut()
        {
            *n -= 1;
        }
        i += punct.chars().count();
        out.push(Located {
            token: Token::Punct(punct),
            line: start_line,
        });
    }
    Ok(out)
}

/// Modules `import x from '...'` may name in runtime 2.0.
const IMPORTABLE: &[&str] = &["cloudfront", "crypto", "querystring", "buffer"];

/// Every use of syntax `runtime` does not support, as `line N: ...`.
pub fn check(source: &str, runtime: CffRuntime) -> Vec<String> {
    let tokens = match tokenize(source) {
        Ok(tokens) => tokens,
        Err(e) => return vec![e],
    };
    let v1 = runtime == CffRuntime::Js1;
    let name = runtime.as_str();
    let mut errors = Vec::new();
    let ident = |k: usize| match tokens.get(k).map(|t| &t.token) {
        Some(Token::Ident(w)) => Some(w.as_str()),
        _ => None,
    };
    let punct = |k: usize| match tokens.get(k).map(|t| &t.token) {
        Some(Token::Punct(p)) => Some(p.as_str()),
        _ => None,
    };
    // A property name (`x.let`, `{ async: 1 }`) is not a keyword.
    let is_property = |k: usize| {
        (k > 0 && matches!(punct(k - 1), Some("." | "?.")))
            || matches!(punct(k + 1), Some(":")) && !matches!(punct(k.wrapping_sub(1)), Some("?"))
    };
    let mut for_paren: Option<(usize, usize)> = None; // (paren depth at `for (`, line)
    let mut depth = 0usize;
    for (k, t) in tokens.iter().enumerate() {
        let line = t.line;
        let mut refuse =
            |what: &str| errors.push(format!("line {line}: {what} is not supported by {name}"));
        match &t.token {
            Token::Punct(p) => match p.as_str() {
                "(" => {
                    depth += 1;
                    if k > 0 && ident(k - 1) == Some("for") {
                        for_paren = Some((depth, line));
                    }
                }
                ")" => {
                    if for_paren.is_some_and(|(d, _)| d == depth) {
                        for_paren = None;
                    }
                    depth = depth.saturating_sub(1);
                }
                "?." if v1 => refuse("optional chaining (`?.`)"),
                "??" if v1 => refuse("the `??` operator"),
                _ => {}
            },
            Token::Ident(w) if !is_property(k) => match w.as_str() {
                "const" if v1 => refuse("`const`"),
                "let"
                    if v1
                        && (ident(k + 1).is_some() || matches!(punct(k + 1), Some("[" | "{"))) =>
                {
                    refuse("`let`")
                }
                "async" if v1 => refuse("`async`"),
                "async" if ident(k + 1) != Some("function") => {
                    refuse("an async arrow function or method (only `async function` is)")
                }
                "await" if v1 => refuse("`await`"),
                "class" => refuse("`class`"),
                "yield" => refuse("`yield` (generators)"),
                "function" if punct(k + 1) == Some("*") => {
                    refuse("a generator function (`function*`)")
                }
                "export" => refuse("`export` (define `function handler(event)` at the top level)"),
                "import" if v1 => refuse("`import`"),
                "import" => {
                    let from = ident(k + 2) == Some("from");
                    let module = match tokens.get(k + 3).map(|t| &t.token) {
                        Some(Token::Str(m)) => Some(m.as_str()),
                        _ => None,
                    };
                    match (ident(k + 1), from, module) {
                        (Some(_), true, Some(m)) if IMPORTABLE.contains(&m) => {}
                        (Some(_), true, Some(m)) => refuse(&format!("importing `{m}`")),
                        _ => refuse("this form of `import` (write `import cf from 'cloudfront'`)"),
                    }
                }
                "of" if v1 && for_paren.is_some_and(|(d, _)| d == depth) => refuse("`for ... of`"),
                "var" if v1 && matches!(punct(k + 1), Some("[" | "{")) => {
                    refuse("a destructuring declaration")
                }
                _ => {}
            },
            _ => {}
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v1(source: &str) -> Vec<String> {
        check(source, CffRuntime::Js1)
    }

    fn v2(source: &str) -> Vec<String> {
        check(source, CffRuntime::Js2)
    }

    #[test]
    fn runtime_1_accepts_what_its_page_lists() {
        let ok = r#"
function handler(event) {
    var request = event.request; // const in a comment is fine
    var s = `template ${request.uri} const ${ `nested ${1 ** 2}` }`;
    var f = (a, ...rest) => a + rest.length;
    var re = /let|const/g;
    var o = { let: 1, async: 2, class: 3 };
    o.const = "const let async await class";
    for (var k in o) { label: while (false) { break label; } }
    return request;
}
"#;
        assert_eq!(v1(ok), Vec::<String>::new());
    }

    #[test]
    fn runtime_1_refuses_later_syntax_with_lines() {
        let cases = [
            ("const x = 1;", "`const`"),
            ("let x = 1;", "`let`"),
            ("async function handler(e) { return e.request; }", "`async`"),
            ("function h(e) { await x; }", "`await`"),
            ("class A {}", "`class`"),
            ("function* g() { yield 1; }", "generator"),
            ("import cf from 'cloudfront';", "`import`"),
            ("export function handler(e) {}", "`export`"),
            ("for (var x of [1]) {}", "`for ... of`"),
            ("var {a, b} = obj;", "destructuring"),
            ("var a = b?.c;", "optional chaining"),
            ("var a = b ?? c;", "`??`"),
        ];
        for (source, want) in cases {
            let errors = v1(source);
            assert!(
                errors
                    .iter()
                    .any(|e| e.contains(want) && e.contains("cloudfront-js-1.0")),
                "{source}: {errors:?}"
            );
        }
        assert!(v1("var a = 1;\n\nconst b = 2;")[0].starts_with("line 3:"));
    }

    #[test]
    fn runtime_2_adds_const_let_async_await_and_the_cloudfront_module() {
        let ok = r#"import cf from 'cloudfront';
const kvs = cf.kvs();
async function handler(event) {
    let uri = event.request.uri;
    for (const x of [1, 2]) { uri += x; }
    const v = await kvs.get(uri);
    return v ?? event.request;
}
"#;
        assert_eq!(v2(ok), Vec::<String>::new());
        for (source, want) in [
            ("class A {}", "`class`"),
            ("export default function handler(e) {}", "`export`"),
            ("import fs from 'fs';", "importing `fs`"),
            ("const f = async (e) => e;", "async arrow"),
            ("function* g() {}", "generator"),
        ] {
            let errors = v2(source);
            assert!(
                errors
                    .iter()
                    .any(|e| e.contains(want) && e.contains("cloudfront-js-2.0")),
                "{source}: {errors:?}"
            );
        }
    }
}
