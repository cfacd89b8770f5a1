//! Per-epoch metrics of a region, as shipped to the coordinator:
//! counters plus latency histograms in hdrhistogram's V2 form, to be
//! added, never averaged.

use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};

/// Highest latency tracked, µs (one minute); longer values are clamped.
pub const LATENCY_MAX_US: u64 = 60_000_000;
/// Significant decimal digits kept by latency histograms.
pub const LATENCY_SIGFIG: u8 = 3;

/// A latency histogram in microseconds.
pub type LatencyHistogram = Histogram<u64>;

/// An empty latency histogram with edgesim's bounds.
pub fn new_latency_histogram() -> LatencyHistogram {
    let mut h = Histogram::new_with_bounds(1, LATENCY_MAX_US, LATENCY_SIGFIG)
        .expect("static bounds are valid");
    // Adding a histogram decoded from another process can then never fail.
    h.auto(true);
    h
}

/// Records a latency, clamped into the tracked range.
#[inline]
pub fn record_latency(h: &mut LatencyHistogram, latency_us: u64) {
    h.saturating_record(latency_us.clamp(1, LATENCY_MAX_US));
}

/// Serialises a histogram in the V2 (uncompressed) form.
pub fn encode_histogram(h: &LatencyHistogram) -> Vec<u8> {
    let mut out = Vec::new();
    V2Serializer::new()
        .serialize(h, &mut out)
        .expect("serialising into a Vec cannot fail");
    out
}

/// The latencies one group of requests (a PoP, a route, a device class...)
/// had in one epoch, kept as recorded and encoded at the epoch's end into
/// exactly the bytes [`encode_histogram`] writes for the same counts.
///
/// A region reports dozens of such groups every epoch, most with a few
/// hundred requests or fewer; a full histogram costs 17,408 counters to
/// serialise and to reset per group and epoch, which used to cost the
/// engine a third of its throughput. Sorting what was recorded costs what
/// was recorded.
#[derive(Debug, Clone, Default)]
pub struct EpochLatency {
    values: Vec<u64>,
}

/// HdrHistogram's layout at edgesim's bounds (lowest 1, 3 significant
/// digits): 2,048 sub-buckets per bucket, the upper half of each bucket
/// after the first holding distinct counts.
const SUB_BUCKET_HALF_MAGNITUDE: u32 = 10;
const SUB_BUCKET_MASK: u64 = (1 << (SUB_BUCKET_HALF_MAGNITUDE + 1)) - 1;

/// The counts index of `value` in an HdrHistogram at edgesim's bounds.
#[inline]
fn counts_index(value: u64) -> u64 {
    let bucket =
        u64::from(63 - SUB_BUCKET_HALF_MAGNITUDE - (value | SUB_BUCKET_MASK).leading_zeros());
    let sub_bucket = value >> bucket;
    ((bucket + 1) << SUB_BUCKET_HALF_MAGNITUDE) + sub_bucket - (1 << SUB_BUCKET_HALF_MAGNITUDE)
}

