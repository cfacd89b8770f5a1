//! The Python worker's wire (marshal, with JSON as the fallback) gives every reply the outcome
//! and simulated duration the JSON-only protocol gave: results marshal carries differently
//! from JSON (floats, sets, bytes, int keys, tuples, subclasses, cycles, lone surrogates, big
//! ints, deep nesting) and plain ones with non-ASCII text, whose JSON length is the crossing's cost.
//! The expected lines were recorded with the JSON-only worker.

use edgesim_triggers::Stage;
use edgesim_triggers::testing::{EventSpec, TestOptions, build_event, run_py};

const CASES: [(&str, &str); 16] = [
    ("plain", "return r"),
    (
        "non-ascii",
        "r['headers']['x-t'] = [{'key': 'X-T', 'value': 'é😀\\u0001\\x7f\"\\\\'}]\n    return r",
    ),
    (
        "tuple",
        "r['headers']['x-t'] = ({'key': 'X-T', 'value': 'v'},)\n    return r",
    ),
    ("float-status", "return {'status': 200.0}"),
    ("int-status", "return {'status': 204}"),
    ("big-int", "return {'status': '200', 'x': 10**30}"),
    ("set", "return {'status': '200', 'x': {1, 2}}"),
    ("bytes", "return {'status': '200', 'body': b'x'}"),
    ("int-key", "return {'status': '200', 'headers': {1: []}}"),
    (
        "none-key",
        "return {'status': '200', 'x': {None: 1, True: 2, 1.5: 3}}",
    ),
    ("nan", "return {'status': '200', 'x': float('nan')}"),
    (
        "dict-subclass",
        "import collections\n    d = collections.OrderedDict(status='204')\n    return d",
    ),
    (
        "str-subclass",
        "class S(str): pass\n    return {'status': S('204')}",
    ),
    (
        "cycle",
        "x = []\n    x.append(x)\n    return {'status': '200', 'x': x}",
    ),
    (
        "surrogate",
        "return {'status': '200', 'statusDescription': '\\ud800'}",
    ),
    (
        "deep",
        "x = []\n    for _ in range(600):\n        x = [x]\n    return {'status': '200', 'x': x}",
    ),
];

fn line(name: &str, body: &str) -> String {
    let source = format!(
        "def lambda_handler(event, context):\n    r = event['Records'][0]['cf']['request']\n    {body}\n"
    );
    let event = build_event(Stage::ViewerRequest, &EventSpec::default());
    match run_py(
        "w.py",
        &source,
        Stage::ViewerRequest,
        &event,
        &TestOptions::default(),
    ) {
        Ok(report) => format!(
            "{name}: {} {:?} {:.3} {}",
            report.outcome, report.viewer_status, report.duration_ms, report.result
        ),
        Err(errors) => format!("{name}: load error {errors:?}"),
    }
}

#[test]
fn replies_keep_their_json_outcomes() {
    let got: Vec<String> = CASES.iter().map(|(name, body)| line(name, body)).collect();
    if std::env::var_os("EDGESIM_WIRE_PRINT").is_some() {
        for l in &got {
            println!("WIRE {l}");
        }
        return;
    }
    let expected: Vec<&str> = EXPECTED.lines().collect();
    assert_eq!(got.len(), expected.len());
    for (g, e) in got.iter().zip(expected) {
        assert_eq!(g, e);
    }
}

