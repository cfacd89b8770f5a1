//! Functions' console output as a region keeps it for the report, as CloudWatch Logs would hold
//! it in the region where Lambda@Edge ran: each line stamped with the simulated time, the
//! behaviour, the stage and the request id. A region keeps at most
//! [`FUNCTION_LOG_CHARS_PER_REGION`] characters over a run; later lines are counted, not kept.
//! The budget belongs to the region, not to the agent or the run, so what survives is the same
//! for any number of agents.

use edgesim_model::rng::mix64;
use edgesim_triggers::{InvokeContext, Stage};

/// Characters of console output a region keeps over a run.
pub const FUNCTION_LOG_CHARS_PER_REGION: usize = 1024 * 1024;

/// This epoch's kept lines and the run's remaining budget.
#[derive(Debug)]
pub(crate) struct FunctionLogs {
    /// Lines kept this epoch.
    pub(crate) lines: Vec<String>,
    /// Lines written this epoch beyond the budget.
    pub(crate) dropped: u64,
    /// Characters the region may still keep this run.
    left: usize,
}

impl Default for FunctionLogs {
    fn default() -> Self {
        FunctionLogs {
            lines: Vec::new(),
            dropped: 0,
            left: FUNCTION_LOG_CHARS_PER_REGION,
        }
    }
}

impl FunctionLogs {
    /// Keeps one invocation's lines (each `LEVEL<TAB>text`) while the budget lasts.
    pub(crate) fn keep(
        &mut self,
        ctx: &InvokeContext<'_>,
        behavior: &str,
        stage: Stage,
        logs: &[String],
    ) {
        for line in logs {
            if self.left == 0 {
                self.dropped += 1;
                continue;
            }
            let stamped = format!(
                "{}\t{behavior}\t{}\t{:016x}\t{line}",
                ctx.now_us / 1_000,
                stage.as_str(),
                mix64(ctx.request_id)
            );
            if stamped.len() > self.left {
                self.left = 0;
                self.dropped += 1;
                continue;
            }
            self.left -= stamped.len();
            self.lines.push(stamped);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgesim_triggers::Controls;

    #[test]
    fn the_budget_is_per_region_and_what_is_over_it_is_counted() {
        let controls = Controls::new();
        let ctx = InvokeContext {
            now_us: 2_500_000,
            ..InvokeContext::simple(&controls, 7)
        };
        let mut logs = FunctionLogs::default();
        let line = format!("INFO\t{}", "x".repeat(1000));
        let batch = vec![line; 100];
        for _ in 0..20 {
            logs.keep(&ctx, "/p/*", Stage::ViewerRequest, &batch);
        }
        let kept: usize = logs.lines.iter().map(String::len).sum();
        assert!(kept <= FUNCTION_LOG_CHARS_PER_REGION);
        assert!(kept > FUNCTION_LOG_CHARS_PER_REGION - 2_000);
        assert_eq!(logs.lines.len() as u64 + logs.dropped, 2_000);
        assert!(logs.lines[0].starts_with("2500\t/p/*\tviewer-request\t"));
        assert!(logs.lines[0].ends_with("\tINFO\txxx") || logs.lines[0].contains("\tINFO\tx"));
    }
}