/// Appends `value` as a LEB128-64b9B number (HdrHistogram's varint: the
/// ninth byte carries eight bits).
fn write_varint(out: &mut Vec<u8>, mut value: u64) {
    for _ in 0..8 {
        if value < 0x80 {
            out.push(value as u8);
            return;
        }
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn zig_zag(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

impl EpochLatency {
    /// Records a latency, clamped into the tracked range.
    #[inline]
    pub fn record(&mut self, latency_us: u64) {
        self.values.push(latency_us.clamp(1, LATENCY_MAX_US));
    }

    /// Latencies recorded since the last encoding.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether nothing was recorded since the last encoding.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Encodes what was recorded as a V2 histogram and starts over.
    pub fn take_encoded(&mut self) -> Vec<u8> {
        self.values.sort_unstable();
        let mut payload = Vec::with_capacity(16 + self.values.len());
        // Counts from index 0 to the maximum's, runs of two or more empty
        // buckets written as their negated length.
        let mut next = 0u64;
        let mut i = 0;
        while i < self.values.len() {
            let index = counts_index(self.values[i]);
            let mut count = 0u64;
            while i < self.values.len() && counts_index(self.values[i]) == index {
                count += 1;
                i += 1;
            }
            match index - next {
                0 => {}
                1 => payload.push(0),
                gap => write_varint(&mut payload, zig_zag(-(gap as i64))),
            }
            write_varint(&mut payload, zig_zag(count as i64));
            next = index + 1;
        }
        if self.values.is_empty() {
            payload.push(0);
        }
        self.values.clear();
        let mut out = Vec::with_capacity(40 + payload.len());
        out.extend_from_slice(&0x1c84_9313u32.to_be_bytes());
        out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        out.extend_from_slice(&0u32.to_be_bytes());
        out.extend_from_slice(&u32::from(LATENCY_SIGFIG).to_be_bytes());
        out.extend_from_slice(&1u64.to_be_bytes());
        out.extend_from_slice(&LATENCY_MAX_US.to_be_bytes());
        out.extend_from_slice(&1.0f64.to_be_bytes());
        out.extend_from_slice(&payload);
        out
    }
}

/// Reads a V2 histogram; the error says what is wrong with the bytes.
pub fn decode_histogram(bytes: &[u8]) -> Result<LatencyHistogram, String> {
    Deserializer::new()
        .deserialize(&mut &bytes[..])
        .map_err(|e| format!("bad latency histogram: {e:?}"))
}

/// Request counters of one PoP (or any aggregate of PoPs). Regional-tier
/// and origin counts are those of requests that entered at this PoP.
///
/// Every request ends in exactly one way:
/// `requests = edge_hits + edge_collapsed + upstream`, where upstream is
/// `regional_requests` when the region has a regional edge cache, and the
/// PoP's own origin fetches otherwise; and
/// `regional_requests = regional_hits + regional_collapsed + origin fetches via the regional cache`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Viewer requests that arrived.
    pub requests: u64,
    /// Requests answered from the PoP's cache (fresh copy).
    pub edge_hits: u64,
    /// Requests that waited for a fetch of the same object already in
    /// flight from this PoP (request collapsing).
    pub edge_collapsed: u64,
    /// Requests the PoP sent to its regional edge cache.
    pub regional_requests: u64,
    /// Of those, answered from the regional cache (fresh copy).
    pub regional_hits: u64,
    /// Of those, collapsed onto a fetch in flight from the regional cache.
    pub regional_collapsed: u64,
    /// Requests sent to an origin (full fetches and revalidations).
    pub origin_fetches: u64,
    /// Of those, conditional requests for a stale copy (answered 304, no body).
    pub origin_revalidations: u64,
    /// Bytes sent to viewers.
    pub viewer_bytes: u64,
    /// Bytes fetched from origins.
    pub origin_bytes: u64,
    /// Requests a Lambda@Edge function answered before the cache (at
    /// viewer-request) or instead of the origin (at origin-request):
    /// generated responses and function failures.
    pub function_answers: u64,
    /// Requests answered 502 because the origin an origin-request function
    /// chose does not resolve: neither the function's answer nor an origin's.
    pub unresolved: u64,
    /// Answers to viewers with a 2xx status.
    pub status_2xx: u64,
    /// Answers with a 3xx status (redirects).
    pub status_3xx: u64,
    /// Answers with a 4xx status.
    pub status_4xx: u64,
    /// Answers with a 5xx status (including Lambda@Edge 502/503).
    pub status_5xx: u64,
    /// Viewers who got a 5xx answer for the first time in the run
    /// (distinct within the region; counted at the PoP of that answer).
    pub viewers_exposed: u64,
    /// Requests an Origin Shield answered (a fresh copy, or a fetch of the
    /// same object already in flight there): with a shield, the upstream
    /// of a tier ends at the shield or at the origin.
    pub shield_answers: u64,
}

impl Counters {
    /// Requests that ended each possible way; equals `requests` always
    /// (see the type's documentation).
    pub fn outcomes(&self) -> u64 {
        self.edge_hits
            + self.edge_collapsed
            + self.regional_hits
            + self.regional_collapsed
            + self.origin_fetches
            + self.function_answers
            + self.unresolved
            + self.shield_answers
    }

    /// Adds another set of counters.
    pub fn add(&mut self, other: &Counters) {
        self.requests += other.requests;
        self.edge_hits += other.edge_hits;
        self.edge_collapsed += other.edge_collapsed;
        self.regional_requests += other.regional_requests;
        self.regional_hits += other.regional_hits;
        self.regional_collapsed += other.regional_collapsed;
        self.origin_fetches += other.origin_fetches;
        self.origin_revalidations += other.origin_revalidations;
        self.viewer_bytes += other.viewer_bytes;
        self.origin_bytes += other.origin_bytes;
        self.function_answers += other.function_answers;
        self.unresolved += other.unresolved;
        self.status_2xx += other.status_2xx;
        self.status_3xx += other.status_3xx;
        self.status_4xx += other.status_4xx;
        self.status_5xx += other.status_5xx;
        self.viewers_exposed += other.viewers_exposed;
        self.shield_answers += other.shield_answers;
    }

    /// Counts an answer's status class.
    pub fn count_status(&mut self, status: u16) {
        match status {
            ..300 => self.status_2xx += 1,
            300..400 => self.status_3xx += 1,
            400..500 => self.status_4xx += 1,
            _ => self.status_5xx += 1,
        }
    }

    /// Share of regional-tier requests answered there (0 when idle).
    pub fn regional_hit_ratio(&self) -> f64 {
        if self.regional_requests == 0 {
            0.0
        } else {
            self.regional_hits as f64 / self.regional_requests as f64
        }
    }

    /// Share of requests that did not go to an origin (0 when idle).
    pub fn offload_requests(&self) -> f64 {
        ratio_complement(self.origin_fetches, self.requests)
    }

    /// Share of bytes that did not come from an origin (0 when idle).
    pub fn offload_bytes(&self) -> f64 {
        ratio_complement(self.origin_bytes, self.viewer_bytes)
    }

    /// Share of requests answered from the edge cache (0 when idle).
    pub fn hit_ratio(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.edge_hits as f64 / self.requests as f64
        }
    }
}

fn ratio_complement(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        1.0 - part as f64 / whole as f64
    }
}