const EXPECTED: &str = r#"plain: continue None 1.025 {"clientIp":"203.0.113.178","headers":{"accept":[{"key":"Accept","value":"*/*"}],"accept-encoding":[{"key":"Accept-Encoding","value":"gzip, deflate, br"}],"host":[{"key":"Host","value":"d111111abcdef8.cloudfront.net"}],"user-agent":[{"key":"User-Agent","value":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"}]},"method":"GET","querystring":"","uri":"/"}
non-ascii: continue None 1.027 {"clientIp":"203.0.113.178","headers":{"accept":[{"key":"Accept","value":"*/*"}],"accept-encoding":[{"key":"Accept-Encoding","value":"gzip, deflate, br"}],"host":[{"key":"Host","value":"d111111abcdef8.cloudfront.net"}],"user-agent":[{"key":"User-Agent","value":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"}],"x-t":[{"key":"X-T","value":"é😀\u0001\"\\"}]},"method":"GET","querystring":"","uri":"/"}
tuple: continue None 1.026 {"clientIp":"203.0.113.178","headers":{"accept":[{"key":"Accept","value":"*/*"}],"accept-encoding":[{"key":"Accept-Encoding","value":"gzip, deflate, br"}],"host":[{"key":"Host","value":"d111111abcdef8.cloudfront.net"}],"user-agent":[{"key":"User-Agent","value":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"}],"x-t":[{"key":"X-T","value":"v"}]},"method":"GET","querystring":"","uri":"/"}
float-status: invalid Some(502) 1.017 {"errorMessage":"The Lambda function returned an invalid result: status 200.0 is not a valid HTTP status","errorType":"LambdaValidationError"}
int-status: respond Some(204) 1.017 {"headers":{},"status":"204","statusDescription":""}
big-int: respond Some(200) 1.018 {"headers":{},"status":"200","statusDescription":""}
set: error Some(503) 1.019 {"errorMessage":"Runtime.MarshalError: Unable to marshal response: Object of type set is not JSON serializable","errorType":"LambdaExecutionError"}
bytes: error Some(503) 1.019 {"errorMessage":"Runtime.MarshalError: Unable to marshal response: Object of type bytes is not JSON serializable","errorType":"LambdaExecutionError"}
int-key: respond Some(200) 1.018 {"headers":{},"status":"200","statusDescription":""}
none-key: respond Some(200) 1.018 {"headers":{},"status":"200","statusDescription":""}
nan: error Some(503) 1.019 {"errorMessage":"Runtime.MarshalError: Unable to marshal response: Out of range float values are not JSON compliant","errorType":"LambdaExecutionError"}
dict-subclass: respond Some(204) 1.017 {"headers":{},"status":"204","statusDescription":""}
str-subclass: respond Some(204) 1.017 {"headers":{},"status":"204","statusDescription":""}
cycle: error Some(503) 1.019 {"errorMessage":"Runtime.MarshalError: Unable to marshal response: Circular reference detected","errorType":"LambdaExecutionError"}
surrogate: error Some(503) 1.018 {"errorMessage":"Runtime.MarshalError: Unable to marshal response: unexpected end of hex escape at line 1 column 54","errorType":"LambdaExecutionError"}
deep: error Some(503) 1.042 {"errorMessage":"Runtime.MarshalError: Unable to marshal response: recursion limit exceeded at line 1 column 156","errorType":"LambdaExecutionError"}"#;

/// The metered `re`, builtins and `itertools` give the results of the real ones.
#[test]
fn metered_operations_keep_their_results() {
    let source = r#"import re, itertools
def lambda_handler(event, context):
    p = re.compile(r'(\d+)-(\d+)')
    print(re.sub(r'a', 'b', 'aaa'), p.match('12-34').groups(), p.pattern, re.compile(p) == p)
    print(re.findall(r'x+', 'xx y xxx'), re.split(r',', 'a,b'), re.fullmatch(r'(a+)+', 'aaa') is not None)
    print(sum(range(10)), sum(range(10 ** 5)), sum([1, 2], 10), max(3, 4), min([4, 5]), any(range(10 ** 5)), all([]))
    print(sorted([3, 1, 2], reverse=True), sorted(range(5000), key=lambda x: -x)[:2], len(range(10 ** 6)))
    print(list(itertools.repeat(1, 3)), list(itertools.islice(itertools.count(5), 2)), 7 in range(10 ** 6))
    print(list(range(10 ** 6)[2:5]), list(itertools.islice(itertools.cycle('ab'), 3)), range(10 ** 6)[-1])
    return {'status': '204'}
"#;
    let event = build_event(Stage::ViewerRequest, &EventSpec::default());
    let report = run_py(
        "m.py",
        source,
        Stage::ViewerRequest,
        &event,
        &TestOptions::default(),
    )
    .unwrap();
    assert_eq!(report.outcome, "respond", "{}", report.result);
    assert_eq!(
        report.logs,
        [
            "bbb ('12', '34') (\\d+)-(\\d+) True",
            "['xx', 'xxx'] ['a', 'b'] True",
            "45 4999950000 13 4 4 True True",
            "[3, 2, 1] [4999, 4998] 1000000",
            "[1, 1, 1] [5, 6] True",
            "[2, 3, 4] ['a', 'b', 'a'] 999999",
        ]
    );
}