/// Where a viewer's answer came from, and for an error answer (a status
/// of 400 or more) why: carried in the cache tag of stored answers, so a
/// cached error keeps its cause on every hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum AnswerSource {
    /// Content an origin sent: its objects and its own error answers.
    Origin = 0,
    /// A response a function generated (at viewer-request or
    /// origin-request), or whose body it replaced (at origin-response).
    Function = 1,
    /// A function threw, failed or ran out of memory (503).
    FunctionError = 2,
    /// A function returned something CloudFront rejects (502).
    InvalidFunctionResult = 3,
    /// Lambda refused the invocation at the account's quotas (503).
    LambdaThrottle = 4,
    /// A function ran past its timeout (503).
    FunctionTimeout = 5,
    /// The origin answered 503 Slow Down for exceeding its request rate.
    OriginSlowDown = 6,
    /// CloudFront gave up on the origin after its response timeout (504).
    OriginTimeout = 7,
    /// The origin is out (an outage event) or its domain does not resolve.
    OriginUnreachable = 8,
}

impl AnswerSource {
    /// Every source, in index order.
    pub const ALL: [AnswerSource; 9] = [
        AnswerSource::Origin,
        AnswerSource::Function,
        AnswerSource::FunctionError,
        AnswerSource::InvalidFunctionResult,
        AnswerSource::LambdaThrottle,
        AnswerSource::FunctionTimeout,
        AnswerSource::OriginSlowDown,
        AnswerSource::OriginTimeout,
        AnswerSource::OriginUnreachable,
    ];

    /// The source with index `i` (see [`AnswerSource::ALL`]); Origin when out of range.
    pub fn from_index(i: usize) -> AnswerSource {
        AnswerSource::ALL
            .get(i)
            .copied()
            .unwrap_or(AnswerSource::Origin)
    }

    /// The name in summary.json (`errors_by_source`).
    pub fn name(self) -> &'static str {
        match self {
            AnswerSource::Origin => "origin",
            AnswerSource::Function => "function_generated",
            AnswerSource::FunctionError => "function_error",
            AnswerSource::InvalidFunctionResult => "invalid_function_result",
            AnswerSource::LambdaThrottle => "lambda_throttle",
            AnswerSource::FunctionTimeout => "function_timeout",
            AnswerSource::OriginSlowDown => "origin_slow_down",
            AnswerSource::OriginTimeout => "origin_timeout",
            AnswerSource::OriginUnreachable => "origin_unreachable",
        }
    }

    /// The cause an error answer from this source is counted under.
    pub fn cause(self) -> ErrorCause {
        match self {
            AnswerSource::Origin => ErrorCause::OriginError,
            AnswerSource::Function => ErrorCause::FunctionGenerated,
            AnswerSource::FunctionError => ErrorCause::FunctionError,
            AnswerSource::InvalidFunctionResult => ErrorCause::InvalidFunctionResult,
            AnswerSource::LambdaThrottle | AnswerSource::OriginSlowDown => ErrorCause::Throttle,
            AnswerSource::FunctionTimeout | AnswerSource::OriginTimeout => ErrorCause::Timeout,
            AnswerSource::OriginUnreachable => ErrorCause::OriginUnreachable,
        }
    }

    /// Whether the answer's content is the origin's own (what
    /// `OriginEpoch::served` counts): not a function's answer, not an
    /// error CloudFront or a throttle generated.
    pub fn is_origin_content(self) -> bool {
        self == AnswerSource::Origin
    }

    /// The source of a function failure of `kind`.
    pub fn of_failure(kind: &edgesim_triggers::FailureKind) -> AnswerSource {
        use edgesim_triggers::FailureKind as K;
        match kind {
            K::Invalid { .. } => AnswerSource::InvalidFunctionResult,
            K::Exception | K::OutOfMemory => AnswerSource::FunctionError,
            K::Timeout => AnswerSource::FunctionTimeout,
            K::Throttled => AnswerSource::LambdaThrottle,
        }
    }
}

/// Why viewers got error answers (status >= 400), as the report groups them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ErrorCause {
    /// The origin's own 4xx/5xx (missing objects, failing objects).
    OriginError,
    /// A handler that threw or failed (503).
    FunctionError,
    /// A function result CloudFront rejected (502).
    InvalidFunctionResult,
    /// Lambda's quotas (503) or the origin's 503 Slow Down.
    Throttle,
    /// A function over its time (503) or the origin over CloudFront's
    /// response timeout (504).
    Timeout,
    /// The origin is out, or its domain does not resolve (502).
    OriginUnreachable,
    /// A 4xx/5xx a function generated on purpose (e.g. a 403 it decided on).
    FunctionGenerated,
}

impl ErrorCause {
    /// Every cause, in report order.
    pub const ALL: [ErrorCause; 7] = [
        ErrorCause::OriginError,
        ErrorCause::FunctionError,
        ErrorCause::InvalidFunctionResult,
        ErrorCause::Throttle,
        ErrorCause::Timeout,
        ErrorCause::OriginUnreachable,
        ErrorCause::FunctionGenerated,
    ];

    /// The name in summary.json (`errors_by_cause`).
    pub fn name(self) -> &'static str {
        match self {
            ErrorCause::OriginError => "origin_error",
            ErrorCause::FunctionError => "function_error",
            ErrorCause::InvalidFunctionResult => "invalid_function_result",
            ErrorCause::Throttle => "throttle",
            ErrorCause::Timeout => "timeout",
            ErrorCause::OriginUnreachable => "origin_unreachable",
            ErrorCause::FunctionGenerated => "function_generated",
        }
    }
}

/// Highest status counted exactly; higher ones (none are valid) are
/// counted as this one.
pub const MAX_COUNTED_STATUS: u16 = 999;

/// What viewers got in one region and epoch: every answer by its exact
/// status, and error answers by source.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ViewerOutcomes {
    /// (status, answers) for every status answered, ascending.
    pub statuses: Vec<(u16, u64)>,
    /// Error answers (status >= 400) per [`AnswerSource`] index; empty
    /// when there were none.
    pub errors_by_source: Vec<u64>,
}

/// One PoP's epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct PopEpoch {
    /// Index into the scenario's PoPs.
    pub pop: usize,
    /// Counters.
    pub counters: Counters,
    /// Viewer latency, V2-encoded µs histogram.
    pub latency_v2: Vec<u8>,
}

/// One (country, PoP) route's epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteEpoch {
    /// Index into the scenario's countries.
    pub country: usize,
    /// Index into the scenario's PoPs.
    pub pop: usize,
    /// Requests on the route.
    pub requests: u64,
    /// Viewer latency, V2-encoded µs histogram.
    pub latency_v2: Vec<u8>,
}

/// One origin's load from one region in one epoch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OriginEpoch {
    /// Index into the scenario's origins.
    pub origin: usize,
    /// Fetches received.
    pub fetches: u64,
    /// Bytes served.
    pub bytes: u64,
    /// Of the fetches, answered with a 5xx status (503 Slow Down included).
    pub errors: u64,
    /// Of the fetches, answered 503 Slow Down for exceeding its request rate.
    pub throttled: u64,
    /// Viewer responses whose content came from this origin, fetched now
    /// or earlier and cached.
    pub served: u64,
    /// Bytes of those responses.
    pub served_bytes: u64,
    /// Of those responses, answered from the PoP's cache.
    pub served_hits: u64,
}

impl OriginEpoch {
    /// Whether nothing was counted.
    pub fn is_idle(&self) -> bool {
        *self
            == OriginEpoch {
                origin: self.origin,
                ..OriginEpoch::default()
            }
    }
}

/// One behaviour's function at one stage, in one region and epoch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TriggerEpoch {
    /// Index into the scenario's behaviours.
    pub behavior: usize,
    /// Stage: 0 viewer-request, 1 origin-request, 2 origin-response, 3 viewer-response.
    pub stage: usize,
    /// Invocations.
    pub invocations: u64,
    /// Invocations that generated a response.
    pub responded: u64,
    /// Invalid results (the viewer gets 502).
    pub invalid: u64,
    /// Exceptions and execution errors (503).
    pub errors: u64,
    /// Timeouts (503).
    pub timeouts: u64,
    /// Out of memory (503).
    pub out_of_memory: u64,
    /// Throttled invocations (503).
    pub throttled: u64,
    /// Invocations that needed a cold start.
    pub cold_starts: u64,
    /// Simulated run time of all invocations, µs (cold starts included).
    pub duration_us: u64,
    /// Console lines the functions wrote.
    pub log_lines: u64,
    /// Invocations whose console output the per-invocation cap cut.
    pub log_truncated: u64,
    /// Round trips between the PoP and the regional edge cache's region,
    /// where Lambda@Edge runs, µs (summed over invocations that paid one).
    pub trip_us: u64,
    /// KeyValueStore reads by a CloudFront Function (`Invocation::kvs_reads`).
    pub kvs_reads: u64,
}

impl TriggerEpoch {
    /// Adds another epoch's counts (same behaviour and stage).
    pub fn add(&mut self, o: &TriggerEpoch) {
        self.invocations += o.invocations;
        self.responded += o.responded;
        self.invalid += o.invalid;
        self.errors += o.errors;
        self.timeouts += o.timeouts;
        self.out_of_memory += o.out_of_memory;
        self.throttled += o.throttled;
        self.cold_starts += o.cold_starts;
        self.duration_us += o.duration_us;
        self.log_lines += o.log_lines;
        self.log_truncated += o.log_truncated;
        self.trip_us += o.trip_us;
        self.kvs_reads += o.kvs_reads;
    }

    /// Failed invocations of any kind.
    pub fn failures(&self) -> u64 {
        self.invalid + self.errors + self.timeouts + self.out_of_memory + self.throttled
    }
}

/// One A/B variant's traffic in one region and epoch.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VariantEpoch {
    /// Variant name, as the A/B trigger assigned it.
    pub name: String,
    /// Viewer requests in the variant.
    pub requests: u64,
    /// Of those, answered from the edge cache.
    pub edge_hits: u64,
    /// Of those, sent to an origin.
    pub origin_fetches: u64,
    /// Viewer latency, V2-encoded µs histogram.
    pub latency_v2: Vec<u8>,
}

/// Viewer latency of one group of requests in one region and epoch: a
/// device class, or the origin the response's content came from.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GroupEpoch {
    /// Device index ([`edgesim_model::Device`]) or origin index.
    pub index: usize,
    /// Requests of the group.
    pub requests: u64,
    /// Their viewer latency, V2-encoded µs histogram.
    pub latency_v2: Vec<u8>,
}

/// Everything a region reports for one epoch. Only PoPs, routes and
/// origins that saw traffic appear, in ascending index order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RegionEpochReport {
    /// Index into the scenario's regions.
    pub region: usize,
    /// Epoch number.
    pub epoch: u64,
    /// Per PoP.
    pub pops: Vec<PopEpoch>,
    /// Per route.
    pub routes: Vec<RouteEpoch>,
    /// Per origin.
    pub origins: Vec<OriginEpoch>,
    /// Per (behaviour, stage) with invocations, in that order.
    pub triggers: Vec<TriggerEpoch>,
    /// Per A/B variant with traffic, by name.
    pub variants: Vec<VariantEpoch>,
    /// Per device class with traffic, in index order.
    pub devices: Vec<GroupEpoch>,
    /// Per origin whose content answered viewers, in index order.
    pub content_origins: Vec<GroupEpoch>,
    /// Per origin with limited concurrency that the region's fetches
    /// queued for, in index order: fetches offered to the region's queue
    /// and their waits for a server (µs; one that gave up at CloudFront's
    /// timeout counts as waiting that long).
    pub queue_waits: Vec<GroupEpoch>,
    /// Accesses to Origin Shields, in the order they happened in the
    /// region's simulation (see [`crate::shield`]).
    pub shield: Vec<crate::shield::ShieldAccess>,
    /// The account's Lambda@Edge quotas in the region.
    pub lambda: LambdaEpoch,
    /// Viewer answers by status and error answers by source.
    pub outcomes: ViewerOutcomes,
    /// Where the time to first byte of the epoch's answers went.
    pub ttfb: TtfbParts,
    /// Connections opened, resumed and reused on both legs.
    pub connections: ConnectionCounts,
    /// Console output of the region's functions kept this epoch, one entry per line as
    /// `time_ms<TAB>behaviour<TAB>stage<TAB>request id<TAB>LEVEL<TAB>text`, within the region's
    /// budget for the run ([`crate::FUNCTION_LOG_CHARS_PER_REGION`]).
    pub function_logs: Vec<String>,
    /// Lines written this epoch beyond that budget (counted, not kept).
    pub function_logs_dropped: u64,
}

/// Time to first byte split into its parts: sums over answers, µs. The
/// parts of one answer add up to its latency exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TtfbParts {
    /// By part, in [`TtfbParts::NAMES`] order.
    pub us: [u64; TtfbParts::NAMES.len()],
}

impl TtfbParts {
    /// The parts, in order: the viewer's transport handshake (TCP, or
    /// QUIC's combined one), its TLS handshake, the request's own round
    /// trip to the PoP and the PoP's work, edge functions (their trips to
    /// the Lambda@Edge region included), the trips between the PoP, the
    /// regional edge cache and the Origin Shield (and answers from those
    /// tiers), new connections to origins, the origin fetch (round trip,
    /// queue, service), and waiting for a fetch another request started.
    pub const NAMES: [&'static str; 8] = [
        "connect",
        "tls",
        "edge",
        "function",
        "regional",
        "origin_connect",
        "origin",
        "waiting",
    ];
    /// Index of the viewer's transport handshake.
    pub const CONNECT: usize = 0;
    /// Index of the viewer's TLS handshake.
    pub const TLS: usize = 1;
    /// Index of the request's round trip and edge processing.
    pub const EDGE: usize = 2;
    /// Index of edge functions.
    pub const FUNCTION: usize = 3;
    /// Index of the regional tiers.
    pub const REGIONAL: usize = 4;
    /// Index of origin connection set-up.
    pub const ORIGIN_CONNECT: usize = 5;
    /// Index of the origin fetch.
    pub const ORIGIN: usize = 6;
    /// Index of waiting for a fetch in flight.
    pub const WAITING: usize = 7;

    /// Adds another set.
    pub fn add(&mut self, other: &TtfbParts) {
        for (a, b) in self.us.iter_mut().zip(other.us) {
            *a += b;
        }
    }

    /// The sum of the parts, µs.
    pub fn total_us(&self) -> u64 {
        self.us.iter().sum()
    }
}

/// Connections on both legs of the epoch's requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConnectionCounts {
    /// Requests that opened a viewer connection with a full handshake.
    pub viewer_new: u64,
    /// Requests that opened one resuming an earlier TLS session.
    pub viewer_resumed: u64,
    /// Requests on an open viewer connection.
    pub viewer_reused: u64,
    /// Fetches that opened a connection to an origin.
    pub origin_new: u64,
    /// Fetches on a kept-alive connection to an origin.
    pub origin_reused: u64,
}

impl ConnectionCounts {
    /// Adds another set.
    pub fn add(&mut self, o: &ConnectionCounts) {
        self.viewer_new += o.viewer_new;
        self.viewer_resumed += o.viewer_resumed;
        self.viewer_reused += o.viewer_reused;
        self.origin_new += o.origin_new;
        self.origin_reused += o.origin_reused;
    }

    /// The counts as a list: viewer new, resumed, reused, origin new, reused.
    pub fn to_vec(&self) -> Vec<u64> {
        vec![
            self.viewer_new,
            self.viewer_resumed,
            self.viewer_reused,
            self.origin_new,
            self.origin_reused,
        ]
    }

    /// From [`ConnectionCounts::to_vec`]'s list (missing entries 0).
    pub fn from_slice(v: &[u64]) -> ConnectionCounts {
        let at = |i: usize| v.get(i).copied().unwrap_or(0);
        ConnectionCounts {
            viewer_new: at(0),
            viewer_resumed: at(1),
            viewer_reused: at(2),
            origin_new: at(3),
            origin_reused: at(4),
        }
    }
}

/// How close one region came to the account's Lambda@Edge quotas in one
/// epoch (see `edgesim_model::lambda`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LambdaEpoch {
    /// Most executions running at once.
    pub peak_concurrency: u64,
    /// Invocations refused at the concurrency limit.
    pub throttled_concurrency: u64,
    /// Invocations refused at the request-rate limit.
    pub throttled_rate: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_latencies_encode_to_the_bytes_hdrhistogram_writes() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(7);
        let mut cases: Vec<Vec<u64>> = vec![
            vec![],
            vec![1],
            vec![0, 1, 2, 3, 2047, 2048, 2049, 4095, 4096],
            vec![LATENCY_MAX_US, LATENCY_MAX_US + 5, u64::MAX],
            vec![5, 5, 5, 7, 9, 1_000_000, 1_000_001, 1_001_000],
        ];
        for n in [3, 50, 700, 5_000] {
            cases.push(
                (0..n)
                    .map(|_| {
                        let magnitude = rng.random_range(0..27);
                        rng.random_range(0..(2u64 << magnitude))
                    })
                    .collect(),
            );
        }
        for values in cases {
            let mut ours = EpochLatency::default();
            let mut reference = new_latency_histogram();
            for &v in &values {
                ours.record(v);
                record_latency(&mut reference, v);
            }
            assert_eq!(ours.len(), values.len());
            assert_eq!(
                ours.take_encoded(),
                encode_histogram(&reference),
                "{values:?}"
            );
            assert!(ours.is_empty(), "encoding starts over");
        }
    }

    #[test]
    fn histograms_round_trip_through_v2() {
        let mut h = new_latency_histogram();
        for v in [1, 5, 900, 12_345, 80_000_000] {
            record_latency(&mut h, v);
        }
        let back = decode_histogram(&encode_histogram(&h)).unwrap();
        assert_eq!(back.len(), 5);
        assert_eq!(back.max(), h.max());
        assert!(back.max() <= LATENCY_MAX_US + LATENCY_MAX_US / 1000);
        assert!(decode_histogram(b"nonsense").is_err());
    }

    #[test]
    fn offload_is_zero_when_idle_and_complements_fetches() {
        let idle = Counters::default();
        assert_eq!(idle.offload_requests(), 0.0);
        let c = Counters {
            requests: 10,
            edge_hits: 7,
            origin_fetches: 3,
            viewer_bytes: 100,
            origin_bytes: 25,
            ..Counters::default()
        };
        assert!((c.offload_requests() - 0.7).abs() < 1e-12);
        assert!((c.offload_bytes() - 0.75).abs() < 1e-12);
        assert!((c.hit_ratio() - 0.7).abs() < 1e-12);
    }
}
